//! Email addresses as HTML's `<input type=email>` accepts them (the WHATWG
//! "valid e-mail address" grammar), ASCII only, at most 254 characters.

use super::{FieldCode, FieldError};

/// A valid email address. Never published and never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Addresses must not reach logs, even through a `{:?}`.
        f.write_str("Email(<redacted>)")
    }
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b)
}

fn is_label(label: &[u8]) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
        && label.first() != Some(&b'-')
        && label.last() != Some(&b'-')
}

impl Email {
    /// Parses a trimmed address for `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(FieldError::required(field));
        }
        if value.len() > 254 {
            return Err(FieldError::new(
                field,
                FieldCode::TooLong,
                format!("{field} must be at most 254 characters"),
            ));
        }
        let valid = value.is_ascii()
            && match value.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.bytes().all(is_local_char)
                        && domain.split('.').all(|l| is_label(l.as_bytes()))
                }
                None => false,
            };
        if !valid {
            return Err(FieldError::invalid(field, "must be a valid email address"));
        }
        Ok(Self(value.to_owned()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_html_email_inputs_accept() {
        for ok in [
            "a@b",
            "first.last+tag@example.co.uk",
            "x!#$%&'*+/=?^_`{|}~-@a-b.c",
            "  me@example.com ",
        ] {
            assert!(Email::parse("email", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "a",
            "@b",
            "a@",
            "a@b@c",
            "a b@c",
            "a@-b",
            "a@b-",
            "a@b..c",
            "zoë@example.com",
            "a@exämple.com",
            "a@b\r\nBcc: x@y",
        ] {
            assert_eq!(
                Email::parse("email", bad).unwrap_err().code,
                FieldCode::Invalid,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_addresses_over_254_characters() {
        let long = format!(
            "{}@{}.com",
            "a".repeat(60),
            vec!["b".repeat(60); 4].join(".")
        );
        assert!(long.len() > 254);
        assert_eq!(
            Email::parse("email", &long).unwrap_err().code,
            FieldCode::TooLong
        );
    }

    #[test]
    fn debug_output_hides_the_address() {
        let e = Email::parse("email", "secret@example.com").unwrap();
        assert!(!format!("{e:?}").contains("secret"));
    }
}
