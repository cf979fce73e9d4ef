//! The newest approved comments, newest first: what the Atom feeds
//! (`GET /comment/feed`) read.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::CommentRecord;

/// Approved comments by recency, of one post or of the whole site.
#[async_trait]
pub trait Feeds: Send + Sync {
    /// Up to `limit` approved comments, newest first (ties by id, highest
    /// first): those of `post`, or of every post with `None`. One Query on
    /// DynamoDB (the `by_post` index for a post, the approved partition of
    /// the sparse `by_status` index for the site), never a Scan.
    async fn latest_approved(
        &self,
        post: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>>;
}
