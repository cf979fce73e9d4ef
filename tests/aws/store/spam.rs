//! `store::SpamFolder` and `store::OutboundQueue`: the spam folder reads back
//! whole, lists newest first in full pages, forgets after 30 days, and lets
//! an item go back into the normal flow exactly once; the duplicate rule's
//! memory lasts a day; alerts and corrections wait in the outbox under their
//! own caps and leave nothing behind once sent.

use rust_aws::domain::{Channel, DUPLICATE_WINDOW_MS, Held, OutboundCall, SPAM_TTL_MS, SpamItem};

use rust_aws::domain::MailCap;

use super::*;

conformance!(
    a_body_is_a_duplicate_within_a_day_of_its_first_time_only,
    a_first_submission_never_stored_makes_no_duplicate,
    spam_reads_back_whole_and_expires_after_thirty_days,
    the_folder_lists_newest_first_in_full_pages_to_the_end,
    released_spam_returns_to_the_flow_once_with_its_correction,
    outbound_calls_wait_under_their_own_caps_and_go_once_sent,
    held_spam_is_not_a_comment_nor_a_contact_nor_in_the_outbox,
);

fn spam(held: Held, marked_ms: u64) -> SpamItem {
    SpamItem {
        held,
        reason: "links".to_owned(),
        marked_ms,
    }
}

async fn a_body_is_a_duplicate_within_a_day_of_its_first_time_only(store: Subject) {
    let now = now_ms();
    let key = new_id();
    // The first submission is stored as a comment.
    let first = comment(&post(), now, CommentStatus::Pending);
    assert!(!store.seen_body(&key, &first.id, now).await.unwrap());
    store.put_comment(&first, now).await.unwrap();
    assert!(store.seen_body(&key, &new_id(), now + 1).await.unwrap());
    assert!(
        store
            .seen_body(&key, &new_id(), now + DUPLICATE_WINDOW_MS - 1_000)
            .await
            .unwrap()
    );
    // A retry of the first's own call is not a duplicate of itself.
    assert!(!store.seen_body(&key, &first.id, now + 2).await.unwrap());
    // A day after the first time: a first time again, and the window restarts.
    let later = now + DUPLICATE_WINDOW_MS + 1_000;
    let second = contact(later);
    assert!(!store.seen_body(&key, &second.id, later).await.unwrap());
    store.put_contact(&second, later).await.unwrap();
    assert!(store.seen_body(&key, &new_id(), later + 1).await.unwrap());
    assert!(!store.seen_body(&new_id(), &new_id(), now).await.unwrap());
}

async fn a_first_submission_never_stored_makes_no_duplicate(store: Subject) {
    // Its store write failed and the visitor got a 503: trying again is
    // not spam. The retry is then the first time.
    let now = now_ms();
    let key = new_id();
    assert!(!store.seen_body(&key, &new_id(), now).await.unwrap());
    let retry = comment(&post(), now, CommentStatus::Pending);
    assert!(!store.seen_body(&key, &retry.id, now + 5_000).await.unwrap());
    store.put_comment(&retry, now).await.unwrap();
    assert!(store.seen_body(&key, &new_id(), now + 6_000).await.unwrap());
    // Held as spam counts as stored too.
    let key = new_id();
    let held = spam(Held::Contact(contact(now)), now);
    assert!(!store.seen_body(&key, held.held.id(), now).await.unwrap());
    store.put_spam(&held).await.unwrap();
    assert!(store.seen_body(&key, &new_id(), now + 1).await.unwrap());
}

async fn spam_reads_back_whole_and_expires_after_thirty_days(store: Subject) {
    let now = now_ms();
    let mut c = comment(&post(), now, CommentStatus::Pending);
    c.parent = Some(new_id());
    c.notify = true;
    c.mailbox = Some("mailbox-key".to_owned());
    let mut m = contact(now);
    m.subject = None;
    for item in [spam(Held::Comment(c), now), spam(Held::Contact(m), now)] {
        store.put_spam(&item).await.unwrap();
        // A retried write changes nothing.
        store.put_spam(&item).await.unwrap();
        let id = item.held.id();
        assert_eq!(store.get_spam(id, now).await.unwrap(), Some(item.clone()));
        let before = now + SPAM_TTL_MS - 60_000;
        assert!(store.get_spam(id, before).await.unwrap().is_some());
        let after = now + SPAM_TTL_MS + 60_000;
        assert_eq!(store.get_spam(id, after).await.unwrap(), None);
        assert!(store.list_spam(None, 10, after).await.unwrap().is_empty());
    }
    assert_eq!(store.get_spam(&new_id(), now).await.unwrap(), None);
}

async fn the_folder_lists_newest_first_in_full_pages_to_the_end(store: Subject) {
    let now = now_ms();
    let mut ids = Vec::new();
    for i in 0..7u64 {
        // A big body: DynamoDB's 1 MB pages must not shorten a listing.
        let mut c = comment(&post(), now, CommentStatus::Pending);
        c.body = "x".repeat(4_000);
        let item = if i % 2 == 0 {
            spam(Held::Comment(c), now - 10_000 + i * 1_000)
        } else {
            spam(Held::Contact(contact(now)), now - 10_000 + i * 1_000)
        };
        ids.push(item.held.id().to_owned());
        store.put_spam(&item).await.unwrap();
    }
    // One past its 30 days, never listed.
    let old = spam(Held::Contact(contact(now)), now - SPAM_TTL_MS - 1);
    store.put_spam(&old).await.unwrap();
    ids.reverse();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_spam(after.clone(), 3, now).await.unwrap();
        assert!(page.len() <= 3);
        if page.len() < 3 {
            seen.extend(page.iter().map(|i| i.held.id().to_owned()));
            break;
        }
        after = page.last().map(|i| (i.marked_ms, i.held.id().to_owned()));
        seen.extend(page.iter().map(|i| i.held.id().to_owned()));
    }
    assert_eq!(seen, ids);
}

async fn released_spam_returns_to_the_flow_once_with_its_correction(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Approved);
    let m = contact(now);
    for item in [
        spam(Held::Comment(c.clone()), now),
        spam(Held::Contact(m.clone()), now),
    ] {
        store.put_spam(&item).await.unwrap();
        let call = rust_aws::security::spam::feedback(
            &item.held,
            rust_aws::security::spam::akismet::Correction::Ham,
            None,
            now,
        );
        let released = store
            .release_spam(item.held.id(), Some(&call), now)
            .await
            .unwrap();
        assert_eq!(released, Some(item.clone()));
        assert_eq!(store.get_spam(item.held.id(), now).await.unwrap(), None);
        // Released once only.
        assert_eq!(
            store
                .release_spam(item.held.id(), Some(&call), now)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store.get_outbound(&call.entry).await.unwrap(),
            Some(call.payload.clone())
        );
    }
    // The comment is pending, whatever it was, with its moderation mail due.
    let back = store.get_comment(&c.id, now).await.unwrap().unwrap();
    assert_eq!(back.status, CommentStatus::Pending);
    assert_eq!(
        (back.body.as_str(), back.created_ms),
        (c.body.as_str(), c.created_ms)
    );
    // And in the console's queue (the by_status index on DynamoDB).
    let queue = store.pending_page(None, 500, now).await.unwrap();
    assert!(
        queue.iter().any(|q| q.id == c.id),
        "a released comment is in the queue"
    );
    let msg = store.get_contact(&m.id, now).await.unwrap().unwrap();
    assert!(!msg.delivered);
    let owner = store.due_outbox(MailCap::Owner, now, 10).await.unwrap();
    assert!(owner.contains(&entry(MailKind::Comment, &c.id)));
    assert!(owner.contains(&entry(MailKind::Contact, &m.id)));
    let feedback = store.due_outbox(MailCap::Feedback, now, 10).await.unwrap();
    assert_eq!(feedback.len(), 2);
    // Not counted in the post: it is not published.
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&c.post))
            .await
            .unwrap(),
        vec![0]
    );
    assert_eq!(
        store.release_spam(&new_id(), None, now).await.unwrap(),
        None
    );
}

async fn outbound_calls_wait_under_their_own_caps_and_go_once_sent(store: Subject) {
    let now = now_ms();
    let id = new_id();
    let calls: Vec<OutboundCall> = Channel::ALL
        .iter()
        .map(|&c| OutboundCall {
            entry: entry(MailKind::Alert(c), &id),
            payload: format!("{{\"channel\":\"{}\"}}", c.as_str()),
            created_ms: now,
        })
        .collect();
    // Claimed by the request that stores them: not claimable until then.
    store.put_outbound(&calls, now + 5_000).await.unwrap();
    store.put_outbound(&calls, now + 5_000).await.unwrap();
    assert_eq!(
        store
            .claim(&calls[0].entry, now, now + 9_000)
            .await
            .unwrap(),
        None
    );
    let due = store.due_outbox(MailCap::Alerts, now, 10).await.unwrap();
    assert_eq!(due.len(), 4);
    assert!(
        store
            .due_outbox(MailCap::Owner, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .due_outbox(MailCap::Feedback, now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    for call in &calls {
        assert_eq!(
            store.get_outbound(&call.entry).await.unwrap(),
            Some(call.payload.clone())
        );
    }
    // One channel fails and backs off; the others are untouched.
    let later = now + 6_000;
    assert_eq!(
        store
            .claim(&calls[1].entry, later, later + 5_000)
            .await
            .unwrap(),
        Some(0)
    );
    let deferral = rust_aws::domain::Deferral {
        attempts: 1,
        next_attempt_ms: later + 60_000,
        parked: false,
        error: "HTTP 500".to_owned(),
    };
    store.defer(&calls[1].entry, &deferral).await.unwrap();
    let due = store.due_outbox(MailCap::Alerts, later, 10).await.unwrap();
    assert_eq!(due.len(), 3);
    assert!(!due.contains(&calls[1].entry));
    let listed = store.list_outbox(100).await.unwrap();
    let failed = listed.iter().find(|i| i.entry == calls[1].entry).unwrap();
    assert_eq!(
        (failed.attempts, failed.last_error.as_deref()),
        (1, Some("HTTP 500"))
    );
    // Sent: nothing of it is kept.
    store.mark_delivered(&calls[0].entry, later).await.unwrap();
    assert_eq!(store.get_outbound(&calls[0].entry).await.unwrap(), None);
    assert_eq!(
        store
            .claim(&calls[0].entry, later, later + 1)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .due_outbox(MailCap::Alerts, later, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    // The alert cap is its own.
    let hour = now / 3_600_000;
    assert!(
        store
            .take_mail_slot(MailCap::Alerts, hour, 1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_mail_slot(MailCap::Alerts, hour, 1)
            .await
            .unwrap()
    );
    assert!(store.take_mail_slot(MailCap::Owner, hour, 1).await.unwrap());
    assert!(
        store
            .take_mail_slot(MailCap::Feedback, hour, 1)
            .await
            .unwrap()
    );
}

async fn held_spam_is_not_a_comment_nor_a_contact_nor_in_the_outbox(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Approved);
    store
        .put_spam(&spam(Held::Comment(c.clone()), now))
        .await
        .unwrap();
    assert_eq!(store.get_comment(&c.id, now).await.unwrap(), None);
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
        vec![0]
    );
    assert!(store.list_outbox(100).await.unwrap().is_empty());
}
