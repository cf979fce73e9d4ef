//! [`Feeds`] on DynamoDB: one Query, read backwards.
//!
//! A post's latest comments come from `by_post` (its key range read newest
//! first); the site's from the approved partition of the console's sparse
//! index `by_status` (`status_sk` is `<created_ms, 13 digits>#<id>`, the same
//! sort key), written and removed in the same update as the status. One index
//! partition holds up to 1,000 writes a second: a blog's comments are far
//! below that.

use async_trait::async_trait;

use super::Direction;
use super::{DynamoStore, console};
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
        let (index, partition) = match post {
            Some(post) => (BY_POST, post_key(post)),
            None => (BY_STATUS, console::APPROVED.to_owned()),
        };
        self.comment_query(
            index,
            partition,
            None,
            Direction::NewestFirst,
            limit,
            |_, c| post.is_none_or(|p| c.post == p),
        )
        .await
    }
}
