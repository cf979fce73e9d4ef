//! One conformance suite for both stores: every rule `cargo run` relies on
//! the memory store keeping is checked against DynamoDB (on moto, through the
//! real SDK) by the same code.
//!
//! One module per capability trait of `rust_aws::store` (and one for the
//! owner's `AdminStore`), holding the rules that trait promises. Each case
//! runs twice, `<trait>::memory::<case>` and `<trait>::dynamodb::<case>`; a
//! DynamoDB case gets a fresh table, so a case sees only its own data.
//! `cargo test --test aws store::comments::` runs one trait's rules on both stores.

use std::future::Future;
use std::sync::Arc;

use rust_aws::config::aws::Sdk;
use rust_aws::domain::ids::{new_id, now_ms};
use rust_aws::domain::{CommentRecord, CommentStatus, ContactRecord, MailKind, OutboxEntry};
use rust_aws::store::AdminStore;
use rust_aws::store::dynamodb::DynamoStore;
use rust_aws::store::memory::MemoryStore;

/// Generates `memory::<case>` and `dynamodb::<case>` in the module it is
/// used in, for each case (an `async fn(Subject)` of that module).
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test]
            async fn $case() {
                super::$case(crate::store::memory()).await;
            })*
        }
        mod dynamodb {
            $(#[tokio::test]
            async fn $case() {
                super::$case(crate::store::dynamodb().await).await;
            })*
        }
    };
}

mod admin;
mod comments;
mod console;
mod contacts;
mod feeds;
mod mail_budget;
mod outbox;
mod rate_limits;
mod spam;
mod subscriptions;

/// A store under test: every capability, the owner's too.
type Subject = Arc<dyn AdminStore>;

fn memory() -> Subject {
    Arc::new(MemoryStore::new())
}

/// DynamoDB as moto plus what moto lacks and the proxy models without
/// injecting anything: writes applied one at a time (moto applies concurrent
/// conditional updates without a lock, so a concurrency rule would fail on
/// moto where DynamoDB keeps it) and transaction tokens.
async fn dynamodb() -> Subject {
    use crate::support::runtime::{create_table, moto_url, sdk};
    let table = format!("conformance-{}", new_id());
    create_table(&table).await;
    let proxy = crate::support::proxy::FaultProxy::start(moto_url()).await;
    let config = sdk().await.into_builder().endpoint_url(&proxy.url).build();
    Arc::new(DynamoStore::new(&Sdk::with_config(config), table))
}

/// Starts `n` calls together, each on a task of its own, and waits for all.
async fn concurrently<T, F>(n: usize, call: impl Fn() -> F) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..n {
        calls.spawn(call());
    }
    calls.join_all().await
}

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
        mailbox: None,
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

fn ids(list: &[CommentRecord]) -> Vec<&str> {
    list.iter().map(|c| c.id.as_str()).collect()
}

/// A comment of about 23 KB when `body` is 5,000 four-byte characters: a
/// 100-character name of them and a 2 KB URL, near the largest the API takes
/// (also the fault tests' comment).
pub(crate) fn big_comment(
    post: &str,
    status: CommentStatus,
    body: String,
    created_ms: u64,
) -> CommentRecord {
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
        mailbox: None,
    }
}

fn now() -> u64 {
    now_ms()
}

/// A pending comment by `email` from source `source` asking for reply
/// notifications (its mailbox key as the function would set it), stored with
/// its moderation mail sent.
async fn asking(store: &Subject, post: &str, email: &str, source: &str, now: u64) -> CommentRecord {
    let mut c = comment(post, now, CommentStatus::Pending);
    c.email = Some(email.to_owned());
    c.notify = true;
    c.mailbox = Some(rust_aws::domain::mailbox(email));
    c.ip_hash = source.to_owned();
    stored(store, &c).await;
    c
}

/// A published comment by `email` asking for notifications, approved at
/// `now`: its subscription is created with the approval.
async fn subscribed(store: &Subject, email: &str, now: u64) -> CommentRecord {
    let c = asking(store, &post(), email, &new_id(), now).await;
    let decided = store
        .decide(&c.id, rust_aws::domain::Decision::Approve, now)
        .await;
    assert_eq!(decided.unwrap(), rust_aws::domain::Decided::Done);
    c
}

async fn in_outbox(store: &Subject, entry: &OutboxEntry) -> bool {
    store
        .list_outbox(1_000)
        .await
        .unwrap()
        .iter()
        .any(|item| &item.entry == entry)
}
