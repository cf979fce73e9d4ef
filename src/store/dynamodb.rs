//! The DynamoDB adapter: one table, keys and indexes from [`crate::contract::table`].
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | contact message | `CONTACT#<id>` | `CONTACT` | `outbox_*` while undelivered; `expires_at` 90 days after delivery |
//! | comment | `COMMENT#<id>` | `COMMENT` | `list_pk`/`list_sk` only while approved (index `by_post`); `outbox_*` while its mail is undelivered |
//! | approved count | `POST#<hash of post>` | `COUNT` | `approved`, changed in the same transaction as the status |
//! | rate counter | `RATE#<route>#<ip hash>#<minute>` | `RATE` | `hits`, expires minutes later |
//! | mail budget | `MAILCAP#<hour>` (owner mail), `MAILCAP#visitor#<hour>` (visitor mail) | `MAILCAP` | `used` (mails sent), expires hours later |
//! | reply-notification subscription | `SUB#<comment id>` | `SUB` | the address while it lives; `outbox_*` while its confirmation is undelivered; `expires_at` 7 days after that mail until confirmed; `joined` (the day's later subscriptions of its mailbox) or `joins` (the one it joined) |
//! | one new subscription per mailbox a day | `ADDRDAY#<mailbox key>#<day>` | `ADDRDAY` | `first`: the day's subscription; no address (a keyed hash); expires the next day |
//! | confirmations a source set off in a day | `SRCDAY#<ip hash>#<day>` | `SRCDAY` | `sent`; expires the next day |
//! | reply to notify | `NOTE#<reply id>` | `NOTE` | `outbox_*`; deleted once its mail went out |
//!
//! The outbox is the sparse index `outbox` over the items whose mail is
//! undelivered: `outbox_pk` is `OUTBOX` (owner mail waiting), `OUTBOX#visitor`
//! (visitor mail waiting) or `PARKED` (given up on); one waiting partition a
//! cap, so that a backlog held by one cap never fills the other's batches;
//! `outbox_sk` is `<next attempt ms, 13 digits>#<kind>#<id>`, so a Query
//! returns the entries that are due, longest-waiting first; `outbox_attempts`,
//! `outbox_error` and `claim_until` sit beside them on the record's item.

mod spam;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem,
    Update,
};

use super::{
    AdminStore, BoxFuture, CONFIRM_TTL_MS, CONFIRMATIONS_PER_SOURCE_A_DAY, CONTACT_TTL_MS,
    CommentRecord, CommentStatus, Comments, Confirmed, ContactRecord, Contacts, DAY_MS, Decided,
    Decision, Deferral, Expired, JOINED_TTL_MS, ListPosition, MailBudget, MailCap, MailKind,
    Outbox, OutboxEntry, OutboxItem, PENDING_TTL_MS, REJECTED_TTL_MS, RateLimits, RateWindow,
    StoreError, StoreResult, Subscription, Subscriptions, by_age, post_key,
};
use crate::aws::{LazyClient, Sdk};
use crate::contract::table::{BY_POST, OUTBOX, PK, SK, TTL};

/// The [`Store`](super::Store) on a DynamoDB table.
#[derive(Debug)]
pub struct DynamoStore {
    client: LazyClient<Client>,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn fail<E: std::error::Error + 'static>(op: &str, e: E) -> StoreError {
    StoreError(format!("{op}: {}", DisplayErrorContext(e)))
}

fn get_s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

fn get_n(item: &Item, k: &str) -> Option<u64> {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn contact_key(id: &str) -> Item {
    key(format!("CONTACT#{id}"), "CONTACT")
}

fn comment_key(id: &str) -> Item {
    key(format!("COMMENT#{id}"), "COMMENT")
}

fn count_key(post: &str) -> Item {
    key(post_key(post), "COUNT")
}

fn subscription_key(comment_id: &str) -> Item {
    key(format!("SUB#{comment_id}"), "SUB")
}

fn notice_key(reply_id: &str) -> Item {
    key(format!("NOTE#{reply_id}"), "NOTE")
}

fn mail_cap_key(cap: MailCap, hour: u64) -> Item {
    match cap {
        MailCap::Owner => key(format!("MAILCAP#{hour}"), "MAILCAP"),
        MailCap::Visitor => key(format!("MAILCAP#visitor#{hour}"), "MAILCAP"),
        MailCap::Alerts => key(format!("MAILCAP#alerts#{hour}"), "MAILCAP"),
        MailCap::Feedback => key(format!("MAILCAP#feedback#{hour}"), "MAILCAP"),
    }
}

fn entry_key(entry: &OutboxEntry) -> Item {
    match entry.kind {
        MailKind::Contact => contact_key(&entry.id),
        MailKind::Comment => comment_key(&entry.id),
        MailKind::Confirm => subscription_key(&entry.id),
        MailKind::Reply => notice_key(&entry.id),
        MailKind::Alert(channel) => {
            key(format!("ALERT#{}#{}", channel.as_str(), entry.id), "ALERT")
        }
        MailKind::Feedback => key(format!("FEEDBACK#{}", entry.id), "FEEDBACK"),
    }
}

/// A subscription's item, without its outbox or expiry attributes.
fn subscription_item(sub: &Subscription) -> Item {
    let mut item = subscription_key(&sub.comment_id);
    item.insert("post".into(), s(&sub.post));
    item.insert("email".into(), s(&sub.email));
    item.insert("confirmed".into(), AttributeValue::Bool(sub.confirmed));
    item.insert("created_ms".into(), n(sub.created_ms));
    item
}

fn subscription_from(item: &Item) -> Option<Subscription> {
    Some(Subscription {
        comment_id: get_s(item, PK)?.strip_prefix("SUB#")?.to_owned(),
        post: get_s(item, "post")?,
        email: get_s(item, "email")?,
        confirmed: item
            .get("confirmed")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        created_ms: get_n(item, "created_ms")?,
    })
}

/// Expired items linger until DynamoDB's TTL sweep (up to days): every read checks.
fn live(item: &Item, now_ms: u64) -> bool {
    get_n(item, TTL).is_none_or(|exp_s| exp_s * 1000 > now_ms)
}

/// The outbox partition of owner mail waiting for an attempt.
const WAITING_OWNER: &str = "OUTBOX";
/// The outbox partition of visitor mail waiting for an attempt.
const WAITING_VISITOR: &str = "OUTBOX#visitor";
/// The outbox partition of owner alerts waiting for an attempt.
const WAITING_ALERTS: &str = "OUTBOX#alerts";
/// The outbox partition of corrections for Akismet waiting for an attempt.
const WAITING_FEEDBACK: &str = "OUTBOX#feedback";
/// A comment id no comment has (ids are hex): the key init reads to open
/// the connection (`DynamoStore::warm`).
const NO_SUCH_ID: &str = "warm-up";

/// The partition where mail under `cap` waits.
fn waiting(cap: MailCap) -> &'static str {
    match cap {
        MailCap::Owner => WAITING_OWNER,
        MailCap::Visitor => WAITING_VISITOR,
        MailCap::Alerts => WAITING_ALERTS,
        MailCap::Feedback => WAITING_FEEDBACK,
    }
}
/// The outbox partition of entries given up on.
const PARKED: &str = "PARKED";
/// Failed attempts so far (absent: none).
const ATTEMPTS: &str = "outbox_attempts";
/// The last failure's short class.
const LAST_ERROR: &str = "outbox_error";
/// Until when a run holds the entry (epoch ms).
const CLAIM_UNTIL: &str = "claim_until";

/// The sort key of a comment in its post's list: time, then id.
fn list_sort_key(created_ms: u64, id: &str) -> String {
    format!("{created_ms:013}#{id}")
}

/// The pause before retry `attempt` (1, 2, …) of a store call that met
/// contention or throttling: exponential from 25 ms, each pause drawn
/// between half and all of its ceiling, so writers that collided do not
/// collide again in step.
fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_ms = 25u64 << attempt.min(6);
    let random = u64::from(u16::from_le_bytes(crate::ids::random_bytes::<2>()));
    std::time::Duration::from_millis(ceiling_ms / 2 + random % (ceiling_ms / 2 + 1))
}

fn outbox_sort_key(next_attempt_ms: u64, entry: &OutboxEntry) -> String {
    format!("{next_attempt_ms:013}#{}#{}", entry.kind.as_str(), entry.id)
}

/// Puts a new record in the outbox: due at once, claimed by the request
/// that stores it until `claim_until_ms`.
fn outbox_attrs(item: &mut Item, kind: MailKind, id: &str, created_ms: u64, claim_until_ms: u64) {
    let entry = OutboxEntry {
        kind,
        id: id.to_owned(),
    };
    item.insert(OUTBOX.1.to_owned(), s(waiting(kind.cap())));
    item.insert(OUTBOX.2.to_owned(), s(outbox_sort_key(created_ms, &entry)));
    item.insert(CLAIM_UNTIL.to_owned(), n(claim_until_ms));
}

/// The entry an outbox index item stands for.
fn outbox_entry(item: &Item) -> Option<(u64, OutboxEntry)> {
    let sk = get_s(item, OUTBOX.2)?;
    let mut parts = sk.splitn(3, '#');
    let (next, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
    let entry = OutboxEntry {
        kind: MailKind::parse(kind)?,
        id: id.to_owned(),
    };
    Some((next.parse().ok()?, entry))
}

/// Whether a `TransactWriteItems` cancellation reason is worth retrying:
/// contention or throttling, which say nothing about the data.
fn transient_reason(code: &str) -> bool {
    matches!(
        code,
        "TransactionConflict"
            | "ThrottlingError"
            | "ProvisionedThroughputExceeded"
            | "RequestLimitExceeded"
    )
}

/// Attempts of one transaction when it keeps meeting contention or throttling.
const TRANSACT_ATTEMPTS: u32 = 4;
/// No retry of a transaction starts later than this after its first attempt:
/// with each attempt bounded by the SDK's timeouts, the whole stays a few
/// seconds, inside a request's deadline.
const TRANSACT_RETRY_WINDOW: std::time::Duration = std::time::Duration::from_millis(1_500);

fn contact_from(item: &Item) -> Option<ContactRecord> {
    Some(ContactRecord {
        id: get_s(item, PK)?.strip_prefix("CONTACT#")?.to_owned(),
        name: get_s(item, "name")?,
        email: get_s(item, "email")?,
        subject: get_s(item, "subject"),
        message: get_s(item, "message")?,
        created_ms: get_n(item, "created_ms")?,
        ip_hash: get_s(item, "ip_hash").unwrap_or_default(),
        delivered: item
            .get("delivered")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    })
}

fn comment_from(item: &Item) -> Option<CommentRecord> {
    Some(CommentRecord {
        id: get_s(item, PK)?.strip_prefix("COMMENT#")?.to_owned(),
        post: get_s(item, "post")?,
        parent: get_s(item, "parent"),
        name: get_s(item, "name")?,
        email: get_s(item, "email"),
        url: get_s(item, "url"),
        body: get_s(item, "body")?,
        created_ms: get_n(item, "created_ms")?,
        status: CommentStatus::parse(&get_s(item, "status")?)?,
        ip_hash: get_s(item, "ip_hash").unwrap_or_default(),
        links_base: get_s(item, "links_base").unwrap_or_default(),
        notify: item
            .get("notify")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        mailbox: get_s(item, "mailbox"),
    })
}

/// One write of what a publication records beside the publication itself,
/// to read a cancelled transaction by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The mailbox's marker for the day: absent, so this is the day's subscription.
    DayMarker,
    /// The source address's confirmations of the day, under the limit.
    SourceCount,
    /// The new subscription: absent so far.
    Subscription,
    /// The day's subscription that this one joins, in the state read.
    Joined,
    /// The notice to the parent's subscriber: absent so far.
    Notice,
}

/// The writes that record what a publication implies, each with its part.
#[derive(Default)]
struct Consequences {
    items: Vec<TransactWriteItem>,
    parts: Vec<Part>,
}

impl Consequences {
    fn push(&mut self, part: Part, item: TransactWriteItem) {
        self.parts.push(part);
        self.items.push(item);
    }
}

/// Re-reads of a publication's consequences when they changed between the
/// read and the transaction (another publication of the same mailbox, a
/// confirmation): a few, since each needs a concurrent change to fail.
const PUBLISH_ATTEMPTS: u32 = 4;

fn is_conditional_failure<R>(e: &SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

fn put_conditional_failure<R>(e: &SdkError<PutItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

/// How a transaction ended, when DynamoDB answered.
#[derive(Debug)]
enum Transacted {
    /// Applied.
    Done,
    /// Cancelled because the conditions of these items (by position) failed.
    ConditionFailed(Vec<usize>),
}

/// Reads a cancelled transaction: `Some` with the items whose condition
/// failed, `None` when it was cancelled by contention or throttling only.
/// Any other reason (a validation error, an item too large) is an error.
fn cancellation<R>(
    e: &SdkError<TransactWriteItemsError, R>,
) -> Option<Result<Option<Vec<usize>>, String>> {
    let service = e.as_service_error()?;
    // Throttling the SDK's own retries did not outlast, or the idempotency
    // token of an earlier attempt still in flight.
    if service.is_transaction_in_progress_exception()
        || service.code().is_some_and(|code| {
            matches!(
                code,
                "ThrottlingException"
                    | "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
            )
        })
    {
        return Some(Ok(None));
    }
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = service else {
        return None;
    };
    let reasons = cancelled.cancellation_reasons();
    let failed: Vec<usize> = reasons
        .iter()
        .enumerate()
        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
        .map(|(i, _)| i)
        .collect();
    if !failed.is_empty() {
        return Some(Ok(Some(failed)));
    }
    let other = reasons
        .iter()
        .filter_map(|r| r.code())
        .find(|code| *code != "None" && !transient_reason(code));
    Some(match other {
        // No reasons at all: treated as contention, retried within bounds.
        None => Ok(None),
        Some(code) => Err(code.to_owned()),
    })
}

impl DynamoStore {
    /// A store on `table`; its client is built when it is first used.
    pub fn new(sdk: &Sdk, table: String) -> Self {
        Self {
            client: LazyClient::new(sdk, Client::new),
            table,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Readies everything the first request needs, during a Lambda init:
    /// the client, and an open TLS connection to the endpoint, by reading a
    /// key that never exists. Init runs at full CPU speed; after it a 128 MB
    /// function gets 7% of a vCPU, where one TLS handshake (key exchange,
    /// certificate chain verification) and the SDK's first-use set-up take
    /// tens of milliseconds (BENCHMARKS.md, the Lambda model). The connection
    /// stays in the SDK's pool for the first request. One attempt, no
    /// retries: whatever the answer, the work is done, and a failure only
    /// means the first request connects itself.
    pub async fn warm(&self) {
        use aws_sdk_dynamodb::config::{Builder, retry::RetryConfig};
        let result = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("COMMENT#{NO_SUCH_ID}"), "COMMENT")))
            .customize()
            .config_override(Builder::default().retry_config(RetryConfig::disabled()))
            .send()
            .await;
        if let Err(e) = result {
            tracing::debug!(error = %DisplayErrorContext(&e), "warming the DynamoDB connection failed");
        }
    }

    async fn client(&self) -> &Client {
        self.client.get().await
    }

    async fn get(&self, key: Item) -> StoreResult<Option<Item>> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| fail("GetItem", e))?;
        Ok(out.item)
    }

    /// Writes a new item under a fresh random id. The id being taken already
    /// can only mean that an earlier attempt of this same write was applied
    /// and its answer lost (a connection reset, the SDK then retrying): done.
    async fn put_new(&self, item: Item, op: &str) -> StoreResult<()> {
        let result = self
            .client()
            .await
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if put_conditional_failure(&e) => Ok(()),
            Err(e) => Err(fail(op, e)),
        }
    }

    /// Reads an item, treating an expired one as absent.
    async fn get_live(&self, key: Item, now_ms: u64) -> StoreResult<Option<Item>> {
        Ok(self.get(key).await?.filter(|i| live(i, now_ms)))
    }

    fn count_update(&self, post: &str, delta: i64) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(count_key(post)))
            .update_expression("ADD approved :d")
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .build()
            .map_err(|e| fail("build", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs a transaction. A cancellation by a failed condition is an
    /// answer ([`Transacted::ConditionFailed`]); one by contention
    /// (`TransactionConflict`, another transaction on the same items) or by
    /// throttling is retried with jittered exponential backoff, a few times,
    /// then reported as the store being unavailable (503), never as a decision.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> StoreResult<Transacted> {
        let started = tokio::time::Instant::now();
        // DynamoDB answers a token it has applied already with that success
        // (for 10 minutes), so a retry after an answer that never came (the
        // SDK's own attempts reuse the token too) cannot apply twice or read
        // our own write as a concurrent decision. Only a cancellation proves
        // the token's transaction did not apply; then a new one is drawn.
        let mut token = crate::ids::new_id();
        for attempt in 0..TRANSACT_ATTEMPTS {
            if attempt > 0 {
                if started.elapsed() > TRANSACT_RETRY_WINDOW {
                    break;
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
            let result = self
                .client()
                .await
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(&token)
                .send()
                .await;
            let e = match result {
                Ok(_) => return Ok(Transacted::Done),
                Err(e) => e,
            };
            match cancellation(&e) {
                Some(Ok(Some(failed))) => return Ok(Transacted::ConditionFailed(failed)),
                Some(Ok(None)) => {
                    tracing::info!(
                        attempt,
                        "transaction met contention or throttling; retrying"
                    );
                    if e.as_service_error()
                        .is_some_and(|s| s.is_transaction_canceled_exception())
                    {
                        token = crate::ids::new_id();
                    }
                }
                Some(Err(code)) => {
                    return Err(StoreError(format!("TransactWriteItems cancelled: {code}")));
                }
                None => return Err(fail("TransactWriteItems", e)),
            }
        }
        Err(StoreError(
            "TransactWriteItems: contention or throttling outlasted the retries".into(),
        ))
    }

    /// Applies `decision` to `current` on condition that its status is still
    /// the one read. `None`: that condition failed (a concurrent decision).
    async fn apply(
        &self,
        current: &CommentRecord,
        decision: Decision,
        now_ms: u64,
    ) -> StoreResult<Option<Decided>> {
        let was_approved = current.status == CommentStatus::Approved;
        let mut items = Vec::new();
        let condition_values = |b: aws_sdk_dynamodb::types::builders::UpdateBuilder| {
            b.condition_expression("#st = :cur")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":cur", s(current.status.as_str()))
        };
        match decision {
            Decision::Approve => {
                let update = condition_values(Update::builder())
                    .table_name(&self.table)
                    .set_key(Some(comment_key(&current.id)))
                    .update_expression(format!(
                        "SET #st = :new, {} = :lp, {} = :ls REMOVE {TTL}",
                        BY_POST.1, BY_POST.2
                    ))
                    .expression_attribute_values(":new", s(CommentStatus::Approved.as_str()))
                    .expression_attribute_values(":lp", s(post_key(&current.post)))
                    .expression_attribute_values(
                        ":ls",
                        s(list_sort_key(current.created_ms, &current.id)),
                    )
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().update(update).build());
                // A reply is published only under a published parent.
                if let Some(parent) = &current.parent {
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(comment_key(parent)))
                        .condition_expression("#st = :approved")
                        .expression_attribute_names("#st", "status")
                        .expression_attribute_values(
                            ":approved",
                            s(CommentStatus::Approved.as_str()),
                        )
                        .build()
                        .map_err(|e| fail("build", e))?;
                    items.push(TransactWriteItem::builder().condition_check(check).build());
                }
                items.push(self.count_update(&current.post, 1)?);
            }
            Decision::Reject => {
                let update = condition_values(Update::builder())
                    .table_name(&self.table)
                    .set_key(Some(comment_key(&current.id)))
                    .update_expression(format!(
                        "SET #st = :new, {TTL} = :exp REMOVE {}, {}",
                        BY_POST.1, BY_POST.2
                    ))
                    .expression_attribute_values(":new", s(CommentStatus::Rejected.as_str()))
                    .expression_attribute_values(":exp", n((now_ms + REJECTED_TTL_MS) / 1000))
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().update(update).build());
                if was_approved {
                    items.push(self.count_update(&current.post, -1)?);
                }
                // An unpublished comment has no subscription.
                items.push(self.remove(subscription_key(&current.id))?);
            }
            Decision::Delete => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(comment_key(&current.id)))
                    .condition_expression("#st = :cur")
                    .expression_attribute_names("#st", "status")
                    .expression_attribute_values(":cur", s(current.status.as_str()))
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().delete(delete).build());
                if was_approved {
                    items.push(self.count_update(&current.post, -1)?);
                }
                // With the comment go its subscription (and the address in
                // it) and any notification of it not sent yet.
                items.push(self.remove(subscription_key(&current.id))?);
                items.push(self.remove(notice_key(&current.id))?);
            }
        }
        let transacted = match decision {
            Decision::Approve => self.publish(items, current, now_ms).await?,
            Decision::Reject | Decision::Delete => self.transact(items).await?,
        };
        Ok(match transacted {
            Transacted::Done => Some(Decided::Done),
            Transacted::ConditionFailed(failed) if failed.contains(&0) => None,
            Transacted::ConditionFailed(_) => Some(Decided::ParentUnpublished),
        })
    }

    /// Runs `base`, the writes that publish `c`, in one transaction with the
    /// writes of what that implies ([`Comments::decide`]), read at `now_ms`.
    /// A failed condition is reported only for an item of `base`; one of
    /// the consequences is read again (the state they were planned on
    /// changed) or answered by leaving that part out (the source's limit
    /// reached, or recorded already by an earlier attempt whose answer was
    /// lost). The publication never goes without what it implies.
    async fn publish(
        &self,
        base: Vec<TransactWriteItem>,
        c: &CommentRecord,
        now_ms: u64,
    ) -> StoreResult<Transacted> {
        let mut skip = Vec::new();
        for _ in 0..PUBLISH_ATTEMPTS {
            let consequences = self.consequences(c, now_ms, &skip).await?;
            let mut items = base.clone();
            items.extend(consequences.items);
            let failed = match self.transact(items).await? {
                Transacted::Done => return Ok(Transacted::Done),
                Transacted::ConditionFailed(failed) => failed,
            };
            let (own, theirs): (Vec<usize>, Vec<usize>) =
                failed.into_iter().partition(|i| *i < base.len());
            if !own.is_empty() {
                return Ok(Transacted::ConditionFailed(own));
            }
            for i in theirs {
                match consequences.parts.get(i - base.len()) {
                    Some(Part::SourceCount | Part::Subscription) => skip.push(Part::Subscription),
                    Some(Part::Notice) => skip.push(Part::Notice),
                    // Planned on a state that changed since: read again.
                    Some(Part::DayMarker | Part::Joined) | None => {}
                }
            }
        }
        Err(StoreError(
            "a publication's notifications kept changing under it".into(),
        ))
    }

    /// Reads what publishing `c` at `now_ms` implies and returns the writes
    /// that record it, leaving out the parts in `skip`.
    async fn consequences(
        &self,
        c: &CommentRecord,
        now_ms: u64,
        skip: &[Part],
    ) -> StoreResult<Consequences> {
        let mut out = Consequences::default();
        let day = now_ms / DAY_MS;
        let until_s = n((day + 2) * DAY_MS / 1000);
        let subscribes = c
            .subscribes()
            .filter(|_| !skip.contains(&Part::Subscription));
        if let Some(mailbox) = subscribes {
            let marker_key = key(format!("ADDRDAY#{mailbox}#{day}"), "ADDRDAY");
            let first = self.get(marker_key.clone()).await?;
            match first.as_ref().map(|m| get_s(m, "first")) {
                None => {
                    let mut marker = marker_key;
                    marker.insert("first".into(), s(&c.id));
                    marker.insert(TTL.into(), until_s.clone());
                    out.push(Part::DayMarker, self.put_absent(marker)?);
                    let count = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(format!("SRCDAY#{}#{day}", c.ip_hash), "SRCDAY")))
                        .update_expression(format!(
                            "ADD sent :one SET {TTL} = if_not_exists({TTL}, :exp)"
                        ))
                        .condition_expression("attribute_not_exists(sent) OR sent < :limit")
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":exp", until_s)
                        .expression_attribute_values(":limit", n(CONFIRMATIONS_PER_SOURCE_A_DAY))
                        .build()
                        .map_err(|e| fail("build", e))?;
                    out.push(
                        Part::SourceCount,
                        TransactWriteItem::builder().update(count).build(),
                    );
                    if let Some(sub) = c.subscription(false, now_ms) {
                        let mut item = subscription_item(&sub);
                        outbox_attrs(&mut item, MailKind::Confirm, &c.id, now_ms, 0);
                        out.push(Part::Subscription, self.put_absent(item)?);
                    }
                }
                Some(first) => {
                    let todays = match &first {
                        Some(first) => self
                            .get_live(subscription_key(first), now_ms)
                            .await?
                            .as_ref()
                            .and_then(subscription_from),
                        None => None,
                    };
                    // The day's subscription gone (unsubscribed, removed):
                    // none today, as one confirmation a day is the limit.
                    if let Some(todays) = todays
                        && let Some(sub) = c.subscription(todays.confirmed, now_ms)
                    {
                        let mut item = subscription_item(&sub);
                        item.insert("joins".into(), s(&todays.comment_id));
                        if !todays.confirmed {
                            item.insert(TTL.into(), n((now_ms + JOINED_TTL_MS) / 1000));
                        }
                        out.push(Part::Subscription, self.put_absent(item)?);
                        let join = Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(subscription_key(&todays.comment_id)))
                            .update_expression("ADD joined :id")
                            .condition_expression("attribute_exists(pk) AND confirmed = :c")
                            .expression_attribute_values(
                                ":id",
                                AttributeValue::Ss(vec![c.id.clone()]),
                            )
                            .expression_attribute_values(
                                ":c",
                                AttributeValue::Bool(todays.confirmed),
                            )
                            .build()
                            .map_err(|e| fail("build", e))?;
                        out.push(
                            Part::Joined,
                            TransactWriteItem::builder().update(join).build(),
                        );
                    }
                }
            }
        }
        if let Some(parent) = c
            .parent
            .as_deref()
            .filter(|_| !skip.contains(&Part::Notice))
        {
            let sub = self
                .get_live(subscription_key(parent), now_ms)
                .await?
                .as_ref()
                .and_then(subscription_from);
            if sub.is_some_and(|sub| c.notifies(&sub)) {
                let mut item = notice_key(&c.id);
                item.insert("created_ms".into(), n(now_ms));
                outbox_attrs(&mut item, MailKind::Reply, &c.id, now_ms, 0);
                out.push(Part::Notice, self.put_absent(item)?);
            }
        }
        Ok(out)
    }

    /// A put inside a transaction on condition that the item is absent.
    fn put_absent(&self, item: Item) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| fail("build", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// An unconditional delete inside a transaction (absent items are fine).
    fn remove(&self, key: Item) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .build()
            .map_err(|e| fail("build", e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

impl RateLimits for DynamoStore {
    fn hit_rate<'a>(&'a self, window: &'a RateWindow<'a>) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(async move {
            let out = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(window.key(), "RATE")))
                .update_expression(format!(
                    "ADD hits :one SET {TTL} = if_not_exists({TTL}, :exp)"
                ))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":exp", n(window.expires_s()))
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await
                .map_err(|e| fail("UpdateItem(rate)", e))?;
            Ok(out
                .attributes
                .as_ref()
                .and_then(|a| get_n(a, "hits"))
                .unwrap_or(u64::MAX))
        })
    }
}

impl MailBudget for DynamoStore {
    fn take_mail_slot(
        &self,
        cap: MailCap,
        hour: u64,
        limit: u32,
    ) -> BoxFuture<'_, StoreResult<bool>> {
        Box::pin(async move {
            let result = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(mail_cap_key(cap, hour)))
                .update_expression(format!(
                    "ADD used :one SET {TTL} = if_not_exists({TTL}, :exp)"
                ))
                .condition_expression("attribute_not_exists(used) OR used < :limit")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":limit", n(u64::from(limit)))
                .expression_attribute_values(":exp", n((hour + 3) * 3600))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e) if is_conditional_failure(&e) => Ok(false),
                Err(e) => Err(fail("UpdateItem(mailcap)", e)),
            }
        })
    }

    fn return_mail_slot(&self, cap: MailCap, hour: u64) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move {
            let result = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(mail_cap_key(cap, hour)))
                .update_expression("ADD used :minus")
                .condition_expression("used > :zero")
                .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
                .expression_attribute_values(":zero", n(0))
                .send()
                .await;
            match result {
                Ok(_) => Ok(()),
                Err(e) if is_conditional_failure(&e) => Ok(()),
                Err(e) => Err(fail("UpdateItem(mailcap return)", e)),
            }
        })
    }
}

impl Contacts for DynamoStore {
    fn put_contact<'a>(
        &'a self,
        r: &'a ContactRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut item = contact_key(&r.id);
            item.insert("type".into(), s("contact"));
            item.insert("name".into(), s(&r.name));
            item.insert("email".into(), s(&r.email));
            if let Some(subject) = &r.subject {
                item.insert("subject".into(), s(subject));
            }
            item.insert("message".into(), s(&r.message));
            item.insert("created_ms".into(), n(r.created_ms));
            item.insert("ip_hash".into(), s(&r.ip_hash));
            item.insert("delivered".into(), AttributeValue::Bool(false));
            outbox_attrs(
                &mut item,
                MailKind::Contact,
                &r.id,
                r.created_ms,
                claim_until_ms,
            );
            self.put_new(item, "PutItem(contact)").await
        })
    }

    fn get_contact<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<ContactRecord>>> {
        Box::pin(async move {
            let item = self.get_live(contact_key(id), now_ms).await?;
            Ok(item.as_ref().and_then(contact_from))
        })
    }
}

impl Comments for DynamoStore {
    fn put_comment<'a>(
        &'a self,
        r: &'a CommentRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut item = comment_key(&r.id);
            item.insert("type".into(), s("comment"));
            item.insert("post".into(), s(&r.post));
            for (k, v) in [("parent", &r.parent), ("email", &r.email), ("url", &r.url)] {
                if let Some(v) = v {
                    item.insert(k.into(), s(v));
                }
            }
            item.insert("name".into(), s(&r.name));
            item.insert("body".into(), s(&r.body));
            item.insert("created_ms".into(), n(r.created_ms));
            item.insert("status".into(), s(r.status.as_str()));
            item.insert("ip_hash".into(), s(&r.ip_hash));
            item.insert("links_base".into(), s(&r.links_base));
            if r.notify {
                item.insert("notify".into(), AttributeValue::Bool(true));
            }
            if let Some(mailbox) = &r.mailbox {
                item.insert("mailbox".into(), s(mailbox));
            }
            outbox_attrs(
                &mut item,
                MailKind::Comment,
                &r.id,
                r.created_ms,
                claim_until_ms,
            );
            if r.status != CommentStatus::Approved {
                return self.put_new(item, "PutItem(comment)").await;
            }
            item.insert(BY_POST.1.into(), s(post_key(&r.post)));
            item.insert(BY_POST.2.into(), s(list_sort_key(r.created_ms, &r.id)));
            let items = vec![self.put_absent(item)?, self.count_update(&r.post, 1)?];
            // Ids are 128 random bits: the item already being there means an
            // earlier attempt of this same call was applied (its answer lost).
            match self.publish(items, r, r.created_ms).await? {
                Transacted::Done | Transacted::ConditionFailed(_) => Ok(()),
            }
        })
    }

    fn get_comment<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<CommentRecord>>> {
        Box::pin(async move {
            let item = self.get_live(comment_key(id), now_ms).await?;
            Ok(item.as_ref().and_then(comment_from))
        })
    }

    fn decide<'a>(
        &'a self,
        id: &'a str,
        decision: Decision,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Decided>> {
        Box::pin(async move {
            // Read, then write conditionally on the status read: a concurrent
            // decision makes the condition fail, and the loser retries once.
            for _ in 0..2 {
                let Some(current) = self.get_comment(id, now_ms).await? else {
                    return Ok(Decided::Conflict);
                };
                if decision.target() == Some(current.status) {
                    return Ok(Decided::Conflict);
                }
                if let Some(decided) = self.apply(&current, decision, now_ms).await? {
                    return Ok(decided);
                }
            }
            Ok(Decided::Conflict)
        })
    }

    fn list_approved<'a>(
        &'a self,
        post: &'a str,
        after: Option<ListPosition>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        Box::pin(async move {
            // DynamoDB ends a Query page at 1 MB of items whatever the
            // Limit: keep reading from LastEvaluatedKey until the page is
            // full or the post has no more. Each page holds at least one item.
            let mut found = Vec::with_capacity(limit);
            let mut start: Option<Item> = None;
            loop {
                let mut query = self
                    .client()
                    .await
                    .query()
                    .table_name(&self.table)
                    .index_name(BY_POST.0)
                    .expression_attribute_names("#lp", BY_POST.1)
                    .expression_attribute_values(":lp", s(post_key(post)))
                    .scan_index_forward(true)
                    .limit(i32::try_from(limit - found.len()).unwrap_or(i32::MAX))
                    .set_exclusive_start_key(start.take());
                query = match &after {
                    Some((ms, id)) => query
                        .key_condition_expression("#lp = :lp AND #ls > :after")
                        .expression_attribute_names("#ls", BY_POST.2)
                        .expression_attribute_values(":after", s(list_sort_key(*ms, id))),
                    None => query.key_condition_expression("#lp = :lp"),
                };
                let out = query.send().await.map_err(|e| fail("Query(by_post)", e))?;
                // The hash of the post partitions the index; the exact post is compared too.
                found.extend(
                    out.items()
                        .iter()
                        .filter_map(comment_from)
                        .filter(|c| c.post == post),
                );
                start = out.last_evaluated_key;
                if found.len() >= limit || start.is_none() {
                    break;
                }
            }
            found.truncate(limit);
            Ok(found)
        })
    }

    fn count_approved<'a>(&'a self, posts: &'a [String]) -> BoxFuture<'a, StoreResult<Vec<u64>>> {
        Box::pin(async move {
            let mut found: HashMap<String, u64> = HashMap::new();
            let keys: Vec<Item> = posts.iter().map(|p| count_key(p)).collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression("pk, approved")
                    .build()
                    .map_err(|e| fail("build", e))?,
            );
            // BatchGetItem leaves keys unprocessed when the table is at its
            // throughput: asking again at once meets the same limit, so each
            // further round waits, as AWS advises for unprocessed keys.
            for round in 0..4 {
                let Some(req) = request.take() else { break };
                if round > 0 {
                    tokio::time::sleep(backoff(round)).await;
                }
                let out = self
                    .client()
                    .await
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(|e| fail("BatchGetItem(count)", e))?;
                for item in out
                    .responses
                    .as_ref()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let (Some(pk), Some(c)) = (get_s(item, PK), get_n(item, "approved")) {
                        found.insert(pk, c);
                    }
                }
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
            }
            if request.is_some() {
                return Err(StoreError("BatchGetItem left keys unprocessed".into()));
            }
            Ok(posts
                .iter()
                .map(|p| found.get(&post_key(p)).copied().unwrap_or(0))
                .collect())
        })
    }
}

impl Outbox for DynamoStore {
    fn mark_delivered<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let remove = format!(
                "REMOVE {}, {}, {CLAIM_UNTIL}, {ATTEMPTS}, {LAST_ERROR}",
                OUTBOX.1, OUTBOX.2
            );
            let client = self.client().await;
            let base = || {
                client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(entry_key(entry)))
            };
            let result = match entry.kind {
                MailKind::Contact => {
                    base()
                        .update_expression(format!("SET delivered = :t, {TTL} = :exp {remove}"))
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":t", AttributeValue::Bool(true))
                        .expression_attribute_values(":exp", n((now_ms + CONTACT_TTL_MS) / 1000))
                        .send()
                        .await
                }
                MailKind::Comment => {
                    // Pending comments start their 30 days now; others keep theirs.
                    let pending = base()
                        .update_expression(format!("SET {TTL} = :exp {remove}"))
                        .condition_expression("#st = :pending")
                        .expression_attribute_names("#st", "status")
                        .expression_attribute_values(":pending", s(CommentStatus::Pending.as_str()))
                        .expression_attribute_values(":exp", n((now_ms + PENDING_TTL_MS) / 1000))
                        .send()
                        .await;
                    match pending {
                        Err(e) if is_conditional_failure(&e) => {
                            base()
                                .update_expression(remove)
                                .condition_expression("attribute_exists(pk)")
                                .send()
                                .await
                        }
                        other => other,
                    }
                }
                MailKind::Confirm => {
                    // An unconfirmed subscription lives as long as the link
                    // just mailed; a confirmed one keeps living.
                    let unconfirmed = base()
                        .update_expression(format!("SET {TTL} = :exp {remove}"))
                        .condition_expression("confirmed = :f")
                        .expression_attribute_values(":f", AttributeValue::Bool(false))
                        .expression_attribute_values(":exp", n((now_ms + CONFIRM_TTL_MS) / 1000))
                        .send()
                        .await;
                    match unconfirmed {
                        Err(e) if is_conditional_failure(&e) => {
                            base()
                                .update_expression(remove)
                                .condition_expression("attribute_exists(pk)")
                                .send()
                                .await
                        }
                        other => other,
                    }
                }
                MailKind::Reply | MailKind::Alert(_) | MailKind::Feedback => {
                    // Nothing is kept of a notification, an alert or a
                    // correction once it went out.
                    return self
                        .client()
                        .await
                        .delete_item()
                        .table_name(&self.table)
                        .set_key(Some(entry_key(entry)))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| fail("DeleteItem(notice)", e));
                }
            };
            match result {
                Ok(_) => Ok(()),
                // Deleted meanwhile: nothing to mark.
                Err(e) if is_conditional_failure(&e) => Ok(()),
                Err(e) => Err(fail("UpdateItem(delivered)", e)),
            }
        })
    }

    fn due_outbox(
        &self,
        cap: MailCap,
        now_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        Box::pin(async move {
            let upper = format!("{:013}", now_ms + 1);
            let items = self.outbox_query(waiting(cap), Some(&upper), limit).await?;
            Ok(items
                .iter()
                .filter_map(outbox_entry)
                .map(|(_, e)| e)
                .collect())
        })
    }

    fn list_outbox(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxItem>>> {
        Box::pin(async move {
            // Both waiting partitions by next attempt, then the parked.
            let mut items = self.outbox_query(WAITING_OWNER, None, limit).await?;
            items.extend(self.outbox_query(WAITING_VISITOR, None, limit).await?);
            items.extend(self.outbox_query(WAITING_ALERTS, None, limit).await?);
            items.extend(self.outbox_query(WAITING_FEEDBACK, None, limit).await?);
            items.sort_by_key(|item| get_s(item, OUTBOX.2));
            items.truncate(limit);
            items.extend(self.outbox_query(PARKED, None, limit).await?);
            Ok(items
                .iter()
                .filter_map(|item| {
                    let (next_attempt_ms, entry) = outbox_entry(item)?;
                    Some(OutboxItem {
                        entry,
                        created_ms: get_n(item, "created_ms").unwrap_or(0),
                        attempts: get_n(item, ATTEMPTS)
                            .and_then(|a| u32::try_from(a).ok())
                            .unwrap_or(0),
                        next_attempt_ms,
                        parked: get_s(item, OUTBOX.1).as_deref() == Some(PARKED),
                        last_error: get_s(item, LAST_ERROR),
                    })
                })
                .collect())
        })
    }

    fn claim<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
        until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<u32>>> {
        Box::pin(async move {
            let result = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(entry_key(entry)))
                .update_expression(format!("SET {CLAIM_UNTIL} = :until"))
                // Waiting in either partition: the partition is the kind's
                // own once the entry has been deferred or requeued.
                .condition_expression(format!(
                    "#op IN (:owner, :visitor, :alerts, :feedback) AND (attribute_not_exists({CLAIM_UNTIL}) OR {CLAIM_UNTIL} <= :now)"
                ))
                .expression_attribute_names("#op", OUTBOX.1)
                .expression_attribute_values(":owner", s(WAITING_OWNER))
                .expression_attribute_values(":visitor", s(WAITING_VISITOR))
                .expression_attribute_values(":alerts", s(WAITING_ALERTS))
                .expression_attribute_values(":feedback", s(WAITING_FEEDBACK))
                .expression_attribute_values(":until", n(until_ms))
                .expression_attribute_values(":now", n(now_ms))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match result {
                Ok(out) => Ok(Some(
                    out.attributes
                        .as_ref()
                        .and_then(|a| get_n(a, ATTEMPTS))
                        .and_then(|a| u32::try_from(a).ok())
                        .unwrap_or(0),
                )),
                Err(e) if is_conditional_failure(&e) => Ok(None),
                Err(e) => Err(fail("UpdateItem(claim)", e)),
            }
        })
    }

    fn defer<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        d: &'a Deferral,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let partition = if d.parked {
                PARKED
            } else {
                waiting(entry.kind.cap())
            };
            let result = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(entry_key(entry)))
                .update_expression(format!(
                    "SET #op = :part, #os = :sk, {ATTEMPTS} = :attempts, {LAST_ERROR} = :error REMOVE {CLAIM_UNTIL}"
                ))
                // Only while undelivered: a delivery that raced ahead wins.
                .condition_expression("attribute_exists(#op)")
                .expression_attribute_names("#op", OUTBOX.1)
                .expression_attribute_names("#os", OUTBOX.2)
                .expression_attribute_values(":part", s(partition))
                .expression_attribute_values(":sk", s(outbox_sort_key(d.next_attempt_ms, entry)))
                .expression_attribute_values(":attempts", n(u64::from(d.attempts)))
                .expression_attribute_values(":error", s(&d.error))
                .send()
                .await;
            match result {
                Ok(_) => Ok(()),
                Err(e) if is_conditional_failure(&e) => Ok(()),
                Err(e) => Err(fail("UpdateItem(defer)", e)),
            }
        })
    }

    fn requeue<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let result = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(entry_key(entry)))
                .update_expression(format!(
                    "SET #op = :waiting, #os = :sk, {ATTEMPTS} = :zero REMOVE {CLAIM_UNTIL}"
                ))
                .condition_expression("#op = :parked")
                .expression_attribute_names("#op", OUTBOX.1)
                .expression_attribute_names("#os", OUTBOX.2)
                .expression_attribute_values(":waiting", s(waiting(entry.kind.cap())))
                .expression_attribute_values(":parked", s(PARKED))
                .expression_attribute_values(":sk", s(outbox_sort_key(now_ms, entry)))
                .expression_attribute_values(":zero", n(0))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e) if is_conditional_failure(&e) => Ok(false),
                Err(e) => Err(fail("UpdateItem(requeue)", e)),
            }
        })
    }
}

impl Subscriptions for DynamoStore {
    fn get_subscription<'a>(
        &'a self,
        comment_id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<Subscription>>> {
        Box::pin(async move {
            let item = self.get_live(subscription_key(comment_id), now_ms).await?;
            Ok(item.as_ref().and_then(subscription_from))
        })
    }

    fn confirm_subscription<'a>(
        &'a self,
        comment_id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Confirmed>> {
        Box::pin(async move {
            // Those that joined it are confirmed in the same transaction; it
            // holds on condition that none joined since the read.
            let mut gone: Vec<String> = Vec::new();
            for _ in 0..PUBLISH_ATTEMPTS {
                let Some(item) = self.get_live(subscription_key(comment_id), now_ms).await? else {
                    return Ok(Confirmed::Gone);
                };
                match subscription_from(&item) {
                    None => return Ok(Confirmed::Gone),
                    Some(sub) if sub.confirmed => return Ok(Confirmed::Already),
                    Some(_) => {}
                }
                let joined: Vec<String> = item
                    .get("joined")
                    .and_then(|v| v.as_ss().ok())
                    .cloned()
                    .unwrap_or_default();
                let confirm = |key: Item| {
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key))
                        .update_expression(format!("SET confirmed = :t REMOVE {TTL}"))
                        .expression_attribute_values(":t", AttributeValue::Bool(true))
                };
                let own = if joined.is_empty() {
                    confirm(subscription_key(comment_id))
                        .condition_expression(format!(
                            "confirmed = :f AND attribute_not_exists(joined) AND (attribute_not_exists({TTL}) OR {TTL} > :now)"
                        ))
                } else {
                    confirm(subscription_key(comment_id))
                        .condition_expression(format!(
                            "confirmed = :f AND size(joined) = :n AND (attribute_not_exists({TTL}) OR {TTL} > :now)"
                        ))
                        .expression_attribute_values(":n", n(joined.len() as u64))
                }
                .expression_attribute_values(":f", AttributeValue::Bool(false))
                .expression_attribute_values(":now", n(now_ms / 1000))
                .build()
                .map_err(|e| fail("build", e))?;
                let mut items = vec![TransactWriteItem::builder().update(own).build()];
                let others: Vec<&String> = joined.iter().filter(|j| !gone.contains(j)).collect();
                for id in &others {
                    let update = confirm(subscription_key(id))
                        .condition_expression("attribute_exists(pk)")
                        .build()
                        .map_err(|e| fail("build", e))?;
                    items.push(TransactWriteItem::builder().update(update).build());
                }
                match self.transact(items).await? {
                    Transacted::Done => return Ok(Confirmed::Done),
                    // Removed since they joined (their comment deleted):
                    // nothing to confirm there.
                    Transacted::ConditionFailed(failed) => gone.extend(
                        failed
                            .iter()
                            .filter(|i| **i > 0)
                            .filter_map(|i| others.get(i - 1).map(|id| (*id).clone())),
                    ),
                }
            }
            Err(StoreError(
                "a confirmation kept meeting concurrent changes".into(),
            ))
        })
    }

    fn unsubscribe<'a>(&'a self, comment_id: &'a str) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let out = self
                .client()
                .await
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(subscription_key(comment_id)))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| fail("DeleteItem(subscription)", e))?;
            Ok(out.attributes.is_some_and(|a| !a.is_empty()))
        })
    }
}

impl DynamoStore {
    /// Up to `limit` items of one outbox partition in index order, those
    /// sorting below `below` only when given; across as many pages as it takes.
    async fn outbox_query(
        &self,
        partition: &str,
        below: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Item>> {
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        while found.len() < limit {
            let mut query = self
                .client()
                .await
                .query()
                .table_name(&self.table)
                .index_name(OUTBOX.0)
                .expression_attribute_names("#op", OUTBOX.1)
                .expression_attribute_values(":o", s(partition))
                .scan_index_forward(true)
                .limit(i32::try_from(limit - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match below {
                Some(upper) => query
                    .key_condition_expression("#op = :o AND #os < :upper")
                    .expression_attribute_names("#os", OUTBOX.2)
                    .expression_attribute_values(":upper", s(upper)),
                None => query.key_condition_expression("#op = :o"),
            };
            let out = query.send().await.map_err(|e| fail("Query(outbox)", e))?;
            found.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }
}

impl DynamoStore {
    /// Every item of `kind` (the `type` attribute) matching `extra`, a filter
    /// on further attributes: a paginated Scan. The filter saves transfer, not
    /// reads; fine for the owner's occasional command. Strongly consistent:
    /// what an export or an erasure reads includes every write acknowledged
    /// before it.
    async fn scan_type(
        &self,
        kind: &str,
        extra: &[(&str, String)],
        expired: Expired,
    ) -> StoreResult<Vec<Item>> {
        let mut filter = "#type = :type".to_owned();
        for i in 0..extra.len() {
            filter.push_str(&format!(" AND #f{i} = :f{i}"));
        }
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut scan = self
                .client()
                .await
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .filter_expression(&filter)
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":type", s(kind))
                .set_exclusive_start_key(start.take());
            for (i, (name, value)) in extra.iter().enumerate() {
                scan = scan
                    .expression_attribute_names(format!("#f{i}"), *name)
                    .expression_attribute_values(format!(":f{i}"), s(value));
            }
            let out = scan.send().await.map_err(|e| fail("Scan", e))?;
            items.extend(out.items.unwrap_or_default().into_iter().filter(|item| {
                expired.keeps(get_n(item, TTL).map(|exp_s| exp_s.saturating_mul(1000)))
            }));
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

impl AdminStore for DynamoStore {
    fn all_comments<'a>(
        &'a self,
        post: Option<&'a str>,
        expired: Expired,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        Box::pin(async move {
            let extra: Vec<(&str, String)> =
                post.map(|p| ("post", p.to_owned())).into_iter().collect();
            let items = self.scan_type("comment", &extra, expired).await?;
            let mut all: Vec<CommentRecord> = items.iter().filter_map(comment_from).collect();
            by_age(&mut all, |r| (r.created_ms, &r.id));
            Ok(all)
        })
    }

    fn all_contacts(&self, expired: Expired) -> BoxFuture<'_, StoreResult<Vec<ContactRecord>>> {
        Box::pin(async move {
            let items = self.scan_type("contact", &[], expired).await?;
            let mut all: Vec<ContactRecord> = items.iter().filter_map(contact_from).collect();
            by_age(&mut all, |r| (r.created_ms, &r.id));
            Ok(all)
        })
    }

    fn delete_contact<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let out = self
                .client()
                .await
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(contact_key(id)))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| fail("DeleteItem(contact)", e))?;
            Ok(out.attributes.is_some_and(|a| !a.is_empty()))
        })
    }

    fn purge_comment<'a>(&'a self, id: &'a str) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let result = self
                .client()
                .await
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(comment_key(id)))
                .condition_expression("attribute_exists(pk) AND #st <> :approved")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":approved", s(CommentStatus::Approved.as_str()))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(fail("DeleteItem(comment)", e)),
            }
        })
    }

    fn import_comment<'a>(&'a self, r: &'a CommentRecord) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            if r.status != CommentStatus::Approved {
                return Err(StoreError("only approved comments are imported".into()));
            }
            let mut item = comment_key(&r.id);
            item.insert("type".into(), s("comment"));
            item.insert("post".into(), s(&r.post));
            for (k, v) in [("parent", &r.parent), ("email", &r.email), ("url", &r.url)] {
                if let Some(v) = v {
                    item.insert(k.into(), s(v));
                }
            }
            item.insert("name".into(), s(&r.name));
            item.insert("body".into(), s(&r.body));
            item.insert("created_ms".into(), n(r.created_ms));
            item.insert("status".into(), s(r.status.as_str()));
            item.insert("ip_hash".into(), s(&r.ip_hash));
            item.insert("links_base".into(), s(&r.links_base));
            item.insert(BY_POST.1.into(), s(post_key(&r.post)));
            item.insert(BY_POST.2.into(), s(list_sort_key(r.created_ms, &r.id)));
            let items = vec![self.put_absent(item)?, self.count_update(&r.post, 1)?];
            match self.transact(items).await? {
                Transacted::Done => Ok(true),
                // The put's condition: the id is taken (an earlier import, or
                // this call's own first attempt whose answer was lost).
                Transacted::ConditionFailed(_) => Ok(false),
            }
        })
    }
}
