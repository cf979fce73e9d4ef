//! The embedded store: what `cargo run` uses, with the same rules as DynamoDB.

mod console;
mod spam;

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;

mod feed;

use super::{
    AdminStore, Comments, Contacts, Expired, MailBudget, Outbox, RateLimits, RateWindow,
    StoreResult, Subscriptions, by_age,
};

use crate::domain::{
    CONFIRM_TTL_MS, CONFIRMATIONS_PER_SOURCE_A_DAY, CONTACT_TTL_MS, CommentRecord, CommentStatus,
    Confirmed, ContactRecord, DAY_MS, Decided, Decision, Deferral, JOINED_TTL_MS, ListPosition,
    MailCap, MailKind, OutboxEntry, OutboxItem, PENDING_TTL_MS, REJECTED_TTL_MS, Subscription,
};
use crate::domain::{OutboundCall, SpamItem};

#[derive(Debug, Clone)]
struct Meta {
    undelivered: bool,
    claim_until_ms: u64,
    expires_ms: Option<u64>,
    created_ms: u64,
    attempts: u32,
    next_attempt_ms: u64,
    parked: bool,
    last_error: Option<String>,
}

impl Meta {
    fn new(created_ms: u64, claim_until_ms: u64) -> Self {
        Self {
            undelivered: true,
            claim_until_ms,
            expires_ms: None,
            created_ms,
            attempts: 0,
            next_attempt_ms: created_ms,
            parked: false,
            last_error: None,
        }
    }

    fn delivered(&mut self) {
        self.undelivered = false;
        self.claim_until_ms = 0;
        self.attempts = 0;
        self.parked = false;
        self.last_error = None;
    }

    fn live(&self, now_ms: u64) -> bool {
        self.expires_ms.is_none_or(|e| e > now_ms)
    }
}

#[derive(Debug, Default)]
struct State {
    rates: HashMap<String, (u64, u64)>,
    mail_slots: HashMap<(MailCap, u64), u32>,
    contacts: HashMap<String, (ContactRecord, Meta)>,
    comments: HashMap<String, (CommentRecord, Meta)>,
    subscriptions: HashMap<String, (Subscription, Meta)>,
    /// Published replies whose notification is not delivered yet, by reply
    /// id, with the time they were recorded.
    notices: HashMap<String, (u64, Meta)>,
    /// `mailbox key#day` of each mailbox given a subscription that day,
    /// with the marker's expiry and that subscription's comment.
    address_days: HashMap<String, (u64, String)>,
    /// `source#day`: confirmation mails a source address set off that day,
    /// with the counter's expiry.
    source_days: HashMap<String, (u64, u64)>,
    /// The subscriptions that joined each day's subscription of a mailbox,
    /// by that one's comment id.
    joins: HashMap<String, Vec<String>>,
    /// The owner console's sign-in links and sessions.
    console: console::ConsoleState,
    /// The spam folder, by id.
    spam: HashMap<String, SpamItem>,
    /// Keyed hashes of recent bodies, with when each was first seen and by
    /// which submission.
    bodies: HashMap<String, (u64, String)>,
    /// Alerts and corrections for Akismet not yet delivered.
    outbound: HashMap<OutboxEntry, (OutboundCall, Meta)>,
}

/// The in-memory [`Store`](super::Store); state lives as long as the process.
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

    /// Every stored comment, expired or not (for tests and tools).
    pub fn comments(&self) -> Vec<CommentRecord> {
        self.with(|s| s.comments.values().map(|(r, _)| r.clone()).collect())
    }

    /// Every stored subscription, expired or not (for tests and tools).
    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.with(|s| s.subscriptions.values().map(|(r, _)| r.clone()).collect())
    }
}

#[async_trait]
impl RateLimits for MemoryStore {
    async fn hit_rate(&self, window: &RateWindow<'_>) -> StoreResult<u64> {
        let now_s = crate::domain::ids::now_ms() / 1000;
        let (key, expires_s) = (window.key(), window.expires_s());
        Ok(self.with(|s| {
            s.rates.retain(|_, (_, e)| *e > now_s);
            let entry = s.rates.entry(key).or_insert((0, expires_s));
            entry.0 += 1;
            entry.0
        }))
    }
}

#[async_trait]
impl MailBudget for MemoryStore {
    async fn take_mail_slot(&self, cap: MailCap, hour: u64, limit: u32) -> StoreResult<bool> {
        Ok(self.with(|s| {
            s.mail_slots.retain(|(_, h), _| *h + 2 > hour);
            let used = s.mail_slots.entry((cap, hour)).or_insert(0);
            if *used < limit {
                *used += 1;
                true
            } else {
                false
            }
        }))
    }

    async fn return_mail_slot(&self, cap: MailCap, hour: u64) -> StoreResult<()> {
        self.with(|s| {
            if let Some(used) = s.mail_slots.get_mut(&(cap, hour)) {
                *used = used.saturating_sub(1);
            }
        });
        Ok(())
    }
}

#[async_trait]
impl Contacts for MemoryStore {
    async fn put_contact(&self, record: &ContactRecord, claim_until_ms: u64) -> StoreResult<()> {
        self.with(|s| {
            s.contacts.insert(
                record.id.clone(),
                (record.clone(), Meta::new(record.created_ms, claim_until_ms)),
            )
        });
        Ok(())
    }

    async fn get_contact(&self, id: &str, now_ms: u64) -> StoreResult<Option<ContactRecord>> {
        Ok(self.with(|s| {
            s.contacts
                .get(id)
                .filter(|(_, m)| m.live(now_ms))
                .map(|(r, _)| r.clone())
        }))
    }
}

#[async_trait]
impl Comments for MemoryStore {
    async fn put_comment(&self, record: &CommentRecord, claim_until_ms: u64) -> StoreResult<()> {
        self.with(|s| {
            s.comments.insert(
                record.id.clone(),
                (record.clone(), Meta::new(record.created_ms, claim_until_ms)),
            );
            if record.status == CommentStatus::Approved {
                s.publish(record, record.created_ms);
            }
        });
        Ok(())
    }

    async fn get_comment(&self, id: &str, now_ms: u64) -> StoreResult<Option<CommentRecord>> {
        Ok(self.with(|s| {
            s.comments
                .get(id)
                .filter(|(_, m)| m.live(now_ms))
                .map(|(r, _)| r.clone())
        }))
    }

    async fn decide(&self, id: &str, decision: Decision, now_ms: u64) -> StoreResult<Decided> {
        Ok(self.with(|s| {
            let Some((record, _)) = s.comments.get(id).filter(|(_, m)| m.live(now_ms)) else {
                return Decided::Conflict;
            };
            match decision.target() {
                Some(target) if record.status == target => Decided::Conflict,
                Some(CommentStatus::Approved)
                    if record.parent.as_ref().is_some_and(|p| {
                        !s.comments.get(p).is_some_and(|(parent, m)| {
                            parent.status == CommentStatus::Approved && m.live(now_ms)
                        })
                    }) =>
                {
                    Decided::ParentUnpublished
                }
                Some(target) => {
                    if target == CommentStatus::Rejected {
                        // An unpublished comment has no subscription.
                        s.end_subscription(id);
                    }
                    let (record, meta) = s.comments.get_mut(id).expect("found above");
                    record.status = target;
                    meta.expires_ms = match target {
                        CommentStatus::Approved => None,
                        CommentStatus::Rejected => Some(now_ms + REJECTED_TTL_MS),
                        CommentStatus::Pending => meta.expires_ms,
                    };
                    if target == CommentStatus::Approved {
                        let record = record.clone();
                        s.publish(&record, now_ms);
                    }
                    Decided::Done
                }
                None => {
                    s.comments.remove(id);
                    s.end_subscription(id);
                    s.notices.remove(id);
                    Decided::Done
                }
            }
        }))
    }

    async fn list_approved(
        &self,
        post: &str,
        after: Option<ListPosition>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>> {
        let keep =
            |r: &CommentRecord, _: &Meta| r.post == post && r.status == CommentStatus::Approved;
        Ok(self.with(|s| s.comments_page(keep, after.as_ref(), false, limit)))
    }

    async fn count_approved(&self, posts: &[String]) -> StoreResult<Vec<u64>> {
        Ok(self.with(|s| {
            posts
                .iter()
                .map(|p| {
                    s.comments
                        .values()
                        .filter(|(r, _)| &r.post == p && r.status == CommentStatus::Approved)
                        .count() as u64
                })
                .collect()
        }))
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn mark_delivered(&self, entry: &OutboxEntry, now_ms: u64) -> StoreResult<()> {
        self.with(|s| match entry.kind {
            MailKind::Contact => {
                if let Some((r, m)) = s.contacts.get_mut(&entry.id) {
                    r.delivered = true;
                    m.delivered();
                    m.expires_ms = Some(now_ms + CONTACT_TTL_MS);
                }
            }
            MailKind::Comment => {
                if let Some((r, m)) = s.comments.get_mut(&entry.id) {
                    m.delivered();
                    if r.status == CommentStatus::Pending {
                        m.expires_ms = Some(now_ms + PENDING_TTL_MS);
                    }
                }
            }
            MailKind::Confirm => {
                if let Some((r, m)) = s.subscriptions.get_mut(&entry.id) {
                    m.delivered();
                    if !r.confirmed {
                        m.expires_ms = Some(now_ms + CONFIRM_TTL_MS);
                    }
                }
            }
            // Nothing is kept of a notification once it went out.
            MailKind::Reply => {
                s.notices.remove(&entry.id);
            }
            // Nor of an alert or a correction.
            MailKind::Alert(_) | MailKind::Feedback => {
                s.outbound.remove(entry);
            }
        });
        Ok(())
    }

    async fn due_outbox(
        &self,
        cap: MailCap,
        now_ms: u64,
        limit: usize,
    ) -> StoreResult<Vec<OutboxEntry>> {
        Ok(self.with(|s| {
            let mut due: Vec<_> = s
                .outbox()
                .filter(|(e, m)| e.kind.cap() == cap && !m.parked && m.next_attempt_ms <= now_ms)
                .map(|(entry, m)| (m.next_attempt_ms, entry))
                .collect();
            // The order of DynamoDB's outbox index: next attempt, kind, id.
            due.sort_by(|a, b| {
                (a.0, a.1.kind.as_str(), &a.1.id).cmp(&(b.0, b.1.kind.as_str(), &b.1.id))
            });
            due.into_iter().take(limit).map(|(_, e)| e).collect()
        }))
    }

    async fn list_outbox(&self, limit: usize) -> StoreResult<Vec<OutboxItem>> {
        Ok(self.with(|s| {
            let mut all: Vec<OutboxItem> = s
                .outbox()
                .map(|(entry, m)| OutboxItem {
                    entry,
                    created_ms: m.created_ms,
                    attempts: m.attempts,
                    next_attempt_ms: m.next_attempt_ms,
                    parked: m.parked,
                    last_error: m.last_error.clone(),
                })
                .collect();
            all.sort_by(|a, b| {
                (a.parked, a.next_attempt_ms, &a.entry.id).cmp(&(
                    b.parked,
                    b.next_attempt_ms,
                    &b.entry.id,
                ))
            });
            let waiting = all.iter().filter(|i| !i.parked).count();
            let parked = all.split_off(waiting);
            all.truncate(limit);
            all.extend(parked.into_iter().take(limit));
            all
        }))
    }

    async fn claim(
        &self,
        entry: &OutboxEntry,
        now_ms: u64,
        until_ms: u64,
    ) -> StoreResult<Option<u32>> {
        Ok(self.with(|s| match s.meta(entry) {
            Some(m) if m.undelivered && !m.parked && m.claim_until_ms <= now_ms => {
                m.claim_until_ms = until_ms;
                Some(m.attempts)
            }
            _ => None,
        }))
    }

    async fn defer(&self, entry: &OutboxEntry, d: &Deferral) -> StoreResult<()> {
        self.with(|s| {
            if let Some(m) = s.meta(entry).filter(|m| m.undelivered) {
                m.attempts = d.attempts;
                m.next_attempt_ms = d.next_attempt_ms;
                m.parked = d.parked;
                m.last_error = Some(d.error.clone());
                m.claim_until_ms = 0;
            }
        });
        Ok(())
    }

    async fn requeue(&self, entry: &OutboxEntry, now_ms: u64) -> StoreResult<bool> {
        Ok(self.with(|s| match s.meta(entry) {
            Some(m) if m.undelivered && m.parked => {
                m.parked = false;
                m.attempts = 0;
                m.next_attempt_ms = now_ms;
                m.claim_until_ms = 0;
                true
            }
            _ => false,
        }))
    }
}

#[async_trait]
impl Subscriptions for MemoryStore {
    async fn get_subscription(
        &self,
        comment_id: &str,
        now_ms: u64,
    ) -> StoreResult<Option<Subscription>> {
        Ok(self.with(|s| {
            s.subscriptions
                .get(comment_id)
                .filter(|(_, m)| m.live(now_ms))
                .map(|(r, _)| r.clone())
        }))
    }

    async fn confirm_subscription(&self, comment_id: &str, now_ms: u64) -> StoreResult<Confirmed> {
        Ok(self.with(|s| {
            match s
                .subscriptions
                .get(comment_id)
                .filter(|(_, m)| m.live(now_ms))
            {
                None => Confirmed::Gone,
                Some((r, _)) if r.confirmed => Confirmed::Already,
                Some(_) => {
                    let joined = s.joins.get(comment_id).cloned().unwrap_or_default();
                    for id in std::iter::once(comment_id).chain(joined.iter().map(String::as_str)) {
                        if let Some((r, m)) =
                            s.subscriptions.get_mut(id).filter(|(_, m)| m.live(now_ms))
                        {
                            r.confirmed = true;
                            m.expires_ms = None;
                        }
                    }
                    Confirmed::Done
                }
            }
        }))
    }

    async fn unsubscribe(&self, comment_id: &str) -> StoreResult<bool> {
        Ok(self.with(|s| s.end_subscription(comment_id)))
    }
}

impl State {
    /// Up to `limit` comments kept by `keep`, in `(created_ms, id)` order
    /// (newest first when `newest_first`), past `from` in that order: what an
    /// index read gives on DynamoDB.
    fn comments_page(
        &self,
        keep: impl Fn(&CommentRecord, &Meta) -> bool,
        from: Option<&ListPosition>,
        newest_first: bool,
        limit: usize,
    ) -> Vec<CommentRecord> {
        let key = |r: &CommentRecord| (r.created_ms, r.id.clone());
        let past = |r: &CommentRecord| match from {
            None => true,
            Some(from) if newest_first => key(r) < *from,
            Some(from) => key(r) > *from,
        };
        let mut list: Vec<CommentRecord> = self
            .comments
            .values()
            .filter(|(r, m)| keep(r, m) && past(r))
            .map(|(r, _)| r.clone())
            .collect();
        list.sort_by_key(key);
        if newest_first {
            list.reverse();
        }
        list.truncate(limit);
        list
    }

    /// Records what publishing `c` at `now_ms` implies, under the same lock
    /// as the publication (the rules of [`Comments::decide`]).
    fn publish(&mut self, c: &CommentRecord, now_ms: u64) {
        let day = now_ms / DAY_MS;
        let until = (day + 2) * DAY_MS;
        self.address_days.retain(|_, (e, _)| *e > now_ms);
        self.source_days.retain(|_, (_, e)| *e > now_ms);
        if let Some(mailbox) = c.subscribes()
            && !self.subscriptions.contains_key(&c.id)
        {
            let marker = format!("{mailbox}#{day}");
            match self.address_days.get(&marker).map(|(_, p)| p.clone()) {
                Some(first) => {
                    let todays = self
                        .subscriptions
                        .get(&first)
                        .filter(|(_, m)| m.live(now_ms))
                        .map(|(sub, _)| sub.confirmed);
                    if let Some(confirmed) = todays
                        && let Some(sub) = c.subscription(confirmed, now_ms)
                    {
                        // No mail of its own: it is confirmed with the day's.
                        let meta = Meta {
                            undelivered: false,
                            expires_ms: (!confirmed).then_some(now_ms + JOINED_TTL_MS),
                            ..Meta::new(now_ms, 0)
                        };
                        self.subscriptions.insert(c.id.clone(), (sub, meta));
                        self.joins.entry(first).or_default().push(c.id.clone());
                    }
                }
                None => {
                    let source = format!("{}#{day}", c.ip_hash);
                    let sent = self.source_days.get(&source).map_or(0, |(n, _)| *n);
                    if sent < CONFIRMATIONS_PER_SOURCE_A_DAY
                        && let Some(sub) = c.subscription(false, now_ms)
                    {
                        self.address_days.insert(marker, (until, c.id.clone()));
                        self.source_days.insert(source, (sent + 1, until));
                        self.subscriptions
                            .insert(c.id.clone(), (sub, Meta::new(now_ms, 0)));
                    }
                }
            }
        }
        if let Some(parent) = &c.parent {
            let notified = self
                .subscriptions
                .get(parent)
                .filter(|(_, m)| m.live(now_ms))
                .is_some_and(|(sub, _)| c.notifies(sub));
            if notified && !self.notices.contains_key(&c.id) {
                self.notices
                    .insert(c.id.clone(), (now_ms, Meta::new(now_ms, 0)));
            }
        }
    }

    /// Removes the subscription of comment `id` with its address; `false`
    /// when there was none.
    fn end_subscription(&mut self, id: &str) -> bool {
        self.joins.remove(id);
        self.subscriptions.remove(id).is_some()
    }

    /// Every undelivered entry with its outbox state.
    fn outbox(&self) -> impl Iterator<Item = (OutboxEntry, &Meta)> {
        let contacts = self.contacts.values().map(|(r, m)| {
            let entry = OutboxEntry {
                kind: MailKind::Contact,
                id: r.id.clone(),
            };
            (entry, m)
        });
        let comments = self.comments.values().map(|(r, m)| {
            let entry = OutboxEntry {
                kind: MailKind::Comment,
                id: r.id.clone(),
            };
            (entry, m)
        });
        let confirms = self.subscriptions.values().map(|(r, m)| {
            let entry = OutboxEntry {
                kind: MailKind::Confirm,
                id: r.comment_id.clone(),
            };
            (entry, m)
        });
        let replies = self.notices.iter().map(|(id, (_, m))| {
            let entry = OutboxEntry {
                kind: MailKind::Reply,
                id: id.clone(),
            };
            (entry, m)
        });
        let outbound = self.outbound.iter().map(|(e, (_, m))| (e.clone(), m));
        contacts
            .chain(comments)
            .chain(confirms)
            .chain(replies)
            .chain(outbound)
            .filter(|(_, m)| m.undelivered)
    }

    fn meta(&mut self, entry: &OutboxEntry) -> Option<&mut Meta> {
        match entry.kind {
            MailKind::Contact => self.contacts.get_mut(&entry.id).map(|(_, m)| m),
            MailKind::Comment => self.comments.get_mut(&entry.id).map(|(_, m)| m),
            MailKind::Confirm => self.subscriptions.get_mut(&entry.id).map(|(_, m)| m),
            MailKind::Reply => self.notices.get_mut(&entry.id).map(|(_, m)| m),
            MailKind::Alert(_) | MailKind::Feedback => self.outbound.get_mut(entry).map(|(_, m)| m),
        }
    }
}

#[async_trait]
impl AdminStore for MemoryStore {
    async fn all_comments(
        &self,
        post: Option<&str>,
        expired: Expired,
    ) -> StoreResult<Vec<CommentRecord>> {
        let mut all: Vec<CommentRecord> = self.with(|s| {
            s.comments
                .values()
                .filter(|(r, m)| expired.keeps(m.expires_ms) && post.is_none_or(|p| r.post == p))
                .map(|(r, _)| r.clone())
                .collect()
        });
        by_age(&mut all, |r| (r.created_ms, &r.id));
        Ok(all)
    }

    async fn all_contacts(&self, expired: Expired) -> StoreResult<Vec<ContactRecord>> {
        let mut all: Vec<ContactRecord> = self.with(|s| {
            s.contacts
                .values()
                .filter(|(_, m)| expired.keeps(m.expires_ms))
                .map(|(r, _)| r.clone())
                .collect()
        });
        by_age(&mut all, |r| (r.created_ms, &r.id));
        Ok(all)
    }

    async fn delete_contact(&self, id: &str) -> StoreResult<bool> {
        Ok(self.with(|s| s.contacts.remove(id).is_some()))
    }

    async fn purge_comment(&self, id: &str) -> StoreResult<bool> {
        Ok(self.with(|s| {
            let removable = s
                .comments
                .get(id)
                .is_some_and(|(r, _)| r.status != CommentStatus::Approved);
            removable && s.comments.remove(id).is_some()
        }))
    }

    async fn import_comment(&self, record: &CommentRecord) -> StoreResult<bool> {
        if record.status != CommentStatus::Approved {
            return Err(super::StoreError::new(
                "only approved comments are imported",
            ));
        }
        Ok(self.with(|s| {
            if s.comments.contains_key(&record.id) {
                return false;
            }
            // No mail: an imported comment never enters the outbox.
            let meta = Meta {
                undelivered: false,
                ..Meta::new(record.created_ms, 0)
            };
            s.comments.insert(record.id.clone(), (record.clone(), meta));
            true
        }))
    }
}
