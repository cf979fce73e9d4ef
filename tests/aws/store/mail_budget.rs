//! `store::MailBudget`: each cap's slots run out at its hourly limit, even
//! under concurrent takers; a returned slot can be taken again, never
//! beyond the limit; a new hour starts afresh.

use rust_aws::domain::MailCap;

use super::*;

conformance!(
    mail_slots_run_out_at_the_hourly_limit_and_renew_the_next_hour,
    a_returned_mail_slot_can_be_taken_again,
    concurrent_takers_never_get_more_slots_than_the_limit,
);

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

async fn concurrent_takers_never_get_more_slots_than_the_limit(store: Subject) {
    let hour = 2_000_000 + now_ms() % 1_000_000;
    let takes = concurrently(12, || {
        let store = store.clone();
        async move {
            store
                .take_mail_slot(MailCap::Visitor, hour, 5)
                .await
                .unwrap()
        }
    })
    .await;
    let granted = takes.into_iter().filter(|&taken| taken).count();
    assert_eq!(
        granted, 5,
        "exactly the limit, however the takes interleave"
    );
}
