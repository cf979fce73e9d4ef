//! The spam verdict in the submission pipeline, in the app in memory, with
//! Akismet as a stub on loopback (tests/support/stubs.rs): local rules,
//! Akismet's answers and its failures, what a verdict does, and the owner's
//! corrections reported back through the outbox.

use std::time::Duration;

use crate::helpers::list;
use crate::support::events::{Event, comment, contact};
use crate::support::memory::{TestApp, spawn_app};
use crate::support::stubs::{AKISMET_DISCARD_AUTHOR, AKISMET_SPAM_AUTHOR, Behaviour, Stub};
use rust_aws::domain::CommentStatus;
use rust_aws::domain::Held;
use rust_aws::domain::ids::now_ms;
use rust_aws::security::spam::Condemned;
use rust_aws::store::SpamFolder;
use serde_json::{Value, json};

const KEY: &str = "akismet-test-key-0123";

fn akismet_app(url: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("AKISMET_KEY", KEY),
        ("AKISMET_URL", url),
        ("SITE_URL", "https://blog.example.com"),
        ("RATE_LIMIT_PER_MINUTE", "1000"),
    ];
    vars.extend_from_slice(extra);
    spawn_app(&vars)
}

fn comment_by(author: &str, body: &str) -> Value {
    let mut c = comment("/2026/11/p/");
    c["name"] = json!(author);
    c["body"] = json!(body);
    c
}

async fn folder(app: &TestApp) -> Vec<rust_aws::domain::SpamItem> {
    app.store.list_spam(None, 100, now_ms()).await.unwrap()
}

async fn run_redelivery(app: &TestApp) -> Value {
    let reply = app
        .invoke(&crate::support::events::fixture("eventbridge-scheduled.json").to_string())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["redelivery"].clone()
}

// ---- local rules -------------------------------------------------------------------

#[tokio::test]
async fn too_many_links_is_spam_answered_as_ham_and_nothing_is_mailed_or_published() {
    for moderation in ["pre", "off"] {
        let app = spawn_app(&[("MODERATION", moderation)]);
        let ham = app
            .send(Event::post_json(
                "/comment",
                &comment_by("Ann", "Two links: https://a.example www.b.example"),
            ))
            .await;
        let spam = app
            .send(Event::post_json(
                "/comment",
                &comment_by(
                    "Bot",
                    "https://a.example https://b.example http://c.example",
                ),
            ))
            .await;
        // Exactly the answer ham gets: status, shape, headers.
        assert_eq!((ham.status, spam.status), (201, 201), "{}", spam.body);
        let (h, s) = (ham.json(), spam.json());
        assert_eq!(h["status"], s["status"]);
        assert_eq!(h["post"], s["post"]);
        assert_eq!(
            h.as_object().unwrap().keys().collect::<Vec<_>>(),
            s.as_object().unwrap().keys().collect::<Vec<_>>()
        );
        assert_eq!(ham.header("location"), spam.header("location"));
        assert_eq!(app.mailer.sent().len(), 1, "only the ham's moderation mail");
        assert_eq!(app.store.comments().len(), 1);
        let held = folder(&app).await;
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].held.id(), s["id"].as_str().unwrap());
        assert_eq!(held[0].reason, "links");
        let listed = list(&app, "post=/2026/11/p/").await.json();
        let expected = if moderation == "off" { 1 } else { 0 };
        assert_eq!(listed["comments"].as_array().unwrap().len(), expected);
    }
}

#[tokio::test]
async fn a_blocklisted_word_or_domain_is_spam_in_any_field_of_either_form() {
    let app = spawn_app(&[
        ("SPAM_BLOCKLIST", "casino, spam-domain.example"),
        ("RATE_LIMIT_PER_MINUTE", "100"),
    ]);
    let mut c = comment_by("Ann", "A fine comment about casinos in history.");
    assert_eq!(app.send(Event::post_json("/comment", &c)).await.status, 201);
    c["body"] = json!("Play at the CASINO now");
    assert_eq!(app.send(Event::post_json("/comment", &c)).await.status, 201);
    let mut c2 = comment_by("Ann", "Looks fine.");
    c2["url"] = json!("https://www.spam-domain.example/win");
    assert_eq!(
        app.send(Event::post_json("/comment", &c2)).await.status,
        201
    );
    let mut m = contact();
    m["subject"] = json!("Casino offer");
    let reply = app.send(Event::post_json("/contact", &m)).await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.json()["status"], "received");
    let held = folder(&app).await;
    assert_eq!(held.len(), 3);
    assert!(held.iter().all(|i| i.reason == "blocklist"));
    assert!(held.iter().any(|i| matches!(i.held, Held::Contact(_))));
    assert_eq!(app.mailer.sent().len(), 1, "only the first comment's mail");
    assert!(app.store.contacts().is_empty());
}

#[tokio::test]
async fn the_same_body_again_within_a_day_is_spam_whatever_its_case_and_spacing() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "100")]);
    let first = comment_by("Ann", "Nice post!");
    assert_eq!(
        app.send(Event::post_json("/comment", &first)).await.status,
        201
    );
    let again = comment_by("Other", "  NICE POST!  ");
    let r = app
        .send(Event::post_json("/comment", &again).source_ip("192.0.2.77"))
        .await;
    assert_eq!(r.status, 201);
    // A contact message with that text is not a repeat of a comment.
    let mut m = contact();
    m["message"] = json!("Nice post!");
    assert_eq!(app.send(Event::post_json("/contact", &m)).await.status, 202);
    let held = folder(&app).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].reason, "duplicate");
    assert_eq!(app.store.comments().len(), 1);
    assert_eq!(app.store.contacts().len(), 1);
}

// ---- Akismet -----------------------------------------------------------------------

#[tokio::test]
async fn akismet_gets_the_documented_fields_and_its_true_is_spam() {
    let stub = Stub::start(Behaviour::Service).await;
    let app = akismet_app(&stub.url, &[]);
    let ham = Event::post_json("/comment", &comment_by("Ann", "Thoughtful words."))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .header("referer", "https://blog.example.com/2026/11/p/");
    assert_eq!(app.send(ham).await.status, 201);
    let spam = comment_by(AKISMET_SPAM_AUTHOR, "Buy now.");
    assert_eq!(
        app.send(Event::post_json("/comment", &spam)).await.status,
        201
    );
    let calls = stub.calls_to("/1.1/comment-check");
    assert_eq!(calls.len(), 2);
    let c = &calls[0];
    assert_eq!(
        c.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    for (field, value) in [
        ("api_key", KEY),
        ("blog", "https://blog.example.com"),
        ("comment_type", "comment"),
        ("permalink", "https://blog.example.com/2026/11/p/"),
        ("comment_author", "Ann"),
        ("comment_author_url", "https://bob.example.net"),
        ("comment_content", "Thoughtful words."),
        ("user_agent", "Mozilla/5.0 (Test)"),
        ("referrer", "https://blog.example.com/2026/11/p/"),
        ("blog_charset", "UTF-8"),
    ] {
        assert_eq!(c.field(field).as_deref(), Some(value), "{field}");
    }
    assert!(c.field("user_ip").is_some_and(|ip| !ip.is_empty()));
    assert!(c.field("comment_author_email").is_some());
    assert_eq!(app.mailer.sent().len(), 1);
    let held = folder(&app).await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].reason, "akismet");
    // The address was sent, never stored.
    let ip = c.field("user_ip").unwrap();
    let stored = format!(
        "{:?}",
        app.store
            .comments()
            .iter()
            .map(|r| &r.ip_hash)
            .collect::<Vec<_>>()
    );
    assert!(!stored.contains(&ip));
}

#[tokio::test]
async fn a_reply_and_a_contact_message_have_their_akismet_types() {
    let stub = Stub::start(Behaviour::Service).await;
    let app = akismet_app(&stub.url, &[("MODERATION", "off")]);
    let parent = app
        .send(Event::post_json("/comment", &comment_by("Ann", "Parent.")))
        .await
        .json()["id"]
        .clone();
    let mut reply = comment_by("Bob", "A reply.");
    reply["parent"] = parent;
    assert_eq!(
        app.send(Event::post_json("/comment", &reply)).await.status,
        201
    );
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()))
            .await
            .status,
        202
    );
    let types: Vec<_> = stub
        .calls_to("/1.1/comment-check")
        .iter()
        .map(|c| c.field("comment_type").unwrap())
        .collect();
    assert_eq!(types, ["comment", "reply", "contact-form"]);
}

#[tokio::test]
async fn a_discard_pro_tip_stores_nothing_and_answers_as_ham() {
    let stub = Stub::start(Behaviour::Service).await;
    let app = akismet_app(&stub.url, &[]);
    let r = app
        .send(Event::post_json(
            "/comment",
            &comment_by(AKISMET_DISCARD_AUTHOR, "Blatant."),
        ))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["status"], "pending");
    let mut m = contact();
    m["name"] = json!(AKISMET_DISCARD_AUTHOR);
    assert_eq!(app.send(Event::post_json("/contact", &m)).await.status, 202);
    assert!(app.store.comments().is_empty());
    assert!(app.store.contacts().is_empty());
    assert!(folder(&app).await.is_empty());
    assert!(app.mailer.sent().is_empty());
}

#[tokio::test]
async fn akismet_slow_down_or_odd_leaves_items_unchecked_for_the_owner_even_without_moderation() {
    for behaviour in [
        None,
        Some(Behaviour::Slow(Duration::from_millis(2_500))),
        Some(Behaviour::Status(500)),
        Some(Behaviour::Nonsense),
    ] {
        let (stub, url) = match behaviour {
            Some(b) => {
                let s = Stub::start(b).await;
                let url = s.url.clone();
                (Some(s), url)
            }
            None => (None, Stub::dead_url()),
        };
        let app = akismet_app(&url, &[("MODERATION", "off")]);
        let started = std::time::Instant::now();
        let r = app
            .send(Event::post_json("/comment", &comment_by("Ann", "Hello.")))
            .await;
        assert!(
            started.elapsed() < Duration::from_millis(2_400),
            "{behaviour:?}: {:?}",
            started.elapsed()
        );
        assert_eq!(r.status, 201, "{behaviour:?}");
        // Not published: it waits for the owner, who is mailed.
        assert_eq!(r.json()["status"], "pending", "{behaviour:?}");
        let stored = app.store.comments();
        assert_eq!(stored[0].status, CommentStatus::Pending);
        assert!(
            list(&app, "post=/2026/11/p/").await.json()["comments"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // A contact message is delivered.
        assert_eq!(
            app.send(Event::post_json("/contact", &contact()))
                .await
                .status,
            202
        );
        assert_eq!(app.mailer.sent().len(), 2, "{behaviour:?}");
        assert!(folder(&app).await.is_empty());
        if let Some(stub) = stub {
            assert_eq!(stub.calls().len(), 2);
        }
    }
}

// ---- the owner's corrections -------------------------------------------------------

async fn listed(app: &TestApp) -> usize {
    list(app, "post=/2026/11/p/").await.json()["comments"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn not_spam_puts_an_item_through_the_normal_flow_and_tells_akismet() {
    let stub = Stub::start(Behaviour::Service).await;
    let app = akismet_app(&stub.url, &[]);
    let r = app
        .send(Event::post_json(
            "/comment",
            &comment_by(AKISMET_SPAM_AUTHOR, "Actually fine."),
        ))
        .await;
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let mut m = contact();
    m["name"] = json!(AKISMET_SPAM_AUTHOR);
    let mid = app.send(Event::post_json("/contact", &m)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.mailer.sent().is_empty());
    for id in [&id, &mid] {
        assert!(
            rust_aws::security::spam::release(app.store.as_ref(), id, now_ms())
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            rust_aws::security::spam::release(app.store.as_ref(), id, now_ms())
                .await
                .unwrap()
                .is_none()
        );
    }
    let run = run_redelivery(&app).await;
    assert_eq!(run["sent"], 4, "{run}");
    let mails = app.mailer.sent();
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().any(|m| m.subject.contains("awaits approval")));
    assert_eq!(app.store.comments()[0].status, CommentStatus::Pending);
    let hams = stub.calls_to("/1.1/submit-ham");
    assert_eq!(hams.len(), 2);
    assert_eq!(hams[0].field("api_key").as_deref(), Some(KEY));
    assert_eq!(
        hams[0].field("blog").as_deref(),
        Some("https://blog.example.com")
    );
    let authors: Vec<_> = hams
        .iter()
        .map(|c| c.field("comment_author").unwrap())
        .collect();
    assert_eq!(authors, [AKISMET_SPAM_AUTHOR, AKISMET_SPAM_AUTHOR]);
    assert!(folder(&app).await.is_empty());
    // Sent once: a later run sends nothing again.
    assert_eq!(run_redelivery(&app).await["found"], 0);
    assert_eq!(stub.calls_to("/1.1/submit-ham").len(), 2);
}

#[tokio::test]
async fn spam_on_a_published_comment_takes_it_down_and_tells_akismet() {
    let stub = Stub::start(Behaviour::Service).await;
    let app = akismet_app(&stub.url, &[("MODERATION", "off")]);
    let id = app
        .send(Event::post_json("/comment", &comment_by("Ann", "Sneaky.")))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(listed(&app).await, 1);
    let done = rust_aws::security::spam::condemn(app.store.as_ref(), &id, now_ms())
        .await
        .unwrap();
    assert!(matches!(done, Condemned::Done(_)));
    assert_eq!(
        rust_aws::security::spam::condemn(app.store.as_ref(), &id, now_ms())
            .await
            .unwrap(),
        Condemned::Already
    );
    assert_eq!(
        rust_aws::security::spam::condemn(app.store.as_ref(), "nope", now_ms())
            .await
            .unwrap(),
        Condemned::NotFound
    );
    assert_eq!(listed(&app).await, 0);
    let count = app
        .send(Event::v2("GET", "/comment/count?post=/2026/11/p/"))
        .await
        .json();
    assert_eq!(count["counts"]["/2026/11/p/"], 0);
    assert_eq!(folder(&app).await[0].reason, "owner");
    let run = run_redelivery(&app).await;
    assert_eq!(run["sent"], 1, "{run}");
    let spams = stub.calls_to("/1.1/submit-spam");
    assert_eq!(spams.len(), 1);
    assert_eq!(
        spams[0].field("comment_content").as_deref(),
        Some("Sneaky.")
    );
}

#[tokio::test]
async fn without_akismet_a_correction_is_dropped_not_retried_forever() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "100")]);
    let c = comment_by(
        "Ann",
        "https://a.example https://b.example https://c.example",
    );
    let id = app.send(Event::post_json("/comment", &c)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    rust_aws::security::spam::release(app.store.as_ref(), &id, now_ms())
        .await
        .unwrap()
        .unwrap();
    let run = run_redelivery(&app).await;
    assert_eq!(run["sent"], 1, "the moderation mail only: {run}");
    assert!(
        rust_aws::store::Outbox::list_outbox(app.store.as_ref(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
