//! [`Feeds`] on DynamoDB: one Query, read backwards.
//!
//! A post's latest comments come from `by_post` (its key range read
//! newest first). The site's come from the sparse index `feed`: every
//! approved comment, and only while it is approved, carries
//! `feed_pk` = [`PARTITION`] and `feed_sk` = `<created_ms, 13 digits>#<id>`
//! (the same sort key as `by_post`), written and removed in the same
//! update as its status. All of them share one index partition, which
//! holds up to 1,000 writes a second: a blog's comments are far below that.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{
    DynamoStore, Item, comment_from, fail, get_n, get_s, is_conditional_failure, list_sort_key,
    post_key, s,
};
use crate::contract::table::{BY_POST, FEED, PK, SK};
use crate::store::{
    BoxFuture, CommentRecord, CommentStatus, Expired, FeedIndex, Feeds, StoreResult,
};

/// The one partition of the `feed` index.
pub(super) const PARTITION: &str = "APPROVED";

/// Puts an approved comment's `feed` index keys on its item.
pub(super) fn index(item: &mut Item, created_ms: u64, id: &str) {
    item.insert(FEED.1.into(), s(PARTITION));
    item.insert(FEED.2.into(), s(list_sort_key(created_ms, id)));
}

impl Feeds for DynamoStore {
    fn latest_approved<'a>(
        &'a self,
        post: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        Box::pin(async move {
            let (index, partition): (_, AttributeValue) = match post {
                Some(post) => (BY_POST, s(post_key(post))),
                None => (FEED, s(PARTITION)),
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
                    .map_err(|e| fail(&format!("Query({})", index.0), e))?;
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
        })
    }
}

impl FeedIndex for DynamoStore {
    fn index_feed(&self) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(async move {
            let approved = self
                .scan_type(
                    "comment",
                    &[("status", CommentStatus::Approved.as_str().to_owned())],
                    Expired::Include,
                )
                .await?;
            let mut indexed = 0;
            for item in approved.iter().filter(|i| !i.contains_key(FEED.1)) {
                let (Some(pk), Some(created_ms)) = (get_s(item, PK), get_n(item, "created_ms"))
                else {
                    continue;
                };
                let Some(id) = pk.strip_prefix("COMMENT#") else {
                    continue;
                };
                let result = self
                    .client()
                    .await
                    .update_item()
                    .table_name(&self.table)
                    .key(PK, s(&pk))
                    .key(SK, s("COMMENT"))
                    .update_expression("SET #fp = :fp, #fs = :fs")
                    // Decided otherwise since the Scan: leave it unindexed.
                    .condition_expression("#st = :approved")
                    .expression_attribute_names("#fp", FEED.1)
                    .expression_attribute_names("#fs", FEED.2)
                    .expression_attribute_names("#st", "status")
                    .expression_attribute_values(":fp", s(PARTITION))
                    .expression_attribute_values(":fs", s(list_sort_key(created_ms, id)))
                    .expression_attribute_values(":approved", s(CommentStatus::Approved.as_str()))
                    .send()
                    .await;
                match result {
                    Ok(_) => indexed += 1,
                    Err(e) if is_conditional_failure(&e) => {}
                    Err(e) => return Err(fail("UpdateItem(feed)", e)),
                }
            }
            Ok(indexed)
        })
    }
}
