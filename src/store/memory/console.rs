//! The console's capabilities on the embedded store.

use std::collections::HashMap;

use super::{MemoryStore, ready};
use crate::store::{
    BoxFuture, CommentRecord, CommentStatus, ConsoleIndex, ListPosition, ModerationLists,
    SessionRecord, Sessions, StoreResult,
};

/// Sign-in links by nonce (with their expiry), links issued per hour, and
/// sessions by the hash of their id.
#[derive(Debug, Default)]
pub(super) struct ConsoleState {
    links: HashMap<String, u64>,
    issued: HashMap<u64, u32>,
    sessions: HashMap<String, SessionRecord>,
}

impl Sessions for MemoryStore {
    fn issue_sign_in<'a>(
        &'a self,
        nonce: &'a str,
        expires_ms: u64,
        hour: u64,
        limit: u32,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        ready(Ok(self.with(|s| {
            let c = &mut s.console;
            c.issued.retain(|h, _| *h + 1 >= hour);
            let used = c.issued.entry(hour).or_insert(0);
            if *used >= limit {
                return false;
            }
            *used += 1;
            c.links.insert(nonce.to_owned(), expires_ms);
            true
        })))
    }

    fn sign_in_usable<'a>(
        &'a self,
        nonce: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        ready(Ok(self.with(|s| {
            s.console.links.get(nonce).is_some_and(|e| *e > now_ms)
        })))
    }

    fn start_session<'a>(
        &'a self,
        nonce: &'a str,
        session: &'a SessionRecord,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        ready(Ok(self.with(|s| {
            let c = &mut s.console;
            c.links.retain(|_, expires| *expires > now_ms);
            if c.links.remove(nonce).is_none() {
                return false;
            }
            c.sessions.insert(session.id_hash.clone(), session.clone());
            true
        })))
    }

    fn get_session<'a>(
        &'a self,
        id_hash: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<SessionRecord>>> {
        ready(Ok(self.with(|s| {
            s.console
                .sessions
                .get(id_hash)
                .filter(|r| r.expires_ms > now_ms)
                .cloned()
        })))
    }

    fn end_session<'a>(&'a self, id_hash: &'a str) -> BoxFuture<'a, StoreResult<bool>> {
        ready(Ok(
            self.with(|s| s.console.sessions.remove(id_hash).is_some())
        ))
    }

    fn end_all_sessions(&self) -> BoxFuture<'_, StoreResult<usize>> {
        ready(Ok(self.with(|s| s.console.sessions.drain().count())))
    }
}

impl ModerationLists for MemoryStore {
    fn pending_page<'a>(
        &'a self,
        after: Option<ListPosition>,
        limit: usize,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        ready(Ok(self.with(|s| {
            let mut list: Vec<CommentRecord> = s
                .comments
                .values()
                .filter(|(r, m)| r.status == CommentStatus::Pending && m.live(now_ms))
                .filter(|(r, _)| {
                    after
                        .as_ref()
                        .is_none_or(|(ms, id)| (r.created_ms, &r.id) > (*ms, id))
                })
                .map(|(r, _)| r.clone())
                .collect();
            list.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
            list.truncate(limit);
            list
        })))
    }

    fn published_page<'a>(
        &'a self,
        post: Option<&'a str>,
        before: Option<ListPosition>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        ready(Ok(self.with(|s| {
            let mut list: Vec<CommentRecord> = s
                .comments
                .values()
                .filter(|(r, _)| r.status == CommentStatus::Approved)
                .filter(|(r, _)| post.is_none_or(|p| r.post == p))
                .filter(|(r, _)| {
                    before
                        .as_ref()
                        .is_none_or(|(ms, id)| (r.created_ms, &r.id) < (*ms, id))
                })
                .map(|(r, _)| r.clone())
                .collect();
            list.sort_by(|a, b| (b.created_ms, &b.id).cmp(&(a.created_ms, &a.id)));
            list.truncate(limit);
            list
        })))
    }
}

impl ConsoleIndex for MemoryStore {
    /// The lists read the comments themselves: nothing is ever outside them.
    fn reindex_comments(&self, _now_ms: u64) -> BoxFuture<'_, StoreResult<usize>> {
        ready(Ok(0))
    }
}
