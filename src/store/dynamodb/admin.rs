//! [`AdminStore`]: the owner's whole-table operations (Scans, for the command only).

use super::item::{
    comment_from, comment_item, comment_key, contact_from, contact_key, fail, get_n, s,
};
use super::{DynamoStore, Item, Transacted};
use crate::config::contract::table::TTL;
use crate::domain::{CommentRecord, CommentStatus, ContactRecord};
use crate::store::{AdminStore, Expired, StoreError, StoreResult, by_age};
use async_trait::async_trait;

impl DynamoStore {
    /// Every item of `kind` (the `type` attribute) matching `extra`, a filter
    /// on further attributes: a paginated Scan. The filter saves transfer, not
    /// reads; fine for the owner's occasional command. Strongly consistent:
    /// what an export or an erasure reads includes every write acknowledged
    /// before it.
    pub(super) async fn scan_type(
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

#[async_trait]
impl AdminStore for DynamoStore {
    async fn all_comments(
        &self,
        post: Option<&str>,
        expired: Expired,
    ) -> StoreResult<Vec<CommentRecord>> {
        let extra: Vec<(&str, String)> = post.map(|p| ("post", p.to_owned())).into_iter().collect();
        let items = self.scan_type("comment", &extra, expired).await?;
        let mut all: Vec<CommentRecord> = items.iter().filter_map(comment_from).collect();
        by_age(&mut all, |r| (r.created_ms, &r.id));
        Ok(all)
    }

    async fn all_contacts(&self, expired: Expired) -> StoreResult<Vec<ContactRecord>> {
        let items = self.scan_type("contact", &[], expired).await?;
        let mut all: Vec<ContactRecord> = items.iter().filter_map(contact_from).collect();
        by_age(&mut all, |r| (r.created_ms, &r.id));
        Ok(all)
    }

    async fn delete_contact(&self, id: &str) -> StoreResult<bool> {
        self.delete("DeleteItem(contact)", contact_key(id)).await
    }

    async fn purge_comment(&self, id: &str) -> StoreResult<bool> {
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
    }

    async fn import_comment(&self, r: &CommentRecord) -> StoreResult<bool> {
        if r.status != CommentStatus::Approved {
            return Err(StoreError::new("only approved comments are imported"));
        }
        let items = vec![
            self.put_absent(comment_item(r))?,
            self.count_update(&r.post, 1)?,
        ];
        match self.transact(items).await? {
            Transacted::Done => Ok(true),
            // The put's condition: the id is taken (an earlier import, or
            // this call's own first attempt whose answer was lost).
            Transacted::ConditionFailed(_) => Ok(false),
        }
    }
}
