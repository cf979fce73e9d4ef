//! `store::Outbox`: undelivered mail of every kind, due longest-waiting first;
//! claims exclusive until they lapse; failures back off, park and requeue;
//! delivery is final (a late failure or a record already gone changes
//! nothing).

use rust_aws::domain::{DAY_MS, Decided, Decision, Deferral, MailCap};

use super::*;

conformance!(
    the_outbox_lists_undelivered_mail_oldest_first_until_it_is_delivered,
    a_live_claim_keeps_other_runs_off_until_it_lapses,
    outbox_entries_back_off_park_and_never_block_newer_mail,
    the_owner_listing_shows_waiting_mail_by_next_attempt_then_parked_mail,
    marking_mail_delivered_after_its_record_went_does_not_bring_it_back,
    a_deferral_after_delivery_leaves_the_mail_delivered,
    mail_of_a_record_expired_but_unswept_leaves_the_outbox_when_marked,
    each_caps_mail_waits_in_a_line_of_its_own_whatever_the_backlog,
);

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
    assert_eq!(
        store.due_outbox(MailCap::Owner, now, 10).await.unwrap(),
        want
    );
    assert_eq!(
        store.due_outbox(MailCap::Owner, now, 1).await.unwrap(),
        want[..1]
    );
    store.mark_delivered(&want[0], now).await.unwrap();
    assert_eq!(
        store.due_outbox(MailCap::Owner, now, 10).await.unwrap(),
        want[1..]
    );
    store.mark_delivered(&want[1], now).await.unwrap();
    assert!(
        store
            .due_outbox(MailCap::Owner, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_live_claim_keeps_other_runs_off_until_it_lapses(store: Subject) {
    let now = now_ms();
    let m = contact(now);
    // Stored claimed by the request that stored it, for a minute.
    store.put_contact(&m, now + 60_000).await.unwrap();
    let e = entry(MailKind::Contact, &m.id);
    // Due all the same: the claim, not the listing, keeps runs apart.
    assert_eq!(
        store
            .due_outbox(MailCap::Owner, now + 1_000, 10)
            .await
            .unwrap(),
        std::slice::from_ref(&e)
    );
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
    let due = store.due_outbox(MailCap::Owner, t, 10).await.unwrap();
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
    let due = store.due_outbox(MailCap::Owner, t, 10).await.unwrap();
    assert!(due.contains(&new_e) && !due.contains(&old_e), "{due:?}");
    assert!(
        store
            .due_outbox(MailCap::Owner, t + 300_000, 10)
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
            .due_outbox(MailCap::Owner, t + 1_000_000_000, 10)
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
    assert!(
        store
            .due_outbox(MailCap::Owner, t, 10)
            .await
            .unwrap()
            .contains(&old_e)
    );
    assert_eq!(store.claim(&old_e, t, t + 1).await.unwrap(), Some(0));

    // Delivered: gone from the outbox.
    store.mark_delivered(&old_e, t).await.unwrap();
    store.mark_delivered(&new_e, t).await.unwrap();
    assert!(store.list_outbox(100).await.unwrap().is_empty());
    assert!(
        store
            .due_outbox(MailCap::Owner, t, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.claim(&new_e, t + 10, t + 20).await.unwrap(), None);
}

async fn the_owner_listing_shows_waiting_mail_by_next_attempt_then_parked_mail(store: Subject) {
    let t = now_ms();
    let (first, second, third) = (contact(t - 3_000), contact(t - 2_000), contact(t - 1_000));
    for m in [&first, &second, &third] {
        store.put_contact(m, 0).await.unwrap();
    }
    let (parked, later, waiting) = (
        entry(MailKind::Contact, &first.id),
        entry(MailKind::Contact, &second.id),
        entry(MailKind::Contact, &third.id),
    );
    let failed = |attempts, next_attempt_ms, parked| Deferral {
        attempts,
        next_attempt_ms,
        parked,
        error: "SES Throttling".into(),
    };
    store.defer(&parked, &failed(8, t, true)).await.unwrap();
    store
        .defer(&later, &failed(1, t + 60_000, false))
        .await
        .unwrap();
    let listed: Vec<OutboxEntry> = store
        .list_outbox(10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.entry)
        .collect();
    assert_eq!(listed, [waiting.clone(), later.clone(), parked.clone()]);
    let two_of_each: Vec<OutboxEntry> = store
        .list_outbox(2)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.entry)
        .collect();
    assert_eq!(
        two_of_each,
        [waiting.clone(), later, parked.clone()],
        "parked mail listed however many wait"
    );
    let one_of_each: Vec<OutboxEntry> = store
        .list_outbox(1)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.entry)
        .collect();
    assert_eq!(one_of_each, [waiting, parked]);
}

async fn marking_mail_delivered_after_its_record_went_does_not_bring_it_back(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Pending);
    store.put_comment(&c, now).await.unwrap();
    assert_eq!(
        store.decide(&c.id, Decision::Delete, now).await.unwrap(),
        Decided::Done
    );
    let sub = subscribed(&store, "ann@example.org", now).await;
    assert!(store.unsubscribe(&sub.id).await.unwrap());
    for e in [
        entry(MailKind::Comment, &c.id),
        entry(MailKind::Confirm, &sub.id),
        entry(MailKind::Contact, &new_id()),
    ] {
        store.mark_delivered(&e, now).await.unwrap();
        assert!(!in_outbox(&store, &e).await, "{e:?}");
    }
    assert_eq!(store.get_comment(&c.id, now).await.unwrap(), None);
    assert_eq!(store.get_subscription(&sub.id, now).await.unwrap(), None);
}

async fn a_deferral_after_delivery_leaves_the_mail_delivered(store: Subject) {
    let now = now_ms();
    let m = contact(now);
    store.put_contact(&m, 0).await.unwrap();
    let e = entry(MailKind::Contact, &m.id);
    assert_eq!(store.claim(&e, now, now + 60_000).await.unwrap(), Some(0));
    // Another run delivered it; this run's failure comes in late.
    store.mark_delivered(&e, now).await.unwrap();
    let late = Deferral {
        attempts: 8,
        next_attempt_ms: now,
        parked: true,
        error: "timeout".into(),
    };
    store.defer(&e, &late).await.unwrap();
    assert!(
        store
            .get_contact(&m.id, now)
            .await
            .unwrap()
            .unwrap()
            .delivered
    );
    assert!(!in_outbox(&store, &e).await);
    assert!(
        !store
            .due_outbox(MailCap::Owner, now + 1, 10)
            .await
            .unwrap()
            .contains(&e)
    );
    assert_eq!(
        store.claim(&e, now + 120_000, now + 180_000).await.unwrap(),
        None
    );
    assert!(!store.requeue(&e, now).await.unwrap());
}

async fn mail_of_a_record_expired_but_unswept_leaves_the_outbox_when_marked(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now - 9 * DAY_MS, CommentStatus::Pending);
    store.put_comment(&c, 0).await.unwrap();
    // Rejected eight days ago, its mail never sent: past its expiry, which
    // DynamoDB sweeps late, and still listed in the outbox meanwhile.
    let long_ago = now - 8 * DAY_MS;
    assert_eq!(
        store
            .decide(&c.id, Decision::Reject, long_ago)
            .await
            .unwrap(),
        Decided::Done
    );
    let e = entry(MailKind::Comment, &c.id);
    assert_eq!(store.get_comment(&c.id, now).await.unwrap(), None);
    assert!(
        store
            .due_outbox(MailCap::Owner, now, 10)
            .await
            .unwrap()
            .contains(&e)
    );
    store.mark_delivered(&e, now).await.unwrap();
    assert!(
        !store
            .due_outbox(MailCap::Owner, now, 10)
            .await
            .unwrap()
            .contains(&e)
    );
    assert!(!in_outbox(&store, &e).await);
    assert_eq!(
        store.get_comment(&c.id, now).await.unwrap(),
        None,
        "not revived"
    );
}

async fn each_caps_mail_waits_in_a_line_of_its_own_whatever_the_backlog(store: Subject) {
    let now = now_ms();
    // More owner mail than a batch, all older than the visitor mail.
    let mut owner = Vec::new();
    for i in 0..5 {
        let m = contact(now - 10_000 + i);
        store.put_contact(&m, 0).await.unwrap();
        owner.push(entry(MailKind::Contact, &m.id));
    }
    let sub = subscribed(&store, "ann@example.org", now).await;
    store.confirm_subscription(&sub.id, now).await.unwrap();
    let mut reply = comment(&sub.post, now, CommentStatus::Pending);
    reply.parent = Some(sub.id.clone());
    stored(&store, &reply).await;
    store
        .decide(&reply.id, Decision::Approve, now)
        .await
        .unwrap();
    let visitor = [
        entry(MailKind::Confirm, &sub.id),
        entry(MailKind::Reply, &reply.id),
    ];

    let due = |cap, limit| store.due_outbox(cap, now + 1_000, limit);
    assert_eq!(due(MailCap::Owner, 3).await.unwrap(), owner[..3]);
    let waiting = due(MailCap::Visitor, 3).await.unwrap();
    assert_eq!(waiting.len(), 2, "{waiting:?}");
    assert!(visitor.iter().all(|e| waiting.contains(e)), "{waiting:?}");

    // A deferral or a requeue keeps an entry in its own line.
    let later = Deferral {
        attempts: 1,
        next_attempt_ms: now + 500,
        parked: false,
        error: "SES Throttling".into(),
    };
    store.defer(&visitor[0], &later).await.unwrap();
    assert!(!due(MailCap::Owner, 10).await.unwrap().contains(&visitor[0]));
    assert!(
        due(MailCap::Visitor, 10)
            .await
            .unwrap()
            .contains(&visitor[0])
    );
    let parked = Deferral {
        parked: true,
        ..later
    };
    store.defer(&visitor[0], &parked).await.unwrap();
    assert!(store.requeue(&visitor[0], now).await.unwrap());
    assert_eq!(
        store
            .claim(&visitor[0], now + 1_000, now + 2_000)
            .await
            .unwrap(),
        Some(0)
    );
    assert!(
        due(MailCap::Visitor, 10)
            .await
            .unwrap()
            .contains(&visitor[0])
    );
    assert_eq!(store.list_outbox(100).await.unwrap().len(), 7);
    assert!(
        due(MailCap::Owner, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.kind.cap() == MailCap::Owner),
        "visitor mail never waits in the owner's line"
    );
}
