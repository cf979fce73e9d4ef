//! `store::Feeds`: the latest approved comments, newest first, of a post or
//! of the whole site; only while approved; whole pages whatever the items'
//! sizes.

use rust_aws::domain::Decision;

use super::*;

conformance!(
    a_posts_latest_are_its_approved_comments_newest_first,
    the_sites_latest_span_every_post_and_only_while_approved,
    imported_comments_are_in_the_feeds,
    a_feed_is_whole_whatever_the_items_sizes,
);

async fn a_posts_latest_are_its_approved_comments_newest_first(store: Subject) {
    let now = now_ms();
    let (p, other) = (post(), post());
    let old = comment(&p, now - 3, CommentStatus::Approved);
    let elsewhere = comment(&other, now - 2, CommentStatus::Approved);
    let new = comment(&p, now - 1, CommentStatus::Approved);
    let pending = comment(&p, now, CommentStatus::Pending);
    for c in [&old, &elsewhere, &new, &pending] {
        stored(&store, c).await;
    }
    let latest = store.latest_approved(Some(&p), 50).await.unwrap();
    assert_eq!(ids(&latest), [new.id.as_str(), old.id.as_str()]);
    assert_eq!(latest[0], new, "read back whole");
    let one = store.latest_approved(Some(&p), 1).await.unwrap();
    assert_eq!(ids(&one), [new.id.as_str()]);
    assert!(
        store
            .latest_approved(Some("/never/"), 50)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_sites_latest_span_every_post_and_only_while_approved(store: Subject) {
    let now = now_ms();
    let (a, b) = (post(), post());
    let first = comment(&a, now - 40, CommentStatus::Approved);
    let second = comment(&b, now - 30, CommentStatus::Approved);
    let rejected = comment(&a, now - 20, CommentStatus::Approved);
    let approved_later = comment(&b, now - 10, CommentStatus::Pending);
    for c in [&first, &second, &rejected, &approved_later] {
        stored(&store, c).await;
    }
    assert!(store.latest_approved(None, 50).await.unwrap().len() == 3);
    store
        .decide(&rejected.id, Decision::Reject, now)
        .await
        .unwrap();
    store
        .decide(&approved_later.id, Decision::Approve, now)
        .await
        .unwrap();
    let latest = store.latest_approved(None, 50).await.unwrap();
    assert_eq!(
        ids(&latest),
        [
            approved_later.id.as_str(),
            second.id.as_str(),
            first.id.as_str()
        ]
    );
    store
        .decide(&second.id, Decision::Delete, now)
        .await
        .unwrap();
    let latest = store.latest_approved(None, 2).await.unwrap();
    assert_eq!(
        ids(&latest),
        [approved_later.id.as_str(), first.id.as_str()]
    );
    // A rejected comment approved again is back in its place by time.
    store
        .decide(&rejected.id, Decision::Approve, now)
        .await
        .unwrap();
    let latest = store.latest_approved(None, 50).await.unwrap();
    assert_eq!(
        ids(&latest),
        [
            approved_later.id.as_str(),
            rejected.id.as_str(),
            first.id.as_str()
        ]
    );
}

async fn imported_comments_are_in_the_feeds(store: Subject) {
    let now = now_ms();
    let p = post();
    let imported = comment(&p, now - 1000, CommentStatus::Approved);
    assert!(store.import_comment(&imported).await.unwrap());
    assert_eq!(
        ids(&store.latest_approved(None, 50).await.unwrap()),
        [imported.id.as_str()]
    );
    assert_eq!(
        ids(&store.latest_approved(Some(&p), 50).await.unwrap()),
        [imported.id.as_str()]
    );
}

/// 60 comments of about 23 KB are 1.4 MB: DynamoDB ends a Query page at
/// 1 MB, and the store keeps reading until the feed holds its 50.
async fn a_feed_is_whole_whatever_the_items_sizes(store: Subject) {
    let now = now_ms();
    let p = post();
    let body = "𝄞".repeat(5000);
    let mut all = Vec::new();
    for i in 0..60 {
        let c = big_comment(&p, CommentStatus::Approved, body.clone(), now - 100 + i);
        stored(&store, &c).await;
        all.push(c.id);
    }
    all.reverse();
    for post in [Some(p.as_str()), None] {
        let latest = store.latest_approved(post, 50).await.unwrap();
        assert_eq!(
            ids(&latest),
            all[..50].iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
}

/// A table written before the `by_status` index existed: its approved
/// comments have no index keys until `rust-aws reindex`
/// (`ConsoleIndex::reindex_comments`) gives them theirs, once, and never to
/// one decided otherwise since; the site-wide feed then lists them.
#[tokio::test]
async fn reindexing_puts_comments_approved_before_the_feed_index_in_the_site_feed() {
    use aws_sdk_dynamodb::types::AttributeValue;

    use crate::support::runtime::{create_table, sdk};
    let table = format!("feed-reindex-{}", new_id());
    create_table(&table).await;
    let config = sdk().await;
    let store: Subject = Arc::new(DynamoStore::new(
        &Sdk::with_config(config.clone()),
        table.clone(),
    ));
    let raw = aws_sdk_dynamodb::Client::new(&config);
    let now = now_ms();
    let (old, rejected) = (
        comment(&post(), now - 20, CommentStatus::Approved),
        comment(&post(), now - 10, CommentStatus::Approved),
    );
    for c in [&old, &rejected] {
        store.put_comment(c, c.created_ms).await.unwrap();
        raw.update_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(format!("COMMENT#{}", c.id)))
            .key("sk", AttributeValue::S("COMMENT".into()))
            .update_expression("REMOVE status_pk, status_sk")
            .send()
            .await
            .unwrap();
    }
    store
        .decide(&rejected.id, Decision::Reject, now)
        .await
        .unwrap();
    assert!(store.latest_approved(None, 50).await.unwrap().is_empty());

    assert_eq!(store.reindex_comments(now).await.unwrap(), 1);
    assert_eq!(
        ids(&store.latest_approved(None, 50).await.unwrap()),
        [old.id.as_str()]
    );
    assert_eq!(
        store.reindex_comments(now).await.unwrap(),
        0,
        "a second run finds none"
    );
}
