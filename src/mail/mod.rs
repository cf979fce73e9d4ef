//! Outgoing mail behind one small trait: SES v2 in production, the log locally.
//!
//! Every mail is rendered here to raw MIME, so headers are built in one place
//! where injection is impossible: user text only ever reaches a header as an
//! RFC 2047 encoded word, and bodies are base64.

pub mod log;
pub mod memory;
#[cfg(feature = "aws")]
pub mod ses;

use async_trait::async_trait;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The mail could not be sent; the caller keeps it for redelivery.
///
/// `class` is what the outbox records and logs (`SES Throttling`, `SES
/// timeout`): a provider's own message can quote an address, so it stays in
/// the [`source`](Error::source), for a debugger, never in a log or an item.
#[derive(Debug, Clone, thiserror::Error)]
#[error("mail not sent: {class}")]
pub struct MailError {
    class: Cow<'static, str>,
    #[source]
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl MailError {
    /// A failure of this class, with no further cause.
    pub fn new(class: impl Into<Cow<'static, str>>) -> Self {
        Self {
            class: class.into(),
            source: None,
        }
    }

    /// A failure of this class, caused by `source`.
    pub fn caused_by(
        class: impl Into<Cow<'static, str>>,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            class: class.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// What kind of failure it was, safe to store and log.
    pub fn class(&self) -> &str {
        &self.class
    }
}

/// One plain-text mail: to the site owner, or to a visitor who asked for it.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// Display name for From (the site's name).
    pub from_name: String,
    /// The verified sender address.
    pub from: String,
    /// The owner.
    pub to: String,
    /// Name and address replies go to (the visitor, for contact messages).
    pub reply_to: Option<(String, String)>,
    /// Subject, any Unicode.
    pub subject: String,
    /// Body, any Unicode.
    pub text: String,
    /// The one-click unsubscribe URL of mail to a subscriber (RFC 8058):
    /// rendered as `List-Unsubscribe` with `List-Unsubscribe-Post`.
    pub list_unsubscribe: Option<String>,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("subject_chars", &self.subject.chars().count())
            .finish_non_exhaustive()
    }
}

/// Sends mail.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one mail.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// RFC 2047 encoded words (UTF-8, base64), each under the 75-character limit,
/// folded onto continuation lines. No byte of `text` reaches the header raw.
pub(crate) fn encode_words(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        // 45 bytes of UTF-8 encode to 60 base64 characters: 72 with the wrapper.
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || words.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?B?{}?=", STANDARD.encode(w)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// An address in angle brackets. Addresses come from `Email::parse` or the
/// configuration (ASCII, no spaces, brackets or line breaks); anything else is
/// stripped all the same.
fn angle_addr(address: &str) -> String {
    let clean: String = address
        .chars()
        .filter(|c| c.is_ascii_graphic() && !"<>\"".contains(*c))
        .collect();
    format!("<{clean}>")
}

/// A mailbox header value: encoded display name and address.
fn mailbox(name: &str, address: &str) -> String {
    format!("{} {}", encode_words(name), angle_addr(address))
}

impl Mail {
    /// The raw MIME message SES sends as is.
    pub fn to_mime(&self) -> Vec<u8> {
        let mut m = String::new();
        m.push_str(&format!(
            "From: {}\r\n",
            mailbox(&self.from_name, &self.from)
        ));
        m.push_str(&format!("To: {}\r\n", angle_addr(&self.to)));
        if let Some((name, address)) = &self.reply_to {
            m.push_str(&format!("Reply-To: {}\r\n", mailbox(name, address)));
        }
        m.push_str(&format!("Subject: {}\r\n", encode_words(&self.subject)));
        if let Some(url) = &self.list_unsubscribe {
            m.push_str(&format!("List-Unsubscribe: {}\r\n", angle_addr(url)));
            m.push_str("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
        }
        m.push_str("MIME-Version: 1.0\r\n");
        m.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        m.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
        let body = STANDARD.encode(self.text.replace('\n', "\r\n"));
        for line in body.as_bytes().chunks(76) {
            m.push_str(std::str::from_utf8(line).unwrap_or_default());
            m.push_str("\r\n");
        }
        m.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(name: &str, subject: &str) -> Mail {
        Mail {
            from_name: "Blog".into(),
            from: "noreply@example.com".into(),
            to: "owner@example.com".into(),
            reply_to: Some((name.into(), "visitor@example.org".into())),
            subject: subject.into(),
            text: "Hello\nBcc: victim@example.com\n".into(),
            list_unsubscribe: None,
        }
    }

    fn headers(mime: &[u8]) -> String {
        let s = String::from_utf8(mime.to_vec()).unwrap();
        s.split("\r\n\r\n").next().unwrap().to_owned()
    }

    #[test]
    fn user_text_cannot_add_headers() {
        let m = mail(
            "Eve\r\nBcc: victim@example.com",
            "Hi\r\nBcc: victim@example.com",
        );
        let h = headers(&m.to_mime());
        assert!(!h.to_ascii_lowercase().contains("bcc"), "{h}");
        for line in h.split("\r\n") {
            assert!(
                line.starts_with(' ') || line.contains(": "),
                "unexpected header line {line:?}"
            );
        }
    }

    #[test]
    fn reply_to_and_recipients_are_set() {
        let h = headers(&mail("Ann", "Hi").to_mime());
        assert!(h.contains("To: <owner@example.com>"), "{h}");
        assert!(h.contains("<visitor@example.org>"));
        assert!(h.contains("From: =?utf-8?B?QmxvZw==?= <noreply@example.com>"));
    }

    #[test]
    fn a_subscriber_mail_carries_the_rfc_8058_headers() {
        let mut m = mail("Ann", "Hi");
        m.list_unsubscribe =
            Some("https://api.example.org/comment/notify?token=u.1.2.x\r\nBcc: x@y".into());
        let h = headers(&m.to_mime());
        assert!(
            h.contains("List-Unsubscribe: <https://api.example.org/comment/notify?token=u.1.2.xBcc:x@y>\r\n"),
            "{h}"
        );
        assert!(h.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(!headers(&mail("Ann", "Hi").to_mime()).contains("List-Unsubscribe"));
    }

    #[test]
    fn encoded_words_stay_short_and_round_trip() {
        let subject = "Ünïcödé 🦀 ".repeat(20);
        let encoded = encode_words(&subject);
        let mut decoded = Vec::new();
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let b64 = word
                .strip_prefix("=?utf-8?B?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            decoded.extend(STANDARD.decode(b64).unwrap());
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), subject);
    }

    #[test]
    fn body_is_base64_lines_of_76() {
        let m = mail("Ann", "Hi").to_mime();
        let s = String::from_utf8(m).unwrap();
        let body = s.split("\r\n\r\n").nth(1).unwrap();
        assert!(body.lines().all(|l| l.len() <= 76));
        let joined: String = body.split("\r\n").collect();
        assert_eq!(
            STANDARD.decode(joined).unwrap(),
            b"Hello\r\nBcc: victim@example.com\r\n"
        );
    }
}
