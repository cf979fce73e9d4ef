//! Persistence behind small capability traits, one per kind of data
//! ([`RateLimits`], [`MailBudget`], [`Contacts`], [`Comments`], [`Outbox`],
//! [`Subscriptions`], [`Feeds`]; [`Store`] is all of them): DynamoDB in production, memory
//! locally. A caller takes the capability it uses, and the conformance suite
//! (tests/aws/store/) states each trait's rules and holds both adapters to them.
//!
//! Every method is one bounded round trip (or a small fixed number). Both
//! adapters keep the same rules (README.md, "Data and the table design"): expiry
//! is checked on every read, since DynamoDB deletes expired items late.

mod console;
#[cfg(feature = "aws")]
pub mod dynamodb;
mod feed;
pub mod memory;

pub use console::{ConsoleIndex, ModerationLists, SessionRecord, Sessions};
pub use feed::Feeds;

use async_trait::async_trait;
use std::borrow::Cow;
use std::error::Error;
use std::sync::Arc;

use crate::domain::{
    CommentRecord, Confirmed, ContactRecord, Decided, Decision, Deferral, ListPosition, MailCap,
    OutboundCall, OutboxEntry, OutboxItem, SpamItem, SpamPosition, Subscription,
};

/// How long a mail claim outlives the deadline of the invocation that took
/// it: a claim never needs to outlast its invocation (Lambda ends the process
/// at the deadline), and a short lease lets the next run retry soon after.
pub(crate) const CLAIM_MARGIN_MS: u64 = 2 * 1000;

/// The store could not be reached or answered with an error: callers answer 503.
///
/// `what` names the call (`PutItem(comment)`) or the condition the store
/// met; the SDK's error, when there is one, is the [`source`](Error::source),
/// so the log line that reports it ([`crate::Chain`]) shows every cause.
#[derive(Debug, Clone, thiserror::Error)]
#[error("store unavailable: {what}")]
pub struct StoreError {
    what: Cow<'static, str>,
    #[source]
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl StoreError {
    /// A failure the store found itself (an answer it cannot use).
    pub fn new(what: impl Into<Cow<'static, str>>) -> Self {
        Self {
            what: what.into(),
            source: None,
        }
    }

    /// A call that failed with `source`.
    pub fn caused_by(
        what: impl Into<Cow<'static, str>>,
        source: impl Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            what: what.into(),
            source: Some(Arc::new(source)),
        }
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

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

/// Per-source request counters in fixed one-minute windows.
#[async_trait]
pub trait RateLimits: Send + Sync {
    /// Counts one hit in a fixed rate-limit window and returns the count so far.
    async fn hit_rate(&self, window: &RateWindow<'_>) -> StoreResult<u64>;
}

/// The hourly caps on mail sent (`MAIL_PER_HOUR`, `VISITOR_MAIL_PER_HOUR`).
#[async_trait]
pub trait MailBudget: Send + Sync {
    /// Takes one of `limit` slots of `cap` in the hour `hour` (hours since
    /// the epoch); `false` when none is left.
    async fn take_mail_slot(&self, cap: MailCap, hour: u64, limit: u32) -> StoreResult<bool>;

    /// Gives back a slot taken for a send that failed: caps count mails sent.
    async fn return_mail_slot(&self, cap: MailCap, hour: u64) -> StoreResult<()>;
}

/// Contact messages: stored before their mail to the owner goes out, read
/// back by redelivery, gone after their retention period.
#[async_trait]
pub trait Contacts: Send + Sync {
    /// Stores a new contact message, undelivered and claimed until `claim_until_ms`.
    async fn put_contact(&self, record: &ContactRecord, claim_until_ms: u64) -> StoreResult<()>;

    /// Reads a contact message.
    async fn get_contact(&self, id: &str, now_ms: u64) -> StoreResult<Option<ContactRecord>>;
}

/// Comments: their statuses and moderation, and the approved ones each post
/// lists and counts.
#[async_trait]
pub trait Comments: Send + Sync {
    /// Stores a new comment whose mail is undelivered, claimed until
    /// `claim_until_ms`. An approved one (published at once) records what
    /// its publication implies in the same write, as [`Comments::decide`]
    /// does.
    async fn put_comment(&self, record: &CommentRecord, claim_until_ms: u64) -> StoreResult<()>;

    /// Reads a comment (expired ones are absent).
    async fn get_comment(&self, id: &str, now_ms: u64) -> StoreResult<Option<CommentRecord>>;

    /// Applies a moderation decision atomically (the status check, the
    /// change and the post's approved count together). An approval records
    /// in the same write the mails the publication implies, so that no
    /// decision loses them whoever makes it (the function's links, the
    /// command): the subscription the comment asked for with its
    /// confirmation mail (at most one new one per mailbox a day, and per
    /// source address [`CONFIRMATIONS_PER_SOURCE_A_DAY`]; a later comment of
    /// a mailbox that has the day's joins it, and is confirmed with it), and
    /// the notice to the parent's confirmed subscriber. Their outbox entries
    /// are due at once and unclaimed.
    async fn decide(&self, id: &str, decision: Decision, now_ms: u64) -> StoreResult<Decided>;

    /// Up to `limit` approved comments of `post`, oldest first, after `after`.
    async fn list_approved(
        &self,
        post: &str,
        after: Option<ListPosition>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>>;

    /// Approved-comment counts of each post, in the order given.
    async fn count_approved(&self, posts: &[String]) -> StoreResult<Vec<u64>>;
}

/// The mail not yet delivered of every record (contact, comment,
/// confirmation, reply): claims, failed attempts with their backoff, parking.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Records that the entry's mail went out (starting the retention clock).
    async fn mark_delivered(&self, entry: &OutboxEntry, now_ms: u64) -> StoreResult<()>;

    /// Up to `limit` entries under `cap` due for a delivery attempt at
    /// `now_ms` (not parked, next attempt not in the future), the
    /// longest-waiting first: each cap's mail waits in a line of its own, so
    /// a backlog held back by one cap never hides the other's mail.
    /// Entries claimed by a live run are included (the claim refuses them).
    async fn due_outbox(
        &self,
        cap: MailCap,
        now_ms: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>>;

    /// Undelivered entries: up to `limit` waiting ones by next attempt, then
    /// up to `limit` parked ones (however many wait, parked mail is listed).
    /// For `rust-aws outbox`.
    async fn list_outbox(&self, limit: usize) -> StoreResult<Vec<OutboxItem>>;

    /// Claims an entry due for delivery until `until_ms`, unless it is parked,
    /// delivered, gone, or another run holds a live claim on it. `Some(n)`:
    /// claimed, with `n` failed attempts so far; `None`: leave it alone.
    async fn claim(
        &self,
        entry: &OutboxEntry,
        now_ms: u64,
        until_ms: u64,
    ) -> StoreResult<Option<u32>>;

    /// Records a delivery that did not happen and releases the claim.
    async fn defer(&self, entry: &OutboxEntry, deferral: &Deferral) -> StoreResult<()>;

    /// Puts a parked entry back in line, due at `now_ms` with its attempts
    /// reset; `false` when it is not parked (or gone).
    async fn requeue(&self, entry: &OutboxEntry, now_ms: u64) -> StoreResult<bool>;
}

/// Reply-notification subscriptions (double opt-in). They are created, with
/// the notices of replies to mail to them, by the publication of a comment
/// ([`Comments::decide`], [`Comments::put_comment`]).
#[async_trait]
pub trait Subscriptions: Send + Sync {
    /// The subscription of comment `comment_id` (an expired one is absent).
    async fn get_subscription(
        &self,
        comment_id: &str,
        now_ms: u64,
    ) -> StoreResult<Option<Subscription>>;

    /// Confirms the subscription of comment `comment_id`, and those that
    /// joined it (later comments of the same mailbox that day): from now on
    /// they never expire.
    async fn confirm_subscription(&self, comment_id: &str, now_ms: u64) -> StoreResult<Confirmed>;

    /// Removes the subscription of comment `comment_id`, with its address;
    /// `false` when there was none.
    async fn unsubscribe(&self, comment_id: &str) -> StoreResult<bool>;
}

/// The spam folder (PRODUCT.md, "Spam defence"): what a spam verdict holds
/// back for [`SPAM_TTL_MS`], listed newest first by one `Query` on a sparse
/// index, and the recent bodies the duplicate rule compares with.
#[async_trait]
pub trait SpamFolder: Send + Sync {
    /// Records that submission `id` has a body with keyed hash `key`, at
    /// `now_ms`; `true` when another submission recorded the same key within
    /// [`DUPLICATE_WINDOW_MS`] before and is stored (a comment, a contact
    /// message or spam): then the first time stays the one the window counts
    /// from. A first submission that was never stored (its store write
    /// failed, the visitor got a 503 and tries again) or is gone makes no
    /// duplicate, and neither does a retry of this same call.
    async fn seen_body(&self, key: &str, id: &str, now_ms: u64) -> StoreResult<bool>;

    /// Puts an item in the folder; one already there with its id stays
    /// as it is (a retried write).
    async fn put_spam(&self, item: &SpamItem) -> StoreResult<()>;

    /// One item of the folder (an expired one is absent).
    async fn get_spam(&self, id: &str, now_ms: u64) -> StoreResult<Option<SpamItem>>;

    /// Up to `limit` items of the folder, newest first, after `after` (the
    /// last item of the previous page). The page is full unless the folder
    /// has no more.
    async fn list_spam(
        &self,
        after: Option<SpamPosition>,
        limit: usize,
        now_ms: u64,
    ) -> StoreResult<Vec<SpamItem>>;

    /// Removes an item from the folder for good (an erasure, or the owner
    /// emptying it); `false` when there was none.
    async fn delete_spam(&self, id: &str) -> StoreResult<bool>;

    /// "Not spam": takes item `id` out of the folder and stores its record
    /// again in the normal flow, in one transaction: a comment as pending
    /// with its moderation mail due, a contact message undelivered with its
    /// mail due; with `feedback` (the correction for Akismet) in the outbox.
    /// `None` when the folder has no such item.
    async fn release_spam(
        &self,
        id: &str,
        feedback: Option<&OutboundCall>,
        now_ms: u64,
    ) -> StoreResult<Option<SpamItem>>;
}

/// Outbound calls waiting in the outbox beside the mail: owner alerts and
/// corrections for Akismet. Their claims, failures, backoff and parking are
/// the [`Outbox`]'s, under their own hourly caps; a delivered one is deleted.
#[async_trait]
pub trait OutboundQueue: Send + Sync {
    /// Stores calls in the outbox, due at once, claimed until
    /// `claim_until_ms` (0: unclaimed). A call already stored stays as it is.
    async fn put_outbound(&self, calls: &[OutboundCall], claim_until_ms: u64) -> StoreResult<()>;

    /// The payload of a stored call; `None` once it was delivered.
    async fn get_outbound(&self, entry: &OutboxEntry) -> StoreResult<Option<String>>;
}

/// Every capability the function uses, as one object: what
/// [`crate::config::state::State`] holds. Any type with them all is a `Store`.
pub trait Store:
    RateLimits
    + MailBudget
    + Contacts
    + Comments
    + Outbox
    + Subscriptions
    + Sessions
    + ModerationLists
    + Feeds
    + SpamFolder
    + OutboundQueue
{
}

impl<T> Store for T where
    T: RateLimits
        + MailBudget
        + Contacts
        + Comments
        + Outbox
        + Subscriptions
        + Sessions
        + ModerationLists
        + Feeds
        + SpamFolder
        + OutboundQueue
        + ?Sized
{
}

/// Partition key of a post: a hash, since a 512-character post can exceed
/// DynamoDB's 2048-byte key limit in UTF-8.
pub fn post_key(post: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "POST#{}",
        crate::domain::ids::hex(&Sha256::digest(post.as_bytes())[..16])
    )
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
/// Moderation goes through [`Comments::decide`], as the mailed links do.
#[async_trait]
pub trait AdminStore: Store + ConsoleIndex {
    /// Every comment, or those of `post`, in any status, oldest first.
    /// On DynamoDB a Scan: the owner's occasional read, never the function's.
    async fn all_comments(
        &self,
        post: Option<&str>,
        expired: Expired,
    ) -> StoreResult<Vec<CommentRecord>>;

    /// Every contact message, oldest first.
    async fn all_contacts(&self, expired: Expired) -> StoreResult<Vec<ContactRecord>>;

    /// Removes a contact message; `false` when there was none.
    async fn delete_contact(&self, id: &str) -> StoreResult<bool>;

    /// Removes a comment that is not approved, live or past its expiry (what
    /// [`Comments::decide`] cannot reach); `false` when there was none or it is
    /// approved (approved comments change only through `decide`, with their count).
    async fn purge_comment(&self, id: &str) -> StoreResult<bool>;

    /// Stores an approved comment from elsewhere and counts it in its post, in
    /// one transaction, without any mail; `false` (and nothing written) when a
    /// comment with its id exists already, which makes imports idempotent.
    async fn import_comment(&self, record: &CommentRecord) -> StoreResult<bool>;
}

/// Oldest first, ties by id: the order of every listing.
pub(crate) fn by_age<T>(items: &mut [T], key: impl Fn(&T) -> (u64, &str)) {
    items.sort_by(|a, b| key(a).cmp(&key(b)));
}
