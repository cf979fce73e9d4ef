//! Our own JSON Lines, as `rust-aws export` writes them: one object a line,
//! `type` `comment` or `contact`. Approved comments are imported with their
//! ids, so export → import restores them exactly.

use serde_json::Value;

use super::{FormatError, SourceComment, parse_date};

/// Reads an export; a line that is not a JSON object refuses the file.
pub fn parse(input: &str) -> Result<Vec<SourceComment>, FormatError> {
    let mut comments = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let at = || format!("line {}", index + 1);
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| FormatError::new(at(), e))?;
        let Value::Object(object) = value else {
            return Err(FormatError::new(at(), "not a JSON object"));
        };
        let field = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
        let source_id = field("id").unwrap_or_else(at);
        let excluded = match (field("type").as_deref(), field("status").as_deref()) {
            (Some("comment"), Some("approved")) => None,
            (Some("comment"), status) => Some(format!(
                "status {}: only approved comments are imported",
                status.unwrap_or("missing")
            )),
            (Some("contact"), _) => Some("a contact message: only comments are imported".into()),
            (kind, _) => Some(format!("type {}: not a comment", kind.unwrap_or("missing"))),
        };
        comments.push(SourceComment {
            source_id,
            parent: field("parent"),
            post: field("post").ok_or_else(|| "no post".to_owned()),
            name: field("name").unwrap_or_default(),
            email: field("email"),
            url: field("url"),
            body: field("body").unwrap_or_default(),
            created_ms: field("created_at")
                .ok_or_else(|| "no created_at".to_owned())
                .and_then(|d| parse_date(&d)),
            excluded,
        });
    }
    Ok(comments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approved_comments_are_read_and_others_excluded() {
        let input = concat!(
            r#"{"type":"comment","id":"0123456789abcdef0123456789abcdef","post":"/p/","parent":null,"name":"Ada","email":"ada@example.org","url":null,"body":"Hi there","created_at":"2026-07-25T17:20:00.123Z","status":"approved"}"#,
            "\n\n",
            r#"{"type":"comment","id":"x","post":"/p/","name":"Bo","body":"wait","created_at":"2026-07-25T17:20:00Z","status":"pending"}"#,
            "\n",
            r#"{"type":"contact","id":"y","name":"Cy","email":"cy@example.org","message":"hello"}"#,
        );
        let comments = parse(input).unwrap();
        assert_eq!(comments.len(), 3);
        assert_eq!(comments[0].created_ms, Ok(1_785_000_000_123));
        assert_eq!(comments[0].excluded, None);
        assert!(comments[1].excluded.as_deref().unwrap().contains("pending"));
        assert!(comments[2].excluded.as_deref().unwrap().contains("contact"));
    }

    #[test]
    fn a_broken_line_refuses_the_file_naming_it() {
        let err = parse("{\"type\":\"comment\"}\n{not json\n").unwrap_err();
        assert_eq!(err.at, "line 2");
    }
}
