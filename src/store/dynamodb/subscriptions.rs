//! [`Subscriptions`]: reply-notification subscriptions.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::comments::PUBLISH_ATTEMPTS;
use super::item::{fail, n, subscription_from, subscription_key};
use super::{DynamoStore, Item, Transacted};
use crate::config::contract::table::TTL;
use crate::domain::{Confirmed, Subscription};
use crate::store::{StoreError, StoreResult, Subscriptions};

#[async_trait]
impl Subscriptions for DynamoStore {
    async fn get_subscription(
        &self,
        comment_id: &str,
        now_ms: u64,
    ) -> StoreResult<Option<Subscription>> {
        let item = self.get_live(subscription_key(comment_id), now_ms).await?;
        Ok(item.as_ref().and_then(subscription_from))
    }

    async fn confirm_subscription(&self, comment_id: &str, now_ms: u64) -> StoreResult<Confirmed> {
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
        Err(StoreError::new(
            "a confirmation kept meeting concurrent changes",
        ))
    }

    async fn unsubscribe(&self, comment_id: &str) -> StoreResult<bool> {
        self.delete("DeleteItem(subscription)", subscription_key(comment_id))
            .await
    }
}
