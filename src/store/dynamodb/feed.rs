//! [`Feeds`] on DynamoDB: one Query, read backwards.
//!
//! A post's latest comments come from `by_post` (its key range read newest
//! first); the site's from the approved partition of the console's sparse
//! index `by_status` (`status_sk` is `<created_ms, 13 digits>#<id>`, the same
//! sort key), written and removed in the same update as the status. One index
//! partition holds up to 1,000 writes a second: a blog's comments are far
//! below that.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{comment_from, fail, s};
use super::{DynamoStore, Item, console};
use crate::config::contract::table::{BY_POST, BY_STATUS};
use crate::domain::CommentRecord;
use crate::store::{Feeds, StoreResult, post_key};

#[async_trait]
impl Feeds for DynamoStore {
    async fn latest_approved(
        &self,
        post: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>> {
        let (index, partition): (_, AttributeValue) = match post {
            Some(post) => (BY_POST, s(post_key(post))),
            None => (BY_STATUS, s(console::APPROVED)),
        };
        // As in `list_approved`: a Query page ends at 1 MB whatever its
        // Limit, so keep reading until `limit` are found or none are left.
        let mut found = Vec::with_capacity(limit);
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client()
                .await
                .query()
                .table_name(&self.table)
                .index_name(index.0)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", index.1)
                .expression_attribute_values(":p", partition.clone())
                .scan_index_forward(false)
                .limit(i32::try_from(limit - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| fail(format!("Query({})", index.0), e))?;
            // A post's hash partitions `by_post`; the exact post is compared too.
            found.extend(
                out.items()
                    .iter()
                    .filter_map(comment_from)
                    .filter(|c| post.is_none_or(|p| c.post == p)),
            );
            start = out.last_evaluated_key;
            if found.len() >= limit || start.is_none() {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }
}
