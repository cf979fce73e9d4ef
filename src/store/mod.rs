//! Persistence behind one small trait: DynamoDB in production, memory locally.
//!
//! Both adapters keep the same rules (PRODUCT.md "Data and retention"): expiry
//! is checked on every read, since DynamoDB deletes expired items late.

#[cfg(feature = "aws")]
pub mod dynamodb;
pub mod memory;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so the traits stay object-safe (`Arc<dyn Store>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Days, in milliseconds.
pub const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// Rejected comments are kept this long.
pub const REJECTED_TTL_MS: u64 = 7 * DAY_MS;
/// Pending comments are kept this long after their moderation mail was delivered.
pub const PENDING_TTL_MS: u64 = 30 * DAY_MS;
/// Contact messages are kept this long after delivery.
pub const CONTACT_TTL_MS: u64 = 90 * DAY_MS;
/// How long a mail claim outlives the deadline of the invocation that took
/// it: a claim never needs to outlast its invocation (Lambda ends the process
/// at the deadline), and a short lease lets the next run retry soon after.
pub const CLAIM_MARGIN_MS: u64 = 2 * 1000;

/// The store could not be reached or answered with an error: callers answer 503.
#[derive(Debug, Clone)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store unavailable: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

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
}

impl MailKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Contact => "contact",
            MailKind::Comment => "comment",
            MailKind::Confirm => "confirm",
            MailKind::Reply => "reply",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "contact" => Some(MailKind::Contact),
            "comment" => Some(MailKind::Comment),
            "confirm" => Some(MailKind::Confirm),
            "reply" => Some(MailKind::Reply),
            _ => None,
        }
    }

    /// The hourly cap this kind of mail counts against.
    pub fn cap(self) -> MailCap {
        match self {
            MailKind::Contact | MailKind::Comment => MailCap::Owner,
            MailKind::Confirm | MailKind::Reply => MailCap::Visitor,
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
}

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
    /// Given up on after too many attempts: no run retries it until it is
    /// requeued ([`Store::requeue`]).
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

/// One fixed one-minute rate-limit window of one source on one route.
#[derive(Debug, Clone, Copy)]
pub struct RateWindow<'a> {
    /// The route's path.
    pub route: &'a str,
    /// Keyed hash of the source address.
    pub source: &'a str,
    /// Minutes since the epoch.
    pub minute: u64,
}

impl RateWindow<'_> {
    /// The counter's key.
    fn key(&self) -> String {
        format!("RATE#{}#{}#{}", self.route, self.source, self.minute)
    }

    /// When the counter may go (epoch seconds): a while after the window ends.
    fn expires_s(&self) -> u64 {
        (self.minute + 1) * 60 + 120
    }
}

/// Confirmation links live this long after their mail went out; an
/// unconfirmed subscription goes with them.
pub const CONFIRM_TTL_MS: u64 = 7 * DAY_MS;

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

/// What asking for a subscription did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscribed {
    /// Created, its confirmation mail undelivered.
    Created,
    /// The comment has a subscription already.
    Exists,
    /// The address was sent a confirmation today already: nothing stored.
    DailyLimit,
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

/// A position in a post's approved list: `(created_ms, id)` of the last comment shown.
pub type ListPosition = (u64, String);

/// The store. Every method is one bounded round trip (or a small fixed number).
pub trait Store: Send + Sync {
    /// Counts one hit in a fixed rate-limit window and returns the count so far.
    fn hit_rate<'a>(&'a self, window: &'a RateWindow<'a>) -> BoxFuture<'a, StoreResult<u64>>;

    /// Takes one of `limit` slots of `cap` in the hour `hour` (hours since
    /// the epoch); `false` when none is left.
    fn take_mail_slot(
        &self,
        cap: MailCap,
        hour: u64,
        limit: u32,
    ) -> BoxFuture<'_, StoreResult<bool>>;

    /// Gives back a slot taken for a send that failed: caps count mails sent.
    fn return_mail_slot(&self, cap: MailCap, hour: u64) -> BoxFuture<'_, StoreResult<()>>;

    /// Stores a new contact message, undelivered and claimed until `claim_until_ms`.
    fn put_contact<'a>(
        &'a self,
        record: &'a ContactRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Reads a contact message.
    fn get_contact<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<ContactRecord>>>;

    /// Stores a new comment whose mail is undelivered, claimed until `claim_until_ms`.
    fn put_comment<'a>(
        &'a self,
        record: &'a CommentRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Reads a comment (expired ones are absent).
    fn get_comment<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<CommentRecord>>>;

    /// Applies a moderation decision atomically (the status check, the
    /// change and the post's approved count together).
    fn decide<'a>(
        &'a self,
        id: &'a str,
        decision: Decision,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Decided>>;

    /// Up to `limit` approved comments of `post`, oldest first, after `after`.
    fn list_approved<'a>(
        &'a self,
        post: &'a str,
        after: Option<ListPosition>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>>;

    /// Approved-comment counts of each post, in the order given.
    fn count_approved<'a>(&'a self, posts: &'a [String]) -> BoxFuture<'a, StoreResult<Vec<u64>>>;

    /// Records that the entry's mail went out (starting the retention clock).
    fn mark_delivered<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Up to `limit` entries due for a delivery attempt at `now_ms` (not
    /// parked, next attempt not in the future), the longest-waiting first.
    /// Entries claimed by a live run are included (the claim refuses them).
    fn due_outbox(&self, now_ms: u64, limit: usize)
    -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>>;

    /// Every undelivered entry, waiting and parked, up to `limit`: waiting
    /// ones by next attempt, then parked ones. For `rust-aws outbox`.
    fn list_outbox(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxItem>>>;

    /// Claims an entry due for delivery until `until_ms`, unless it is parked,
    /// delivered, gone, or another run holds a live claim on it. `Some(n)`:
    /// claimed, with `n` failed attempts so far; `None`: leave it alone.
    fn claim<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
        until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<u32>>>;

    /// Records a delivery that did not happen and releases the claim.
    fn defer<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        deferral: &'a Deferral,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Puts a parked entry back in line, due at `now_ms` with its attempts
    /// reset; `false` when it is not parked (or gone).
    fn requeue<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>>;

    /// Creates `sub`, unconfirmed, its confirmation mail undelivered and
    /// claimed until `claim_until_ms`, unless the address (by its keyed hash
    /// `address_hash`) was given a subscription today already.
    fn subscribe<'a>(
        &'a self,
        sub: &'a Subscription,
        address_hash: &'a str,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Subscribed>>;

    /// The subscription of comment `comment_id` (an expired one is absent).
    fn get_subscription<'a>(
        &'a self,
        comment_id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<Subscription>>>;

    /// Confirms the subscription of comment `comment_id`: from now on it
    /// never expires.
    fn confirm_subscription<'a>(
        &'a self,
        comment_id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Confirmed>>;

    /// Removes the subscription of comment `comment_id`, with its address;
    /// `false` when there was none.
    fn unsubscribe<'a>(&'a self, comment_id: &'a str) -> BoxFuture<'a, StoreResult<bool>>;

    /// Records that published reply `reply_id` is to be notified to its
    /// parent's subscriber, the mail undelivered and claimed until
    /// `claim_until_ms`; `false` when it was recorded already.
    fn put_reply_notice<'a>(
        &'a self,
        reply_id: &'a str,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>>;
}

/// The sort key of a comment in its post's list: time, then id.
pub fn list_sort_key(created_ms: u64, id: &str) -> String {
    format!("{created_ms:013}#{id}")
}

/// Partition key of a post: a hash, since a 512-character post can exceed
/// DynamoDB's 2048-byte key limit in UTF-8.
pub fn post_key(post: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "POST#{}",
        crate::ids::hex(&Sha256::digest(post.as_bytes())[..16])
    )
}

/// The pause before retry `attempt` (1, 2, …) of a store call that met
/// contention or throttling: exponential from 25 ms, each pause drawn
/// between half and all of its ceiling, so writers that collided do not
/// collide again in step.
pub fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_ms = 25u64 << attempt.min(6);
    let random = u64::from(u16::from_le_bytes(crate::ids::random_bytes::<2>()));
    std::time::Duration::from_millis(ceiling_ms / 2 + random % (ceiling_ms / 2 + 1))
}

/// Whether whole-table reads include items past their expiry that DynamoDB
/// has not swept yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// Leave them out, as every other read does: they are gone for the product.
    Skip {
        /// The clock the expiry is checked against.
        now_ms: u64,
    },
    /// Include them: an erasure must find every trace of an address.
    Include,
}

impl Expired {
    fn keeps(self, expires_ms: Option<u64>) -> bool {
        match self {
            Expired::Skip { now_ms } => expires_ms.is_none_or(|e| e > now_ms),
            Expired::Include => true,
        }
    }
}

/// The owner's operations (the `rust-aws` command): whole-table reads,
/// removals and imports that the function never makes. A trait of its own so
/// that the function's `dyn Store` does not carry them into `bootstrap`.
///
/// Moderation goes through [`Store::decide`], as the mailed links do.
pub trait AdminStore: Store {
    /// Every comment, or those of `post`, in any status, oldest first.
    /// On DynamoDB a Scan: the owner's occasional read, never the function's.
    fn all_comments<'a>(
        &'a self,
        post: Option<&'a str>,
        expired: Expired,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>>;

    /// Every contact message, oldest first.
    fn all_contacts(&self, expired: Expired) -> BoxFuture<'_, StoreResult<Vec<ContactRecord>>>;

    /// Removes a contact message; `false` when there was none.
    fn delete_contact<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<bool>>;

    /// Removes a comment that is not approved, live or past its expiry (what
    /// [`Store::decide`] cannot reach); `false` when there was none or it is
    /// approved (approved comments change only through `decide`, with their count).
    fn purge_comment<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<bool>>;

    /// Stores an approved comment from elsewhere and counts it in its post, in
    /// one transaction, without any mail; `false` (and nothing written) when a
    /// comment with its id exists already, which makes imports idempotent.
    fn import_comment<'a>(&'a self, record: &'a CommentRecord) -> BoxFuture<'a, StoreResult<bool>>;
}

/// Oldest first, ties by id: the order of every listing.
pub fn by_age<T>(items: &mut [T], key: impl Fn(&T) -> (u64, &str)) {
    items.sort_by(|a, b| key(a).cmp(&key(b)));
}
