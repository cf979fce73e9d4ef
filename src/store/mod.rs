//! Persistence behind small capability traits, one per kind of data
//! ([`RateLimits`], [`MailBudget`], [`Contacts`], [`Comments`], [`Outbox`],
//! [`Subscriptions`]; [`Store`] is all of them): DynamoDB in production, memory
//! locally. A caller takes the capability it uses, and the conformance suite
//! (tests/aws/store/) states each trait's rules and holds both adapters to them.
//!
//! Every method is one bounded round trip (or a small fixed number). Both
//! adapters keep the same rules (README.md, "Data and the table design"): expiry
//! is checked on every read, since DynamoDB deletes expired items late.

#[cfg(feature = "aws")]
pub mod dynamodb;
pub mod memory;

use std::fmt;

pub use crate::domain::model::*;
pub use crate::domain::spam::*;

pub use crate::BoxFuture;

/// How long a mail claim outlives the deadline of the invocation that took
/// it: a claim never needs to outlast its invocation (Lambda ends the process
/// at the deadline), and a short lease lets the next run retry soon after.
pub(crate) const CLAIM_MARGIN_MS: u64 = 2 * 1000;

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
pub trait RateLimits: Send + Sync {
    /// Counts one hit in a fixed rate-limit window and returns the count so far.
    fn hit_rate<'a>(&'a self, window: &'a RateWindow<'a>) -> BoxFuture<'a, StoreResult<u64>>;
}

/// The hourly caps on mail sent (`MAIL_PER_HOUR`, `VISITOR_MAIL_PER_HOUR`).
pub trait MailBudget: Send + Sync {
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
}

/// Contact messages: stored before their mail to the owner goes out, read
/// back by redelivery, gone after their retention period.
pub trait Contacts: Send + Sync {
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
}

/// Comments: their statuses and moderation, and the approved ones each post
/// lists and counts.
pub trait Comments: Send + Sync {
    /// Stores a new comment whose mail is undelivered, claimed until
    /// `claim_until_ms`. An approved one (published at once) records what
    /// its publication implies in the same write, as [`Comments::decide`]
    /// does.
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
    /// change and the post's approved count together). An approval records
    /// in the same write the mails the publication implies, so that no
    /// decision loses them whoever makes it (the function's links, the
    /// command): the subscription the comment asked for with its
    /// confirmation mail (at most one new one per mailbox a day, and per
    /// source address [`CONFIRMATIONS_PER_SOURCE_A_DAY`]; a later comment of
    /// a mailbox that has the day's joins it, and is confirmed with it), and
    /// the notice to the parent's confirmed subscriber. Their outbox entries
    /// are due at once and unclaimed.
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
}

/// The mail not yet delivered of every record (contact, comment,
/// confirmation, reply): claims, failed attempts with their backoff, parking.
pub trait Outbox: Send + Sync {
    /// Records that the entry's mail went out (starting the retention clock).
    fn mark_delivered<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// Up to `limit` entries under `cap` due for a delivery attempt at
    /// `now_ms` (not parked, next attempt not in the future), the
    /// longest-waiting first: each cap's mail waits in a line of its own, so
    /// a backlog held back by one cap never hides the other's mail.
    /// Entries claimed by a live run are included (the claim refuses them).
    fn due_outbox(
        &self,
        cap: MailCap,
        now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>>;

    /// Undelivered entries: up to `limit` waiting ones by next attempt, then
    /// up to `limit` parked ones (however many wait, parked mail is listed).
    /// For `rust-aws outbox`.
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
}

/// Reply-notification subscriptions (double opt-in). They are created, with
/// the notices of replies to mail to them, by the publication of a comment
/// ([`Comments::decide`], [`Comments::put_comment`]).
pub trait Subscriptions: Send + Sync {
    /// The subscription of comment `comment_id` (an expired one is absent).
    fn get_subscription<'a>(
        &'a self,
        comment_id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<Subscription>>>;

    /// Confirms the subscription of comment `comment_id`, and those that
    /// joined it (later comments of the same mailbox that day): from now on
    /// they never expire.
    fn confirm_subscription<'a>(
        &'a self,
        comment_id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Confirmed>>;

    /// Removes the subscription of comment `comment_id`, with its address;
    /// `false` when there was none.
    fn unsubscribe<'a>(&'a self, comment_id: &'a str) -> BoxFuture<'a, StoreResult<bool>>;
}

/// The spam folder (PRODUCT.md, "Spam defence"): what a spam verdict holds
/// back for [`SPAM_TTL_MS`], listed newest first by one `Query` on a sparse
/// index, and the recent bodies the duplicate rule compares with.
pub trait SpamFolder: Send + Sync {
    /// Records that submission `id` has a body with keyed hash `key`, at
    /// `now_ms`; `true` when another submission recorded the same key within
    /// [`DUPLICATE_WINDOW_MS`] before and is stored (a comment, a contact
    /// message or spam): then the first time stays the one the window counts
    /// from. A first submission that was never stored (its store write
    /// failed, the visitor got a 503 and tries again) or is gone makes no
    /// duplicate, and neither does a retry of this same call.
    fn seen_body<'a>(
        &'a self,
        key: &'a str,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>>;

    /// Puts an item in the folder; one already there with its id stays
    /// as it is (a retried write).
    fn put_spam<'a>(&'a self, item: &'a SpamItem) -> BoxFuture<'a, StoreResult<()>>;

    /// One item of the folder (an expired one is absent).
    fn get_spam<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<SpamItem>>>;

    /// Up to `limit` items of the folder, newest first, after `after` (the
    /// last item of the previous page). The page is full unless the folder
    /// has no more.
    fn list_spam<'a>(
        &'a self,
        after: Option<SpamPosition>,
        limit: usize,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Vec<SpamItem>>>;

    /// Removes an item from the folder for good (an erasure, or the owner
    /// emptying it); `false` when there was none.
    fn delete_spam<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<bool>>;

    /// "Not spam": takes item `id` out of the folder and stores its record
    /// again in the normal flow, in one transaction: a comment as pending
    /// with its moderation mail due, a contact message undelivered with its
    /// mail due; with `feedback` (the correction for Akismet) in the outbox.
    /// `None` when the folder has no such item.
    fn release_spam<'a>(
        &'a self,
        id: &'a str,
        feedback: Option<&'a OutboundCall>,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<SpamItem>>>;
}

/// Outbound calls waiting in the outbox beside the mail: owner alerts and
/// corrections for Akismet. Their claims, failures, backoff and parking are
/// the [`Outbox`]'s, under their own hourly caps; a delivered one is deleted.
pub trait OutboundQueue: Send + Sync {
    /// Stores calls in the outbox, due at once, claimed until
    /// `claim_until_ms` (0: unclaimed). A call already stored stays as it is.
    fn put_outbound<'a>(
        &'a self,
        calls: &'a [OutboundCall],
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>>;

    /// The payload of a stored call; `None` once it was delivered.
    fn get_outbound<'a>(
        &'a self,
        entry: &'a OutboxEntry,
    ) -> BoxFuture<'a, StoreResult<Option<String>>>;
}

/// Every capability the function uses, as one object: what
/// [`crate::state::State`] holds. Any type with them all is a `Store`.
pub trait Store:
    RateLimits + MailBudget + Contacts + Comments + Outbox + Subscriptions + SpamFolder + OutboundQueue
{
}

impl<T> Store for T where
    T: RateLimits
        + MailBudget
        + Contacts
        + Comments
        + Outbox
        + Subscriptions
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
        crate::ids::hex(&Sha256::digest(post.as_bytes())[..16])
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
    /// [`Comments::decide`] cannot reach); `false` when there was none or it is
    /// approved (approved comments change only through `decide`, with their count).
    fn purge_comment<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<bool>>;

    /// Stores an approved comment from elsewhere and counts it in its post, in
    /// one transaction, without any mail; `false` (and nothing written) when a
    /// comment with its id exists already, which makes imports idempotent.
    fn import_comment<'a>(&'a self, record: &'a CommentRecord) -> BoxFuture<'a, StoreResult<bool>>;
}

/// Oldest first, ties by id: the order of every listing.
pub(crate) fn by_age<T>(items: &mut [T], key: impl Fn(&T) -> (u64, &str)) {
    items.sort_by(|a, b| key(a).cmp(&key(b)));
}
