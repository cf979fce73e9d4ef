//! The JSON forms of stored records, as `export` writes them and `show` and
//! `--json` print them. Field order is fixed (structs, not maps) so exports
//! compare line by line.

use serde::Serialize;

use rust_aws::domain::ids;
use rust_aws::domain::{CommentRecord, ContactRecord};

/// A comment, every field but the IP hash and the internal link base.
#[derive(Debug, Serialize)]
pub(crate) struct CommentJson<'a> {
    /// Always `comment`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its id.
    pub id: &'a str,
    /// Its page.
    pub post: &'a str,
    /// The comment it replies to.
    pub parent: Option<&'a str>,
    /// Author.
    pub name: &'a str,
    /// Author's address.
    pub email: Option<&'a str>,
    /// Author's website.
    pub url: Option<&'a str>,
    /// Plain text.
    pub body: &'a str,
    /// RFC 3339 UTC, milliseconds.
    pub created_at: String,
    /// `pending`, `approved` or `rejected`.
    pub status: &'static str,
}

impl<'a> From<&'a CommentRecord> for CommentJson<'a> {
    fn from(r: &'a CommentRecord) -> Self {
        Self {
            kind: "comment",
            id: &r.id,
            post: &r.post,
            parent: r.parent.as_deref(),
            name: &r.name,
            email: r.email.as_deref(),
            url: r.url.as_deref(),
            body: &r.body,
            created_at: ids::rfc3339(r.created_ms),
            status: r.status.as_str(),
        }
    }
}

/// A contact message, every field but the IP hash.
#[derive(Debug, Serialize)]
pub(crate) struct ContactJson<'a> {
    /// Always `contact`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its id.
    pub id: &'a str,
    /// The visitor's name.
    pub name: &'a str,
    /// The visitor's address.
    pub email: &'a str,
    /// Subject, if any.
    pub subject: Option<&'a str>,
    /// The message.
    pub message: &'a str,
    /// RFC 3339 UTC, milliseconds.
    pub created_at: String,
    /// Whether the mail to the owner went out.
    pub delivered: bool,
}

impl<'a> From<&'a ContactRecord> for ContactJson<'a> {
    fn from(r: &'a ContactRecord) -> Self {
        Self {
            kind: "contact",
            id: &r.id,
            name: &r.name,
            email: &r.email,
            subject: r.subject.as_deref(),
            message: &r.message,
            created_at: ids::rfc3339(r.created_ms),
            delivered: r.delivered,
        }
    }
}

/// One JSON line.
pub fn line(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
