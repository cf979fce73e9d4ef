//! [`Feeds`] on the embedded store.

use super::{MemoryStore, ready};
use crate::store::{BoxFuture, CommentRecord, CommentStatus, FeedIndex, Feeds, StoreResult};

impl Feeds for MemoryStore {
    fn latest_approved<'a>(
        &'a self,
        post: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        ready(Ok(self.with(|s| {
            let mut latest: Vec<_> = s
                .comments
                .values()
                .map(|(r, _)| r)
                .filter(|r| r.status == CommentStatus::Approved)
                .filter(|r| post.is_none_or(|p| r.post == p))
                .cloned()
                .collect();
            // Newest first, as DynamoDB reads `<created_ms>#<id>` backwards.
            latest.sort_by(|a, b| (b.created_ms, &b.id).cmp(&(a.created_ms, &a.id)));
            latest.truncate(limit);
            latest
        })))
    }
}

/// The embedded store reads its feeds from the comments themselves: there is
/// no index to fill.
impl FeedIndex for MemoryStore {
    fn index_feed(&self) -> BoxFuture<'_, StoreResult<u64>> {
        ready(Ok(0))
    }
}
