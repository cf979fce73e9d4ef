//! DynamoDB's own failure modes, which the conformance suite (tests/aws/store/)
//! cannot show: moto's 1 MB Query pages, and what moto cannot produce at all
//! (transaction conflicts, throttling, lost answers, SES refusals), injected
//! by the fault proxy between the SDK and moto.

use crate::store::big_comment as comment;
use crate::support::proxy::{Fault, FaultProxy};
use crate::support::runtime::{create_table, moto_url, sdk};
use rust_aws::domain::{CommentRecord, CommentStatus, ContactRecord, Decided, Decision};
use rust_aws::store::dynamodb::DynamoStore;
use rust_aws::store::{Comments, Contacts};

fn now() -> u64 {
    rust_aws::domain::ids::now_ms()
}

async fn dynamo_at(endpoint: &str) -> DynamoStore {
    let table = format!("rust-aws-store-{}", rust_aws::domain::ids::new_id());
    create_table(&table).await;
    let config = sdk().await.into_builder().endpoint_url(endpoint).build();
    // The SDK settings the function uses (timeouts, two attempts).
    let config = config
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_millis(1500))
                .operation_timeout(std::time::Duration::from_millis(3000))
                .build(),
        )
        .build();
    DynamoStore::new(&rust_aws::config::aws::Sdk::with_config(config), table)
}

fn contact(created_ms: u64) -> ContactRecord {
    ContactRecord {
        id: rust_aws::domain::ids::new_id(),
        name: "Ann".into(),
        email: "ann@example.org".into(),
        subject: None,
        message: "Hello".into(),
        created_ms,
        ip_hash: "00".repeat(16),
        delivered: false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_ends_a_query_page_at_1_mb_as_dynamodb_does() {
    // Without this the test above could pass on one page.
    use aws_sdk_dynamodb::types::AttributeValue;
    let store = dynamo_at(moto_url()).await;
    let post = format!("/big/{}/", rust_aws::domain::ids::new_id());
    for i in 0..60u64 {
        let c = comment(&post, CommentStatus::Approved, "𝄞".repeat(5_000), now() + i);
        store.put_comment(&c, 0).await.unwrap();
    }
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    let out = client
        .query()
        .table_name(store.table())
        .index_name("by_post")
        .key_condition_expression("list_pk = :p")
        .expression_attribute_values(":p", AttributeValue::S(rust_aws::store::post_key(&post)))
        .limit(101)
        .send()
        .await
        .unwrap();
    assert!(out.count() < 60, "one page held {} items", out.count());
    assert!(out.last_evaluated_key().is_some());
}

// ---- DynamoDB's own failure modes, through the fault proxy ------------------------

async fn proxied() -> (FaultProxy, DynamoStore) {
    let proxy = FaultProxy::start(moto_url()).await;
    let store = dynamo_at(&proxy.url).await;
    (proxy, store)
}

async fn pending_comment(store: &DynamoStore, post: &str) -> CommentRecord {
    let c = comment(post, CommentStatus::Pending, "hello".into(), now());
    store.put_comment(&c, 0).await.unwrap();
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_conflict_is_retried_and_the_decision_applied() {
    let (proxy, store) = proxied().await;
    let post = format!("/tx/{}/", rust_aws::domain::ids::new_id());
    let c = pending_comment(&store, &post).await;
    proxy.inject("TransactWriteItems", Fault::TransactionConflict, 2);
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now()).await.unwrap(),
        Decided::Done
    );
    assert_eq!(proxy.calls("TransactWriteItems"), 3);
    assert_eq!(store.count_approved(&[post]).await.unwrap(), vec![1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conflict_that_persists_is_unavailable_never_already_decided() {
    let (proxy, store) = proxied().await;
    let post = format!("/tx/{}/", rust_aws::domain::ids::new_id());
    let c = pending_comment(&store, &post).await;
    proxy.inject("TransactWriteItems", Fault::TransactionConflict, 50);
    let result = store.decide(&c.id, Decision::Approve, now()).await;
    assert!(result.is_err(), "{result:?}");
    proxy.calm();
    // Nothing changed: the decision can still be made.
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now()).await.unwrap(),
        Decided::Done
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn throttled_writes_are_retried() {
    let (proxy, store) = proxied().await;
    let post = format!("/tx/{}/", rust_aws::domain::ids::new_id());
    let c = pending_comment(&store, &post).await;
    proxy.inject("TransactWriteItems", Fault::Throttle, 1);
    proxy.inject("TransactWriteItems", Fault::ProvisionedThroughput, 1);
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now()).await.unwrap(),
        Decided::Done
    );
    assert_eq!(store.count_approved(&[post]).await.unwrap(), vec![1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn unprocessed_count_keys_are_asked_again_after_a_growing_pause() {
    let (proxy, store) = proxied().await;
    let post = format!("/count/{}/", rust_aws::domain::ids::new_id());
    let c = pending_comment(&store, &post).await;
    store.decide(&c.id, Decision::Approve, now()).await.unwrap();
    proxy.inject("BatchGetItem", Fault::Unprocessed, 3);
    let started = std::time::Instant::now();
    let counts = store.count_approved(&[post]).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(counts, vec![1]);
    assert_eq!(proxy.calls("BatchGetItem"), 4);
    // Three pauses, each at least half of its doubling ceiling (50, 100,
    // 200 ms): asked again at once, the table would still be at its limit.
    assert!(
        waited >= std::time::Duration::from_millis(175),
        "asked again after {waited:?} in all"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_approvals_on_one_post_at_once_both_apply() {
    // They share the post's COUNT item: DynamoDB cancels one with
    // TransactionConflict (injected here), which must be retried.
    let (proxy, store) = proxied().await;
    let post = format!("/tx/{}/", rust_aws::domain::ids::new_id());
    let a = pending_comment(&store, &post).await;
    let b = pending_comment(&store, &post).await;
    proxy.inject("TransactWriteItems", Fault::TransactionConflict, 1);
    let (ra, rb) = tokio::join!(
        store.decide(&a.id, Decision::Approve, now()),
        store.decide(&b.id, Decision::Approve, now())
    );
    assert_eq!((ra.unwrap(), rb.unwrap()), (Decided::Done, Decided::Done));
    assert_eq!(store.count_approved(&[post]).await.unwrap(), vec![2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_whose_answer_was_lost_is_stored_once_and_not_an_error() {
    let (proxy, store) = proxied().await;
    let c = contact(now());
    proxy.inject("PutItem", Fault::ResetAfterApply, 1);
    store.put_contact(&c, 0).await.unwrap();
    assert_eq!(proxy.calls("PutItem"), 2, "the SDK retried the lost answer");
    assert!(store.get_contact(&c.id, now()).await.unwrap().is_some());

    // The same for a published comment, whose count must move once.
    let post = format!("/lost/{}/", rust_aws::domain::ids::new_id());
    let approved = comment(&post, CommentStatus::Approved, "hi".into(), now());
    proxy.inject("TransactWriteItems", Fault::ResetAfterApply, 1);
    store.put_comment(&approved, 0).await.unwrap();
    assert_eq!(store.count_approved(&[post]).await.unwrap(), vec![1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_applied_but_unanswered_and_then_throttled_is_done_not_already_decided() {
    // The SDK's two attempts: the first applied with its answer lost, the
    // second throttled. Our retry keeps the token, so DynamoDB (here the
    // proxy, for moto) answers it with the first attempt's success.
    let (proxy, store) = proxied().await;
    let post = format!("/tx/{}/", rust_aws::domain::ids::new_id());
    let c = pending_comment(&store, &post).await;
    proxy.inject("TransactWriteItems", Fault::ResetAfterApply, 1);
    proxy.inject("TransactWriteItems", Fault::Throttle, 1);
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now()).await.unwrap(),
        Decided::Done
    );
    assert_eq!(store.count_approved(&[post]).await.unwrap(), vec![1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_still_in_progress_when_its_retry_meets_a_conflict_is_never_already_decided() {
    // The SDK's first attempt is slower than its attempt timeout and is
    // applied after the client gave up; its retry (same token) arrives while
    // the first is still in progress. DynamoDB answers that retry
    // `TransactionInProgressException`, not a conflict that would make us
    // draw a new token and then read our own write as someone else's.
    let (proxy, store) = proxied().await;
    let post = format!("/tx/{}/", rust_aws::domain::ids::new_id());
    let c = pending_comment(&store, &post).await;
    proxy.inject("TransactWriteItems", Fault::Delay(2_000), 1);
    proxy.inject("TransactWriteItems", Fault::TransactionConflict, 1);
    let result = store.decide(&c.id, Decision::Approve, now()).await;
    assert!(
        matches!(result, Ok(Decided::Done) | Err(_)),
        "applied by its own first attempt, so done or unavailable: {result:?}"
    );
    proxy.calm();
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(store.count_approved(&[post]).await.unwrap(), vec![1]);
    assert_eq!(
        store.decide(&c.id, Decision::Approve, now()).await.unwrap(),
        Decided::Conflict,
        "applied once: a second approval is the one that is already decided"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_keeps_failing_is_an_error_in_bounded_time() {
    let (proxy, store) = proxied().await;
    proxy.inject("*", Fault::ServerError, 1_000);
    let started = std::time::Instant::now();
    assert!(store.get_contact("x", now()).await.is_err());
    assert!(store.put_contact(&contact(now()), 0).await.is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ses_refusal_is_reported_by_its_code_without_the_addresses_in_its_text() {
    use rust_aws::mail::{Mail, Mailer};
    let proxy = FaultProxy::start(moto_url()).await;
    let config = sdk().await.into_builder().endpoint_url(&proxy.url).build();
    let mailer =
        rust_aws::mail::ses::SesMailer::new(&rust_aws::config::aws::Sdk::with_config(config));
    proxy.inject("SendEmail", Fault::MessageRejected, 1);
    let mail = Mail {
        from_name: "Blog".into(),
        from: "noreply@example.com".into(),
        to: "owner@example.com".into(),
        reply_to: None,
        subject: "s".into(),
        text: "t".into(),
        list_unsubscribe: None,
    };
    let err = mailer.send(&mail).await.unwrap_err();
    assert_eq!(err.class(), "SES MessageRejected");
    assert!(!err.to_string().contains('@'));
    // The SDK's error is kept as the cause, for a debugger, not for the log.
    assert!(std::error::Error::source(&err).is_some());
}
