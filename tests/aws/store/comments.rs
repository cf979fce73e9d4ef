//! `store::Comments`: statuses and the moderation state machine (conflicts,
//! replies only under a published parent), the approved list (order,
//! resuming, full pages whatever the items' sizes) and counts, and each
//! status's expiry.

use rust_aws::domain::{DAY_MS, Decided, Decision, PENDING_TTL_MS, REJECTED_TTL_MS};

use super::*;

conformance!(
    a_new_comment_reads_back_whole_and_is_not_listed_until_approved,
    approving_lists_and_counts_a_comment_once,
    rejecting_an_approved_comment_unlists_it_and_expires_it_after_seven_days,
    deleting_removes_at_once_and_a_second_delete_is_a_conflict,
    lists_are_oldest_first_and_resume_after_a_position,
    counts_come_back_in_the_order_asked_with_zero_for_unknown_posts,
    a_pending_comment_never_expires_before_its_mail_went_out,
    pages_are_full_whatever_the_items_sizes,
    a_reply_is_published_only_under_a_published_parent,
    deciding_an_unknown_comment_is_a_conflict,
    approving_a_rejected_comment_lists_counts_and_keeps_it,
);

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

/// ~23 KB per comment: a 5,000-character body and 100-character name of
/// four-byte characters and a 2 KB URL, near the largest comment the API
/// accepts. 60 of them are ~1.4 MB, past the 1 MB at which DynamoDB ends a
/// Query page.
async fn pages_are_full_whatever_the_items_sizes(store: Subject) {
    let post = format!("/big/{}/", rust_aws::domain::ids::new_id());
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

async fn a_reply_is_published_only_under_a_published_parent(store: Subject) {
    let post = format!("/replies/{}/", rust_aws::domain::ids::new_id());
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

async fn deciding_an_unknown_comment_is_a_conflict(store: Subject) {
    let now = now_ms();
    for decision in [Decision::Approve, Decision::Reject, Decision::Delete] {
        assert_eq!(
            store.decide(&new_id(), decision, now).await.unwrap(),
            Decided::Conflict,
            "{decision:?}"
        );
    }
}

async fn approving_a_rejected_comment_lists_counts_and_keeps_it(store: Subject) {
    let now = now_ms();
    let c = comment(&post(), now, CommentStatus::Pending);
    stored(&store, &c).await;
    assert_eq!(
        store.decide(&c.id, Decision::Reject, now).await.unwrap(),
        Decided::Done
    );
    assert_eq!(
        store.decide(&c.id, Decision::Reject, now).await.unwrap(),
        Decided::Conflict
    );
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now).await.unwrap(),
        Decided::Done
    );
    assert_eq!(
        ids(&store.list_approved(&c.post, None, 10).await.unwrap()),
        [c.id.as_str()]
    );
    assert_eq!(
        store
            .count_approved(std::slice::from_ref(&c.post))
            .await
            .unwrap(),
        [1]
    );
    // Approval ends the rejection's expiry.
    let later = now + REJECTED_TTL_MS + 60_000;
    assert_eq!(
        store
            .get_comment(&c.id, later)
            .await
            .unwrap()
            .map(|c| c.status),
        Some(CommentStatus::Approved)
    );
}
