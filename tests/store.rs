//! One conformance suite for both stores: every rule `cargo run` relies on
//! the memory store keeping is checked against DynamoDB (on moto, through the
//! real SDK) by the same code. Each case runs twice, `memory::case` and
//! `dynamodb::case`; a DynamoDB case gets a fresh table.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use rust_aws::aws::Sdk;
use rust_aws::ids::{new_id, now_ms};
use rust_aws::store::dynamodb::DynamoStore;
use rust_aws::store::memory::MemoryStore;
use rust_aws::store::{
    CONFIRM_TTL_MS, CONTACT_TTL_MS, CommentRecord, CommentStatus, Confirmed, ContactRecord, DAY_MS,
    Decided, Decision, Deferral, MailCap, MailKind, OutboxEntry, PENDING_TTL_MS, REJECTED_TTL_MS,
    RateWindow, Store, Subscribed, Subscription,
};

type Subject = Arc<dyn Store>;

fn memory() -> Subject {
    Arc::new(MemoryStore::new())
}

async fn dynamodb() -> Subject {
    let table = format!("conformance-{}", new_id());
    support::runtime::create_table(&table).await;
    let sdk = Sdk::with_config(support::runtime::sdk().await);
    Arc::new(DynamoStore::new(&sdk, table))
}

/// Generates `memory::<case>` and `dynamodb::<case>` for every case.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::memory()).await;
            })*
        }
        mod dynamodb {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::dynamodb().await).await;
            })*
        }
    };
}

conformance!(
    a_new_comment_reads_back_whole_and_is_not_listed_until_approved,
    approving_lists_and_counts_a_comment_once,
    rejecting_an_approved_comment_unlists_it_and_expires_it_after_seven_days,
    deleting_removes_at_once_and_a_second_delete_is_a_conflict,
    lists_are_oldest_first_and_resume_after_a_position,
    counts_come_back_in_the_order_asked_with_zero_for_unknown_posts,
    a_pending_comment_never_expires_before_its_mail_went_out,
    a_contact_message_expires_ninety_days_after_delivery_and_never_before,
    the_outbox_lists_undelivered_mail_oldest_first_until_it_is_delivered,
    a_live_claim_keeps_other_runs_off_until_it_lapses,
    rate_windows_count_per_route_source_and_minute,
    mail_slots_run_out_at_the_hourly_limit_and_renew_the_next_hour,
    pages_are_full_whatever_the_items_sizes,
    outbox_entries_back_off_park_and_never_block_newer_mail,
    a_returned_mail_slot_can_be_taken_again,
    a_reply_is_published_only_under_a_published_parent,
    a_subscription_is_one_per_comment_and_one_per_address_a_day,
    an_unconfirmed_subscription_expires_with_its_link_and_a_confirmed_one_lives,
    unsubscribing_or_deleting_the_comment_removes_the_subscription_and_its_address,
    a_reply_notice_is_recorded_once_and_leaves_the_outbox_when_sent,
);

fn comment(post: &str, created_ms: u64, status: CommentStatus) -> CommentRecord {
    CommentRecord {
        id: new_id(),
        post: post.to_owned(),
        parent: None,
        name: "Ada".to_owned(),
        email: Some("ada@example.org".to_owned()),
        url: Some("https://ada.example.org/".to_owned()),
        body: "Text with\nlines and ünïcödé 🦀".to_owned(),
        created_ms,
        status,
        ip_hash: "0123456789abcdef".to_owned(),
        links_base: "https://api.example.org".to_owned(),
        notify: false,
    }
}

fn contact(created_ms: u64) -> ContactRecord {
    ContactRecord {
        id: new_id(),
        name: "Grace".to_owned(),
        email: "grace@example.org".to_owned(),
        subject: Some("Hello".to_owned()),
        message: "A message.".to_owned(),
        created_ms,
        ip_hash: "fedcba9876543210".to_owned(),
        delivered: false,
    }
}

fn entry(kind: MailKind, id: &str) -> OutboxEntry {
    OutboxEntry {
        kind,
        id: id.to_owned(),
    }
}

fn post() -> String {
    format!("/2026/11/{}/", new_id())
}

/// Stores a comment and marks its mail delivered, as a request would.
async fn stored(store: &Subject, record: &CommentRecord) {
    store.put_comment(record, record.created_ms).await.unwrap();
    store
        .mark_delivered(&entry(MailKind::Comment, &record.id), record.created_ms)
        .await
        .unwrap();
}

async fn a_new_comment_reads_back_whole_and_is_not_listed_until_approved(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Pending);
    stored(&store, &c).await;
    assert_eq!(
        store.get_comment(&c.id, now).await.unwrap(),
        Some(c.clone())
    );
    assert!(
        store
            .get_comment("no-such-id", now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_approved(&c.post, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&c.post))
            .await
            .unwrap(),
        [0]
    );
}

async fn approving_lists_and_counts_a_comment_once(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Pending);
    stored(&store, &c).await;
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now).await.unwrap(),
        Decided::Done
    );
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now).await.unwrap(),
        Decided::Conflict
    );
    let listed = store.list_approved(&c.post, None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, CommentStatus::Approved);
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&c.post))
            .await
            .unwrap(),
        [1]
    );
    // Approved comments are kept: no expiry, however late the read.
    let later = now + 3650 * DAY_MS;
    assert!(store.get_comment(&c.id, later).await.unwrap().is_some());
}

async fn rejecting_an_approved_comment_unlists_it_and_expires_it_after_seven_days(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Approved);
    stored(&store, &c).await;
    store.decide(&c.id, Decision::Approve, now).await.unwrap();
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&c.post))
            .await
            .unwrap(),
        [1]
    );
    assert_eq!(
        store.decide(&c.id, Decision::Reject, now).await.unwrap(),
        Decided::Done
    );
    assert!(
        store
            .list_approved(&c.post, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&c.post))
            .await
            .unwrap(),
        [0]
    );
    let before = now + REJECTED_TTL_MS - 60_000;
    let after = now + REJECTED_TTL_MS + 60_000;
    assert!(store.get_comment(&c.id, before).await.unwrap().is_some());
    assert!(store.get_comment(&c.id, after).await.unwrap().is_none());
    // An expired comment cannot be decided any more.
    assert_eq!(
        store.decide(&c.id, Decision::Approve, after).await.unwrap(),
        Decided::Conflict
    );
}

async fn deleting_removes_at_once_and_a_second_delete_is_a_conflict(store: Subject) {
    let now = now_ms();
    let p = post();
    let keep = comment(&p, now, CommentStatus::Pending);
    let gone = comment(&p, now + 1, CommentStatus::Pending);
    for c in [&keep, &gone] {
        stored(&store, c).await;
        store.decide(&c.id, Decision::Approve, now).await.unwrap();
    }
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&p))
            .await
            .unwrap(),
        [2]
    );
    assert_eq!(
        store.decide(&gone.id, Decision::Delete, now).await.unwrap(),
        Decided::Done
    );
    assert!(store.get_comment(&gone.id, now).await.unwrap().is_none());
    assert_eq!(
        store.decide(&gone.id, Decision::Delete, now).await.unwrap(),
        Decided::Conflict
    );
    let listed = store.list_approved(&p, None, 10).await.unwrap();
    assert_eq!(listed.iter().map(|c| &c.id).collect::<Vec<_>>(), [&keep.id]);
    assert_eq!(store.count_approved(&[p]).await.unwrap(), [1]);
}

async fn lists_are_oldest_first_and_resume_after_a_position(store: Subject) {
    let now = now_ms();
    let p = post();
    // Stored newest first, two sharing a millisecond: order is (time, id).
    let mut all: Vec<_> = [5, 4, 3, 3, 1]
        .into_iter()
        .map(|dt| comment(&p, now + dt, CommentStatus::Pending))
        .collect();
    for c in &all {
        stored(&store, c).await;
        store.decide(&c.id, Decision::Approve, now).await.unwrap();
    }
    all.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    let first = store.list_approved(&p, None, 2).await.unwrap();
    assert_eq!(ids(&first), ids(&all[..2]));
    let last = first.last().unwrap();
    let rest = store
        .list_approved(&p, Some((last.created_ms, last.id.clone())), 10)
        .await
        .unwrap();
    assert_eq!(ids(&rest), ids(&all[2..]));
    // Another post's comments never show.
    assert!(
        store
            .list_approved(&post(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

fn ids(list: &[CommentRecord]) -> Vec<&str> {
    list.iter().map(|c| c.id.as_str()).collect()
}

async fn counts_come_back_in_the_order_asked_with_zero_for_unknown_posts(store: Subject) {
    let now = now_ms();
    let (a, b) = (post(), post());
    for (p, n) in [(&a, 1), (&b, 3)] {
        for i in 0..n {
            let c = comment(p, now + i, CommentStatus::Pending);
            stored(&store, &c).await;
            store.decide(&c.id, Decision::Approve, now).await.unwrap();
        }
    }
    let asked = [b.clone(), post(), a.clone()];
    assert_eq!(store.count_approved(&asked).await.unwrap(), [3, 0, 1]);
}

async fn a_pending_comment_never_expires_before_its_mail_went_out(store: Subject) {
    let now = now_ms();
    let unseen = comment(&post(), now, CommentStatus::Pending);
    store.put_comment(&unseen, now).await.unwrap();
    let much_later = now + 365 * DAY_MS;
    assert!(
        store
            .get_comment(&unseen.id, much_later)
            .await
            .unwrap()
            .is_some()
    );
    let seen = comment(&post(), now, CommentStatus::Pending);
    stored(&store, &seen).await;
    let (before, after) = (now + PENDING_TTL_MS - 60_000, now + PENDING_TTL_MS + 60_000);
    assert!(store.get_comment(&seen.id, before).await.unwrap().is_some());
    assert!(store.get_comment(&seen.id, after).await.unwrap().is_none());
}

async fn a_contact_message_expires_ninety_days_after_delivery_and_never_before(store: Subject) {
    let now = now_ms();
    let m = contact(now);
    store.put_contact(&m, now).await.unwrap();
    let got = store.get_contact(&m.id, now).await.unwrap().unwrap();
    assert_eq!((got.name.as_str(), got.delivered), ("Grace", false));
    assert!(
        store
            .get_contact(&m.id, now + 365 * DAY_MS)
            .await
            .unwrap()
            .is_some()
    );
    store
        .mark_delivered(&entry(MailKind::Contact, &m.id), now)
        .await
        .unwrap();
    let got = store.get_contact(&m.id, now).await.unwrap().unwrap();
    assert!(got.delivered);
    let (before, after) = (now + CONTACT_TTL_MS - 60_000, now + CONTACT_TTL_MS + 60_000);
    assert!(store.get_contact(&m.id, before).await.unwrap().is_some());
    assert!(store.get_contact(&m.id, after).await.unwrap().is_none());
}

async fn the_outbox_lists_undelivered_mail_oldest_first_until_it_is_delivered(store: Subject) {
    let now = now_ms();
    let older = contact(now - 2_000);
    let newer = comment(&post(), now - 1_000, CommentStatus::Pending);
    store.put_contact(&older, now).await.unwrap();
    store.put_comment(&newer, now).await.unwrap();
    let want = [
        entry(MailKind::Contact, &older.id),
        entry(MailKind::Comment, &newer.id),
    ];
    assert_eq!(store.due_outbox(now, 10).await.unwrap(), want);
    assert_eq!(store.due_outbox(now, 1).await.unwrap(), want[..1]);
    store.mark_delivered(&want[0], now).await.unwrap();
    assert_eq!(store.due_outbox(now, 10).await.unwrap(), want[1..]);
    store.mark_delivered(&want[1], now).await.unwrap();
    assert!(store.due_outbox(now, 10).await.unwrap().is_empty());
}

async fn a_live_claim_keeps_other_runs_off_until_it_lapses(store: Subject) {
    let now = now_ms();
    let m = contact(now);
    // Stored claimed by the request that stored it, for a minute.
    store.put_contact(&m, now + 60_000).await.unwrap();
    let e = entry(MailKind::Contact, &m.id);
    assert!(
        store
            .claim(&e, now + 1_000, now + 61_000)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .claim(&e, now + 60_001, now + 120_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .claim(&e, now + 60_002, now + 120_000)
            .await
            .unwrap()
            .is_none()
    );
    // Delivered mail is never claimed again.
    store.mark_delivered(&e, now + 70_000).await.unwrap();
    assert!(
        store
            .claim(&e, now + 200_000, now + 260_000)
            .await
            .unwrap()
            .is_none()
    );
}

async fn rate_windows_count_per_route_source_and_minute(store: Subject) {
    let minute = now_ms() / 60_000;
    let source = new_id();
    let w = |route, source, minute| RateWindow {
        route,
        source,
        minute,
    };
    for n in 1..=3 {
        assert_eq!(
            store
                .hit_rate(&w("/comment", &source, minute))
                .await
                .unwrap(),
            n
        );
    }
    assert_eq!(
        store
            .hit_rate(&w("/contact", &source, minute))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .hit_rate(&w("/comment", "other", minute))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .hit_rate(&w("/comment", &source, minute + 1))
            .await
            .unwrap(),
        1
    );
}

async fn mail_slots_run_out_at_the_hourly_limit_and_renew_the_next_hour(store: Subject) {
    // An hour far from now, so a parallel case's slots never mix in.
    let hour = now_ms() / 3_600_000 + 1_000 + u64::from(std::process::id() % 1_000);
    for _ in 0..3 {
        assert!(store.take_mail_slot(MailCap::Owner, hour, 3).await.unwrap());
    }
    assert!(!store.take_mail_slot(MailCap::Owner, hour, 3).await.unwrap());
    assert!(
        store
            .take_mail_slot(MailCap::Visitor, hour, 3)
            .await
            .unwrap(),
        "each cap counts on its own"
    );
    assert!(
        store
            .take_mail_slot(MailCap::Owner, hour + 1, 3)
            .await
            .unwrap()
    );
}

/// A comment of about 23 KB when `body` is 5,000 four-byte characters: a
/// 100-character name of them and a 2 KB URL, near the largest the API takes.
fn big_comment(post: &str, status: CommentStatus, body: String, created_ms: u64) -> CommentRecord {
    CommentRecord {
        id: new_id(),
        post: post.to_owned(),
        parent: None,
        name: "𝄞".repeat(100),
        email: None,
        url: Some(format!("https://example.net/{}", "u".repeat(2000))),
        body,
        created_ms,
        status,
        ip_hash: "00".repeat(16),
        links_base: "https://api.example.org".into(),
        notify: false,
    }
}

fn now() -> u64 {
    now_ms()
}

/// ~23 KB per comment: a 5,000-character body and 100-character name of
/// four-byte characters and a 2 KB URL, near the largest comment the API
/// accepts. 60 of them are ~1.4 MB, past the 1 MB at which DynamoDB ends a
/// Query page.
async fn pages_are_full_whatever_the_items_sizes(store: Subject) {
    let post = format!("/big/{}/", rust_aws::ids::new_id());
    let start = now() - 1_000_000;
    let mut ids = Vec::new();
    for i in 0..60u64 {
        let c = big_comment(&post, CommentStatus::Approved, "𝄞".repeat(5_000), start + i);
        store.put_comment(&c, 0).await.unwrap();
        ids.push(c.id);
    }
    let all = store.list_approved(&post, None, 101).await.unwrap();
    assert_eq!(
        all.len(),
        60,
        "one call returns every comment, not a 1 MB page"
    );
    let first = store.list_approved(&post, None, 50).await.unwrap();
    assert_eq!(first.len(), 50, "a page holds `limit` comments");
    let last = first.last().unwrap();
    let rest = store
        .list_approved(&post, Some((last.created_ms, last.id.clone())), 50)
        .await
        .unwrap();
    assert_eq!(rest.len(), 10);
    let paged: Vec<String> = first.iter().chain(&rest).map(|c| c.id.clone()).collect();
    assert_eq!(
        paged, ids,
        "paging reaches exactly the approved comments, in order"
    );
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&post))
            .await
            .unwrap(),
        vec![60]
    );
}

async fn outbox_entries_back_off_park_and_never_block_newer_mail(store: Subject) {
    let t = now();
    let old = contact(t - 10_000);
    let newer = contact(t - 5_000);
    store.put_contact(&old, 0).await.unwrap();
    store.put_contact(&newer, 0).await.unwrap();
    let (old_e, new_e) = (
        entry(MailKind::Contact, &old.id),
        entry(MailKind::Contact, &newer.id),
    );
    let due = store.due_outbox(t, 10).await.unwrap();
    assert_eq!(
        due,
        vec![old_e.clone(), new_e.clone()],
        "longest-waiting first"
    );

    // A claim is exclusive until it lapses, and tells the attempts so far.
    assert_eq!(store.claim(&old_e, t, t + 60_000).await.unwrap(), Some(0));
    assert_eq!(store.claim(&old_e, t, t + 60_000).await.unwrap(), None);

    // A failure moves the entry behind newer mail, with its record.
    let deferral = Deferral {
        attempts: 2,
        next_attempt_ms: t + 300_000,
        parked: false,
        error: "SES Throttling".into(),
    };
    store.defer(&old_e, &deferral).await.unwrap();
    let due = store.due_outbox(t, 10).await.unwrap();
    assert!(due.contains(&new_e) && !due.contains(&old_e), "{due:?}");
    assert!(
        store
            .due_outbox(t + 300_000, 10)
            .await
            .unwrap()
            .contains(&old_e)
    );
    let listed = store.list_outbox(100).await.unwrap();
    let item = listed.iter().find(|i| i.entry == old_e).unwrap();
    assert_eq!(
        (
            item.attempts,
            item.next_attempt_ms,
            item.parked,
            item.last_error.as_deref()
        ),
        (2, t + 300_000, false, Some("SES Throttling"))
    );
    assert_eq!(item.created_ms, t - 10_000);
    // The failure released the claim.
    assert_eq!(store.claim(&old_e, t, t + 1).await.unwrap(), Some(2));

    // Parked: never due, not claimable, still listed; requeued: due again.
    let parked = Deferral {
        attempts: 8,
        next_attempt_ms: t,
        parked: true,
        error: "SES MessageRejected".into(),
    };
    store.defer(&old_e, &parked).await.unwrap();
    assert!(
        !store
            .due_outbox(t + 1_000_000_000, 10)
            .await
            .unwrap()
            .contains(&old_e)
    );
    assert_eq!(store.claim(&old_e, t + 10, t + 20).await.unwrap(), None);
    let listed = store.list_outbox(100).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|i| i.entry == old_e && i.parked && i.attempts == 8)
    );
    assert!(
        !store.requeue(&new_e, t).await.unwrap(),
        "only parked entries requeue"
    );
    assert!(store.requeue(&old_e, t).await.unwrap());
    assert!(store.due_outbox(t, 10).await.unwrap().contains(&old_e));
    assert_eq!(store.claim(&old_e, t, t + 1).await.unwrap(), Some(0));

    // Delivered: gone from the outbox.
    store.mark_delivered(&old_e, t).await.unwrap();
    store.mark_delivered(&new_e, t).await.unwrap();
    assert!(store.list_outbox(100).await.unwrap().is_empty());
    assert!(store.due_outbox(t, 10).await.unwrap().is_empty());
    assert_eq!(store.claim(&new_e, t + 10, t + 20).await.unwrap(), None);
}

async fn a_returned_mail_slot_can_be_taken_again(store: Subject) {
    // An hour no other test uses.
    let hour = 1_000 + now() % 1_000_000;
    assert!(store.take_mail_slot(MailCap::Owner, hour, 1).await.unwrap());
    assert!(!store.take_mail_slot(MailCap::Owner, hour, 1).await.unwrap());
    store.return_mail_slot(MailCap::Owner, hour).await.unwrap();
    assert!(store.take_mail_slot(MailCap::Owner, hour, 1).await.unwrap());
    // Returning more than was taken never makes room beyond the cap.
    store.return_mail_slot(MailCap::Owner, hour).await.unwrap();
    store.return_mail_slot(MailCap::Owner, hour).await.unwrap();
    assert!(store.take_mail_slot(MailCap::Owner, hour, 1).await.unwrap());
    assert!(!store.take_mail_slot(MailCap::Owner, hour, 1).await.unwrap());
}

async fn a_reply_is_published_only_under_a_published_parent(store: Subject) {
    let post = format!("/replies/{}/", rust_aws::ids::new_id());
    let t = now();
    let parent = big_comment(&post, CommentStatus::Approved, "parent".into(), t - 3);
    store.put_comment(&parent, 0).await.unwrap();
    let mut reply = big_comment(&post, CommentStatus::Pending, "reply".into(), t - 2);
    reply.parent = Some(parent.id.clone());
    store.put_comment(&reply, 0).await.unwrap();
    let mut other = big_comment(&post, CommentStatus::Pending, "reply 2".into(), t - 1);
    other.parent = Some(parent.id.clone());
    store.put_comment(&other, 0).await.unwrap();

    assert_eq!(
        store.decide(&reply.id, Decision::Approve, t).await.unwrap(),
        Decided::Done
    );
    // The parent is rejected: a pending reply can no longer be published,
    // the approved one stays (clients show it without its parent).
    assert_eq!(
        store.decide(&parent.id, Decision::Reject, t).await.unwrap(),
        Decided::Done
    );
    assert_eq!(
        store.decide(&other.id, Decision::Approve, t).await.unwrap(),
        Decided::ParentUnpublished
    );
    let listed: Vec<String> = store
        .list_approved(&post, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![reply.id.clone()]);
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&post))
            .await
            .unwrap(),
        vec![1]
    );
    // Deleted parent: the same.
    assert_eq!(
        store.decide(&parent.id, Decision::Delete, t).await.unwrap(),
        Decided::Done
    );
    assert_eq!(
        store.decide(&other.id, Decision::Approve, t).await.unwrap(),
        Decided::ParentUnpublished
    );
    // Rejecting a pending orphan still works.
    assert_eq!(
        store.decide(&other.id, Decision::Reject, t).await.unwrap(),
        Decided::Done
    );
}

fn subscription(comment_id: &str, email: &str, created_ms: u64) -> Subscription {
    Subscription {
        comment_id: comment_id.to_owned(),
        post: "/p/".to_owned(),
        email: email.to_owned(),
        confirmed: false,
        created_ms,
    }
}

async fn a_subscription_is_one_per_comment_and_one_per_address_a_day(store: Subject) {
    let now = now_ms();
    let address = new_id();
    let first = subscription(&new_id(), "ann@example.org", now);
    assert_eq!(
        store.subscribe(&first, &address, now).await.unwrap(),
        Subscribed::Created
    );
    assert_eq!(
        store.subscribe(&first, &new_id(), now).await.unwrap(),
        Subscribed::Exists
    );
    let second = subscription(&new_id(), "ann@example.org", now);
    assert_eq!(
        store.subscribe(&second, &address, now).await.unwrap(),
        Subscribed::DailyLimit
    );
    assert_eq!(
        store
            .get_subscription(&second.comment_id, now)
            .await
            .unwrap(),
        None
    );
    let tomorrow = subscription(&second.comment_id, "ann@example.org", now + DAY_MS);
    assert_eq!(
        store.subscribe(&tomorrow, &address, now).await.unwrap(),
        Subscribed::Created
    );
    let stored = store
        .get_subscription(&first.comment_id, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.email.as_str(), stored.confirmed),
        ("ann@example.org", false)
    );
    // Its confirmation mail is in the outbox.
    let entry = OutboxEntry {
        kind: MailKind::Confirm,
        id: first.comment_id.clone(),
    };
    assert!(in_outbox(&store, &entry).await);
}

async fn an_unconfirmed_subscription_expires_with_its_link_and_a_confirmed_one_lives(
    store: Subject,
) {
    let now = now_ms();
    let (a, b) = (new_id(), new_id());
    for id in [&a, &b] {
        let sub = subscription(id, "ann@example.org", now);
        store.subscribe(&sub, &new_id(), now).await.unwrap();
        let entry = OutboxEntry {
            kind: MailKind::Confirm,
            id: id.clone(),
        };
        store.mark_delivered(&entry, now).await.unwrap();
        assert!(!in_outbox(&store, &entry).await);
    }
    let later = now + CONFIRM_TTL_MS + 60_000;
    assert_eq!(
        store.confirm_subscription(&a, now).await.unwrap(),
        Confirmed::Done
    );
    assert_eq!(
        store.confirm_subscription(&a, now).await.unwrap(),
        Confirmed::Already
    );
    assert!(
        store
            .get_subscription(&a, later)
            .await
            .unwrap()
            .unwrap()
            .confirmed
    );
    assert_eq!(store.get_subscription(&b, later).await.unwrap(), None);
    assert_eq!(
        store.confirm_subscription(&b, later).await.unwrap(),
        Confirmed::Gone
    );
}

async fn unsubscribing_or_deleting_the_comment_removes_the_subscription_and_its_address(
    store: Subject,
) {
    let now = now_ms();
    let c = comment("/p/", now, CommentStatus::Approved);
    stored(&store, &c).await;
    let sub = subscription(&c.id, "ann@example.org", now);
    store.subscribe(&sub, &new_id(), now).await.unwrap();
    assert!(store.unsubscribe(&c.id).await.unwrap());
    assert!(
        !store.unsubscribe(&c.id).await.unwrap(),
        "a second time: nothing left"
    );
    assert_eq!(store.get_subscription(&c.id, now).await.unwrap(), None);

    store.subscribe(&sub, &new_id(), now).await.unwrap();
    assert_eq!(
        store.decide(&c.id, Decision::Delete, now).await.unwrap(),
        Decided::Done
    );
    assert_eq!(store.get_subscription(&c.id, now).await.unwrap(), None);
    assert!(!store.unsubscribe(&c.id).await.unwrap());
}

async fn a_reply_notice_is_recorded_once_and_leaves_the_outbox_when_sent(store: Subject) {
    let reply = new_id();
    let now = now_ms();
    assert!(store.put_reply_notice(&reply, now).await.unwrap());
    assert!(!store.put_reply_notice(&reply, now).await.unwrap());
    let entry = OutboxEntry {
        kind: MailKind::Reply,
        id: reply.clone(),
    };
    assert!(in_outbox(&store, &entry).await);
    assert!(
        store
            .claim(&entry, now, now + 60_000)
            .await
            .unwrap()
            .is_some()
    );
    store.mark_delivered(&entry, now).await.unwrap();
    assert!(!in_outbox(&store, &entry).await);
}

async fn in_outbox(store: &Subject, entry: &OutboxEntry) -> bool {
    store
        .list_outbox(1_000)
        .await
        .unwrap()
        .iter()
        .any(|item| &item.entry == entry)
}
