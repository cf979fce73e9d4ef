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

/// The owner's side of the `feed` index (the `rust-aws reindex` command).
pub trait FeedIndex: Send + Sync {
    /// Gives every approved comment without them its `feed` index keys (those
    /// approved before the index existed); returns how many it gave. Safe to
    /// run again, and beside the function: a comment no longer approved is
    /// left alone.
    fn index_feed(&self) -> BoxFuture<'_, StoreResult<u64>>;
}
