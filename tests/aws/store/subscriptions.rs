//! `store::Subscriptions`, and what publishing a comment records for reply
//! notifications: the subscription a published comment asked for, with its
//! confirmation mail, in the same write as the publication; one new one per
//! mailbox a day (later comments join it and are confirmed with it), three
//! a day per source address, none for a reply; unconfirmed ones expire with
//! their link, confirmed ones live; they go with their comment; a reply's
//! notice is recorded with the reply's publication when its parent's
//! subscriber confirmed and is someone else, and goes when sent or deleted.

use rust_aws::domain::{
    CONFIRM_TTL_MS, Confirmed, DAY_MS, Decided, Decision, JOINED_TTL_MS, MailCap,
};

use super::*;

conformance!(
    approving_a_comment_that_asks_records_its_subscription_and_confirmation_with_the_decision,
    a_comment_published_at_once_records_its_subscription_with_the_comment,
    a_mailbox_gets_one_confirmation_a_day_and_its_later_comments_join_and_confirm_with_it,
    one_source_sets_off_at_most_three_confirmations_a_day,
    a_reply_asking_for_notifications_subscribes_no_one_and_spends_no_confirmation,
    approving_a_reply_records_its_notice_only_for_a_confirmed_subscriber_who_is_someone_else,
    an_unconfirmed_subscription_expires_with_its_link_and_a_confirmed_one_lives,
    unsubscribing_or_deleting_the_comment_removes_the_subscription_and_its_address,
    rejecting_the_comment_removes_its_subscription,
    a_subscription_confirmed_before_its_mail_is_marked_sent_never_expires,
    deleting_a_reply_drops_its_unsent_notice,
);

fn confirm_entry(id: &str) -> OutboxEntry {
    entry(MailKind::Confirm, id)
}

async fn approve(store: &Subject, id: &str, now: u64) {
    assert_eq!(
        store.decide(id, Decision::Approve, now).await.unwrap(),
        Decided::Done
    );
}

async fn approving_a_comment_that_asks_records_its_subscription_and_confirmation_with_the_decision(
    store: Subject,
) {
    let now = now_ms();
    let c = asking(&store, &post(), "ann@example.org", &new_id(), now).await;
    assert_eq!(store.get_subscription(&c.id, now).await.unwrap(), None);
    assert!(!in_outbox(&store, &confirm_entry(&c.id)).await);

    approve(&store, &c.id, now).await;
    let sub = store.get_subscription(&c.id, now).await.unwrap().unwrap();
    assert_eq!(
        (sub.email.as_str(), sub.post.as_str(), sub.confirmed),
        ("ann@example.org", c.post.as_str(), false)
    );
    // Due at once and unclaimed: the function's redelivery sends it.
    let due = store.due_outbox(MailCap::Visitor, now, 10).await.unwrap();
    assert_eq!(due, vec![confirm_entry(&c.id)]);
    assert_eq!(
        store
            .claim(&confirm_entry(&c.id), now, now + 1_000)
            .await
            .unwrap(),
        Some(0)
    );
}

async fn a_comment_published_at_once_records_its_subscription_with_the_comment(store: Subject) {
    let now = now_ms();
    let mut c = comment(&post(), now, CommentStatus::Approved);
    c.notify = true;
    c.mailbox = Some(rust_aws::domain::mailbox("ann@example.org"));
    c.email = Some("ann@example.org".into());
    store.put_comment(&c, now + 1_000).await.unwrap();
    assert!(store.get_subscription(&c.id, now).await.unwrap().is_some());
    assert!(in_outbox(&store, &confirm_entry(&c.id)).await);
    // Without a mailbox key (notifications off when it was posted): none.
    let mut off = comment(&post(), now, CommentStatus::Approved);
    off.notify = true;
    store.put_comment(&off, now).await.unwrap();
    assert_eq!(store.get_subscription(&off.id, now).await.unwrap(), None);
}

async fn a_mailbox_gets_one_confirmation_a_day_and_its_later_comments_join_and_confirm_with_it(
    store: Subject,
) {
    let now = now_ms();
    let day = |n: u64| now / DAY_MS * DAY_MS + n * DAY_MS + 1_000;
    let mailbox = format!("ann{}@gmail.com", new_id());
    let (local, domain) = mailbox.split_once('@').unwrap();
    let spellings = [
        mailbox.clone(),
        format!("{}+blog@{domain}", local.to_uppercase()),
        format!("{}.{}@googlemail.com", &local[..2], &local[2..]),
    ];
    let mut comments = Vec::new();
    for email in &spellings {
        let c = asking(&store, &post(), email, &new_id(), day(0)).await;
        approve(&store, &c.id, day(0)).await;
        comments.push(c);
    }
    let confirmations: Vec<OutboxEntry> = store
        .list_outbox(100)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.entry)
        .filter(|e| e.kind == MailKind::Confirm)
        .collect();
    assert_eq!(confirmations, vec![confirm_entry(&comments[0].id)]);
    for c in &comments {
        let sub = store.get_subscription(&c.id, day(0)).await.unwrap();
        assert!(sub.is_some_and(|s| !s.confirmed), "{}", c.id);
    }

    // The one mail's link confirms every comment of the day.
    let first = &comments[0].id;
    store
        .mark_delivered(&confirm_entry(first), day(0))
        .await
        .unwrap();
    assert_eq!(
        store.confirm_subscription(first, day(0)).await.unwrap(),
        Confirmed::Done
    );
    let much_later = day(0) + JOINED_TTL_MS + 365 * DAY_MS;
    for c in &comments {
        let sub = store.get_subscription(&c.id, much_later).await.unwrap();
        assert!(sub.is_some_and(|s| s.confirmed), "{}", c.id);
    }
    // A comment after the confirmation joins confirmed; the next day has a
    // confirmation of its own.
    let later = asking(&store, &post(), &spellings[1], &new_id(), day(0)).await;
    approve(&store, &later.id, day(0)).await;
    let sub = store.get_subscription(&later.id, much_later).await.unwrap();
    assert!(sub.is_some_and(|s| s.confirmed));
    assert!(!in_outbox(&store, &confirm_entry(&later.id)).await);
    let tomorrow = asking(&store, &post(), &spellings[2], &new_id(), day(1)).await;
    approve(&store, &tomorrow.id, day(1)).await;
    assert!(in_outbox(&store, &confirm_entry(&tomorrow.id)).await);
}

async fn one_source_sets_off_at_most_three_confirmations_a_day(store: Subject) {
    let now = now_ms();
    let source = new_id();
    let mut comments = Vec::new();
    for _ in 0..4 {
        let email = format!("{}@example.org", new_id());
        let c = asking(&store, &post(), &email, &source, now).await;
        approve(&store, &c.id, now).await;
        comments.push(c);
    }
    for (i, c) in comments.iter().enumerate() {
        let confirmed = in_outbox(&store, &confirm_entry(&c.id)).await;
        assert_eq!(confirmed, i < 3, "comment {i}");
        let sub = store.get_subscription(&c.id, now).await.unwrap();
        assert_eq!(sub.is_some(), i < 3, "comment {i}: no address kept");
    }
    // Another source is not held back by this one.
    let other = asking(&store, &post(), "bo@example.org", &new_id(), now).await;
    approve(&store, &other.id, now).await;
    assert!(in_outbox(&store, &confirm_entry(&other.id)).await);
}

async fn a_reply_asking_for_notifications_subscribes_no_one_and_spends_no_confirmation(
    store: Subject,
) {
    let now = now_ms();
    let parent = comment(&post(), now, CommentStatus::Pending);
    stored(&store, &parent).await;
    approve(&store, &parent.id, now).await;
    let email = format!("{}@example.org", new_id());
    let mut reply = comment(&parent.post, now, CommentStatus::Pending);
    reply.parent = Some(parent.id.clone());
    reply.email = Some(email.clone());
    reply.notify = true;
    reply.mailbox = Some(rust_aws::domain::mailbox(&email));
    stored(&store, &reply).await;
    approve(&store, &reply.id, now).await;
    assert_eq!(store.get_subscription(&reply.id, now).await.unwrap(), None);
    assert!(!in_outbox(&store, &confirm_entry(&reply.id)).await);
    // The address's confirmation of the day is still to be had.
    let top = asking(&store, &parent.post, &email, &new_id(), now).await;
    approve(&store, &top.id, now).await;
    assert!(in_outbox(&store, &confirm_entry(&top.id)).await);
}

async fn approving_a_reply_records_its_notice_only_for_a_confirmed_subscriber_who_is_someone_else(
    store: Subject,
) {
    let now = now_ms();
    let email = format!("{}@example.org", new_id());
    let parent = subscribed(&store, &email, now).await;
    let reply_by = |by: &str| {
        let mut r = comment(&parent.post, now, CommentStatus::Pending);
        r.parent = Some(parent.id.clone());
        r.email = Some(by.to_owned());
        r
    };
    let notice_of = |r: &CommentRecord| entry(MailKind::Reply, &r.id);

    // Not confirmed yet: nothing to tell.
    let early = reply_by("bob@example.net");
    stored(&store, &early).await;
    approve(&store, &early.id, now).await;
    assert!(!in_outbox(&store, &notice_of(&early)).await);

    store.confirm_subscription(&parent.id, now).await.unwrap();
    let reply = reply_by("bob@example.net");
    let own = reply_by(&email.replace('@', "+again@").to_uppercase());
    for r in [&reply, &own] {
        stored(&store, r).await;
        approve(&store, &r.id, now).await;
    }
    assert!(in_outbox(&store, &notice_of(&reply)).await);
    assert!(
        !in_outbox(&store, &notice_of(&own)).await,
        "one's own reply"
    );
    let due = store.due_outbox(MailCap::Visitor, now, 10).await.unwrap();
    assert!(due.contains(&notice_of(&reply)), "{due:?}");
    store.mark_delivered(&notice_of(&reply), now).await.unwrap();
    assert!(!in_outbox(&store, &notice_of(&reply)).await);
    assert_eq!(
        store
            .claim(&notice_of(&reply), now, now + 1_000)
            .await
            .unwrap(),
        None
    );
}

async fn an_unconfirmed_subscription_expires_with_its_link_and_a_confirmed_one_lives(
    store: Subject,
) {
    let now = now_ms();
    let a = subscribed(&store, "ann@example.org", now).await.id;
    let b = subscribed(&store, &format!("{}@example.org", new_id()), now)
        .await
        .id;
    for id in [&a, &b] {
        store.mark_delivered(&confirm_entry(id), now).await.unwrap();
        assert!(!in_outbox(&store, &confirm_entry(id)).await);
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
    let c = subscribed(&store, "ann@example.org", now).await;
    assert!(store.unsubscribe(&c.id).await.unwrap());
    assert!(
        !store.unsubscribe(&c.id).await.unwrap(),
        "a second time: nothing left"
    );
    assert_eq!(store.get_subscription(&c.id, now).await.unwrap(), None);

    let d = subscribed(&store, &format!("{}@example.org", new_id()), now).await;
    assert_eq!(
        store.decide(&d.id, Decision::Delete, now).await.unwrap(),
        Decided::Done
    );
    assert_eq!(store.get_subscription(&d.id, now).await.unwrap(), None);
    assert!(!store.unsubscribe(&d.id).await.unwrap());
}

async fn rejecting_the_comment_removes_its_subscription(store: Subject) {
    let now = now_ms();
    let c = subscribed(&store, "ann@example.org", now).await;
    assert!(store.get_subscription(&c.id, now).await.unwrap().is_some());
    assert_eq!(
        store.decide(&c.id, Decision::Reject, now).await.unwrap(),
        Decided::Done
    );
    assert_eq!(store.get_subscription(&c.id, now).await.unwrap(), None);
    assert!(!store.unsubscribe(&c.id).await.unwrap());
}

async fn a_subscription_confirmed_before_its_mail_is_marked_sent_never_expires(store: Subject) {
    let now = now_ms();
    let c = subscribed(&store, "ann@example.org", now).await;
    // The mail went out, its "sent" was not recorded, the reader confirmed,
    // then redelivery sent it again and recorded that.
    assert_eq!(
        store.confirm_subscription(&c.id, now).await.unwrap(),
        Confirmed::Done
    );
    let e = confirm_entry(&c.id);
    store.mark_delivered(&e, now).await.unwrap();
    assert!(!in_outbox(&store, &e).await);
    let much_later = now + CONFIRM_TTL_MS + 365 * DAY_MS;
    let kept = store.get_subscription(&c.id, much_later).await.unwrap();
    assert!(kept.is_some_and(|s| s.confirmed));
    assert_eq!(
        store.confirm_subscription(&new_id(), now).await.unwrap(),
        Confirmed::Gone,
        "an unknown subscription"
    );
}

async fn deleting_a_reply_drops_its_unsent_notice(store: Subject) {
    let now = now_ms();
    let parent = subscribed(&store, "ann@example.org", now).await;
    store.confirm_subscription(&parent.id, now).await.unwrap();
    let mut reply = comment(&parent.post, now, CommentStatus::Pending);
    reply.parent = Some(parent.id.clone());
    stored(&store, &reply).await;
    approve(&store, &reply.id, now).await;
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
