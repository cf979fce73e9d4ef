//! A reader's comment on a page.

use super::{Email, Errors, FieldError, FormValues, MultiLine, SingleLine, WebUrl};

/// A validated comment submission (README.md, "API", POST /comment). Whether
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
    /// The author asked to be mailed when someone replies (needs `email`).
    pub notify: bool,
}

/// `notify`: `true`/`on`/`1` (a checked checkbox sends `on`) or their
/// opposites; absent or blank is no.
fn parse_notify(raw: &str) -> Result<bool, FieldError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Ok(true),
        "false" | "off" | "0" | "no" => Ok(false),
        _ => Err(FieldError::invalid("notify", "must be true or false")),
    }
}

/// Comment ids are lowercase hex from [`crate::domain::ids`]; anything else cannot name one.
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
    pub fn parse(fields: &impl FormValues) -> Result<Self, Vec<FieldError>> {
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
        let notify = errors.take(
            fields
                .optional_nonblank("notify")
                .and_then(|v| v.map(parse_notify).transpose()),
        );
        // Only a valid email can be notified; a missing one is named as such
        // (an invalid one is reported on its own already).
        if notify == Some(Some(true)) && fields.optional_nonblank("email").ok().flatten().is_none()
        {
            errors.take::<()>(Err(FieldError::new(
                "email",
                super::FieldCode::Required,
                "email is required to be notified of replies",
            )));
        }
        errors.finish()?;
        match (post, name, email, url, body, parent, notify) {
            (
                Some(post),
                Some(name),
                Some(email),
                Some(url),
                Some(body),
                Some(parent),
                Some(notify),
            ) => Ok(Self {
                post,
                name,
                email,
                url,
                body,
                parent,
                notify: notify.unwrap_or(false),
            }),
            _ => unreachable!("every None recorded an error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::intake::Fields;

    fn fields(extra: &[(&str, &str)]) -> Fields {
        let mut pairs = vec![("post", "/p/"), ("name", "Ann"), ("body", "Hello there")];
        pairs.extend_from_slice(extra);
        Fields::from_pairs(pairs)
    }

    #[test]
    fn notify_accepts_checkbox_and_boolean_spellings() {
        for (raw, want) in [
            ("on", true),
            ("true", true),
            ("1", true),
            ("0", false),
            ("", false),
        ] {
            let c =
                NewComment::parse(&fields(&[("notify", raw), ("email", "a@example.org")])).unwrap();
            assert_eq!(c.notify, want, "{raw:?}");
        }
        assert!(!NewComment::parse(&fields(&[])).unwrap().notify);
    }

    #[test]
    fn notify_without_an_email_names_the_email() {
        let errors = NewComment::parse(&fields(&[("notify", "on")])).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("email", super::super::FieldCode::Required)
        );
        let errors = NewComment::parse(&fields(&[("notify", "maybe")])).unwrap_err();
        assert_eq!(errors[0].field, "notify");
    }
}
