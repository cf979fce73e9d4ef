//! Commento's JSON export (Dashboard → General → Export), gzipped as it is
//! downloaded or unpacked; Comentario exports and reads the same format.
//!
//! The structure is Commento's `commentoExportV1` (adtac/commento
//! `api/domain_export.go`, its fields in `api/comment.go` and
//! `api/commenter.go`): `{"version": 1, "comments": [...], "commenters":
//! [...]}`. A comment has `commentHex`, `url` (the page's path), `commenterHex`
//! (`anonymous` for an anonymous comment), `markdown` (what the reader typed),
//! `parentHex` (`root` for a top-level comment), `state` (`approved`,
//! `unapproved`, `flagged`) and `creationDate` (RFC 3339); a commenter has
//! `commenterHex`, `email`, `name` and `link` (`undefined` when none,
//! `api/comment_list.go`). Commento shows readers only `approved` comments.
//! Deleting one sets `deleted` and overwrites its text with `[deleted]`
//! (`api/comment_delete.go`); the export does not select `deleted`, so that
//! text is how a deleted comment shows in it. Comentario writes and reads
//! the same `commentoExportV1`, version 1 only (comentario, mirrored as
//! ChyiYaqing/comentario-mirror: `internal/svc/impex_svc.go`), with the same
//! fields, `deleted` always written (`swagger/swagger.yml`, definitions
//! `comment` and `commenter`). Its Markdown may hold HTML (Commento renders
//! it with blackfriday and sanitises it, `api/markdown_html.go`).

use std::collections::HashMap;

use super::json::{self, Record};
use super::{FormatError, SourceComment, html, parse_date, post_from_link};

/// Commento's text for the fields of a commenter it has no value for.
const UNDEFINED: &str = "undefined";

/// A commenter's name, address and website.
struct Commenter {
    name: String,
    email: Option<String>,
    link: Option<String>,
}

/// A field of Commento's that may say `undefined`.
fn defined(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != UNDEFINED)
        .map(str::to_owned)
}

/// Reads an (unpacked) Commento export.
pub fn parse(input: &str) -> Result<Vec<SourceComment>, FormatError> {
    const WHAT: &str = "a Commento export";
    let document = json::document(input)?;
    match document.get("version").and_then(serde_json::Value::as_u64) {
        Some(1) => {}
        _ => {
            return Err(FormatError::new(
                "version",
                format_args!(
                    "is {}, not 1: not {WHAT} (commentoExportV1)",
                    document.get("version").unwrap_or(&serde_json::Value::Null)
                ),
            ));
        }
    }
    let mut commenters = HashMap::new();
    for (n, value) in json::array(&document, "commenters", WHAT)?
        .iter()
        .enumerate()
    {
        let record = Record::new(value, format!("commenters[{n}]"))?;
        commenters.insert(
            record.required("commenterHex")?,
            Commenter {
                name: record.text("name")?.unwrap_or_default().to_owned(),
                email: defined(record.text("email")?),
                link: defined(record.text("link")?),
            },
        );
    }
    let comments = json::array(&document, "comments", WHAT)?;
    let mut out = Vec::with_capacity(comments.len());
    for (n, value) in comments.iter().enumerate() {
        let record = Record::new(value, format!("comments[{n}]"))?;
        let markdown = record.text("markdown")?.unwrap_or_default();
        let state = record.text("state")?.unwrap_or_default();
        let excluded = if record.flag("deleted")? || markdown == "[deleted]" {
            Some("deleted in Commento".to_owned())
        } else if state == "approved" {
            None
        } else {
            Some(format!(
                "{state:?} in Commento: only approved comments are imported"
            ))
        };
        let author = match record.text("commenterHex")?.unwrap_or("anonymous") {
            "anonymous" => None,
            hex => Some(commenters.get(hex).ok_or_else(|| {
                FormatError::new(
                    format!("{}.commenterHex", record.at),
                    format_args!("{hex:?} is not in the export's commenters"),
                )
            })?),
        };
        out.push(SourceComment {
            source_id: record.required("commentHex")?.to_owned(),
            parent: record
                .text("parentHex")?
                .filter(|p| !p.is_empty() && *p != "root")
                .map(str::to_owned),
            post: record.text("url")?.map_or_else(
                || Err("the comment names no page (url)".to_owned()),
                post_from_link,
            ),
            name: author.map(|a| a.name.clone()).unwrap_or_default(),
            email: author.and_then(|a| a.email.clone()),
            url: author.and_then(|a| a.link.clone()),
            body: html::markdown_to_text(markdown),
            created_ms: record
                .text("creationDate")?
                .map_or_else(|| Err("no creationDate".to_owned()), parse_date),
            excluded,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"{"version":1,"comments":[
{"commentHex":"c1","domain":"blog.example.org","url":"/2024/05/hello/","commenterHex":"u1","markdown":"Nice **post** &amp; <a href=\"https://ada.example.org/notes\">notes</a>","html":"","parentHex":"root","score":2,"state":"approved","creationDate":"2024-05-01T10:00:00.5Z","direction":0,"deleted":false},
{"commentHex":"c2","url":"/2024/05/hello/","commenterHex":"anonymous","markdown":"Anonymous reply","html":"","parentHex":"c1","score":0,"state":"approved","creationDate":"2024-05-01T11:00:00Z","direction":0,"deleted":false},
{"commentHex":"c3","url":"/2024/05/hello/","commenterHex":"u1","markdown":"wait","parentHex":"root","state":"unapproved","creationDate":"2024-05-01T12:00:00Z"},
{"commentHex":"c4","url":"/2024/05/hello/","commenterHex":"anonymous","markdown":"[deleted]","parentHex":"c1","state":"approved","creationDate":"2024-05-01T12:00:00Z"}
],"commenters":[{"commenterHex":"u1","email":"ada@example.org","name":"Ada Example","link":"undefined","photo":"undefined","provider":"commento","joinDate":"2024-01-01T00:00:00Z","isModerator":false}]}"#;

    #[test]
    fn comments_keep_their_commenter_page_and_thread() {
        let comments = parse(EXPORT).unwrap();
        assert_eq!(comments.len(), 4);
        let first = &comments[0];
        assert_eq!(first.source_id, "c1");
        assert_eq!(first.post, Ok("/2024/05/hello/".into()));
        assert_eq!(first.parent, None, "root is no parent");
        assert_eq!(first.name, "Ada Example");
        assert_eq!(first.email.as_deref(), Some("ada@example.org"));
        assert_eq!(first.url, None, "undefined is no website");
        assert_eq!(
            first.body,
            "Nice **post** & notes (https://ada.example.org/notes)"
        );
        assert_eq!(first.created_ms, Ok(1_714_557_600_500));
        assert_eq!(first.excluded, None);
        let reply = &comments[1];
        assert_eq!(
            (reply.parent.as_deref(), reply.name.as_str()),
            (Some("c1"), "")
        );
    }

    #[test]
    fn unapproved_and_deleted_comments_are_excluded() {
        let comments = parse(EXPORT).unwrap();
        assert!(
            comments[2]
                .excluded
                .as_deref()
                .unwrap()
                .contains("unapproved")
        );
        assert_eq!(comments[3].excluded.as_deref(), Some("deleted in Commento"));
    }

    #[test]
    fn a_cut_short_export_is_refused_with_its_place() {
        let err = parse(&EXPORT[..EXPORT.len() - 40]).unwrap_err();
        assert!(err.at.starts_with("line 6, column"), "{err}");
        assert!(err.message.contains("cut short"), "{err}");
    }

    #[test]
    fn a_commenter_missing_from_the_export_names_the_comment() {
        let broken = EXPORT.replace(
            r#""commenterHex":"u1","markdown":"wait""#,
            r#""commenterHex":"u9","markdown":"wait""#,
        );
        let err = parse(&broken).unwrap_err();
        assert_eq!(err.at, "comments[2].commenterHex", "{err}");
    }

    #[test]
    fn other_documents_are_refused() {
        assert_eq!(parse(r#"{"version":2}"#).unwrap_err().at, "version");
        assert!(parse("[]").unwrap_err().message.contains("not 1"));
        let err = parse(r#"{"version":1,"comments":[]}"#).unwrap_err();
        assert!(err.message.contains("commenters"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn any_cut_of_an_export_is_read_or_refused(cut in 0..EXPORT.len()) {
            if let Err(err) = parse(&EXPORT[..cut]) {
                proptest::prop_assert!(!err.at.is_empty());
            }
        }
    }
}
