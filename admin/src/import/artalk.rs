//! Artalk's Artrans: a JSON array of objects ("Artran"s), one per comment,
//! as Artalk's exporter writes it (the dashboard's Migration tab, `artalk
//! export`) and its importer reads it; gzipped or not, as the same guide
//! pipes `artalk export` through gzip for backups.
//!
//! The structure is `entity.Artran` (ArtalkJS/Artalk
//! `internal/entity/artran.go`), documented with an example in
//! `docs/docs/en/guide/transfer.md` and written by
//! `internal/artransfer/exporter.go`. Every field is a string, and Artalk's
//! importer reads any JSON scalar as one (`internal/artransfer/json.go`).
//! Fields read here: `id`, `rid` (the id of the comment it replies to, `0`
//! for none), `content` (Markdown, in which Artalk's renderer allows HTML),
//! `is_pending` (`true` while it waits for moderation), `created_at`
//! (`2006-01-02 15:04:05 -0700`, Go's layout), `nick`, `email`, `link` and
//! `page_key` (the page's path or URL). Artalk deletes comments outright, so
//! an Artrans holds no deleted ones; a collapsed comment is still shown, so
//! it is imported.

use super::json::{self, Record};
use super::{FormatError, SourceComment, html, parse_date, post_from_link};

/// Reads an Artrans file.
pub fn parse(input: &str) -> Result<Vec<SourceComment>, FormatError> {
    let document = json::document(input)?;
    let serde_json::Value::Array(items) = &document else {
        return Err(FormatError::new(
            "the document",
            "is not a JSON array: not an Artrans file",
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (n, value) in items.iter().enumerate() {
        let record = Record::new(value, format!("[{n}]"))?;
        let text = |name| record.scalar(name).map(Option::unwrap_or_default);
        let id = text("id")?;
        if id.trim().is_empty() {
            return Err(FormatError::new(
                format!("[{n}].id"),
                "is missing: every Artran has one",
            ));
        }
        let excluded = record
            .flag("is_pending")?
            .then(|| "waiting for moderation in Artalk".to_owned());
        let page_key = text("page_key")?;
        out.push(SourceComment {
            source_id: id.trim().to_owned(),
            parent: Some(text("rid")?)
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty() && r != "0"),
            post: if page_key.trim().is_empty() {
                Err("the comment names no page (page_key)".to_owned())
            } else {
                post_from_link(&page_key)
            },
            name: text("nick")?,
            email: Some(text("email")?),
            url: Some(text("link")?),
            body: html::markdown_to_text(&text("content")?),
            created_ms: parse_date(&text("created_at")?),
            excluded,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTRANS: &str = r#"[
  {"id": "1", "rid": "0", "content": "Hello <b>Artalk</b> &amp; see [docs](https://docs.example.org/)", "ua": "Mozilla/5.0", "ip": "192.0.2.1",
   "created_at": "2021-10-28 20:50:15 +0800", "updated_at": "2021-10-28 20:50:15 +0800",
   "is_collapsed": "false", "is_pending": "false", "is_pinned": "false", "vote_up": "3", "vote_down": "0",
   "nick": "Ada Example", "email": "ada@example.org", "link": "https://ada.example.org", "badge_name": "", "badge_color": "",
   "page_key": "https://blog.example.org/posts/hello/", "page_title": "Hello", "page_admin_only": "false",
   "site_name": "Example", "site_urls": "https://blog.example.org"},
  {"id": 2, "rid": 1, "content": "A reply", "created_at": "2021-10-29 08:00:00 +0000", "is_pending": false,
   "nick": "Bo", "email": "", "link": "", "page_key": "/posts/hello/"},
  {"id": "3", "rid": "2", "content": "pending", "created_at": "2021-10-29 09:00:00 +0000", "is_pending": "true",
   "nick": "Cy", "page_key": "/posts/hello/"}
]"#;

    #[test]
    fn artrans_become_comments_whatever_scalars_they_use() {
        let comments = parse(ARTRANS).unwrap();
        assert_eq!(comments.len(), 3);
        let first = &comments[0];
        assert_eq!(first.post, Ok("/posts/hello/".into()));
        assert_eq!(first.parent, None, "rid 0 is no parent");
        assert_eq!(
            first.body,
            "Hello Artalk & see [docs](https://docs.example.org/)"
        );
        assert_eq!(
            first.created_ms,
            Ok(1_635_425_415_000),
            "+0800 read as such"
        );
        assert_eq!(first.url.as_deref(), Some("https://ada.example.org"));
        let reply = &comments[1];
        assert_eq!(
            (reply.source_id.as_str(), reply.parent.as_deref()),
            ("2", Some("1"))
        );
        assert_eq!(reply.excluded, None);
        assert_eq!(
            comments[2].excluded.as_deref(),
            Some("waiting for moderation in Artalk")
        );
    }

    #[test]
    fn a_bad_field_or_a_cut_file_is_refused_naming_the_place() {
        let err =
            parse(&ARTRANS.replace(r#""is_pending": "true""#, r#""is_pending": "sometimes""#))
                .unwrap_err();
        assert_eq!(err.at, "[2].is_pending", "{err}");
        let err = parse(&ARTRANS.replace(r#""id": 2,"#, r#""id": "","#)).unwrap_err();
        assert_eq!(err.at, "[1].id", "{err}");
        let err = parse(&ARTRANS[..200]).unwrap_err();
        assert_eq!(err.at, "line 3, column 54", "{err}");
        assert!(parse(r#"{"comments": []}"#).is_err(), "not an array");
    }

    proptest::proptest! {
        #[test]
        fn any_cut_of_an_artrans_file_is_refused_with_its_place(cut in 0..ARTRANS.len() - 1) {
            let err = parse(&ARTRANS[..cut]).unwrap_err();
            proptest::prop_assert!(err.at.starts_with("line "), "{}", err);
        }
    }
}
