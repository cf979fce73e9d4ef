//! The newest approved comments, newest first: what the Atom feeds
//! (`GET /comment/feed`) read.

use super::{BoxFuture, CommentRecord, StoreResult};

/// Approved comments by recency, of one post or of the whole site.
pub trait Feeds: Send + Sync {
    /// Up to `limit` approved comments, newest first (ties by id, highest
    /// first): those of `post`, or of every post with `None`. One Query on
    /// DynamoDB (the `by_post` index for a post, the sparse `feed` index for
    /// the site), never a Scan.
    fn latest_approved<'a>(
        &'a self,
        post: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>>;
}
