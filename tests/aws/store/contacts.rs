//! `store::Contacts`: a message reads back whole; it is kept until its mail went
//! out, then for the contact retention period.

use rust_aws::domain::{CONTACT_TTL_MS, DAY_MS};

use super::*;

conformance!(
    a_contact_message_expires_ninety_days_after_delivery_and_never_before,
    a_contact_message_reads_back_whole_and_an_unknown_id_is_absent,
);

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

async fn a_contact_message_reads_back_whole_and_an_unknown_id_is_absent(store: Subject) {
    let now = now_ms();
    let mut m = contact(now);
    m.subject = None;
    m.message = "Line one\nline two, ünïcödé 🦀".to_owned();
    store.put_contact(&m, now).await.unwrap();
    assert_eq!(store.get_contact(&m.id, now).await.unwrap(), Some(m));
    assert_eq!(store.get_contact(&new_id(), now).await.unwrap(), None);
}
