//! [`RateLimits`] and [`MailBudget`]: counters that expire.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::DynamoStore;
use super::item::{fail, get_n, key, mail_cap_key, n};
use crate::config::contract::table::TTL;
use crate::domain::MailCap;
use crate::store::{BoxFuture, MailBudget, RateLimits, RateWindow, StoreResult};

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
        })
    }

    fn return_mail_slot(&self, cap: MailCap, hour: u64) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move {
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
        })
    }
}
