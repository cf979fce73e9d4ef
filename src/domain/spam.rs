//! The spam folder and the outbound queue's records (PRODUCT.md, "Spam
//! defence", "Owner alerts"). Stores persist these types; nothing here does I/O.

use std::fmt;

use super::model::{CommentRecord, ContactRecord, DAY_MS, OutboxEntry};

/// Spam is kept this long after its verdict, then goes.
pub const SPAM_TTL_MS: u64 = 30 * DAY_MS;
/// The same body within this long of its first submission is spam.
pub const DUPLICATE_WINDOW_MS: u64 = DAY_MS;

/// What a spam verdict holds back: a comment or a contact message, as it
/// would have been stored.
#[derive(Clone, PartialEq, Eq)]
pub enum Held {
    /// A comment (its status is that of the flow it was taken out of).
    Comment(CommentRecord),
    /// A contact message.
    Contact(ContactRecord),
}

impl Held {
    /// The record's id.
    pub fn id(&self) -> &str {
        match self {
            Held::Comment(c) => &c.id,
            Held::Contact(m) => &m.id,
        }
    }

    /// `comment` or `contact`.
    pub fn kind(&self) -> &'static str {
        match self {
            Held::Comment(_) => "comment",
            Held::Contact(_) => "contact",
        }
    }

    /// When the visitor submitted it.
    pub fn created_ms(&self) -> u64 {
        match self {
            Held::Comment(c) => c.created_ms,
            Held::Contact(m) => m.created_ms,
        }
    }

    /// The author's name.
    pub fn author(&self) -> &str {
        match self {
            Held::Comment(c) => &c.name,
            Held::Contact(m) => &m.name,
        }
    }

    /// The text the visitor wrote.
    pub fn text(&self) -> &str {
        match self {
            Held::Comment(c) => &c.body,
            Held::Contact(m) => &m.message,
        }
    }

    /// The post of a comment, or the subject of a contact message.
    pub fn about(&self) -> Option<&str> {
        match self {
            Held::Comment(c) => Some(&c.post),
            Held::Contact(m) => m.subject.as_deref(),
        }
    }
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.kind(), self.id())
    }
}

/// An item in the spam folder: never published, mailed or alerted, gone
/// [`SPAM_TTL_MS`] after `marked_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpamItem {
    /// What was held back.
    pub held: Held,
    /// Which verdict put it here: a short class (`links`, `blocklist`,
    /// `duplicate`, `akismet`, `owner`), never the matched text.
    pub reason: String,
    /// When it was found to be spam (the folder's order, newest first).
    pub marked_ms: u64,
}

impl SpamItem {
    /// When it goes.
    pub fn expires_ms(&self) -> u64 {
        self.marked_ms + SPAM_TTL_MS
    }
}

/// A position in the spam folder: `(marked_ms, id)` of the last item shown.
pub type SpamPosition = (u64, String);

/// An outbound call waiting in the outbox (an alert on one channel, a
/// correction for Akismet): its entry and what it sends, stored first and
/// deleted once sent.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundCall {
    /// Its outbox entry (kind [`super::model::MailKind::Alert`] or `Feedback`).
    pub entry: OutboxEntry,
    /// The event, as JSON (the channel's own format is built at delivery).
    pub payload: String,
    /// When it was stored.
    pub created_ms: u64,
}

impl fmt::Debug for OutboundCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The payload names people and quotes what they wrote.
        f.debug_struct("OutboundCall")
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}
