//! A commenter's website: an absolute `http` or `https` URL.

use super::{FieldCode, FieldError};

/// An `http(s)` URL of at most 2048 characters with a host and no spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl(String);

impl WebUrl {
    /// Parses a trimmed URL for `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(FieldError::required(field));
        }
        if value.chars().count() > 2048 {
            return Err(FieldError::new(
                field,
                FieldCode::TooLong,
                format!("{field} must be at most 2048 characters"),
            ));
        }
        let lower = value.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        let host_ok = rest.is_some_and(|r| {
            let authority = r.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit('@').next().unwrap_or("");
            !host.is_empty() && !host.starts_with(':')
        });
        let clean = value.chars().all(|c| !c.is_whitespace() && !c.is_control());
        if !(host_ok && clean) {
            return Err(FieldError::invalid(
                field,
                "must be an http:// or https:// address",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_http_and_https_urls() {
        for ok in [
            "https://example.com",
            "http://example.com:8080/a?b#c",
            "HTTPS://Example.com/",
        ] {
            assert!(WebUrl::parse("url", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_other_schemes_and_hostless_urls() {
        for bad in [
            "javascript:alert(1)",
            "ftp://x",
            "https://",
            "https:///path",
            "//example.com",
            "https://a b",
            "data:text/html,x",
        ] {
            assert_eq!(
                WebUrl::parse("url", bad).unwrap_err().code,
                FieldCode::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_urls_over_2048_characters() {
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(
            WebUrl::parse("url", &long).unwrap_err().code,
            FieldCode::TooLong
        );
    }
}
