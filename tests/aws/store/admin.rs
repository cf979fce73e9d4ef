//! `store::AdminStore`: the owner's whole-table reads (oldest first, the
//! expired left out or included on request), removals (a contact message; a
//! comment moderation cannot reach, never an approved one) and imports
//! (approved, counted, without mail, idempotent).

use rust_aws::store::Expired;

use rust_aws::domain::{CONTACT_TTL_MS, Decided, Decision, PENDING_TTL_MS};

use super::*;

conformance!(
    every_comment_is_read_oldest_first_by_post_with_the_expired_on_request,
    every_contact_message_is_read_oldest_first_with_the_expired_on_request,
    deleting_a_contact_message_removes_it_and_its_mail,
    purging_removes_a_comment_moderation_cannot_reach_but_never_an_approved_one,
    an_imported_comment_is_approved_counted_mail_free_and_imported_once,
);

fn comment_ids(list: &[CommentRecord]) -> Vec<&str> {
    list.iter().map(|c| c.id.as_str()).collect()
}

async fn every_comment_is_read_oldest_first_by_post_with_the_expired_on_request(store: Subject) {
    let now = now_ms();
    let (p, other) = (post(), post());
    let old_pending = comment(&p, now - 3_000, CommentStatus::Pending);
    let approved = comment(&p, now - 2_000, CommentStatus::Pending);
    let elsewhere = comment(&other, now - 1_000, CommentStatus::Pending);
    for c in [&approved, &elsewhere, &old_pending] {
        stored(&store, c).await;
    }
    store
        .decide(&approved.id, Decision::Approve, now)
        .await
        .unwrap();
    let live = Expired::Skip { now_ms: now };
    let all = store.all_comments(None, live).await.unwrap();
    assert_eq!(
        comment_ids(&all),
        [&old_pending.id, &approved.id, &elsewhere.id]
    );
    assert_eq!(all[1].status, CommentStatus::Approved);
    let of_p = store.all_comments(Some(&p), live).await.unwrap();
    assert_eq!(comment_ids(&of_p), [&old_pending.id, &approved.id]);
    // Past the pending comments' retention: gone, unless asked for.
    let later = Expired::Skip {
        now_ms: now + PENDING_TTL_MS + 60_000,
    };
    let kept = store.all_comments(Some(&p), later).await.unwrap();
    assert_eq!(comment_ids(&kept), [&approved.id]);
    let every = store
        .all_comments(Some(&p), Expired::Include)
        .await
        .unwrap();
    assert_eq!(comment_ids(&every), [&old_pending.id, &approved.id]);
}

async fn every_contact_message_is_read_oldest_first_with_the_expired_on_request(store: Subject) {
    let now = now_ms();
    let (older, newer) = (contact(now - 2_000), contact(now - 1_000));
    store.put_contact(&newer, 0).await.unwrap();
    store.put_contact(&older, 0).await.unwrap();
    store
        .mark_delivered(&entry(MailKind::Contact, &older.id), now)
        .await
        .unwrap();
    let ids = |list: Vec<ContactRecord>| list.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let live = store
        .all_contacts(Expired::Skip { now_ms: now })
        .await
        .unwrap();
    assert_eq!(ids(live), [older.id.clone(), newer.id.clone()]);
    let later = Expired::Skip {
        now_ms: now + CONTACT_TTL_MS + 60_000,
    };
    assert_eq!(
        ids(store.all_contacts(later).await.unwrap()),
        std::slice::from_ref(&newer.id),
        "the delivered one is past its retention; the undelivered one is kept"
    );
    assert_eq!(
        ids(store.all_contacts(Expired::Include).await.unwrap()),
        [older.id, newer.id]
    );
}

async fn deleting_a_contact_message_removes_it_and_its_mail(store: Subject) {
    let now = now_ms();
    let m = contact(now);
    store.put_contact(&m, 0).await.unwrap();
    let e = entry(MailKind::Contact, &m.id);
    assert!(in_outbox(&store, &e).await);
    assert!(store.delete_contact(&m.id).await.unwrap());
    assert!(
        !store.delete_contact(&m.id).await.unwrap(),
        "a second time: nothing left"
    );
    assert_eq!(store.get_contact(&m.id, now).await.unwrap(), None);
    assert!(
        store
            .all_contacts(Expired::Include)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!in_outbox(&store, &e).await);
    assert_eq!(store.claim(&e, now, now + 60_000).await.unwrap(), None);
}

async fn purging_removes_a_comment_moderation_cannot_reach_but_never_an_approved_one(
    store: Subject,
) {
    let now = now_ms();
    let p = post();
    let pending = comment(&p, now, CommentStatus::Pending);
    let rejected = comment(&p, now + 1, CommentStatus::Pending);
    let approved = comment(&p, now + 2, CommentStatus::Pending);
    for c in [&pending, &rejected, &approved] {
        stored(&store, c).await;
    }
    store
        .decide(&rejected.id, Decision::Reject, now)
        .await
        .unwrap();
    store
        .decide(&approved.id, Decision::Approve, now)
        .await
        .unwrap();
    assert!(store.purge_comment(&pending.id).await.unwrap());
    assert!(store.purge_comment(&rejected.id).await.unwrap());
    assert!(!store.purge_comment(&approved.id).await.unwrap());
    assert!(!store.purge_comment(&new_id()).await.unwrap());
    let left = store
        .all_comments(Some(&p), Expired::Include)
        .await
        .unwrap();
    assert_eq!(comment_ids(&left), [&approved.id]);
    assert_eq!(store.count_approved(&[p]).await.unwrap(), [1]);
    // An approved comment goes only through moderation, with its count.
    assert_eq!(
        store
            .decide(&approved.id, Decision::Delete, now)
            .await
            .unwrap(),
        Decided::Done
    );
}

async fn an_imported_comment_is_approved_counted_mail_free_and_imported_once(store: Subject) {
    let now = now_ms();
    let p = post();
    let c = comment(&p, now - 86_400_000, CommentStatus::Approved);
    assert!(store.import_comment(&c).await.unwrap());
    assert!(
        !store.import_comment(&c).await.unwrap(),
        "the same id again"
    );
    let listed = store.list_approved(&p, None, 10).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&c));
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&p))
            .await
            .unwrap(),
        [1]
    );
    assert!(!in_outbox(&store, &entry(MailKind::Comment, &c.id)).await);
    let pending = comment(&p, now, CommentStatus::Pending);
    assert!(
        store.import_comment(&pending).await.is_err(),
        "only approved comments are imported"
    );
    assert_eq!(store.get_comment(&pending.id, now).await.unwrap(), None);
}
