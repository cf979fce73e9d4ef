//! The item mapping: keys, attributes and records to and from items, written
//! once for every writer and reader of the table.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::Item;
use crate::config::contract::table::{BY_POST, OUTBOX, PK, SK, TTL};
use crate::domain::{
    CommentRecord, CommentStatus, ContactRecord, MailCap, MailKind, OutboxEntry, Subscription,
};
use crate::store::{StoreError, post_key};

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn fail<E: std::error::Error + Send + Sync + 'static>(
    op: impl Into<std::borrow::Cow<'static, str>>,
    e: E,
) -> StoreError {
    StoreError::caused_by(op, e)
}

pub(super) fn get_s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

pub(super) fn get_n(item: &Item, k: &str) -> Option<u64> {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub(super) fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub(super) fn contact_key(id: &str) -> Item {
    key(format!("CONTACT#{id}"), "CONTACT")
}

pub(super) fn comment_key(id: &str) -> Item {
    key(format!("COMMENT#{id}"), "COMMENT")
}

pub(super) fn count_key(post: &str) -> Item {
    key(post_key(post), "COUNT")
}

pub(super) fn subscription_key(comment_id: &str) -> Item {
    key(format!("SUB#{comment_id}"), "SUB")
}

pub(super) fn notice_key(reply_id: &str) -> Item {
    key(format!("NOTE#{reply_id}"), "NOTE")
}

pub(super) fn mail_cap_key(cap: MailCap, hour: u64) -> Item {
    match cap {
        MailCap::Owner => key(format!("MAILCAP#{hour}"), "MAILCAP"),
        MailCap::Visitor => key(format!("MAILCAP#visitor#{hour}"), "MAILCAP"),
        MailCap::Alerts => key(format!("MAILCAP#alerts#{hour}"), "MAILCAP"),
        MailCap::Feedback => key(format!("MAILCAP#feedback#{hour}"), "MAILCAP"),
    }
}

pub(super) fn entry_key(entry: &OutboxEntry) -> Item {
    match entry.kind {
        MailKind::Contact => contact_key(&entry.id),
        MailKind::Comment => comment_key(&entry.id),
        MailKind::Confirm => subscription_key(&entry.id),
        MailKind::Reply => notice_key(&entry.id),
        MailKind::Alert(channel) => {
            key(format!("ALERT#{}#{}", channel.as_str(), entry.id), "ALERT")
        }
        MailKind::Feedback => key(format!("FEEDBACK#{}", entry.id), "FEEDBACK"),
    }
}

/// A subscription's item, without its outbox or expiry attributes.
pub(super) fn subscription_item(sub: &Subscription) -> Item {
    let mut item = subscription_key(&sub.comment_id);
    item.insert("post".into(), s(&sub.post));
    item.insert("email".into(), s(&sub.email));
    item.insert("confirmed".into(), AttributeValue::Bool(sub.confirmed));
    item.insert("created_ms".into(), n(sub.created_ms));
    item
}

pub(super) fn subscription_from(item: &Item) -> Option<Subscription> {
    Some(Subscription {
        comment_id: get_s(item, PK)?.strip_prefix("SUB#")?.to_owned(),
        post: get_s(item, "post")?,
        email: get_s(item, "email")?,
        confirmed: item
            .get("confirmed")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        created_ms: get_n(item, "created_ms")?,
    })
}

/// Expired items linger until DynamoDB's TTL sweep (up to days): every read checks.
pub(super) fn live(item: &Item, now_ms: u64) -> bool {
    get_n(item, TTL).is_none_or(|exp_s| exp_s * 1000 > now_ms)
}

/// The outbox partition of owner mail waiting for an attempt.
pub(super) const WAITING_OWNER: &str = "OUTBOX";
/// The outbox partition of visitor mail waiting for an attempt.
pub(super) const WAITING_VISITOR: &str = "OUTBOX#visitor";
/// The outbox partition of owner alerts waiting for an attempt.
pub(super) const WAITING_ALERTS: &str = "OUTBOX#alerts";
/// The outbox partition of corrections for Akismet waiting for an attempt.
pub(super) const WAITING_FEEDBACK: &str = "OUTBOX#feedback";
/// A comment id no comment has (ids are hex): the key init reads to open
/// the connection (`DynamoStore::warm`).
pub(super) const NO_SUCH_ID: &str = "warm-up";

/// The partition where mail under `cap` waits.
pub(super) fn waiting(cap: MailCap) -> &'static str {
    match cap {
        MailCap::Owner => WAITING_OWNER,
        MailCap::Visitor => WAITING_VISITOR,
        MailCap::Alerts => WAITING_ALERTS,
        MailCap::Feedback => WAITING_FEEDBACK,
    }
}
/// The outbox partition of entries given up on.
pub(super) const PARKED: &str = "PARKED";
/// Failed attempts so far (absent: none).
pub(super) const ATTEMPTS: &str = "outbox_attempts";
/// The last failure's short class.
pub(super) const LAST_ERROR: &str = "outbox_error";
/// Until when a run holds the entry (epoch ms).
pub(super) const CLAIM_UNTIL: &str = "claim_until";

/// The sort key of a comment in its post's list: time, then id.
pub(super) fn list_sort_key(created_ms: u64, id: &str) -> String {
    format!("{created_ms:013}#{id}")
}

/// The pause before retry `attempt` (1, 2, …) of a store call that met
/// contention or throttling: exponential from 25 ms, each pause drawn
/// between half and all of its ceiling, so writers that collided do not
/// collide again in step.
pub(super) fn backoff(attempt: u32) -> std::time::Duration {
    let ceiling_ms = 25u64 << attempt.min(6);
    let random = u64::from(u16::from_le_bytes(crate::domain::ids::random_bytes::<2>()));
    std::time::Duration::from_millis(ceiling_ms / 2 + random % (ceiling_ms / 2 + 1))
}

pub(super) fn outbox_sort_key(next_attempt_ms: u64, entry: &OutboxEntry) -> String {
    format!("{next_attempt_ms:013}#{}#{}", entry.kind.as_str(), entry.id)
}

/// Puts a new record in the outbox: due at once, claimed by the request
/// that stores it until `claim_until_ms`.
pub(super) fn outbox_attrs(
    item: &mut Item,
    kind: MailKind,
    id: &str,
    created_ms: u64,
    claim_until_ms: u64,
) {
    let entry = OutboxEntry {
        kind,
        id: id.to_owned(),
    };
    item.insert(OUTBOX.1.to_owned(), s(waiting(kind.cap())));
    item.insert(OUTBOX.2.to_owned(), s(outbox_sort_key(created_ms, &entry)));
    item.insert(CLAIM_UNTIL.to_owned(), n(claim_until_ms));
}

/// The entry an outbox index item stands for.
pub(super) fn outbox_entry(item: &Item) -> Option<(u64, OutboxEntry)> {
    let sk = get_s(item, OUTBOX.2)?;
    let mut parts = sk.splitn(3, '#');
    let (next, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
    let entry = OutboxEntry {
        kind: MailKind::parse(kind)?,
        id: id.to_owned(),
    };
    Some((next.parse().ok()?, entry))
}

pub(super) fn contact_from(item: &Item) -> Option<ContactRecord> {
    let id = get_s(item, PK)?.strip_prefix("CONTACT#")?.to_owned();
    contact_fields(item, id, get_bool(item, "delivered"))
}

/// A contact message's item, undelivered; the outbox marker its writer adds.
pub(super) fn contact_item(m: &ContactRecord) -> Item {
    let mut item = contact_key(&m.id);
    item.insert("type".into(), s("contact"));
    put_contact_fields(&mut item, m);
    item.insert("delivered".into(), AttributeValue::Bool(false));
    item
}

/// A contact message's own attributes, on any item that holds one (its
/// `CONTACT#` item, or a `SPAM#` item): every field but the id and whether
/// it was delivered.
pub(super) fn put_contact_fields(item: &mut Item, m: &ContactRecord) {
    item.insert("name".into(), s(&m.name));
    item.insert("email".into(), s(&m.email));
    put_opt(item, "subject", m.subject.as_ref());
    item.insert("message".into(), s(&m.message));
    item.insert("created_ms".into(), n(m.created_ms));
    item.insert("ip_hash".into(), s(&m.ip_hash));
}

/// The contact message whose attributes [`put_contact_fields`] wrote.
pub(super) fn contact_fields(item: &Item, id: String, delivered: bool) -> Option<ContactRecord> {
    Some(ContactRecord {
        id,
        name: get_s(item, "name")?,
        email: get_s(item, "email")?,
        subject: get_s(item, "subject"),
        message: get_s(item, "message")?,
        created_ms: get_n(item, "created_ms")?,
        ip_hash: get_s(item, "ip_hash").unwrap_or_default(),
        delivered,
    })
}

pub(super) fn put_opt(item: &mut Item, k: &str, v: Option<&String>) {
    if let Some(v) = v {
        item.insert(k.into(), s(v));
    }
}

pub(super) fn get_bool(item: &Item, k: &str) -> bool {
    item.get(k)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

/// A comment's item: every field of the record, and the listing index's keys
/// while it is approved. What depends on how it is written (the outbox
/// marker while its mail is undelivered) its writer adds.
pub(super) fn comment_item(r: &CommentRecord) -> Item {
    let mut item = comment_key(&r.id);
    item.insert("type".into(), s("comment"));
    put_comment_fields(&mut item, r);
    item.insert("status".into(), s(r.status.as_str()));
    super::console::status_attrs(&mut item, r.status, r.created_ms, &r.id);
    if r.status == CommentStatus::Approved {
        item.insert(BY_POST.1.into(), s(post_key(&r.post)));
        item.insert(BY_POST.2.into(), s(list_sort_key(r.created_ms, &r.id)));
    }
    item
}

/// A comment's own attributes, on any item that holds one (its `COMMENT#`
/// item, or a `SPAM#` item): every field but the id and the status.
pub(super) fn put_comment_fields(item: &mut Item, r: &CommentRecord) {
    item.insert("post".into(), s(&r.post));
    put_opt(item, "parent", r.parent.as_ref());
    item.insert("name".into(), s(&r.name));
    put_opt(item, "email", r.email.as_ref());
    put_opt(item, "url", r.url.as_ref());
    item.insert("body".into(), s(&r.body));
    item.insert("created_ms".into(), n(r.created_ms));
    item.insert("ip_hash".into(), s(&r.ip_hash));
    item.insert("links_base".into(), s(&r.links_base));
    if r.notify {
        item.insert("notify".into(), AttributeValue::Bool(true));
    }
    put_opt(item, "mailbox", r.mailbox.as_ref());
}

/// The comment whose attributes [`put_comment_fields`] wrote.
pub(super) fn comment_fields(
    item: &Item,
    id: String,
    status: CommentStatus,
) -> Option<CommentRecord> {
    Some(CommentRecord {
        id,
        post: get_s(item, "post")?,
        parent: get_s(item, "parent"),
        name: get_s(item, "name")?,
        email: get_s(item, "email"),
        url: get_s(item, "url"),
        body: get_s(item, "body")?,
        created_ms: get_n(item, "created_ms")?,
        status,
        ip_hash: get_s(item, "ip_hash").unwrap_or_default(),
        links_base: get_s(item, "links_base").unwrap_or_default(),
        notify: get_bool(item, "notify"),
        mailbox: get_s(item, "mailbox"),
    })
}

pub(super) fn comment_from(item: &Item) -> Option<CommentRecord> {
    let id = get_s(item, PK)?.strip_prefix("COMMENT#")?.to_owned();
    let status = CommentStatus::parse(&get_s(item, "status")?)?;
    comment_fields(item, id, status)
}
