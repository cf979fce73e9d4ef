//! [`Feeds`] on the embedded store.

use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{CommentRecord, CommentStatus};
use crate::store::{Feeds, StoreResult};

#[async_trait]
impl Feeds for MemoryStore {
    async fn latest_approved(
        &self,
        post: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>> {
        Ok(self.with(|s| {
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
        }))
    }
}
