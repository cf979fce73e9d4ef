//! The DynamoDB adapter: one table, keys and indexes from [`crate::config::contract::table`].
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | contact message | `CONTACT#<id>` | `CONTACT` | `outbox_*` while undelivered; `expires_at` 90 days after delivery |
//! | comment | `COMMENT#<id>` | `COMMENT` | `list_pk`/`list_sk` and `feed_pk`/`feed_sk` only while approved (indexes `by_post`, `feed`); `outbox_*` while its mail is undelivered |
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

mod admin;
mod comments;
mod console;
mod contacts;
mod feed;
mod item;
mod limits;
mod outbox;
mod spam;
mod subscriptions;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, Put, ReturnValue, TransactWriteItem, Update,
};

use super::{StoreError, StoreResult};
use crate::config::aws::{LazyClient, Sdk};
use item::{NO_SUCH_ID, backoff, count_key, fail, key, live};

/// The [`Store`](super::Store) on a DynamoDB table.
#[derive(Debug)]
pub struct DynamoStore {
    client: LazyClient<Client>,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

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

fn is_conditional_failure<R>(e: &SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

fn put_conditional_failure<R>(e: &SdkError<PutItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

/// Which way a Query reads an index partition (by its sort key).
#[derive(Debug, Clone, Copy)]
enum Direction {
    OldestFirst,
    NewestFirst,
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
    async fn put_new(&self, item: Item, op: &'static str) -> StoreResult<()> {
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
        let mut token = crate::domain::ids::new_id();
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
                        token = crate::domain::ids::new_id();
                    }
                }
                Some(Err(code)) => {
                    return Err(StoreError::new(format!(
                        "TransactWriteItems cancelled: {code}"
                    )));
                }
                None => return Err(fail("TransactWriteItems", e)),
            }
        }
        Err(StoreError::new(
            "TransactWriteItems: contention or throttling outlasted the retries",
        ))
    }

    /// An UpdateItem on the table, as `build` makes it: `Ok(None)` when its
    /// condition failed (an answer, not an error), its output otherwise.
    async fn update_if(
        &self,
        op: &'static str,
        build: impl FnOnce(UpdateItemFluentBuilder) -> UpdateItemFluentBuilder,
    ) -> StoreResult<Option<UpdateItemOutput>> {
        let update = self.client().await.update_item().table_name(&self.table);
        match build(update).send().await {
            Ok(out) => Ok(Some(out)),
            Err(e) if is_conditional_failure(&e) => Ok(None),
            Err(e) => Err(fail(op, e)),
        }
    }

    /// A DeleteItem of `key`: whether there was an item to delete.
    async fn delete(&self, op: &'static str, key: Item) -> StoreResult<bool> {
        let out = self
            .client()
            .await
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| fail(op, e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    /// Up to `limit` records of one index partition in `direction`, those
    /// whose sort key compares to `bound` as it says (`(">", key)`, `("<",
    /// key)`) when given, each read from its item by `read`
    /// (`None` leaves it out): as many Query pages as it takes, so neither a
    /// 1 MB page nor items left out shorten the list. Every list the store
    /// reads goes through it: comments, the outbox, the spam folder.
    async fn query_index<T>(
        &self,
        (index, hash, range): (&str, &str, &str),
        partition: &str,
        bound: Option<(&str, &str)>,
        direction: Direction,
        limit: usize,
        read: impl Fn(&Item) -> Option<T>,
    ) -> StoreResult<Vec<T>> {
        let forward = matches!(direction, Direction::OldestFirst);
        let mut found = Vec::with_capacity(limit.min(1_000));
        let mut start: Option<Item> = None;
        while found.len() < limit {
            let mut query = self
                .client()
                .await
                .query()
                .table_name(&self.table)
                .index_name(index)
                .expression_attribute_names("#h", hash)
                .expression_attribute_values(":h", item::s(partition))
                .scan_index_forward(forward)
                .limit(i32::try_from(limit - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match bound {
                Some((op, key)) => query
                    .key_condition_expression(format!("#h = :h AND #r {op} :bound"))
                    .expression_attribute_names("#r", range)
                    .expression_attribute_values(":bound", item::s(key)),
                None => query.key_condition_expression("#h = :h"),
            };
            let out = query
                .send()
                .await
                .map_err(|e| fail(format!("Query({index})"), e))?;
            found.extend(out.items().iter().filter_map(&read));
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
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
