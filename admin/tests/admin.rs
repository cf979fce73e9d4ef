//! The owner's `rust-aws` command, run as a process against DynamoDB on moto
//! through the real SDK, plus the admin store operations held to the same
//! results on the memory store and on DynamoDB.
//!
//! `cargo test -p rust-aws-admin --test admin` (moto: `make test` installs it).
#![allow(clippy::unwrap_used)]

/// The root package's moto harness (tests/support/runtime.rs), shared with
/// its `aws` tests; this binary uses only moto and table creation.
#[path = "../../tests/support"]
mod support {
    #[allow(dead_code)]
    pub mod runtime;
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::runtime::{REGION, create_table, moto_url, sdk};
use rust_aws::config::aws::Sdk;
use rust_aws::domain::{
    CommentRecord, CommentStatus, ContactRecord, Decision, MailCap, MailKind, OutboxEntry,
};
use rust_aws::store::dynamodb::DynamoStore;
use rust_aws::store::memory::MemoryStore;
use rust_aws::store::{AdminStore, Comments, Contacts, Expired, Outbox, Subscriptions};
use rust_aws_admin::ops;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", rust_aws::domain::ids::new_id())
}

/// Runs `rust-aws ARGS` against moto with nothing from the caller's AWS setup.
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rust-aws"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

/// `rust-aws --table TABLE ARGS`, expected to succeed: its stdout.
fn ok(table: &str, args: &[&str]) -> String {
    let mut all = vec!["--table", table];
    all.extend_from_slice(args);
    let out = run(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "rust-aws {all:?}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(table: &str, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(table, &all)).unwrap()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn dynamo(table: &str) -> DynamoStore {
    DynamoStore::new(&Sdk::with_config(sdk().await), table.to_owned())
}

async fn new_table() -> (String, DynamoStore) {
    let table = unique("admin");
    create_table(&table).await;
    let store = dynamo(&table).await;
    (table, store)
}

async fn count(store: &dyn AdminStore, post: &str) -> u64 {
    store.count_approved(&[post.to_owned()]).await.unwrap()[0]
}

fn comment(id: &str, post: &str, email: Option<&str>, status: CommentStatus) -> CommentRecord {
    CommentRecord {
        id: id.to_owned(),
        post: post.to_owned(),
        parent: None,
        name: format!("Reader {id}"),
        email: email.map(str::to_owned),
        url: None,
        body: format!("Body of {id}\nsecond line"),
        created_ms: rust_aws::domain::ids::now_ms() - 3_600_000,
        status,
        ip_hash: "hash".to_owned(),
        links_base: "https://api.example.org".to_owned(),
        notify: false,
        mailbox: None,
    }
}

fn contact(id: &str, email: &str) -> ContactRecord {
    ContactRecord {
        id: id.to_owned(),
        name: "Visitor".to_owned(),
        email: email.to_owned(),
        subject: Some("Hello".to_owned()),
        message: "A message".to_owned(),
        created_ms: rust_aws::domain::ids::now_ms() - 1000,
        ip_hash: "hash".to_owned(),
        delivered: false,
    }
}

fn id(n: u8) -> String {
    format!("{n:032x}")
}

// ---- moderation --------------------------------------------------------

#[tokio::test]
async fn reindex_puts_nothing_twice_and_says_how_many() {
    let (table, store) = new_table().await;
    let c = comment(&id(1), "/reindex/", None, CommentStatus::Pending);
    store.put_comment(&c, 0).await.unwrap();
    // Written by this version: already in the console's index.
    assert_eq!(
        json(&table, &["reindex"]),
        serde_json::json!({"reindexed": 0})
    );
    assert!(ok(&table, &["reindex"]).contains("Put 0 comment(s)"));
}

#[tokio::test]
async fn approving_from_the_command_records_the_mails_the_approval_implies() {
    let (table, store) = new_table().await;
    let post = "/2026/11/mail/";
    let mut asks = comment(&id(1), post, Some("a@example.org"), CommentStatus::Pending);
    asks.notify = true;
    asks.mailbox = Some(rust_aws::domain::mailbox("a@example.org"));
    let plain = comment(&id(2), post, Some("b@example.org"), CommentStatus::Pending);
    store.put_comment(&asks, 0).await.unwrap();
    store.put_comment(&plain, 0).await.unwrap();
    for c in [&asks, &plain] {
        let moderation = OutboxEntry {
            kind: MailKind::Comment,
            id: c.id.clone(),
        };
        let sent = rust_aws::domain::ids::now_ms();
        store.mark_delivered(&moderation, sent).await.unwrap();
    }

    let out = run(&["--table", &table, "approve", &id(1), &id(2)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let queued: Vec<&str> = stderr.lines().filter(|l| l.contains("is queued")).collect();
    assert_eq!(queued.len(), 1, "{stderr}");
    assert!(queued[0].contains(&id(1)), "{stderr}");
    // Recorded with the decision, for the function's redelivery to send.
    let confirm = OutboxEntry {
        kind: MailKind::Confirm,
        id: id(1),
    };
    let now = rust_aws::domain::ids::now_ms();
    assert_eq!(
        store.due_outbox(MailCap::Visitor, now, 10).await.unwrap(),
        vec![confirm]
    );
    assert!(store.get_subscription(&id(1), now).await.unwrap().is_some());

    let mut reply = comment(&id(3), post, None, CommentStatus::Pending);
    reply.parent = Some(id(2));
    store.put_comment(&reply, 0).await.unwrap();
    let outcome = json(&table, &["approve", &id(3)]);
    assert_eq!(outcome[0]["mail_queued"], true, "{outcome}");
}

#[tokio::test]
async fn pending_lists_the_queue_oldest_first_and_approve_publishes_and_counts() {
    let (table, store) = new_table().await;
    let post = "/2026/11/queue/";
    let mut older = comment(&id(1), post, Some("a@example.org"), CommentStatus::Pending);
    older.created_ms -= 86_400_000;
    let newer = comment(&id(2), post, None, CommentStatus::Pending);
    store.put_comment(&newer, 0).await.unwrap();
    store.put_comment(&older, 0).await.unwrap();

    let text = ok(&table, &["pending"]);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].starts_with(&id(1)) && rows[0].contains(post) && rows[0].contains("1d"));
    assert!(
        rows[0].ends_with("Body of 00000000000000000000000000000001"),
        "first line only: {text}"
    );
    let queue = json(&table, &["pending"]);
    assert_eq!(queue.as_array().unwrap().len(), 2);

    assert_eq!(
        ok(&table, &["approve", &id(1)]).trim(),
        format!("{}: approved", id(1))
    );
    assert_eq!(count(&store, post).await, 1);
    let listed = store.list_approved(post, None, 10).await.unwrap();
    assert_eq!(
        listed.len(),
        1,
        "the listing index sees it, as after a mailed link"
    );
    assert_eq!(json(&table, &["pending"]).as_array().unwrap().len(), 1);

    let again = run(&["--table", &table, "approve", &id(1)]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "approving twice is a conflict"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("approved already"));

    ok(&table, &["reject", &id(1)]);
    assert_eq!(
        count(&store, post).await,
        0,
        "unpublishing takes it out of the count"
    );
    ok(&table, &["delete", &id(1), &id(2)]);
    assert!(
        store
            .get_comment(&id(2), rust_aws::domain::ids::now_ms())
            .await
            .unwrap()
            .is_none()
    );
    let missing = run(&["--table", &table, "delete", &id(9)]);
    assert_eq!(missing.status.code(), Some(1));
}

#[tokio::test]
async fn reindex_puts_comments_approved_before_the_feed_index_in_the_site_feed() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use rust_aws::store::Feeds;
    let (table, store) = new_table().await;
    let post = unique("/reindex/");
    for n in [1, 2] {
        let c = comment(&id(n), &post, None, CommentStatus::Approved);
        assert!(store.import_comment(&c).await.unwrap());
    }
    // As a table written before the index: no index keys on the first.
    aws_sdk_dynamodb::Client::new(&sdk().await)
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(format!("COMMENT#{}", id(1))))
        .key("sk", AttributeValue::S("COMMENT".into()))
        .update_expression("REMOVE status_pk, status_sk")
        .send()
        .await
        .unwrap();
    assert_eq!(store.latest_approved(None, 50).await.unwrap().len(), 1);

    assert_eq!(json(&table, &["reindex"])["reindexed"], 1);
    assert_eq!(store.latest_approved(None, 50).await.unwrap().len(), 2);
    assert!(ok(&table, &["reindex"]).contains("Put 0 comment(s)"));
}

#[tokio::test]
async fn show_prints_every_field_but_the_ip_hash() {
    let (table, store) = new_table().await;
    let mut c = comment(
        &id(3),
        "/show/",
        Some("Show@Example.org"),
        CommentStatus::Pending,
    );
    c.url = Some("https://show.example.org/".into());
    store.put_comment(&c, 0).await.unwrap();
    let text = ok(&table, &["show", &id(3)]);
    for needle in [
        "/show/",
        "Show@Example.org",
        "https://show.example.org/",
        "pending",
        "second line",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    let shown = json(&table, &["show", &id(3)]);
    assert_eq!(shown["email"], "Show@Example.org");
    assert!(shown.get("ip_hash").is_none());
    assert_eq!(
        run(&["--table", &table, "show", &id(4)]).status.code(),
        Some(1)
    );
}

// ---- import ------------------------------------------------------------

#[tokio::test]
async fn disqus_import_keeps_threads_and_is_idempotent() {
    let (table, store) = new_table().await;
    let file = fixture("disqus.xml");
    let dry = json(
        &table,
        &[
            "import",
            "--from",
            "disqus",
            file.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert_eq!(
        (dry["imported"].as_u64(), dry["dry_run"].as_bool()),
        (Some(4), Some(true))
    );
    assert_eq!(ok(&table, &["export"]), "", "a dry run writes nothing");

    let report = json(
        &table,
        &["import", "--from", "disqus", file.to_str().unwrap()],
    );
    assert_eq!(report["read"], 6);
    assert_eq!(report["imported"], 4);
    let reasons: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["marked as spam in Disqus", "deleted in Disqus"]);

    let post = "/2026/11/rust-on-lambda/";
    assert_eq!(count(&store, post).await, 3);
    assert_eq!(
        count(&store, "/2026/10/nix-builds/").await,
        1,
        "query string dropped"
    );
    let listed = store.list_approved(post, None, 10).await.unwrap();
    let top = &listed[0];
    assert_eq!(top.name, "Mira Quill");
    assert_eq!(top.email.as_deref(), Some("Mira.Quill@Example.net"));
    assert_eq!(
        top.body,
        "Great write-up \u{2014} the cold start numbers surprised me.\n\nWhich memory size did you use?"
    );
    assert_eq!(
        rust_aws::domain::ids::rfc3339(top.created_ms),
        "2025-11-02T10:00:00.000Z"
    );
    assert_eq!(top.parent, None);
    assert!(
        listed[1..]
            .iter()
            .all(|c| c.parent.as_deref() == Some(top.id.as_str())),
        "a reply to a reply hangs under the top-level comment"
    );

    let second = json(
        &table,
        &["import", "--from", "disqus", file.to_str().unwrap()],
    );
    assert_eq!(
        (
            second["imported"].as_u64(),
            second["already_present"].as_u64()
        ),
        (Some(0), Some(4))
    );
    assert_eq!(count(&store, post).await, 3, "a second run adds nothing");
}

#[tokio::test]
async fn wordpress_import_keeps_authors_urls_and_paragraphs() {
    let (table, store) = new_table().await;
    let file = fixture("wordpress.xml");
    let text = ok(
        &table,
        &["import", "--from", "wordpress", file.to_str().unwrap()],
    );
    assert!(text.contains("imported 5"), "{text}");
    assert!(
        text.contains("a pingback, not a comment")
            && text.contains("waiting for moderation in WordPress"),
        "{text}"
    );
    let listed = store
        .list_approved("/2024/03/hello-world/", None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].url.as_deref(), Some("https://ines.example.org/"));
    assert_eq!(
        listed[0].body,
        "Congratulations on the new blog!\nLooking forward to more.\n\nP.S. the RSS feed works."
    );
    assert_eq!(
        rust_aws::domain::ids::rfc3339(listed[0].created_ms),
        "2024-03-01T10:00:00.000Z",
        "the GMT date"
    );
    assert_eq!(listed[1].parent.as_deref(), Some(listed[0].id.as_str()));
    assert_eq!(count(&store, "/about/").await, 1);
    assert_eq!(
        store.list_approved("/about/", None, 1).await.unwrap()[0].body,
        "Nice & short page."
    );
}

#[tokio::test]
async fn wordpress_import_keeps_plain_permalinks_apart_and_link_targets() {
    let (table, store) = new_table().await;
    let file = fixture("wordpress.xml");
    ok(
        &table,
        &["import", "--from", "wordpress", file.to_str().unwrap()],
    );
    assert_eq!(count(&store, "/?p=123").await, 1);
    assert_eq!(count(&store, "/?page_id=7").await, 1);
    assert_eq!(
        count(&store, "/").await,
        0,
        "not collapsed onto the home page"
    );
    let listed = store.list_approved("/?p=123", None, 1).await.unwrap();
    assert_eq!(
        listed[0].body,
        "The guide is at https://docs.example.net/guide/chapter-3/section-2 and my notes are here (https://tomas.example.net/notes)."
    );
}

#[tokio::test]
async fn isso_import_reads_the_sqlite_database() {
    let (table, store) = new_table().await;
    let db = std::env::temp_dir().join(format!("{}.db", unique("isso")));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&std::fs::read_to_string(fixture("isso.sql")).unwrap())
        .unwrap();
    drop(conn);
    let report = json(&table, &["import", "--from", "isso", db.to_str().unwrap()]);
    std::fs::remove_file(&db).unwrap();
    assert_eq!(report["imported"], 4, "{report}");
    assert_eq!(
        report["skipped"].as_array().unwrap().len(),
        2,
        "pending and deleted"
    );

    let listed = store
        .list_approved("/2025/06/static-sites/", None, 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[1].name, "Anonymous");
    assert_eq!(
        listed[0].body, "Static sites are **back**.",
        "Isso's text is kept as typed"
    );
    assert_eq!(listed[0].created_ms, 1_750_000_000_500);
    assert_eq!(listed[2].parent.as_deref(), Some(listed[0].id.as_str()));
    let orphan = &store
        .list_approved("/2025/07/comments/", None, 10)
        .await
        .unwrap()[0];
    assert_eq!(orphan.parent, None, "its parent was deleted in Isso");
    assert_eq!(orphan.url, None, "an ftp website is dropped");
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["reason"].as_str().unwrap().contains("website dropped")),
        "{report}"
    );
}

/// Imports `file` the way every importer is held to: a dry run that counts
/// `expected` and writes nothing, the import, and a second run that adds
/// nothing. The import's report.
fn import_dry_then_twice(table: &str, format: &str, file: &Path, expected: u64) -> Value {
    let file = file.to_str().unwrap();
    let dry = json(table, &["import", "--from", format, file, "--dry-run"]);
    assert_eq!(
        (dry["imported"].as_u64(), dry["dry_run"].as_bool()),
        (Some(expected), Some(true)),
        "{dry}"
    );
    assert_eq!(ok(table, &["export"]), "", "a dry run writes nothing");
    let report = json(table, &["import", "--from", format, file]);
    assert_eq!(report["imported"].as_u64(), Some(expected), "{report}");
    let second = json(table, &["import", "--from", format, file]);
    assert_eq!(
        (
            second["imported"].as_u64(),
            second["already_present"].as_u64()
        ),
        (Some(0), Some(expected)),
        "a second run adds nothing: {second}"
    );
    report
}

fn skip_reasons(report: &Value) -> Vec<&str> {
    report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect()
}

/// `rust-aws import --from FORMAT FILE` refused: its stderr.
fn refused(table: &str, format: &str, file: &Path) -> String {
    let out = run(&[
        "--table",
        table,
        "import",
        "--from",
        format,
        file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "a refusal, not a crash: {err}");
    assert!(err.contains("nothing imported"), "{err}");
    err
}

fn gzipped(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A file of `bytes` in the temporary directory, named for the test.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(unique(name));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The first `keep` bytes of a fixture in a temporary file: a download cut short.
fn cut_fixture(name: &str, keep: impl FnOnce(usize) -> usize) -> PathBuf {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let keep = keep(bytes.len());
    temp_file(&format!("cut-{name}"), &bytes[..keep])
}

const RUST_POST: &str = "/2026/11/rust-on-lambda/";

#[tokio::test]
async fn cusdis_import_reads_the_database_and_the_postgresql_tables_alike() {
    let (table, store) = new_table().await;
    let db = std::env::temp_dir().join(format!("{}.db", unique("cusdis")));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(&std::fs::read_to_string(fixture("cusdis.sql")).unwrap())
        .unwrap();
    drop(conn);
    let report = import_dry_then_twice(&table, "cusdis", &db, 5);
    std::fs::remove_file(&db).unwrap();
    assert_eq!(
        skip_reasons(&report),
        ["not approved in Cusdis", "deleted in Cusdis"]
    );

    assert_eq!(count(&store, RUST_POST).await, 4, "query string dropped");
    assert_eq!(count(&store, "/?p=123").await, 1, "a plain permalink kept");
    let listed = store.list_approved(RUST_POST, None, 10).await.unwrap();
    let top = &listed[0];
    assert_eq!(
        (top.name.as_str(), top.email.as_deref()),
        ("Mira Quill", Some("mira@example.org"))
    );
    assert_eq!(
        top.body,
        "Great write-up & thanks!\nSee https://docs.example.com/lambda/cold-starts for more."
    );
    assert_eq!(
        rust_aws::domain::ids::rfc3339(top.created_ms),
        "2025-11-02T10:00:00.000Z"
    );
    assert_eq!(top.parent, None);
    assert_eq!(
        listed[1].body, "Thanks <Mira>, glad it helped.",
        "Cusdis showed its text as typed"
    );
    assert!(
        listed[1..3]
            .iter()
            .all(|c| c.parent.as_deref() == Some(top.id.as_str())),
        "a reply to a reply hangs under the top-level comment"
    );
    let orphan = listed.iter().find(|c| c.name == "Ravi Stone").unwrap();
    assert_eq!(orphan.parent, None, "its parent was deleted in Cusdis");

    // The same rows as PostgreSQL gives them: the same comments, ids and all.
    let mut from_sqlite: Vec<String> = ok(&table, &["export"]).lines().map(Into::into).collect();
    from_sqlite.sort();
    for other in ["cusdis-pg", "cusdis.json"] {
        let file = fixture(other);
        let again = json(
            &table,
            &["import", "--from", "cusdis", file.to_str().unwrap()],
        );
        assert_eq!(
            (
                again["imported"].as_u64(),
                again["already_present"].as_u64()
            ),
            (Some(0), Some(5)),
            "{other}: {again}"
        );
        let (fresh, _) = new_table().await;
        ok(
            &fresh,
            &["import", "--from", "cusdis", file.to_str().unwrap()],
        );
        let mut exported: Vec<String> = ok(&fresh, &["export"]).lines().map(Into::into).collect();
        exported.sort();
        assert_eq!(exported, from_sqlite, "{other}");
    }
}

#[tokio::test]
async fn cusdis_tables_cut_short_are_refused_naming_the_line() {
    let (table, _store) = new_table().await;
    let dir = std::env::temp_dir().join(unique("cusdis-pg"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixture("cusdis-pg/pages.csv"), dir.join("pages.csv")).unwrap();
    let comments = std::fs::read_to_string(fixture("cusdis-pg/comments.csv")).unwrap();
    std::fs::write(dir.join("comments.csv"), &comments[..comments.len() - 40]).unwrap();
    let err = refused(&table, "cusdis", &dir);
    assert!(err.contains("comments.csv line 9"), "{err}");

    let json = cut_fixture("cusdis.json", |n| n - 100);
    let err = refused(&table, "cusdis", &json);
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&json).unwrap();
    assert!(
        err.contains("line 110, column") && err.contains("cut short"),
        "{err}"
    );
    assert_eq!(ok(&table, &["export"]), "", "nothing imported");
}

#[tokio::test]
async fn remark42_import_reads_its_backup_gzipped_or_not() {
    let (table, store) = new_table().await;
    let plain = fixture("remark42.json");
    let gz = temp_file(
        "backup-blog-20251106.gz",
        &gzipped(&std::fs::read(&plain).unwrap()),
    );
    let report = import_dry_then_twice(&table, "remark42", &gz, 4);
    std::fs::remove_file(&gz).unwrap();
    assert_eq!(
        skip_reasons(&report),
        ["deleted in Remark42", "its author is blocked in Remark42"]
    );
    let unpacked = json(
        &table,
        &["import", "--from", "remark42", plain.to_str().unwrap()],
    );
    assert_eq!(unpacked["already_present"], 4, "the same backup unpacked");

    assert_eq!(count(&store, RUST_POST).await, 3);
    assert_eq!(count(&store, "/?p=123").await, 1);
    let listed = store.list_approved(RUST_POST, None, 10).await.unwrap();
    let top = &listed[0];
    assert_eq!(top.name, "Noor Haddad");
    assert_eq!(
        top.email.as_deref(),
        Some("noor@example.org"),
        "from the backup's users"
    );
    assert_eq!(
        top.body,
        "Cold starts & memory: see https://docs.example.com/lambda/memory-and-cold-starts",
        "the shortened link is its target again"
    );
    assert_eq!(
        rust_aws::domain::ids::rfc3339(top.created_ms),
        "2025-11-02T10:00:00.000Z",
        "-05:00 counted"
    );
    assert_eq!(
        listed[1].body,
        "Agreed.\n\nSecond paragraph with my post (https://omar.example.net/post)."
    );
    assert!(
        listed[1..]
            .iter()
            .all(|c| c.parent.as_deref() == Some(top.id.as_str())),
        "a reply to a reply hangs under the top-level comment"
    );
    let plain_permalink = &store.list_approved("/?p=123", None, 1).await.unwrap()[0];
    assert_eq!(plain_permalink.body, "On a plain permalink: ?p=123");
}

#[tokio::test]
async fn remark42_backups_cut_short_are_refused_naming_the_place() {
    let (table, _store) = new_table().await;
    let bytes = std::fs::read(fixture("remark42.json")).unwrap();
    let gz = gzipped(&bytes);
    let cut_gz = temp_file("cut-backup.gz", &gz[..gz.len() / 2]);
    let err = refused(&table, "remark42", &cut_gz);
    std::fs::remove_file(&cut_gz).unwrap();
    assert!(
        err.contains("gzip data") && err.contains("cut short"),
        "{err}"
    );
    let cut = cut_fixture("remark42.json", |n| n - 40);
    let err = refused(&table, "remark42", &cut);
    std::fs::remove_file(&cut).unwrap();
    assert!(
        err.contains("line 7, column") && err.contains("cut short"),
        "{err}"
    );
    let other = refused(&table, "remark42", &fixture("artalk.artrans"));
    assert!(
        other.contains("line 1") && other.contains("not a Remark42 backup"),
        "{other}"
    );
    assert_eq!(ok(&table, &["export"]), "", "nothing imported");
}

#[tokio::test]
async fn commento_import_reads_its_export_as_downloaded_or_unpacked() {
    let (table, store) = new_table().await;
    let plain = fixture("commento.json");
    let gz = temp_file(
        "commento-export.json.gz",
        &gzipped(&std::fs::read(&plain).unwrap()),
    );
    let report = import_dry_then_twice(&table, "commento", &gz, 4);
    std::fs::remove_file(&gz).unwrap();
    let reasons = skip_reasons(&report);
    assert_eq!(reasons.len(), 3, "{report}");
    assert!(
        reasons[0].contains("unapproved") && reasons[1].contains("flagged"),
        "{report}"
    );
    assert_eq!(reasons[2], "deleted in Commento");
    let unpacked = json(
        &table,
        &["import", "--from", "commento", plain.to_str().unwrap()],
    );
    assert_eq!(unpacked["already_present"], 4, "the same export unpacked");

    assert_eq!(count(&store, RUST_POST).await, 3);
    assert_eq!(count(&store, "/?p=123").await, 1);
    let listed = store.list_approved(RUST_POST, None, 10).await.unwrap();
    let top = &listed[0];
    assert_eq!(
        (top.name.as_str(), top.email.as_deref(), top.url.as_deref()),
        ("Noor Haddad", Some("noor@example.org"), None),
        "Commento's \"undefined\" is no website"
    );
    assert_eq!(
        top.body, "Loved it \u{2014} **really**. Docs: https://docs.example.com/lambda/",
        "entities decoded, Markdown as typed, the autolink's URL kept"
    );
    assert_eq!(
        (listed[1].name.as_str(), listed[1].body.as_str()),
        ("Anonymous", "An anonymous reply")
    );
    assert_eq!(
        rust_aws::domain::ids::rfc3339(listed[1].created_ms),
        "2025-11-02T11:30:00.500Z"
    );
    assert_eq!(listed[2].url.as_deref(), Some("https://omar.example.net"));
    assert!(
        listed[1..]
            .iter()
            .all(|c| c.parent.as_deref() == Some(top.id.as_str())),
        "a reply to a reply hangs under the top-level comment"
    );

    let (fresh, _) = new_table().await;
    let cut = cut_fixture("commento.json", |n| n - 100);
    let cut_gz = temp_file(
        "cut-commento.json.gz",
        &gzipped(&std::fs::read(&cut).unwrap()),
    );
    for file in [&cut, &cut_gz] {
        let err = refused(&fresh, "commento", file);
        assert!(
            err.contains("line 1, column") && err.contains("cut short"),
            "{err}"
        );
    }
    std::fs::remove_file(&cut).unwrap();
    std::fs::remove_file(&cut_gz).unwrap();
    assert_eq!(ok(&fresh, &["export"]), "", "nothing imported");
}

#[tokio::test]
async fn artalk_import_reads_artrans() {
    let (table, store) = new_table().await;
    let report = import_dry_then_twice(&table, "artalk", &fixture("artalk.artrans"), 4);
    assert_eq!(skip_reasons(&report), ["waiting for moderation in Artalk"]);
    let gz = temp_file(
        "artrans.gz",
        &gzipped(&std::fs::read(fixture("artalk.artrans")).unwrap()),
    );
    let packed = json(
        &table,
        &["import", "--from", "artalk", gz.to_str().unwrap()],
    );
    std::fs::remove_file(&gz).unwrap();
    assert_eq!(packed["already_present"], 4, "the same file gzipped");

    assert_eq!(count(&store, RUST_POST).await, 3);
    assert_eq!(count(&store, "/?p=123").await, 1);
    let listed = store.list_approved(RUST_POST, None, 10).await.unwrap();
    let top = &listed[0];
    assert_eq!(
        (top.name.as_str(), top.url.as_deref()),
        ("Noor Haddad", Some("https://noor.example.org"))
    );
    assert_eq!(
        top.body,
        "Cold starts < 100 ms? See the tuning guide (https://docs.example.com/lambda/tuning) and `<b>` tags.",
        "HTML made text, code as typed"
    );
    assert_eq!(
        rust_aws::domain::ids::rfc3339(top.created_ms),
        "2025-11-02T10:00:00.000Z",
        "+0800 counted"
    );
    assert_eq!(
        listed[1].body,
        "A reply with **Markdown** and [a link](https://omar.example.net/notes)."
    );
    assert!(
        listed[1..]
            .iter()
            .all(|c| c.parent.as_deref() == Some(top.id.as_str())),
        "a reply to a reply hangs under the top-level comment"
    );

    let (fresh, _) = new_table().await;
    let cut = cut_fixture("artalk.artrans", |n| n - 200);
    let err = refused(&fresh, "artalk", &cut);
    std::fs::remove_file(&cut).unwrap();
    assert!(
        err.contains("line 115, column") && err.contains("cut short"),
        "{err}"
    );
    let bad = temp_file(
        "bad.artrans",
        std::fs::read_to_string(fixture("artalk.artrans"))
            .unwrap()
            .replacen("\"is_pending\": \"true\"", "\"is_pending\": \"later\"", 1)
            .as_bytes(),
    );
    let err = refused(&fresh, "artalk", &bad);
    std::fs::remove_file(&bad).unwrap();
    assert!(err.contains("[3].is_pending"), "{err}");
    assert_eq!(ok(&fresh, &["export"]), "", "nothing imported");
}

#[tokio::test]
async fn hostile_content_is_skipped_with_reasons_and_the_rest_imported() {
    let (table, store) = new_table().await;
    let text = std::fs::read_to_string(fixture("hostile-disqus.xml"))
        .unwrap()
        .replace("LONGBODY", &"y".repeat(5001))
        .replace("LONGNAME", &"n".repeat(101));
    let file = std::env::temp_dir().join(format!("{}.xml", unique("hostile")));
    std::fs::write(&file, text).unwrap();
    let report = json(
        &table,
        &["import", "--from", "disqus", file.to_str().unwrap()],
    );
    std::fs::remove_file(&file).unwrap();

    let skipped: Vec<(String, String)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source_id"].as_str().unwrap().to_owned(),
                s["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let reason = |id: &str| {
        skipped
            .iter()
            .find(|(s, _)| s == id)
            .map(|(_, r)| r.as_str())
            .unwrap_or_else(|| panic!("{id} not skipped: {report}"))
    };
    assert!(reason("h2").contains("5000"));
    assert!(reason("h3").contains("100"));
    assert!(reason("h4").contains("bad date"));
    assert!(reason("h5").contains("future"));
    assert!(reason("h7").contains("duplicate"));
    assert!(reason("h8").contains("control"));
    assert!(reason("h9").contains("not an http(s) URL"));
    assert!(reason("h10").contains("not in the file"));
    assert!(reason("h11").contains("at least 2"));
    assert_eq!(report["imported"], 3, "{report}");

    let listed = store.list_approved("/hostile/", None, 10).await.unwrap();
    // Names are plain text in Disqus: kept as written, and never rendered as HTML.
    let h1 = listed
        .iter()
        .find(|c| c.name == "<b>Bold</b> Name")
        .unwrap();
    assert_eq!(
        h1.body, "Hello there <b>not bold</b>",
        "markup stripped, escaped text kept as text"
    );
    assert_eq!(h1.email, None, "an invalid address is dropped");
    let orphan = listed.iter().find(|c| c.name == "Orphan").unwrap();
    assert_eq!(orphan.parent, None, "an unknown parent makes it top-level");
    assert_eq!(
        listed.iter().find(|c| c.name == "Dup").unwrap().body,
        "First copy"
    );
    assert_eq!(count(&store, "/hostile/").await, 3);
}

#[tokio::test]
async fn a_malformed_file_is_refused_naming_the_line_and_nothing_is_written() {
    let (table, _store) = new_table().await;
    let text = std::fs::read_to_string(fixture("disqus.xml")).unwrap();
    let broken = text.replacen("</post>", "</pots>", 2);
    let file = std::env::temp_dir().join(format!("{}.xml", unique("broken")));
    std::fs::write(&file, broken).unwrap();
    let out = run(&[
        "--table",
        &table,
        "import",
        "--from",
        "disqus",
        file.to_str().unwrap(),
    ]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 55") && err.contains("nothing imported"),
        "{err}"
    );
    assert_eq!(
        ok(&table, &["export"]),
        "",
        "not even the posts before the fault"
    );

    let jsonl = std::env::temp_dir().join(format!("{}.jsonl", unique("broken")));
    std::fs::write(&jsonl, "{\"type\":\"comment\"}\n[1,2]\n").unwrap();
    let out = run(&[
        "--table",
        &table,
        "import",
        "--from",
        "jsonl",
        jsonl.to_str().unwrap(),
    ]);
    std::fs::remove_file(&jsonl).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[tokio::test]
async fn files_that_are_not_clean_exports_are_refused_with_where_and_why() {
    let (table, _store) = new_table().await;
    let text = std::fs::read_to_string(fixture("disqus.xml")).unwrap();
    let refusal = |name: &str, bytes: Vec<u8>| {
        let file = std::env::temp_dir().join(format!("{}.xml", unique(name)));
        std::fs::write(&file, bytes).unwrap();
        let out = run(&[
            "--table",
            &table,
            "import",
            "--from",
            "disqus",
            file.to_str().unwrap(),
        ]);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: a refusal, not a crash");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    // A Latin-1 "é" on line 3.
    let mut latin1 = Vec::new();
    for (n, line) in text.lines().enumerate() {
        latin1.extend_from_slice(line.as_bytes());
        if n == 2 {
            latin1.extend_from_slice(b" caf\xE9");
        }
        latin1.push(b'\n');
    }
    let err = refusal("latin1", latin1);
    let line3 = text.lines().nth(2).unwrap().chars().count();
    assert!(
        err.contains(&format!("line 3, column {}", line3 + 5)) && err.contains("not UTF-8"),
        "{err}"
    );

    let trailing = format!("{text}\n&amp;\n");
    let err = refusal("trailing", trailing.into_bytes());
    assert!(err.contains("content after the root element"), "{err}");

    let depth = 200_000;
    let nested = text.replace(
        "</disqus>",
        &format!("{}{}</disqus>", "<x>".repeat(depth), "</x>".repeat(depth)),
    );
    let err = refusal("nested", nested.into_bytes());
    assert!(err.contains("nested deeper than"), "{err}");
    assert_eq!(ok(&table, &["export"]), "", "nothing imported");
}

// ---- export, erase, round trip -----------------------------------------

#[tokio::test]
async fn erase_removes_every_trace_of_an_address_and_fixes_counts() {
    let (table, store) = new_table().await;
    let post = "/erase/";
    let who = "Erin.Gone@Example.org";
    store
        .put_comment(
            &comment(&id(1), post, Some(who), CommentStatus::Approved),
            0,
        )
        .await
        .unwrap();
    store
        .put_comment(
            &comment(
                &id(2),
                post,
                Some("erin.gone@example.org"),
                CommentStatus::Pending,
            ),
            0,
        )
        .await
        .unwrap();
    store
        .put_comment(
            &comment(
                &id(3),
                post,
                Some("keep@example.org"),
                CommentStatus::Approved,
            ),
            0,
        )
        .await
        .unwrap();
    store
        .put_contact(&contact(&id(4), " ERIN.GONE@example.org"), 0)
        .await
        .unwrap();
    store
        .put_contact(&contact(&id(5), "keep@example.org"), 0)
        .await
        .unwrap();
    // Rejected long ago: past its expiry but not yet swept by DynamoDB.
    store
        .put_comment(&comment(&id(6), post, Some(who), CommentStatus::Pending), 0)
        .await
        .unwrap();
    store
        .decide(
            &id(6),
            Decision::Reject,
            rust_aws::domain::ids::now_ms() - 30 * 86_400_000,
        )
        .await
        .unwrap();
    assert_eq!(count(&store, post).await, 2);

    let before = lines(&ok(
        &table,
        &["export", "--email", "  erin.GONE@example.org "],
    ));
    let kinds: Vec<(&str, &str)> = before
        .iter()
        .map(|v| (v["type"].as_str().unwrap(), v["id"].as_str().unwrap()))
        .collect();
    let (one, two, four, six) = (id(1), id(2), id(4), id(6));
    assert_eq!(
        kinds,
        [
            ("comment", one.as_str()),
            ("comment", two.as_str()),
            ("comment", six.as_str()),
            ("contact", four.as_str())
        ],
        "an access request shows all that is held, the expired-but-unswept included"
    );

    let erased = json(&table, &["erase", "--email", "erin.gone@example.org"]);
    let mut comments: Vec<&str> = erased["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    comments.sort_unstable();
    assert_eq!(comments, [id(1), id(2), id(6)]);
    assert_eq!(erased["contacts"], serde_json::json!([id(4)]));
    let mut exported: Vec<&str> = kinds
        .iter()
        .filter(|(kind, _)| *kind == "comment")
        .map(|(_, id)| *id)
        .collect();
    exported.sort_unstable();
    assert_eq!(
        exported, comments,
        "export --email showed what erase removed"
    );
    assert_eq!(
        count(&store, post).await,
        1,
        "the approved one left the count"
    );
    assert_eq!(ok(&table, &["export", "--email", who]), "");
    let all = store.all_comments(None, Expired::Include).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [id(3)],
        "expired leftovers too"
    );
    assert_eq!(lines(&ok(&table, &["export", "--contacts"])).len(), 1);

    let text = ok(&table, &["erase", "--email", who]);
    assert!(
        text.starts_with("Removed 0 comment(s) and 0 contact message(s)"),
        "{text}"
    );
}

/// A pass-through to moto that hands each request's `X-Amz-Target` and
/// body to the test: what the command asked of DynamoDB, which moto's
/// answers do not show (it ignores `ConsistentRead`).
fn recording_proxy() -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = moto_url().trim_start_matches("http://").to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let (Ok(mut conn), tx, upstream) = (conn, tx.clone(), upstream.clone()) else {
                continue;
            };
            std::thread::spawn(move || {
                // One request a connection: both sides are told to close.
                let mut request = Vec::new();
                let mut chunk = [0u8; 65536];
                let (head_len, body_len) = loop {
                    let n = conn.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&request);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while request.len() < head_len + body_len {
                    let n = conn.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&request[..head_len]).into_owned();
                let target = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("x-amz-target")
                            .then(|| value.trim().to_owned())
                    })
                    .unwrap_or_default();
                let body = String::from_utf8_lossy(&request[head_len..]).into_owned();
                let _ = tx.send((target, body));
                let mut forwarded = head[..head_len - 2].to_owned();
                forwarded.push_str("connection: close\r\n\r\n");
                let mut moto = std::net::TcpStream::connect(&upstream).unwrap();
                moto.write_all(forwarded.as_bytes()).unwrap();
                moto.write_all(&request[head_len..]).unwrap();
                let mut response = Vec::new();
                moto.read_to_end(&mut response).unwrap();
                let text = String::from_utf8_lossy(&response);
                let status_end = text.find("\r\n").unwrap() + 2;
                let _ = conn.write_all(&response[..status_end]);
                let _ = conn.write_all(b"connection: close\r\n");
                let _ = conn.write_all(&response[status_end..]);
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn the_commands_whole_table_reads_are_strongly_consistent() {
    let (table, store) = new_table().await;
    store
        .put_comment(
            &comment(
                &id(1),
                "/c/",
                Some("ada@example.org"),
                CommentStatus::Approved,
            ),
            0,
        )
        .await
        .unwrap();
    store
        .put_contact(&contact(&id(2), "ada@example.org"), 0)
        .await
        .unwrap();
    let (url, seen) = recording_proxy();
    for args in [
        &["export"][..],
        &["export", "--contacts"],
        &["export", "--email", "ada@example.org"],
        &["pending"],
        &["erase", "--email", "ada@example.org"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_rust-aws"))
            .args(["--table", &table])
            .args(args)
            .env_clear()
            .env("AWS_ENDPOINT_URL", &url)
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let scans: Vec<String> = seen
            .try_iter()
            .filter(|(target, _)| target.ends_with(".Scan"))
            .map(|(_, body)| body)
            .collect();
        assert!(!scans.is_empty(), "{args:?} reads the whole table");
        for body in scans {
            let request: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(request["ConsistentRead"], true, "{args:?}: {body}");
        }
    }
}

#[tokio::test]
async fn export_erase_import_round_trips_exactly() {
    let (table, store) = new_table().await;
    ok(
        &table,
        &[
            "import",
            "--from",
            "disqus",
            fixture("disqus.xml").to_str().unwrap(),
        ],
    );
    ok(
        &table,
        &[
            "import",
            "--from",
            "wordpress",
            fixture("wordpress.xml").to_str().unwrap(),
        ],
    );
    let mut anon = comment(&id(7), "/anon/", None, CommentStatus::Approved);
    anon.url = Some("https://anon.example.org/".into());
    store.put_comment(&anon, 0).await.unwrap();
    let before = ok(&table, &["export"]);
    assert_eq!(before.lines().count(), 10);
    let by_post = ok(&table, &["export", "--post", "/about/"]);
    assert_eq!(by_post.lines().count(), 1);

    // Erase everything: by address, then the comments that have none.
    let mut emails: Vec<String> = lines(&before)
        .iter()
        .filter_map(|v| v["email"].as_str().map(str::to_lowercase))
        .collect();
    emails.sort_unstable();
    emails.dedup();
    for email in &emails {
        ok(&table, &["erase", "--email", email]);
    }
    let rest: Vec<String> = lines(&ok(&table, &["export"]))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    let mut args = vec!["delete"];
    args.extend(rest.iter().map(String::as_str));
    ok(&table, &args);
    assert_eq!(ok(&table, &["export"]), "");
    assert_eq!(count(&store, "/2026/11/rust-on-lambda/").await, 0);

    let file = std::env::temp_dir().join(format!("{}.jsonl", unique("export")));
    std::fs::write(&file, &before).unwrap();
    let report = json(
        &table,
        &["import", "--from", "jsonl", file.to_str().unwrap()],
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(report["imported"], 10, "{report}");
    assert_eq!(ok(&table, &["export"]), before);
    assert_eq!(count(&store, "/2026/11/rust-on-lambda/").await, 3);
}

// ---- finding the table, usage ------------------------------------------

#[tokio::test]
async fn the_table_comes_from_the_stack_outputs() {
    let (table, store) = new_table().await;
    store
        .put_comment(&comment(&id(1), "/stack/", None, CommentStatus::Pending), 0)
        .await
        .unwrap();
    let stack = unique("stack");
    let template = serde_json::json!({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TableName": {"Value": table}},
    });
    let cfn = aws_sdk_cloudformation::Client::new(&sdk().await);
    cfn.create_stack()
        .stack_name(&stack)
        .template_body(template.to_string())
        .send()
        .await
        .unwrap();

    let out = run(&["--stack", &stack, "pending"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id(1)));
    let missing = run(&["--stack", "no-such-stack", "pending"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such-stack"));
}

#[test]
fn usage_errors_exit_with_status_2() {
    assert_eq!(run(&["pending"]).status.code(), Some(2), "no table");
    assert_eq!(
        run(&["--table", "t", "--stack", "s", "pending"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(&["--table", "t", "frobnicate"]).status.code(), Some(2));
    assert_eq!(
        run(&["--table", "t", "import", "--from", "myspace", "f"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["--table", "t", "approve"]).status.code(),
        Some(2),
        "no id"
    );
    assert_eq!(
        run(&["--table", "t", "export", "--contacts", "--post", "/p/"])
            .status
            .code(),
        Some(2)
    );
    let help = run(&["import", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--dry-run"));
}

#[test]
fn a_missing_file_fails_with_status_1() {
    let out = run(&[
        "--table",
        "t",
        "import",
        "--from",
        "jsonl",
        "/nonexistent/export.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/export.jsonl"));
}

#[test]
fn a_store_that_cannot_be_reached_is_reported_with_its_cause() {
    // A port nothing listens on: the SDK's dispatch failure, under the store's.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = Command::new(env!("CARGO_BIN_EXE_rust-aws"))
        .args(["--table", "t", "pending"])
        .env_clear()
        .env("AWS_ENDPOINT_URL", &url)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rust-aws: store unavailable: Scan"),
        "{err}"
    );
    assert!(
        err.contains("Connection refused"),
        "the cause is kept: {err}"
    );
}

// ---- the same results on both stores -----------------------------------

async fn admin_scenario(store: &dyn AdminStore) -> Vec<String> {
    let now = rust_aws::domain::ids::now_ms();
    let mut seen = Vec::new();
    let post = "/same/";
    store
        .put_comment(
            &comment(&id(1), post, Some("x@example.org"), CommentStatus::Pending),
            0,
        )
        .await
        .unwrap();
    store
        .put_comment(
            &comment(&id(2), post, Some("X@example.org"), CommentStatus::Approved),
            0,
        )
        .await
        .unwrap();
    store
        .put_contact(&contact(&id(3), "x@example.org"), 0)
        .await
        .unwrap();
    let imported = comment(&id(4), post, Some("y@example.org"), CommentStatus::Approved);
    seen.push(format!(
        "import {}",
        store.import_comment(&imported).await.unwrap()
    ));
    seen.push(format!(
        "import again {}",
        store.import_comment(&imported).await.unwrap()
    ));
    seen.push(format!("count {}", count(store, post).await));
    let pending = ops::pending(store, now).await.unwrap();
    seen.push(format!(
        "pending {:?}",
        pending.iter().map(|c| &c.id).collect::<Vec<_>>()
    ));
    let outcomes = ops::decide(store, &[id(1), id(1)], Decision::Approve, now)
        .await
        .unwrap();
    seen.push(format!(
        "approve {:?}",
        outcomes.iter().map(|o| o.done).collect::<Vec<_>>()
    ));
    seen.push(format!("count {}", count(store, post).await));
    let erased = ops::erase(store, " x@EXAMPLE.org", now, &|| {})
        .await
        .unwrap();
    seen.push(format!(
        "erased {:?} {:?}",
        erased.comments, erased.contacts
    ));
    seen.push(format!("count {}", count(store, post).await));
    let left = store
        .all_comments(Some(post), Expired::Skip { now_ms: now })
        .await
        .unwrap();
    seen.push(format!(
        "left {:?}",
        left.iter().map(|c| &c.id).collect::<Vec<_>>()
    ));
    seen.push(format!(
        "purge approved {}",
        store.purge_comment(&id(4)).await.unwrap()
    ));
    seen.push(format!(
        "contacts {}",
        store.all_contacts(Expired::Include).await.unwrap().len()
    ));
    seen
}

#[tokio::test]
async fn admin_operations_agree_on_memory_and_dynamodb() {
    let memory = admin_scenario(&MemoryStore::new()).await;
    let (_table, store) = new_table().await;
    let dynamodb = admin_scenario(&store).await;
    assert_eq!(memory, dynamodb);
    assert_eq!(memory[0], "import true");
    assert_eq!(memory[1], "import again false");
    assert_eq!(memory.last().unwrap(), "contacts 0");
}

// ---- outbox ------------------------------------------------------------

/// A stand-in for the Lambda Invoke endpoint (moto runs functions only in
/// Docker): answers as the function answers a scheduled event and hands the
/// request body it got to the test.
fn lambda_stub() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = conn.read(&mut chunk).unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    tx.send(format!("{}\n{}", head.lines().next().unwrap(), body))
                        .unwrap();
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let answer =
            r#"{"statusCode":200,"headers":{},"body":"{\"redelivery\":{\"found\":1,\"sent\":1}}"}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        );
        conn.write_all(response.as_bytes()).unwrap();
    });
    (url, rx)
}

#[tokio::test]
async fn outbox_lists_undelivered_mail_and_redeliver_requeues_parked_mail() {
    use rust_aws::domain::{Deferral, MailKind, OutboxEntry};
    let (table, store) = new_table().await;
    assert!(ok(&table, &["outbox"]).contains("outbox is empty"));
    store
        .put_contact(&contact(&id(1), "a@example.org"), 0)
        .await
        .unwrap();
    store
        .put_contact(&contact(&id(2), "b@example.org"), 0)
        .await
        .unwrap();
    let parked = OutboxEntry {
        kind: MailKind::Contact,
        id: id(2),
    };
    let now = rust_aws::domain::ids::now_ms();
    store
        .defer(
            &parked,
            &Deferral {
                attempts: 5,
                next_attempt_ms: now,
                parked: true,
                error: "SES MessageRejected".into(),
            },
        )
        .await
        .unwrap();

    let text = ok(&table, &["outbox"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("contact  {}", id(1))) && l.contains("due now")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.contains(&id(2))
            && l.contains("5 attempt(s)")
            && l.contains("parked")
            && l.contains("SES MessageRejected")),
        "{text}"
    );
    assert!(!text.contains("a@example.org"), "no address in the listing");
    let listed = json(&table, &["outbox"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // A listing cut short still shows the parked mail, and says it is cut.
    for n in 3..6 {
        store
            .put_contact(&contact(&id(n), "c@example.org"), 0)
            .await
            .unwrap();
    }
    let text = ok(&table, &["outbox", "--limit", "3"]);
    assert_eq!(
        text.lines().filter(|l| l.contains("due now")).count(),
        3,
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(&id(2)) && l.contains("parked")),
        "{text}"
    );
    assert!(
        text.contains("more than 3 mails are waiting: the first 3 are shown"),
        "{text}"
    );
    let mut args = vec!["--table", &table, "--json", "outbox", "--limit", "3"];
    let out = run(&args);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 4, "{listed}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than 3 mails are waiting"));
    args.truncate(4);
    assert!(run(&args).stderr.is_empty(), "no cut, nothing said");
    for n in 3..6 {
        store.delete_contact(&id(n)).await.unwrap();
    }

    let text = ok(&table, &["redeliver"]);
    assert!(
        text.contains("Requeued 1 parked mail(s)") && text.contains("next scheduled run"),
        "{text}"
    );
    let items = store.list_outbox(10).await.unwrap();
    assert!(
        items.iter().all(|i| !i.parked && i.attempts == 0),
        "{items:?}"
    );

    // With a function to run it: the schedule's event, and the run's counts.
    let (url, seen) = lambda_stub();
    let out = Command::new(env!("CARGO_BIN_EXE_rust-aws"))
        .args([
            "--table",
            &table,
            "--json",
            "redeliver",
            "--function",
            "blog-Function-X",
        ])
        .env_clear()
        .env("AWS_ENDPOINT_URL", moto_url())
        .env("AWS_ENDPOINT_URL_LAMBDA", &url)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["redelivery"],
        serde_json::json!({"found": 1, "sent": 1})
    );
    let request = seen.recv().unwrap();
    let (line, body) = request.split_once('\n').unwrap();
    assert!(
        line.starts_with("POST /2015-03-31/functions/blog-Function-X/invocations"),
        "{line}"
    );
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (event["source"].as_str(), event["detail-type"].as_str()),
        (Some("aws.events"), Some("Scheduled Event"))
    );
    assert!(
        rust_aws::outbox::is_schedule(body.as_bytes()),
        "the function's own test of the event"
    );
}

// ---- the spam folder ---------------------------------------------------

#[tokio::test]
async fn spam_lists_the_folder_and_spam_and_ham_correct_verdicts_through_the_outbox() {
    use rust_aws::domain::{Held, SpamItem};
    use rust_aws::store::SpamFolder;
    let (table, store) = new_table().await;
    let now = rust_aws::domain::ids::now_ms();
    let post = unique("/spam");
    // Three in the folder, oldest first: a comment, a message, a comment.
    for (n, held) in [
        (
            1u8,
            Held::Comment(comment(
                &id(1),
                &post,
                Some("a@example.org"),
                CommentStatus::Pending,
            )),
        ),
        (2, Held::Contact(contact(&id(2), "b@example.org"))),
        (
            3,
            Held::Comment(comment(&id(3), &post, None, CommentStatus::Pending)),
        ),
    ] {
        let item = SpamItem {
            held,
            reason: "links".to_owned(),
            marked_ms: now - 60_000 + u64::from(n) * 1_000,
        };
        store.put_spam(&item).await.unwrap();
    }
    let listed = json(&table, &["spam"]);
    let ids: Vec<_> = listed["spam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [id(3), id(2), id(1)], "newest first");
    assert_eq!(listed["next_cursor"], Value::Null);
    assert_eq!(listed["spam"][1]["held"], "contact");
    assert_eq!(listed["spam"][1]["reason"], "links");
    // A cut listing gives the cursor of the next page.
    let first = json(&table, &["spam", "--limit", "2"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = json(&table, &["spam", "--limit", "2", "--after", &cursor]);
    assert_eq!(rest["spam"][0]["id"], id(1).as_str());
    assert_eq!(rest["next_cursor"], Value::Null);
    let text = ok(&table, &["spam"]);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().next().unwrap().starts_with(&id(3)));

    // Not spam: back in the flow, with its mail and Akismet's correction queued.
    let out = ok(&table, &["ham", &id(1), &id(2)]);
    assert!(out.contains("the comment is pending"), "{out}");
    let c = store.get_comment(&id(1), now).await.unwrap().unwrap();
    assert_eq!(c.status, CommentStatus::Pending);
    assert!(store.get_contact(&id(2), now).await.unwrap().is_some());
    let owner = store
        .due_outbox(MailCap::Owner, rust_aws::domain::ids::now_ms() + 1, 10)
        .await
        .unwrap();
    assert_eq!(owner.len(), 2);
    let feedback = store
        .due_outbox(MailCap::Feedback, rust_aws::domain::ids::now_ms() + 1, 10)
        .await
        .unwrap();
    assert_eq!(feedback.len(), 2);
    // Again: nothing to release, status 1.
    let again = run(&["--table", &table, "ham", &id(1)]);
    assert_eq!(again.status.code(), Some(1));

    // Spam on a published comment: down, uncounted, in the folder.
    let published = comment(
        &id(4),
        &post,
        Some("c@example.org"),
        CommentStatus::Approved,
    );
    store.import_comment(&published).await.unwrap();
    assert_eq!(count(&store, &post).await, 1);
    let out = ok(&table, &["spam", &id(4)]);
    assert!(out.contains("marked as spam"), "{out}");
    assert_eq!(count(&store, &post).await, 0);
    assert!(store.get_comment(&id(4), now).await.unwrap().is_none());
    assert_eq!(
        store.get_spam(&id(4), now).await.unwrap().unwrap().reason,
        "owner"
    );
    assert_eq!(
        store
            .due_outbox(MailCap::Feedback, rust_aws::domain::ids::now_ms() + 1, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    let unknown = run(&["--table", &table, "spam", &id(9)]);
    assert_eq!(unknown.status.code(), Some(1));

    // An erasure finds the address in the folder too.
    let erased = json(&table, &["erase", "--email", "C@Example.org"]);
    assert_eq!(erased["spam"], serde_json::json!([id(4)]));
    assert!(store.get_spam(&id(4), now).await.unwrap().is_none());
}
