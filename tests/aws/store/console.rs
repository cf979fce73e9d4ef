//! `store::Sessions` and `store::ModerationLists`, the owner console's:
//! sign-in links are capped per hour (under concurrent requests too) and
//! start one session each; sessions expire, end one at a time or all
//! together; the queue and the published list come from the sparse index,
//! in order, paged, never short because of what they leave out.

use rust_aws::store::SessionRecord;

use rust_aws::domain::{DAY_MS, Decision, PENDING_TTL_MS};

use super::*;

conformance!(
    sign_in_links_run_out_at_the_hourly_limit,
    concurrent_link_requests_never_get_past_the_limit,
    a_link_starts_one_session_only_before_it_expires,
    sessions_expire_and_end_one_at_a_time_or_all_together,
    the_queue_is_the_pending_comments_oldest_first_in_pages,
    the_queue_is_never_short_for_the_expired_it_leaves_out,
    published_is_newest_first_of_every_post_or_one,
    what_the_owner_imports_is_published_in_the_console_too,
);

/// An hour no other case uses.
fn hour() -> u64 {
    now_ms() / 3_600_000 + 10_000 + now_ms() % 1_000_000
}

fn session(now: u64) -> SessionRecord {
    SessionRecord {
        id_hash: new_id() + &new_id(),
        created_ms: now,
        expires_ms: now + 12 * 3_600_000,
    }
}

async fn sign_in_links_run_out_at_the_hourly_limit(store: Subject) {
    let (hour, exp) = (hour(), now() + 900_000);
    for _ in 0..5 {
        assert!(store.issue_sign_in(&new_id(), exp, hour, 5).await.unwrap());
    }
    let refused = new_id();
    assert!(!store.issue_sign_in(&refused, exp, hour, 5).await.unwrap());
    assert!(
        !store
            .start_session(&refused, &session(now()), now())
            .await
            .unwrap(),
        "a refused link was not recorded"
    );
    assert!(
        store
            .issue_sign_in(&new_id(), exp, hour + 1, 5)
            .await
            .unwrap()
    );
}

async fn concurrent_link_requests_never_get_past_the_limit(store: Subject) {
    let hour = hour();
    let issued = concurrently(12, || {
        let store = store.clone();
        async move {
            store
                .issue_sign_in(&new_id(), now() + 900_000, hour, 5)
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(issued.iter().filter(|i| **i).count(), 5);
}

async fn a_link_starts_one_session_only_before_it_expires(store: Subject) {
    let now = now();
    let nonce = new_id();
    assert!(
        store
            .issue_sign_in(&nonce, now + 900_000, hour(), 5)
            .await
            .unwrap()
    );
    assert!(store.sign_in_usable(&nonce, now).await.unwrap());
    assert!(
        store.sign_in_usable(&nonce, now).await.unwrap(),
        "looking uses nothing up"
    );
    assert!(!store.sign_in_usable(&nonce, now + 900_000).await.unwrap());
    assert!(!store.sign_in_usable(&new_id(), now).await.unwrap());
    let first = session(now);
    assert!(store.start_session(&nonce, &first, now).await.unwrap());
    assert!(!store.sign_in_usable(&nonce, now).await.unwrap(), "used");
    assert_eq!(
        store.get_session(&first.id_hash, now).await.unwrap(),
        Some(first.clone())
    );
    let second = session(now);
    assert!(!store.start_session(&nonce, &second, now).await.unwrap());
    assert_eq!(store.get_session(&second.id_hash, now).await.unwrap(), None);
    assert!(
        !store.start_session(&new_id(), &second, now).await.unwrap(),
        "never issued"
    );
    let late = new_id();
    assert!(
        store
            .issue_sign_in(&late, now + 900_000, hour(), 5)
            .await
            .unwrap()
    );
    assert!(
        !store
            .start_session(&late, &second, now + 900_001)
            .await
            .unwrap(),
        "expired, even before the table's sweep"
    );
    assert_eq!(store.get_session(&second.id_hash, now).await.unwrap(), None);
}

/// A session started through a link of its own.
async fn started(store: &Subject, now: u64) -> SessionRecord {
    let nonce = new_id();
    assert!(
        store
            .issue_sign_in(&nonce, now + 900_000, hour(), 50)
            .await
            .unwrap()
    );
    let s = session(now);
    assert!(store.start_session(&nonce, &s, now).await.unwrap());
    s
}

async fn sessions_expire_and_end_one_at_a_time_or_all_together(store: Subject) {
    let now = now();
    let (a, b, c) = (
        started(&store, now).await,
        started(&store, now).await,
        started(&store, now).await,
    );
    assert_eq!(
        store.get_session(&a.id_hash, a.expires_ms).await.unwrap(),
        None,
        "expired at its end, before the table's sweep"
    );
    assert!(store.end_session(&a.id_hash).await.unwrap());
    assert!(!store.end_session(&a.id_hash).await.unwrap());
    assert_eq!(store.get_session(&a.id_hash, now).await.unwrap(), None);
    assert!(store.get_session(&b.id_hash, now).await.unwrap().is_some());
    assert_eq!(store.end_all_sessions().await.unwrap(), 2);
    for s in [&b, &c] {
        assert_eq!(store.get_session(&s.id_hash, now).await.unwrap(), None);
    }
    assert_eq!(store.end_all_sessions().await.unwrap(), 0);
}

async fn the_queue_is_the_pending_comments_oldest_first_in_pages(store: Subject) {
    let t = now();
    let mut pending = Vec::new();
    for i in 0..5 {
        let c = comment(&post(), t + i * 1_000, CommentStatus::Pending);
        stored(&store, &c).await;
        pending.push(c);
    }
    let approved = comment(&post(), t + 500, CommentStatus::Pending);
    stored(&store, &approved).await;
    store
        .decide(&approved.id, Decision::Approve, t)
        .await
        .unwrap();
    let rejected = comment(&post(), t + 600, CommentStatus::Pending);
    stored(&store, &rejected).await;
    store
        .decide(&rejected.id, Decision::Reject, t)
        .await
        .unwrap();
    let deleted = comment(&post(), t + 700, CommentStatus::Pending);
    stored(&store, &deleted).await;
    store
        .decide(&deleted.id, Decision::Delete, t)
        .await
        .unwrap();

    let first = store.pending_page(None, 3, t).await.unwrap();
    assert_eq!(ids(&first), ids(&pending[..3]));
    assert_eq!(first[0], pending[0], "whole records");
    let last = first.last().unwrap();
    let rest = store
        .pending_page(Some((last.created_ms, last.id.clone())), 3, t)
        .await
        .unwrap();
    assert_eq!(ids(&rest), ids(&pending[3..]));

    // Deciding takes a comment out of the queue.
    store
        .decide(&pending[0].id, Decision::Approve, t)
        .await
        .unwrap();
    store
        .decide(&pending[1].id, Decision::Reject, t)
        .await
        .unwrap();
    let now_queued = store.pending_page(None, 10, t).await.unwrap();
    assert_eq!(ids(&now_queued), ids(&pending[2..]));
}

async fn the_queue_is_never_short_for_the_expired_it_leaves_out(store: Subject) {
    let t = now();
    // Three whose moderation mail went out at `t` (expired 30 days on),
    // then three whose mail went out 20 days later.
    let mut old = Vec::new();
    let mut new = Vec::new();
    for i in 0..3 {
        let c = comment(&post(), t + i, CommentStatus::Pending);
        stored(&store, &c).await;
        old.push(c);
    }
    for i in 0..3 {
        let c = comment(&post(), t + 100 + i, CommentStatus::Pending);
        store.put_comment(&c, c.created_ms).await.unwrap();
        store
            .mark_delivered(&entry(MailKind::Comment, &c.id), t + 20 * DAY_MS)
            .await
            .unwrap();
        new.push(c);
    }
    let later = t + PENDING_TTL_MS + DAY_MS;
    let page = store.pending_page(None, 2, later).await.unwrap();
    assert_eq!(ids(&page), ids(&new[..2]));
    assert_eq!(
        ids(&store.pending_page(None, 10, t).await.unwrap()).len(),
        6
    );
}

async fn published_is_newest_first_of_every_post_or_one(store: Subject) {
    let t = now();
    let (p, q) = (post(), post());
    let mut all = Vec::new();
    for i in 0..6 {
        let c = comment(
            if i % 2 == 0 { &p } else { &q },
            t + i * 1_000,
            CommentStatus::Approved,
        );
        stored(&store, &c).await;
        all.push(c);
    }
    let waiting = comment(&p, t + 10_000, CommentStatus::Pending);
    stored(&store, &waiting).await;
    let newest: Vec<_> = all.iter().rev().cloned().collect();

    let page = store.published_page(None, None, 4).await.unwrap();
    assert_eq!(ids(&page), ids(&newest[..4]));
    let last = page.last().unwrap();
    let rest = store
        .published_page(None, Some((last.created_ms, last.id.clone())), 4)
        .await
        .unwrap();
    assert_eq!(ids(&rest), ids(&newest[4..]));

    let on_p: Vec<_> = newest.iter().filter(|c| c.post == p).cloned().collect();
    let page = store.published_page(Some(&p), None, 2).await.unwrap();
    assert_eq!(ids(&page), ids(&on_p[..2]));
    let last = page.last().unwrap();
    let rest = store
        .published_page(Some(&p), Some((last.created_ms, last.id.clone())), 2)
        .await
        .unwrap();
    assert_eq!(ids(&rest), ids(&on_p[2..]));

    // Unpublishing or deleting takes a comment off the list.
    store
        .decide(&newest[0].id, Decision::Reject, t)
        .await
        .unwrap();
    store
        .decide(&newest[1].id, Decision::Delete, t)
        .await
        .unwrap();
    let page = store.published_page(None, None, 10).await.unwrap();
    assert_eq!(ids(&page), ids(&newest[2..]));
}

async fn what_the_owner_imports_is_published_in_the_console_too(store: Subject) {
    let c = comment(&post(), now(), CommentStatus::Approved);
    assert!(store.import_comment(&c).await.unwrap());
    let page = store.published_page(None, None, 10).await.unwrap();
    assert_eq!(ids(&page), vec![c.id.as_str()]);
    assert!(
        store
            .pending_page(None, 10, now())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Comments written before the console's index existed (no `status_pk`):
/// DynamoDB's `reindex_comments` puts the pending and approved ones in it,
/// once; the memory store has nothing to put.
#[tokio::test]
async fn reindex_puts_comments_from_before_the_console_in_its_lists() {
    use crate::support::runtime::{create_table, sdk};
    use aws_sdk_dynamodb::types::AttributeValue as V;
    assert_eq!(memory().reindex_comments(now()).await.unwrap(), 0);

    let table = format!("reindex-{}", new_id());
    create_table(&table).await;
    let config = sdk().await;
    let store: Subject = Arc::new(DynamoStore::new(
        &Sdk::with_config(config.clone()),
        table.clone(),
    ));
    let client = aws_sdk_dynamodb::Client::new(&config);
    let t = now();
    let mut old = Vec::new();
    for (i, status) in ["pending", "approved", "rejected"].into_iter().enumerate() {
        let id = new_id();
        client
            .put_item()
            .table_name(&table)
            .item("pk", V::S(format!("COMMENT#{id}")))
            .item("sk", V::S("COMMENT".into()))
            .item("type", V::S("comment".into()))
            .item("post", V::S("/old/".into()))
            .item("name", V::S("Ada".into()))
            .item("body", V::S("From before the console".into()))
            .item("created_ms", V::N((t + i as u64).to_string()))
            .item("status", V::S(status.into()))
            .send()
            .await
            .unwrap();
        old.push(id);
    }
    let current = comment(&post(), t + 10, CommentStatus::Pending);
    store.put_comment(&current, t).await.unwrap();
    assert_eq!(
        ids(&store.pending_page(None, 10, t).await.unwrap()),
        vec![current.id.as_str()]
    );

    assert_eq!(store.reindex_comments(t).await.unwrap(), 2);
    assert_eq!(
        ids(&store.pending_page(None, 10, t).await.unwrap()),
        vec![old[0].as_str(), current.id.as_str()]
    );
    assert_eq!(
        ids(&store.published_page(None, None, 10).await.unwrap()),
        vec![old[1].as_str()]
    );
    assert_eq!(store.reindex_comments(t).await.unwrap(), 0, "once");
}
