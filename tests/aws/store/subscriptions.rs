//! `store::Subscriptions`: one per comment and one new one per address a day;
//! unconfirmed ones expire with their link, confirmed ones live; they go
//! with their comment (unsubscribed, rejected, deleted); a reply notice is
//! recorded once and goes when sent or when the reply is deleted.

use rust_aws::store::{CONFIRM_TTL_MS, Confirmed, DAY_MS, Decided, Decision, Subscribed};

use super::*;

conformance!(
    a_subscription_is_one_per_comment_and_one_per_address_a_day,
    an_unconfirmed_subscription_expires_with_its_link_and_a_confirmed_one_lives,
    unsubscribing_or_deleting_the_comment_removes_the_subscription_and_its_address,
    a_reply_notice_is_recorded_once_and_leaves_the_outbox_when_sent,
    rejecting_the_comment_removes_its_subscription,
    a_subscription_confirmed_before_its_mail_is_marked_sent_never_expires,
    deleting_a_reply_drops_its_unsent_notice,
);

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

async fn rejecting_the_comment_removes_its_subscription(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Pending);
    stored(&store, &c).await;
    store.decide(&c.id, Decision::Approve, now).await.unwrap();
    let sub = subscription(&c.id, "ann@example.org", now);
    assert_eq!(
        store.subscribe(&sub, &new_id(), now).await.unwrap(),
        Subscribed::Created
    );
    assert_eq!(
        store.decide(&c.id, Decision::Reject, now).await.unwrap(),
        Decided::Done
    );
    assert_eq!(store.get_subscription(&c.id, now).await.unwrap(), None);
    assert!(!store.unsubscribe(&c.id).await.unwrap());
}

async fn a_subscription_confirmed_before_its_mail_is_marked_sent_never_expires(store: Subject) {
    let now = now_ms();
    let sub = subscription(&new_id(), "ann@example.org", now);
    store.subscribe(&sub, &new_id(), now).await.unwrap();
    // The mail went out, its "sent" was not recorded, the reader confirmed,
    // then redelivery sent it again and recorded that.
    assert_eq!(
        store
            .confirm_subscription(&sub.comment_id, now)
            .await
            .unwrap(),
        Confirmed::Done
    );
    let e = entry(MailKind::Confirm, &sub.comment_id);
    store.mark_delivered(&e, now).await.unwrap();
    assert!(!in_outbox(&store, &e).await);
    let much_later = now + CONFIRM_TTL_MS + 365 * DAY_MS;
    let kept = store
        .get_subscription(&sub.comment_id, much_later)
        .await
        .unwrap();
    assert!(kept.is_some_and(|s| s.confirmed));
    assert_eq!(
        store.confirm_subscription(&new_id(), now).await.unwrap(),
        Confirmed::Gone,
        "an unknown subscription"
    );
}

async fn deleting_a_reply_drops_its_unsent_notice(store: Subject) {
    let now = now_ms();
    let reply = comment(&post(), now, CommentStatus::Approved);
    stored(&store, &reply).await;
    assert!(store.put_reply_notice(&reply.id, now).await.unwrap());
    let notice = entry(MailKind::Reply, &reply.id);
    assert!(in_outbox(&store, &notice).await);
    assert_eq!(
        store
            .decide(&reply.id, Decision::Delete, now)
            .await
            .unwrap(),
        Decided::Done
    );
    assert!(!in_outbox(&store, &notice).await);
    assert_eq!(store.claim(&notice, now, now + 60_000).await.unwrap(), None);
}
