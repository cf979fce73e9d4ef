//! A reader's comment on a page.

use super::{Email, Errors, FieldError, MultiLine, SingleLine, WebUrl};
use crate::intake::Fields;

/// A validated comment submission (PRODUCT.md, POST /comment). Whether
/// `parent` names an approved comment on the same post is checked against the
/// store by the route.
#[derive(Debug, Clone)]
pub struct NewComment {
    /// The page the comment belongs to, 1–512 characters, matched exactly.
    pub post: SingleLine,
    /// 1–100 characters.
    pub name: SingleLine,
    /// Optional; never published, never logged.
    pub email: Option<Email>,
    /// Optional `http(s)` URL.
    pub url: Option<WebUrl>,
    /// 2–5000 characters of plain text.
    pub body: MultiLine,
    /// Optional id of the comment this one replies to.
    pub parent: Option<String>,
}

/// Comment ids are lowercase hex from [`crate::ids`]; anything else cannot name one.
fn parse_parent(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FieldError::invalid(
            "parent",
            "must be the id of an approved comment on this post",
        ));
    }
    Ok(value.to_ascii_lowercase())
}

impl NewComment {
    /// Parses the submitted fields, reporting every invalid field at once.
    pub fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        let mut errors = Errors::default();
        let post = errors.take(
            fields
                .required("post")
                .and_then(|v| SingleLine::parse("post", v, 1, 512)),
        );
        let name = errors.take(
            fields
                .required("name")
                .and_then(|v| SingleLine::parse("name", v, 1, 100)),
        );
        let email = errors.take(
            fields
                .optional_nonblank("email")
                .and_then(|v| v.map(|v| Email::parse("email", v)).transpose()),
        );
        let url = errors.take(
            fields
                .optional_nonblank("url")
                .and_then(|v| v.map(|v| WebUrl::parse("url", v)).transpose()),
        );
        let body = errors.take(
            fields
                .required("body")
                .and_then(|v| MultiLine::parse("body", v, 2, 5000)),
        );
        let parent = errors.take(
            fields
                .optional_nonblank("parent")
                .and_then(|v| v.map(parse_parent).transpose()),
        );
        errors.finish()?;
        match (post, name, email, url, body, parent) {
            (Some(post), Some(name), Some(email), Some(url), Some(body), Some(parent)) => {
                Ok(Self {
                    post,
                    name,
                    email,
                    url,
                    body,
                    parent,
                })
            }
            _ => unreachable!("every None recorded an error"),
        }
    }
}
