//! The embedded store: what `cargo run` uses, with the same rules as DynamoDB.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{
    BoxFuture, CONTACT_TTL_MS, CommentRecord, CommentStatus, ContactRecord, Decided, Decision,
    ListPosition, MailKind, OutboxEntry, PENDING_TTL_MS, REJECTED_TTL_MS, RateWindow, Store,
    StoreResult,
};

#[derive(Debug, Clone)]
struct Meta {
    undelivered: bool,
    claim_until_ms: u64,
    expires_ms: Option<u64>,
}

impl Meta {
    fn new(claim_until_ms: u64) -> Self {
        Self {
            undelivered: true,
            claim_until_ms,
            expires_ms: None,
        }
    }

    fn live(&self, now_ms: u64) -> bool {
        self.expires_ms.is_none_or(|e| e > now_ms)
    }
}

#[derive(Debug, Default)]
struct State {
    rates: HashMap<String, (u64, u64)>,
    mail_slots: HashMap<u64, u32>,
    contacts: HashMap<String, (ContactRecord, Meta)>,
    comments: HashMap<String, (CommentRecord, Meta)>,
}

/// In-memory [`Store`]; state lives as long as the process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A poisoned lock only means another request panicked mid-update;
        // the maps themselves are always consistent between statements.
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Every contact message and whether it is delivered (for tests and tools).
    pub fn contacts(&self) -> Vec<ContactRecord> {
        self.with(|s| s.contacts.values().map(|(r, _)| r.clone()).collect())
    }

    /// Every live comment (for tests and tools).
    pub fn comments(&self) -> Vec<CommentRecord> {
        self.with(|s| s.comments.values().map(|(r, _)| r.clone()).collect())
    }

    /// The expiry of a stored item, if any (for retention tests).
    pub fn expiry_ms(&self, kind: MailKind, id: &str) -> Option<u64> {
        self.with(|s| match kind {
            MailKind::Contact => s.contacts.get(id).and_then(|(_, m)| m.expires_ms),
            MailKind::Comment => s.comments.get(id).and_then(|(_, m)| m.expires_ms),
        })
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Store for MemoryStore {
    fn hit_rate<'a>(&'a self, window: &'a RateWindow<'a>) -> BoxFuture<'a, StoreResult<u64>> {
        let now_s = crate::ids::now_ms() / 1000;
        let (key, expires_s) = (window.key(), window.expires_s());
        ready(Ok(self.with(|s| {
            s.rates.retain(|_, (_, e)| *e > now_s);
            let entry = s.rates.entry(key).or_insert((0, expires_s));
            entry.0 += 1;
            entry.0
        })))
    }

    fn take_mail_slot(&self, hour: u64, limit: u32) -> BoxFuture<'_, StoreResult<bool>> {
        ready(Ok(self.with(|s| {
            s.mail_slots.retain(|h, _| *h + 2 > hour);
            let used = s.mail_slots.entry(hour).or_insert(0);
            if *used < limit {
                *used += 1;
                true
            } else {
                false
            }
        })))
    }

    fn put_contact<'a>(
        &'a self,
        record: &'a ContactRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        self.with(|s| {
            s.contacts.insert(
                record.id.clone(),
                (record.clone(), Meta::new(claim_until_ms)),
            )
        });
        ready(Ok(()))
    }

    fn get_contact<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<ContactRecord>>> {
        ready(Ok(self.with(|s| {
            s.contacts
                .get(id)
                .filter(|(_, m)| m.live(now_ms))
                .map(|(r, _)| r.clone())
        })))
    }

    fn put_comment<'a>(
        &'a self,
        record: &'a CommentRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        self.with(|s| {
            s.comments.insert(
                record.id.clone(),
                (record.clone(), Meta::new(claim_until_ms)),
            )
        });
        ready(Ok(()))
    }

    fn get_comment<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<CommentRecord>>> {
        ready(Ok(self.with(|s| {
            s.comments
                .get(id)
                .filter(|(_, m)| m.live(now_ms))
                .map(|(r, _)| r.clone())
        })))
    }

    fn decide<'a>(
        &'a self,
        id: &'a str,
        decision: Decision,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Decided>> {
        ready(Ok(self.with(|s| {
            let Some((record, meta)) = s.comments.get_mut(id).filter(|(_, m)| m.live(now_ms))
            else {
                return Decided::Conflict;
            };
            match decision.target() {
                Some(target) if record.status == target => Decided::Conflict,
                Some(target) => {
                    record.status = target;
                    meta.expires_ms = match target {
                        CommentStatus::Approved => None,
                        CommentStatus::Rejected => Some(now_ms + REJECTED_TTL_MS),
                        CommentStatus::Pending => meta.expires_ms,
                    };
                    Decided::Done
                }
                None => {
                    s.comments.remove(id);
                    Decided::Done
                }
            }
        })))
    }

    fn list_approved<'a>(
        &'a self,
        post: &'a str,
        after: Option<ListPosition>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        ready(Ok(self.with(|s| {
            let mut list: Vec<_> = s
                .comments
                .values()
                .filter(|(r, _)| r.post == post && r.status == CommentStatus::Approved)
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

    fn count_approved<'a>(&'a self, posts: &'a [String]) -> BoxFuture<'a, StoreResult<Vec<u64>>> {
        ready(Ok(self.with(|s| {
            posts
                .iter()
                .map(|p| {
                    s.comments
                        .values()
                        .filter(|(r, _)| &r.post == p && r.status == CommentStatus::Approved)
                        .count() as u64
                })
                .collect()
        })))
    }

    fn mark_delivered<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        self.with(|s| match entry.kind {
            MailKind::Contact => {
                if let Some((r, m)) = s.contacts.get_mut(&entry.id) {
                    r.delivered = true;
                    m.undelivered = false;
                    m.expires_ms = Some(now_ms + CONTACT_TTL_MS);
                }
            }
            MailKind::Comment => {
                if let Some((r, m)) = s.comments.get_mut(&entry.id) {
                    m.undelivered = false;
                    if r.status == CommentStatus::Pending {
                        m.expires_ms = Some(now_ms + PENDING_TTL_MS);
                    }
                }
            }
        });
        ready(Ok(()))
    }

    fn undelivered(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        ready(Ok(self.with(|s| {
            let contacts = s
                .contacts
                .values()
                .filter(|(_, m)| m.undelivered)
                .map(|(r, _)| (r.created_ms, MailKind::Contact, r.id.clone()));
            let comments = s
                .comments
                .values()
                .filter(|(_, m)| m.undelivered)
                .map(|(r, _)| (r.created_ms, MailKind::Comment, r.id.clone()));
            let mut all: Vec<_> = contacts.chain(comments).collect();
            all.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
            all.into_iter()
                .take(limit)
                .map(|(_, kind, id)| OutboxEntry { kind, id })
                .collect()
        })))
    }

    fn claim<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
        until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        ready(Ok(self.with(|s| {
            let meta = match entry.kind {
                MailKind::Contact => s.contacts.get_mut(&entry.id).map(|(_, m)| m),
                MailKind::Comment => s.comments.get_mut(&entry.id).map(|(_, m)| m),
            };
            match meta {
                Some(m) if m.undelivered && m.claim_until_ms <= now_ms => {
                    m.claim_until_ms = until_ms;
                    true
                }
                _ => false,
            }
        })))
    }
}
