//! [`Outbox`]: the sparse index of undelivered mail, claims, backoff and parking.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::item::{
    ATTEMPTS, CLAIM_UNTIL, LAST_ERROR, PARKED, WAITING_ALERTS, WAITING_FEEDBACK, WAITING_OWNER,
    WAITING_VISITOR, entry_key, get_n, get_s, n, outbox_entry, outbox_sort_key, s, waiting,
};
use super::{Direction, DynamoStore, Item};
use crate::config::contract::table::{OUTBOX, TTL};
use crate::domain::{
    CONFIRM_TTL_MS, CONTACT_TTL_MS, CommentStatus, Deferral, MailCap, MailKind, OutboxEntry,
    OutboxItem, PENDING_TTL_MS,
};
use crate::store::{Outbox, StoreResult};

#[async_trait]
impl Outbox for DynamoStore {
    async fn mark_delivered(&self, entry: &OutboxEntry, now_ms: u64) -> StoreResult<()> {
        let remove = format!(
            "REMOVE {}, {}, {CLAIM_UNTIL}, {ATTEMPTS}, {LAST_ERROR}",
            OUTBOX.1, OUTBOX.2
        );
        const OP: &str = "UpdateItem(delivered)";
        let unmark = |update: UpdateItemFluentBuilder| {
            update
                .set_key(Some(entry_key(entry)))
                .update_expression(&remove)
                // Deleted meanwhile: nothing to mark.
                .condition_expression("attribute_exists(pk)")
        };
        // What starts its retention now, and on which condition: a pending
        // comment its 30 days, an unconfirmed subscription as long as the
        // link just mailed lives; others keep theirs.
        let (attribute, value, ttl_ms) = match entry.kind {
            MailKind::Contact => {
                self.update_if(OP, |update| {
                    update
                        .set_key(Some(entry_key(entry)))
                        .update_expression(format!("SET delivered = :t, {TTL} = :exp {remove}"))
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":t", AttributeValue::Bool(true))
                        .expression_attribute_values(":exp", n((now_ms + CONTACT_TTL_MS) / 1000))
                })
                .await?;
                return Ok(());
            }
            MailKind::Comment => ("status", s(CommentStatus::Pending.as_str()), PENDING_TTL_MS),
            MailKind::Confirm => ("confirmed", AttributeValue::Bool(false), CONFIRM_TTL_MS),
            MailKind::Reply | MailKind::Alert(_) | MailKind::Feedback => {
                // Nothing is kept of a notification, an alert or a
                // correction once it went out.
                self.delete("DeleteItem(delivered)", entry_key(entry))
                    .await?;
                return Ok(());
            }
        };
        let expiring = self
            .update_if(OP, |update| {
                update
                    .set_key(Some(entry_key(entry)))
                    .update_expression(format!("SET {TTL} = :exp {remove}"))
                    .condition_expression("#a = :v")
                    .expression_attribute_names("#a", attribute)
                    .expression_attribute_values(":v", value)
                    .expression_attribute_values(":exp", n((now_ms + ttl_ms) / 1000))
            })
            .await?;
        if expiring.is_none() {
            self.update_if(OP, unmark).await?;
        }
        Ok(())
    }

    async fn due_outbox(
        &self,
        cap: MailCap,
        now_ms: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let upper = format!("{:013}", now_ms + 1);
        let items = self.outbox_query(waiting(cap), Some(&upper), limit).await?;
        Ok(items
            .iter()
            .filter_map(outbox_entry)
            .map(|(_, e)| e)
            .collect())
    }

    async fn list_outbox(&self, limit: usize) -> StoreResult<Vec<OutboxItem>> {
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
    }

    async fn claim(
        &self,
        entry: &OutboxEntry,
        now_ms: u64,
        until_ms: u64,
    ) -> StoreResult<Option<u32>> {
        let claimed = self
            .update_if("UpdateItem(claim)", |update| {
                update
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
            })
            .await?;
        Ok(claimed.map(|out| {
            out.attributes
                .as_ref()
                .and_then(|a| get_n(a, ATTEMPTS))
                .and_then(|a| u32::try_from(a).ok())
                .unwrap_or(0)
        }))
    }

    async fn defer(&self, entry: &OutboxEntry, d: &Deferral) -> StoreResult<()> {
        let partition = if d.parked {
            PARKED
        } else {
            waiting(entry.kind.cap())
        };
        self.update_if("UpdateItem(defer)", |update| {
            update
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
        })
        .await?;
        Ok(())
    }

    async fn requeue(&self, entry: &OutboxEntry, now_ms: u64) -> StoreResult<bool> {
        let updated = self
            .update_if("UpdateItem(requeue)", |update| {
                update
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
            })
            .await?;
        Ok(updated.is_some())
    }
}

impl DynamoStore {
    /// Up to `limit` items of one outbox partition in index order, those
    /// sorting below `below` only when given; across as many pages as it takes.
    pub(super) async fn outbox_query(
        &self,
        partition: &str,
        below: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Item>> {
        let read = |item: &Item| Some(item.clone());
        let bound = below.map(|key| ("<", key));
        self.query_index(
            OUTBOX,
            partition,
            bound,
            Direction::OldestFirst,
            limit,
            read,
        )
        .await
    }
}
