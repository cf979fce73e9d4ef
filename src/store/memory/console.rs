//! The console's capabilities on the embedded store.

use async_trait::async_trait;
use std::collections::HashMap;

use super::{MemoryStore, Meta};
use crate::domain::{CommentRecord, CommentStatus, ListPosition};
use crate::store::{ConsoleIndex, ModerationLists, SessionRecord, Sessions, StoreResult};

/// Sign-in links by nonce (with their expiry), links issued per hour, and
/// sessions by the hash of their id.
#[derive(Debug, Default)]
pub(super) struct ConsoleState {
    links: HashMap<String, u64>,
    issued: HashMap<u64, u32>,
    sessions: HashMap<String, SessionRecord>,
}

#[async_trait]
impl Sessions for MemoryStore {
    async fn issue_sign_in(
        &self,
        nonce: &str,
        expires_ms: u64,
        hour: u64,
        limit: u32,
    ) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let c = &mut s.console;
            c.issued.retain(|h, _| *h + 1 >= hour);
            let used = c.issued.entry(hour).or_insert(0);
            if *used >= limit {
                return false;
            }
            *used += 1;
            c.links.insert(nonce.to_owned(), expires_ms);
            true
        }))
    }

    async fn sign_in_usable(&self, nonce: &str, now_ms: u64) -> StoreResult<bool> {
        Ok(self.with(|s| s.console.links.get(nonce).is_some_and(|e| *e > now_ms)))
    }

    async fn start_session(
        &self,
        nonce: &str,
        session: &SessionRecord,
        now_ms: u64,
    ) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let c = &mut s.console;
            c.links.retain(|_, expires| *expires > now_ms);
            if c.links.remove(nonce).is_none() {
                return false;
            }
            c.sessions.insert(session.id_hash.clone(), session.clone());
            true
        }))
    }

    async fn get_session(&self, id_hash: &str, now_ms: u64) -> StoreResult<Option<SessionRecord>> {
        Ok(self.with(|s| {
            s.console
                .sessions
                .get(id_hash)
                .filter(|r| r.expires_ms > now_ms)
                .cloned()
        }))
    }

    async fn end_session(&self, id_hash: &str) -> StoreResult<bool> {
        Ok(self.with(|s| s.console.sessions.remove(id_hash).is_some()))
    }

    async fn end_all_sessions(&self) -> StoreResult<usize> {
        Ok(self.with(|s| s.console.sessions.drain().count()))
    }
}

#[async_trait]
impl ModerationLists for MemoryStore {
    async fn pending_page(
        &self,
        after: Option<ListPosition>,
        limit: usize,
        now_ms: u64,
    ) -> StoreResult<Vec<CommentRecord>> {
        let keep =
            |r: &CommentRecord, m: &Meta| r.status == CommentStatus::Pending && m.live(now_ms);
        Ok(self.with(|s| s.comments_page(keep, after.as_ref(), false, limit)))
    }

    async fn published_page(
        &self,
        post: Option<&str>,
        before: Option<ListPosition>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>> {
        let keep = |r: &CommentRecord, _: &Meta| {
            r.status == CommentStatus::Approved && post.is_none_or(|p| r.post == p)
        };
        Ok(self.with(|s| s.comments_page(keep, before.as_ref(), true, limit)))
    }
}

#[async_trait]
impl ConsoleIndex for MemoryStore {
    /// The lists read the comments themselves: nothing is ever outside them.
    async fn reindex_comments(&self, _now_ms: u64) -> StoreResult<usize> {
        Ok(0)
    }
}
