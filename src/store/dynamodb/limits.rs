//! [`RateLimits`] and [`MailBudget`]: counters that expire.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::DynamoStore;
use super::item::{fail, get_n, key, mail_cap_key, n};
use crate::config::contract::table::TTL;
use crate::domain::MailCap;
use crate::store::{MailBudget, RateLimits, RateWindow, StoreResult};

#[async_trait]
impl RateLimits for DynamoStore {
    async fn hit_rate(&self, window: &RateWindow<'_>) -> StoreResult<u64> {
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
    }
}

#[async_trait]
impl MailBudget for DynamoStore {
    async fn take_mail_slot(&self, cap: MailCap, hour: u64, limit: u32) -> StoreResult<bool> {
        let updated = self
            .update_if("UpdateItem(mailcap)", |update| {
                update
                    .set_key(Some(mail_cap_key(cap, hour)))
                    .update_expression(format!(
                        "ADD used :one SET {TTL} = if_not_exists({TTL}, :exp)"
                    ))
                    .condition_expression("attribute_not_exists(used) OR used < :limit")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":limit", n(u64::from(limit)))
                    .expression_attribute_values(":exp", n((hour + 3) * 3600))
            })
            .await?;
        Ok(updated.is_some())
    }

    async fn return_mail_slot(&self, cap: MailCap, hour: u64) -> StoreResult<()> {
        self.update_if("UpdateItem(mailcap return)", |update| {
            update
                .set_key(Some(mail_cap_key(cap, hour)))
                .update_expression("ADD used :minus")
                .condition_expression("used > :zero")
                .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
                .expression_attribute_values(":zero", n(0))
        })
        .await?;
        Ok(())
    }
}
