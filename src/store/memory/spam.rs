//! The spam folder and the outbound queue of [`MemoryStore`].

use crate::domain::{DUPLICATE_WINDOW_MS, Held, OutboundCall, SpamItem, SpamPosition};
use crate::store::{OutboundQueue, SpamFolder, StoreResult};
use async_trait::async_trait;

use super::{MemoryStore, Meta};
use crate::domain::{CommentStatus, OutboxEntry};

#[async_trait]
impl SpamFolder for MemoryStore {
    async fn seen_body(&self, key: &str, id: &str, now_ms: u64) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let stored = |first: &str| {
                s.comments.contains_key(first)
                    || s.contacts.contains_key(first)
                    || s.spam.contains_key(first)
            };
            let duplicate = match s.bodies.get(key) {
                Some((at, first)) if at + DUPLICATE_WINDOW_MS > now_ms && first != id => {
                    stored(first)
                }
                _ => false,
            };
            if !duplicate {
                s.bodies.insert(key.to_owned(), (now_ms, id.to_owned()));
            }
            duplicate
        }))
    }

    async fn put_spam(&self, item: &SpamItem) -> StoreResult<()> {
        self.with(|s| {
            s.spam
                .entry(item.held.id().to_owned())
                .or_insert_with(|| item.clone());
        });
        Ok(())
    }

    async fn get_spam(&self, id: &str, now_ms: u64) -> StoreResult<Option<SpamItem>> {
        Ok(self.with(|s| s.spam.get(id).filter(|i| i.expires_ms() > now_ms).cloned()))
    }

    async fn list_spam(
        &self,
        after: Option<SpamPosition>,
        limit: usize,
        now_ms: u64,
    ) -> StoreResult<Vec<SpamItem>> {
        Ok(self.with(|s| {
            let mut items: Vec<SpamItem> = s
                .spam
                .values()
                .filter(|i| i.expires_ms() > now_ms)
                .filter(|i| {
                    after
                        .as_ref()
                        .is_none_or(|(ms, id)| (i.marked_ms, i.held.id()) < (*ms, id.as_str()))
                })
                .cloned()
                .collect();
            // Newest first, as the index reads backwards: time, then id.
            items.sort_by(|a, b| (b.marked_ms, b.held.id()).cmp(&(a.marked_ms, a.held.id())));
            items.truncate(limit);
            items
        }))
    }

    async fn delete_spam(&self, id: &str) -> StoreResult<bool> {
        Ok(self.with(|s| s.spam.remove(id).is_some()))
    }

    async fn release_spam(
        &self,
        id: &str,
        feedback: Option<&OutboundCall>,
        now_ms: u64,
    ) -> StoreResult<Option<SpamItem>> {
        Ok(self.with(|s| {
            let item = s.spam.get(id).filter(|i| i.expires_ms() > now_ms)?.clone();
            let taken = match &item.held {
                Held::Comment(c) => s.comments.contains_key(&c.id),
                Held::Contact(m) => s.contacts.contains_key(&m.id),
            };
            if taken {
                return None;
            }
            s.spam.remove(id);
            match &item.held {
                Held::Comment(c) => {
                    let mut c = c.clone();
                    c.status = CommentStatus::Pending;
                    s.comments.insert(c.id.clone(), (c, Meta::new(now_ms, 0)));
                }
                Held::Contact(m) => {
                    let mut m = m.clone();
                    m.delivered = false;
                    s.contacts.insert(m.id.clone(), (m, Meta::new(now_ms, 0)));
                }
            }
            if let Some(call) = feedback {
                s.outbound
                    .entry(call.entry.clone())
                    .or_insert_with(|| (call.clone(), Meta::new(now_ms, 0)));
            }
            Some(item)
        }))
    }
}

#[async_trait]
impl OutboundQueue for MemoryStore {
    async fn put_outbound(&self, calls: &[OutboundCall], claim_until_ms: u64) -> StoreResult<()> {
        self.with(|s| {
            for call in calls {
                s.outbound
                    .entry(call.entry.clone())
                    .or_insert_with(|| (call.clone(), Meta::new(call.created_ms, claim_until_ms)));
            }
        });
        Ok(())
    }

    async fn get_outbound(&self, entry: &OutboxEntry) -> StoreResult<Option<String>> {
        Ok(self.with(|s| s.outbound.get(entry).map(|(c, _)| c.payload.clone())))
    }
}
