//! Remark42's backup file (`backup-SITE-YYYYMMDD.gz`, or the admin export),
//! gzipped as Remark42 writes it or unpacked.
//!
//! The structure is Remark42's native format (umputun/remark42
//! `backend/app/migrator/native.go`; gzipped by
//! `backend/app/migrator/backup.go`): a first JSON value with the backup's
//! `version` (0 or 1), `users` and `posts` (`UserMetaData`: `id`,
//! `blocked.status`, `details.email`; `backend/app/store/service/service.go`),
//! then one JSON object a line per comment (`store.Comment`,
//! `backend/app/store/comment.go`): `id`, `pid` (the parent's id, empty for
//! none), `text` (the rendered, sanitised HTML), `orig` (the Markdown typed),
//! `user` (`name`, `id`, `block`; `backend/app/store/user.go`), `locator`
//! (`site`, `url`: the page), `time` (RFC 3339) and `delete`. Remark42
//! publishes without moderation; it hides deleted comments and shows a
//! blocked user's comments as blocked, so both are left out here.

use std::collections::HashMap;

use serde_json::Value;

use super::json::{self, Record};
use super::{FormatError, SourceComment, html, parse_date, post_from_link};

/// What the backup's first value says about a user.
#[derive(Default)]
struct UserMeta {
    email: Option<String>,
    blocked: bool,
}

/// Reads an (unpacked) Remark42 backup, reporting the bytes read to
/// `progress`.
pub fn parse(input: &str, progress: &dyn Fn(u64)) -> Result<Vec<SourceComment>, FormatError> {
    let mut stream = serde_json::Deserializer::from_str(input).into_iter::<Value>();
    // Lines are counted as the stream goes, so each record's is known
    // without scanning the file again.
    let (mut line, mut counted_to) = (1, 0);
    let mut line_at = |offset: usize| {
        let start = offset + input[offset..].len() - input[offset..].trim_start().len();
        line += input[counted_to..start]
            .bytes()
            .filter(|&b| b == b'\n')
            .count();
        counted_to = start;
        line
    };
    let first_line = line_at(0);
    let users = match stream.next() {
        None => {
            return Err(FormatError::new(
                "line 1",
                "the file is empty: not a Remark42 backup",
            ));
        }
        Some(meta) => users(&meta.map_err(|e| json::syntax(&e))?, first_line)?,
    };
    let mut comments = Vec::new();
    loop {
        let at = format!("line {}", line_at(stream.byte_offset()));
        let Some(value) = stream.next() else { break };
        let value = value.map_err(|e| json::syntax(&e))?;
        comments.push(comment(&Record::new(&value, at)?, &users)?);
        if comments.len() % 1024 == 0 {
            progress(stream.byte_offset() as u64);
        }
    }
    progress(input.len() as u64);
    Ok(comments)
}

/// The users of the backup's first value, which must be one.
fn users(meta: &Value, line: usize) -> Result<HashMap<String, UserMeta>, FormatError> {
    let at = format!("line {line}");
    let version = meta.get("version");
    if !meta.is_object() || !matches!(version.and_then(Value::as_u64), None | Some(0 | 1)) {
        return Err(FormatError::new(
            at,
            "not a Remark42 backup: its first line is {\"version\":1,\"users\":[…],\"posts\":[…]}",
        ));
    }
    let mut users = HashMap::new();
    let Some(list) = meta.get("users").filter(|u| !u.is_null()) else {
        return Ok(users);
    };
    let Value::Array(list) = list else {
        return Err(FormatError::new(format!("{at}: users"), "is not an array"));
    };
    for (n, value) in list.iter().enumerate() {
        let user = Record::new(value, format!("{at}: users[{n}]"))?;
        let details = user.object("details")?;
        let email = match &details {
            Some(details) => details.text("email")?.map(str::to_owned),
            None => None,
        };
        let blocked = match user.object("blocked")? {
            Some(blocked) => blocked.flag("status")?,
            None => false,
        };
        if let Some(id) = user.text("id")? {
            users.insert(id.to_owned(), UserMeta { email, blocked });
        }
    }
    Ok(users)
}

fn comment(
    record: &Record<'_>,
    users: &HashMap<String, UserMeta>,
) -> Result<SourceComment, FormatError> {
    let id = record.required("id")?;
    let user = record.object("user")?;
    let (name, user_id, blocked) = match &user {
        Some(user) => (
            user.text("name")?.unwrap_or_default(),
            user.text("id")?.unwrap_or_default(),
            user.flag("block")?,
        ),
        None => ("", "", false),
    };
    let meta = users.get(user_id);
    let excluded = if record.flag("delete")? {
        Some("deleted in Remark42".to_owned())
    } else if blocked || meta.is_some_and(|m| m.blocked) {
        Some("its author is blocked in Remark42".to_owned())
    } else {
        None
    };
    let page = match record.object("locator")? {
        Some(locator) => locator.text("url")?,
        None => None,
    };
    let text = record.text("text")?.unwrap_or_default();
    let body = if text.trim().is_empty() {
        html::markdown_to_text(record.text("orig")?.unwrap_or_default())
    } else {
        html::to_text(text)
    };
    Ok(SourceComment {
        source_id: id.to_owned(),
        parent: record
            .text("pid")?
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        post: page.map_or_else(
            || Err("the comment names no page (locator.url)".to_owned()),
            post_from_link,
        ),
        name: name.to_owned(),
        email: meta.and_then(|m| m.email.clone()),
        url: None,
        body,
        created_ms: record
            .text("time")?
            .map_or_else(|| Err("no time".to_owned()), parse_date),
        excluded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKUP: &str = concat!(
        r#"{"version":1,"users":[{"id":"github_ada","blocked":{"status":false,"until":"0001-01-01T00:00:00Z"},"verified":true,"details":{"user_id":"github_ada","email":"ada@example.org"}},{"id":"anonymous_eve","blocked":{"status":true,"until":"2999-01-01T00:00:00Z"},"verified":false,"details":{"user_id":"anonymous_eve"}}],"posts":[{"url":"https://blog.example.org/2024/06/hi/","read_only":false}]}"#,
        "\n",
        r#"{"id":"a1","pid":"","text":"<p>Hi &amp; <a href=\"https://example.com/some/long/path\" rel=\"nofollow\">https://example.com/some/lo...</a></p>\n","orig":"Hi & https://example.com/some/long/path","user":{"name":"Ada Example","id":"github_ada","picture":"","admin":false},"locator":{"site":"blog","url":"https://blog.example.org/2024/06/hi/?utm_source=feed"},"score":1,"vote":0,"time":"2024-06-01T12:00:00.123456789-05:00"}"#,
        "\n",
        r#"{"id":"a2","pid":"a1","text":"","orig":"","user":{"name":"deleted","id":"deleted","picture":"","admin":false},"locator":{"site":"blog","url":"https://blog.example.org/2024/06/hi/"},"score":0,"vote":0,"time":"2024-06-01T13:00:00Z","delete":true}"#,
        "\n",
        r#"{"id":"a3","pid":"a2","text":"<p>Spam</p>","user":{"name":"Eve","id":"anonymous_eve","picture":"","admin":false},"locator":{"site":"blog","url":"https://blog.example.org/2024/06/hi/"},"score":0,"vote":0,"time":"2024-06-01T14:00:00Z"}"#,
        "\n",
    );

    #[test]
    fn comments_keep_page_author_address_and_thread() {
        let comments = parse(BACKUP, &|_| {}).unwrap();
        assert_eq!(comments.len(), 3);
        let first = &comments[0];
        assert_eq!(first.post, Ok("/2024/06/hi/".into()));
        assert_eq!(first.name, "Ada Example");
        assert_eq!(
            first.email.as_deref(),
            Some("ada@example.org"),
            "from the users"
        );
        assert_eq!(first.body, "Hi & https://example.com/some/long/path");
        assert_eq!(
            first.created_ms,
            Ok(1_717_261_200_123),
            "-05:00 read as such"
        );
        assert_eq!(first.parent, None);
        assert_eq!(comments[2].parent.as_deref(), Some("a2"));
    }

    #[test]
    fn deleted_comments_and_blocked_authors_are_excluded() {
        let comments = parse(BACKUP, &|_| {}).unwrap();
        assert_eq!(comments[1].excluded.as_deref(), Some("deleted in Remark42"));
        assert_eq!(
            comments[2].excluded.as_deref(),
            Some("its author is blocked in Remark42")
        );
    }

    #[test]
    fn a_bad_record_is_refused_naming_its_line() {
        let broken = BACKUP.replace(r#""id":"a2","#, r#""id":2,"#);
        let err = parse(&broken, &|_| {}).unwrap_err();
        assert_eq!(err.at, "line 3, field id", "{err}");
        let cut = &BACKUP[..BACKUP.len() - 30];
        let err = parse(cut, &|_| {}).unwrap_err();
        assert!(err.at.starts_with("line 4, column"), "{err}");
        assert!(err.message.contains("cut short"), "{err}");
    }

    #[test]
    fn other_files_are_refused_at_line_one() {
        for other in ["", "[1,2]", r#"{"version":7}"#, "<disqus/>"] {
            let err = parse(other, &|_| {}).unwrap_err();
            assert!(err.at.starts_with("line 1"), "{other}: {err}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_cut_of_a_backup_is_read_or_refused(cut in 0..BACKUP.len()) {
            match parse(&BACKUP[..cut], &|_| {}) {
                Ok(comments) => proptest::prop_assert!(comments.len() <= 3),
                Err(err) => proptest::prop_assert!(err.at.starts_with("line "), "{}", err),
            }
        }
    }
}
