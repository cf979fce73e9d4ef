//! The data model the service keeps: comments, contact messages, moderation
//! decisions, the outbox, and how long each is kept (README.md, "Data and
//! the table design"). Stores persist these types; nothing here does I/O.

use std::fmt;

/// Days, in milliseconds.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// Rejected comments are kept this long.
pub const REJECTED_TTL_MS: u64 = 7 * DAY_MS;
/// Pending comments are kept this long after their moderation mail was delivered.
pub const PENDING_TTL_MS: u64 = 30 * DAY_MS;
/// Contact messages are kept this long after delivery.
pub const CONTACT_TTL_MS: u64 = 90 * DAY_MS;

/// Where a comment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentStatus {
    /// Waiting for the owner.
    Pending,
    /// Published.
    Approved,
    /// Refused; removed after [`REJECTED_TTL_MS`].
    Rejected,
}

impl CommentStatus {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Pending => "pending",
            CommentStatus::Approved => "approved",
            CommentStatus::Rejected => "rejected",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(CommentStatus::Pending),
            "approved" => Some(CommentStatus::Approved),
            "rejected" => Some(CommentStatus::Rejected),
            _ => None,
        }
    }
}

/// A stored comment.
#[derive(Clone, PartialEq, Eq)]
pub struct CommentRecord {
    /// Unguessable id.
    pub id: String,
    /// The page, exactly as submitted.
    pub post: String,
    /// The approved comment this one replies to.
    pub parent: Option<String>,
    /// The commenter's name.
    pub name: String,
    /// Never published, never logged.
    pub email: Option<String>,
    /// The commenter's website.
    pub url: Option<String>,
    /// Plain text.
    pub body: String,
    /// Submission time.
    pub created_ms: u64,
    /// Where it stands.
    pub status: CommentStatus,
    /// Keyed hash of the source IP.
    pub ip_hash: String,
    /// Base URL for the emailed moderation links.
    pub links_base: String,
    /// The author asked to be mailed about replies (double opt-in after approval).
    pub notify: bool,
    /// Keyed hash of the author's mailbox ([`crate::domain::mailbox`]), kept
    /// only when the comment asks for reply notifications: the key of the
    /// one-confirmation-a-day rule, which the store applies when the comment
    /// is published, whoever publishes it (the function holds the key, the
    /// `rust-aws` command does not).
    pub mailbox: Option<String>,
}

impl CommentRecord {
    /// The mailbox key under which publishing this comment subscribes its
    /// author to replies: a top-level comment (replies cannot be replied to)
    /// that asked for notifications, with an address.
    pub fn subscribes(&self) -> Option<&str> {
        match (&self.email, self.parent.is_none() && self.notify) {
            (Some(_), true) => self.mailbox.as_deref(),
            _ => None,
        }
    }

    /// Whether publishing this reply is notified to `sub`, its parent's
    /// subscriber: only once they confirmed, and never for their own reply.
    pub fn notifies(&self, sub: &Subscription) -> bool {
        sub.confirmed
            && !self
                .email
                .as_deref()
                .is_some_and(|e| crate::domain::same_mailbox(e, &sub.email))
    }

    /// The subscription publishing this comment creates, if it asks for one.
    pub fn subscription(&self, confirmed: bool, now_ms: u64) -> Option<Subscription> {
        self.subscribes()?;
        Some(Subscription {
            comment_id: self.id.clone(),
            post: self.post.clone(),
            email: self.email.clone()?,
            confirmed,
            created_ms: now_ms,
        })
    }
}

impl fmt::Debug for CommentRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommentRecord")
            .field("id", &self.id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A stored contact message.
#[derive(Clone, PartialEq, Eq)]
pub struct ContactRecord {
    /// Unguessable id.
    pub id: String,
    /// The visitor's name.
    pub name: String,
    /// The visitor's address (the mail's Reply-To).
    pub email: String,
    /// Optional subject.
    pub subject: Option<String>,
    /// The message.
    pub message: String,
    /// Submission time.
    pub created_ms: u64,
    /// Keyed hash of the source IP.
    pub ip_hash: String,
    /// Whether the mail to the owner went out.
    pub delivered: bool,
}

impl fmt::Debug for ContactRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContactRecord")
            .field("id", &self.id)
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

/// What an outbox entry mails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// A contact message to the owner.
    Contact,
    /// A comment's moderation mail to the owner.
    Comment,
    /// The confirmation mail of a reply-notification subscription (the id
    /// is the subscriber's comment).
    Confirm,
    /// The mail telling a subscriber about a reply (the id is the reply).
    Reply,
    /// An alert to the owner on one channel about a new comment or contact
    /// message (the id is the record's); not a mail, but delivered the same way.
    Alert(Channel),
    /// A correction reported back to Akismet (`submit-ham`, `submit-spam`;
    /// the id is the record's).
    Feedback,
}

impl MailKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Contact => "contact",
            MailKind::Comment => "comment",
            MailKind::Confirm => "confirm",
            MailKind::Reply => "reply",
            MailKind::Alert(channel) => channel.kind_name(),
            MailKind::Feedback => "feedback",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contact" => Some(MailKind::Contact),
            "comment" => Some(MailKind::Comment),
            "confirm" => Some(MailKind::Confirm),
            "reply" => Some(MailKind::Reply),
            "feedback" => Some(MailKind::Feedback),
            other => Channel::ALL
                .into_iter()
                .find(|c| c.kind_name() == other)
                .map(MailKind::Alert),
        }
    }

    /// The hourly cap this kind of mail counts against.
    pub fn cap(self) -> MailCap {
        match self {
            MailKind::Contact | MailKind::Comment => MailCap::Owner,
            MailKind::Confirm | MailKind::Reply => MailCap::Visitor,
            MailKind::Alert(_) => MailCap::Alerts,
            MailKind::Feedback => MailCap::Feedback,
        }
    }

    /// Whether the entry is a mail (through the mailer); alerts and feedback
    /// are HTTPS calls ([`crate::outbox::alerts`]).
    pub fn is_mail(self) -> bool {
        !matches!(self, MailKind::Alert(_) | MailKind::Feedback)
    }
}

/// An owner-alert channel (PRODUCT.md, "Owner alerts").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// A signed JSON POST to `ALERT_WEBHOOK_URL`.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
    /// A Discord webhook.
    Discord,
    /// A Telegram bot's message to a chat.
    Telegram,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 4] = [
        Channel::Webhook,
        Channel::Slack,
        Channel::Discord,
        Channel::Telegram,
    ];

    /// The channel's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Slack => "slack",
            Channel::Discord => "discord",
            Channel::Telegram => "telegram",
        }
    }

    /// The stored outbox kind of the channel's alerts.
    fn kind_name(self) -> &'static str {
        match self {
            Channel::Webhook => "alert-webhook",
            Channel::Slack => "alert-slack",
            Channel::Discord => "alert-discord",
            Channel::Telegram => "alert-telegram",
        }
    }
}

/// An hourly mail budget. Each counts mails sent, never attempts: a slot
/// taken for a send that fails is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailCap {
    /// Mail to the site owner (`MAIL_PER_HOUR`).
    Owner,
    /// Mail to visitors (`VISITOR_MAIL_PER_HOUR`).
    Visitor,
    /// Alerts to the owner on any channel (`ALERTS_PER_HOUR`).
    Alerts,
    /// Corrections reported to Akismet ([`FEEDBACK_PER_HOUR`]).
    Feedback,
}

/// Corrections reported to Akismet per hour: far above what an owner's
/// hand produces, a bound on what a script's mistake sends.
pub const FEEDBACK_PER_HOUR: u32 = 1_000;

/// An item whose mail has not been delivered yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutboxEntry {
    /// Which record type.
    pub kind: MailKind,
    /// The record's id.
    pub id: String,
}

/// Where an undelivered mail stands: what `rust-aws outbox` lists. Holds no
/// address, subject or body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The record the mail is about.
    pub entry: OutboxEntry,
    /// When the record was stored.
    pub created_ms: u64,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// Not retried before this time.
    pub next_attempt_ms: u64,
    /// Given up on after too many attempts: no run retries it until the
    /// owner requeues it (`rust-aws redeliver`).
    pub parked: bool,
    /// Why the last attempt failed, as a short class (an SES error code, a
    /// timeout): never the provider's message text, which can hold addresses.
    pub last_error: Option<String>,
}

/// What a delivery that did not happen records on its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferral {
    /// Failed attempts, this one included (unchanged when the mail was only
    /// postponed, e.g. by an hourly cap).
    pub attempts: u32,
    /// Not retried before this time.
    pub next_attempt_ms: u64,
    /// Stop retrying: the entry is listed as parked and raises an alarm.
    pub parked: bool,
    /// The short error class ([`OutboxItem::last_error`]).
    pub error: String,
}

/// A moderation decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Publish.
    Approve,
    /// Refuse (or unpublish).
    Reject,
    /// Remove at once.
    Delete,
}

impl Decision {
    /// The token and page name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Delete => "delete",
        }
    }

    /// Parses a token name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            "delete" => Some(Decision::Delete),
            _ => None,
        }
    }

    /// The status this decision leads to (`None`: gone).
    pub fn target(self) -> Option<CommentStatus> {
        match self {
            Decision::Approve => Some(CommentStatus::Approved),
            Decision::Reject => Some(CommentStatus::Rejected),
            Decision::Delete => None,
        }
    }
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Applied.
    Done,
    /// The comment already stands that way, or is gone.
    Conflict,
    /// An approval of a reply whose parent is no longer approved: replies are
    /// published only under a published parent.
    ParentUnpublished,
}

/// A position in a post's approved list: `(created_ms, id)` of the last comment shown.
pub(crate) type ListPosition = (u64, String);

/// Confirmation links live this long after their mail went out; an
/// unconfirmed subscription goes with them.
pub const CONFIRM_TTL_MS: u64 = 7 * DAY_MS;
/// An unconfirmed subscription that joined the day's subscription of its
/// mailbox (and has no mail of its own) lives this long: longer than that
/// one's link, whose mail may go out a little later, and confirmed with it.
pub const JOINED_TTL_MS: u64 = CONFIRM_TTL_MS + DAY_MS;
/// Confirmation mails that comments from one source address may set off in
/// a day, whatever mailboxes they name.
pub const CONFIRMATIONS_PER_SOURCE_A_DAY: u64 = 3;

/// A reply-notification subscription: the author of one published comment
/// asked to be mailed about replies to it. It holds the address only while it
/// lives: unsubscribing, deleting the comment or erasing the address removes it.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The subscriber's comment (replies to it are notified).
    pub comment_id: String,
    /// The comment's page.
    pub post: String,
    /// The subscriber's address, as on the comment.
    pub email: String,
    /// The subscriber opened the confirmation mail's link and pressed its button.
    pub confirmed: bool,
    /// When it was created (the comment's publication).
    pub created_ms: u64,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("comment_id", &self.comment_id)
            .field("confirmed", &self.confirmed)
            .finish_non_exhaustive()
    }
}

/// What a confirmation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// Confirmed now.
    Done,
    /// It was confirmed already.
    Already,
    /// No such subscription (unsubscribed, expired, or its comment deleted).
    Gone,
}
