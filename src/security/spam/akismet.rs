//! Akismet's REST API, version 1.1 (akismet.com/developers): `comment-check`
//! for a verdict, `submit-spam` and `submit-ham` for the owner's corrections.
//! Each is a form-encoded POST of `api_key`, `blog` and the item's fields;
//! `comment-check` answers the body `true` (spam, with the header
//! `X-akismet-pro-tip: discard` when it is blatant) or `false`, anything else
//! (`invalid` with `X-akismet-debug-help`, an error page) being no verdict.
//! The corrections answer `Thanks for making the web a better place.`
//!
//! The key is sent in the body, never in the URL, and never logged.

use std::fmt;

/// Where Akismet is unless `AKISMET_URL` says otherwise.
pub const DEFAULT_URL: &str = "https://rest.akismet.com";

/// The Akismet configuration (`AKISMET_KEY`, `AKISMET_URL`, `SITE_URL`).
#[derive(Clone, PartialEq, Eq)]
pub struct Akismet {
    /// The API key: a secret.
    pub(crate) key: String,
    /// The API's base URL, without a trailing slash.
    pub(crate) url: String,
    /// The site the key is registered for (`SITE_URL`), Akismet's `blog`.
    pub(crate) blog: String,
}

impl fmt::Debug for Akismet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Akismet")
            .field("url", &self.url)
            .field("blog", &self.blog)
            .finish_non_exhaustive()
    }
}

/// What `comment-check` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checked {
    /// Not spam.
    Ham,
    /// Spam.
    Spam,
    /// Blatant spam Akismet advises to drop unseen (the pro-tip `discard`).
    Discard,
    /// No verdict, with why (never the key).
    Unknown(String),
}

/// Which correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// A false positive: `submit-ham`.
    Ham,
    /// A false negative: `submit-spam`.
    Spam,
}

impl Correction {
    /// The API method.
    pub fn method(self) -> &'static str {
        match self {
            Correction::Ham => "submit-ham",
            Correction::Spam => "submit-spam",
        }
    }

    /// The name stored in a correction's payload.
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::Ham => "ham",
            Correction::Spam => "spam",
        }
    }
}

/// The body of a call: the key, the blog, then the item's fields in order.
pub(crate) fn form(akismet: &Akismet, fields: &[(String, String)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("api_key", &akismet.key)
        .append_pair("blog", &akismet.blog)
        .append_pair("blog_charset", "UTF-8");
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    form.finish()
}

/// The endpoint of `method`.
pub(crate) fn endpoint(akismet: &Akismet, method: &str) -> String {
    format!("{}/1.1/{method}", akismet.url)
}

/// Reads a `comment-check` answer.
pub(crate) fn interpret(status: u16, pro_tip: Option<&str>, body: &[u8]) -> Checked {
    if status != 200 {
        return Checked::Unknown(format!("comment-check answered HTTP {status}"));
    }
    match std::str::from_utf8(body).map(str::trim) {
        Ok("true") if pro_tip.is_some_and(|t| t.trim().eq_ignore_ascii_case("discard")) => {
            Checked::Discard
        }
        Ok("true") => Checked::Spam,
        Ok("false") => Checked::Ham,
        Ok("invalid") => Checked::Unknown(
            "comment-check refused the call (invalid): check AKISMET_KEY and SITE_URL".into(),
        ),
        _ => Checked::Unknown("comment-check answered something other than true or false".into()),
    }
}

/// Whether a correction's answer says it was taken.
pub(crate) fn accepted(status: u16, body: &[u8]) -> bool {
    status == 200
        && std::str::from_utf8(body).is_ok_and(|b| {
            b.trim()
                .starts_with("Thanks for making the web a better place")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn akismet() -> Akismet {
        Akismet {
            key: "k&y".into(),
            url: "http://127.0.0.1:9".into(),
            blog: "https://blog.example.org".into(),
        }
    }

    #[test]
    fn true_is_spam_false_is_ham_and_the_pro_tip_discards() {
        assert_eq!(interpret(200, None, b"true"), Checked::Spam);
        assert_eq!(interpret(200, None, b"false\n"), Checked::Ham);
        assert_eq!(interpret(200, Some("discard"), b"true"), Checked::Discard);
        // The pro-tip means nothing on a ham answer.
        assert_eq!(interpret(200, Some("discard"), b"false"), Checked::Ham);
    }

    #[test]
    fn anything_else_is_no_verdict() {
        for (status, body) in [
            (200, &b"invalid"[..]),
            (200, b""),
            (200, b"<html>502</html>"),
            (200, b"TRUE"),
            (500, b"true"),
            (403, b"false"),
        ] {
            assert!(
                matches!(interpret(status, None, body), Checked::Unknown(_)),
                "{status} {body:?}"
            );
        }
        let Checked::Unknown(why) = interpret(200, None, b"invalid") else {
            unreachable!()
        };
        assert!(!why.contains("k&y"));
    }

    #[test]
    fn the_form_carries_key_blog_and_fields_encoded() {
        let fields = [
            ("comment_type".to_owned(), "comment".to_owned()),
            ("comment_content".to_owned(), "a b&c".to_owned()),
        ];
        assert_eq!(
            form(&akismet(), &fields),
            "api_key=k%26y&blog=https%3A%2F%2Fblog.example.org&blog_charset=UTF-8&comment_type=comment&comment_content=a+b%26c"
        );
        assert_eq!(
            endpoint(&akismet(), "comment-check"),
            "http://127.0.0.1:9/1.1/comment-check"
        );
        assert!(!format!("{:?}", akismet()).contains("k&y"));
    }

    #[test]
    fn a_correction_is_taken_only_with_akismets_thanks() {
        assert!(accepted(200, b"Thanks for making the web a better place."));
        assert!(!accepted(200, b"invalid"));
        assert!(!accepted(500, b"Thanks for making the web a better place."));
    }
}
