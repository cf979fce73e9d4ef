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

/// The mailbox an address delivers to, as one key whatever way the address
/// is spelled: trimmed and lowercased, without a `+tag`, and for Gmail
/// (gmail.com, googlemail.com) without the dots Gmail ignores. Limits that
/// protect a mailbox count by this, or `victim+1@…`, `victim+2@…` and
/// `v.ictim@gmail.com` would each count as a stranger of their own.
pub fn mailbox(address: &str) -> String {
    let address = address.trim().to_ascii_lowercase();
    let Some((local, domain)) = address.rsplit_once('@') else {
        return address;
    };
    let local = local.split_once('+').map_or(local, |(base, _)| base);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
        _ => format!("{local}@{domain}"),
    }
}

/// Whether two addresses deliver to the same mailbox ([`mailbox`]).
pub fn same_mailbox(a: &str, b: &str) -> bool {
    mailbox(a) == mailbox(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mailbox_is_one_key_whatever_its_case_tag_or_gmail_dots() {
        let victim = mailbox("victim@example.org");
        for spelling in [
            " Victim@Example.ORG ",
            "victim+1@example.org",
            "VICTIM+a+b@example.org",
        ] {
            assert_eq!(mailbox(spelling), victim, "{spelling}");
        }
        let gmail = mailbox("janedoe@gmail.com");
        for spelling in [
            "jane.doe@gmail.com",
            "J.a.N.e.D.o.E+news@GMail.com",
            "jane.doe@googlemail.com",
        ] {
            assert_eq!(mailbox(spelling), gmail, "{spelling}");
        }
        // Dots matter elsewhere, and other domains are other mailboxes.
        assert_ne!(
            mailbox("jane.doe@example.org"),
            mailbox("janedoe@example.org")
        );
        assert_ne!(mailbox("victim@example.org"), mailbox("victim@example.net"));
        assert!(same_mailbox("ann+blog@example.org", "ANN@example.org"));
        assert!(!same_mailbox("ann@example.org", "anne@example.org"));
    }

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
