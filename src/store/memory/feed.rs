//! [`Feeds`] on the embedded store.

use async_trait::async_trait;

use super::{MemoryStore, Meta};
use crate::domain::{CommentRecord, CommentStatus};
use crate::store::{Feeds, StoreResult};

#[async_trait]
impl Feeds for MemoryStore {
    async fn latest_approved(
        &self,
        post: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>> {
        let keep = |r: &CommentRecord, _: &Meta| {
            r.status == CommentStatus::Approved && post.is_none_or(|p| r.post == p)
        };
        Ok(self.with(|s| s.comments_page(keep, None, true, limit)))
    }
}
