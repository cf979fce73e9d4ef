//! Reply notifications in memory: double opt-in after approval, the
//! notification of a reply with RFC 8058 headers, one-click unsubscribe, and
//! the links' refusals.

use crate::support::events::Event;
use crate::support::memory::{Reply, SECRET, TestApp, spawn_app};
use rust_aws::domain::Decision;
use rust_aws::mail::Mail;
use rust_aws::security::keys::Keys;
use rust_aws::security::token::{NotifyAction, NotifyToken, Token};
use serde_json::{Value, json};

const SITE_URL: &str = "https://blog.example.com";
const ANN: &str = "ann@example.org";

fn app(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("SITE_URL", SITE_URL), ("RATE_LIMIT_PER_MINUTE", "1000")];
    vars.extend_from_slice(extra);
    spawn_app(&vars)
}

fn comment_by(name: &str, email: &str, body: &str) -> Value {
    json!({"post": "/2026/11/rust/", "name": name, "email": email, "body": body})
}

async fn post(app: &TestApp, body: &Value) -> String {
    let reply = app.send(Event::post_json("/comment", body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

fn link_after<'m>(text: &'m str, label: &str) -> &'m str {
    let start = text
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {text}"))
        + label.len();
    text[start..].split_whitespace().next().unwrap()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

fn mails_to(app: &TestApp, to: &str) -> Vec<Mail> {
    app.mailer
        .sent()
        .into_iter()
        .filter(|m| m.to.eq_ignore_ascii_case(to))
        .collect()
}

/// Approves comment `id` with the link of its moderation mail.
async fn approve(app: &TestApp, body_text: &str) {
    let mail = app
        .mailer
        .sent()
        .into_iter()
        .find(|m| m.text.contains(body_text) && m.text.contains("Approve: "))
        .unwrap();
    let token = token_of(link_after(&mail.text, "Approve: "));
    let reply = app
        .send(Event::v2("POST", "/comment/moderate").body(
            "application/x-www-form-urlencoded",
            &format!("token={token}"),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn notify_get(app: &TestApp, token: &str) -> Reply {
    app.send(Event::v2("GET", &format!("/comment/notify?token={token}")))
        .await
}

async fn notify_post(app: &TestApp, token: &str) -> Reply {
    app.send(Event::v2("POST", "/comment/notify").body(
        "application/x-www-form-urlencoded",
        &format!("token={token}"),
    ))
    .await
}

/// What a mail client sends for RFC 8058 one-click: the List-Unsubscribe URL,
/// POSTed with that one field, without a browser's Origin.
async fn one_click(app: &TestApp, url: &str) -> Reply {
    let path_and_query = url.split_once("://").unwrap().1;
    let path_and_query = &path_and_query[path_and_query.find('/').unwrap()..];
    app.send(Event::v2("POST", path_and_query).without("origin").body(
        "application/x-www-form-urlencoded",
        "List-Unsubscribe=One-Click",
    ))
    .await
}

fn assert_safe_page(reply: &Reply) {
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    assert!(
        reply
            .header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
}

/// Ann's comment asks for notifications and is approved; she confirms.
async fn confirmed_subscriber(app: &TestApp) -> String {
    let mut body = comment_by("Ann", ANN, "Tell me when someone answers.");
    body["notify"] = json!("on");
    let id = post(app, &body).await;
    approve(app, "Tell me when someone answers.").await;
    let confirm = mails_to(app, ANN).pop().unwrap();
    let token = token_of(link_after(&confirm.text, "this page:"));
    assert_eq!(notify_post(app, &token).await.status, 200);
    id
}

#[tokio::test]
async fn the_whole_story_subscribe_approve_confirm_notify_one_click_unsubscribe() {
    let app = app(&[]);
    let mut body = comment_by("Ann", ANN, "Tell me when someone answers.");
    body["notify"] = json!(true);
    let ann_comment = post(&app, &body).await;
    assert!(
        mails_to(&app, ANN).is_empty(),
        "nothing to Ann before approval"
    );
    assert!(
        app.store.subscriptions().is_empty(),
        "no address stored twice before approval"
    );

    approve(&app, "Tell me when someone answers.").await;
    let confirmations = mails_to(&app, ANN);
    assert_eq!(confirmations.len(), 1);
    let confirm = &confirmations[0];
    assert_eq!(
        confirm.subject,
        "[Example Blog] Confirm reply notifications"
    );
    assert!(confirm.list_unsubscribe.is_none());
    assert!(
        confirm
            .text
            .contains("Example Blog (https://blog.example.com)")
    );
    let confirm_link = link_after(&confirm.text, "this page:");
    assert!(
        confirm_link.contains("/comment/notify?token="),
        "{confirm_link}"
    );

    // Opening the link (or a scanner prefetching it) confirms nothing.
    let page = notify_get(&app, &token_of(confirm_link)).await;
    assert_eq!(page.status, 200);
    assert_safe_page(&page);
    assert!(
        page.body
            .contains("<button type=\"submit\">Confirm</button>")
    );
    assert!(!app.store.subscriptions()[0].confirmed);
    let done = notify_post(&app, &token_of(confirm_link)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(app.store.subscriptions()[0].confirmed);

    // Bob replies; the owner approves; Ann is told.
    let mut reply = comment_by("Bob <b>", "bob@example.net", "Here is an answer & more.");
    reply["parent"] = json!(ann_comment);
    post(&app, &reply).await;
    assert_eq!(
        mails_to(&app, ANN).len(),
        1,
        "nothing before the reply is published"
    );
    approve(&app, "Here is an answer & more.").await;
    let mails = mails_to(&app, ANN);
    assert_eq!(mails.len(), 2);
    let notice = &mails[1];
    assert_eq!(
        notice.subject,
        "[Example Blog] Bob <b> replied to your comment"
    );
    assert!(
        notice
            .text
            .contains("Bob <b> replied to your comment on https://blog.example.com/2026/11/rust/")
    );
    assert!(notice.text.contains("Here is an answer & more."));
    let unsubscribe = notice.list_unsubscribe.clone().unwrap();
    assert!(
        notice.text.contains(&unsubscribe),
        "the unsubscribe link is in the text too"
    );
    let mime = String::from_utf8(notice.to_mime()).unwrap();
    assert!(mime.contains(&format!("List-Unsubscribe: <{unsubscribe}>\r\n")));
    assert!(mime.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));

    // The unsubscribe page is prefetch-safe too; one click ends it at once.
    let page = notify_get(&app, &token_of(&unsubscribe)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Unsubscribe</button>"));
    assert_eq!(app.store.subscriptions().len(), 1);
    let gone = one_click(&app, &unsubscribe).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(
        app.store.subscriptions().is_empty(),
        "the address goes with it"
    );
    assert_eq!(
        one_click(&app, &unsubscribe).await.status,
        200,
        "idempotent"
    );

    let mut again = comment_by("Cy", "cy@example.net", "A second answer.");
    again["parent"] = json!(ann_comment);
    post(&app, &again).await;
    approve(&app, "A second answer.").await;
    assert_eq!(mails_to(&app, ANN).len(), 2, "no mail after unsubscribing");
}

#[tokio::test]
async fn no_mail_for_ones_own_reply() {
    let app = app(&[]);
    let ann_comment = confirmed_subscriber(&app).await;
    let before = mails_to(&app, ANN).len();
    let mut own = comment_by("Ann", " ANN@Example.org ", "Replying to myself.");
    own["parent"] = json!(ann_comment);
    post(&app, &own).await;
    approve(&app, "Replying to myself.").await;
    assert_eq!(mails_to(&app, ANN).len(), before);
}

#[tokio::test]
async fn an_unconfirmed_subscriber_gets_no_reply_mail() {
    let app = app(&[]);
    let mut body = comment_by("Ann", ANN, "I will not confirm.");
    body["notify"] = json!("1");
    let id = post(&app, &body).await;
    approve(&app, "I will not confirm.").await;
    let mut reply = comment_by("Bob", "bob@example.net", "An answer.");
    reply["parent"] = json!(id);
    post(&app, &reply).await;
    approve(&app, "An answer.").await;
    assert_eq!(mails_to(&app, ANN).len(), 1, "the confirmation only");
}

#[tokio::test]
async fn a_flood_of_notify_comments_for_one_mailbox_sends_one_confirmation_carrying_no_visitor_text()
 {
    let app = app(&[("MODERATION", "off")]);
    let spellings = [
        "victim@gmail.com",
        "Victim@GMail.com",
        "victim+1@gmail.com",
        "victim+2@gmail.com",
        "v.i.c.t.i.m@gmail.com",
        "vic.tim+x@googlemail.com",
    ];
    for (i, email) in spellings.iter().enumerate() {
        let mut body = comment_by(
            "BUY CHEAP PILLS at evil.example",
            email,
            &format!("Flood {i}."),
        );
        body["post"] = json!("/visit-evil.example-now/");
        body["notify"] = json!("on");
        post(&app, &body).await;
    }
    let to_victim: Vec<Mail> = app
        .mailer
        .sent()
        .into_iter()
        .filter(|m| m.to != "owner@localhost")
        .collect();
    assert_eq!(to_victim.len(), 1, "one mailbox, one mail a day");
    let mail = &to_victim[0];
    for chosen in ["PILLS", "evil", "Flood"] {
        assert!(!mail.text.contains(chosen), "{chosen} in {}", mail.text);
        assert!(
            !mail.subject.contains(chosen),
            "{chosen} in {}",
            mail.subject
        );
    }
}

#[tokio::test]
async fn one_source_sets_off_at_most_three_confirmation_mails_a_day() {
    let app = app(&[("MODERATION", "off")]);
    for i in 0..5 {
        let mut body = comment_by(
            "Mallory",
            &format!("stranger{i}@example.org"),
            "Hello there.",
        );
        body["body"] = json!(format!("Hello number {i}."));
        body["notify"] = json!("on");
        post(&app, &body).await;
    }
    let confirmations = app
        .mailer
        .sent()
        .into_iter()
        .filter(|m| m.subject.contains("Confirm"))
        .count();
    assert_eq!(confirmations, 3);
    assert_eq!(
        app.store.subscriptions().len(),
        3,
        "no address kept for the others"
    );
}

#[tokio::test]
async fn a_reader_who_comments_three_times_a_day_gets_one_mail_whose_link_subscribes_all_three() {
    let app = app(&[]);
    let mut ids = Vec::new();
    for i in 0..3 {
        let text = format!("Comment number {i} of the day.");
        let mut body = comment_by("Ann", &format!("ann+{i}@example.org"), &text);
        body["notify"] = json!("on");
        ids.push(post(&app, &body).await);
        approve(&app, &text).await;
    }
    let mails: Vec<Mail> = app
        .mailer
        .sent()
        .into_iter()
        .filter(|m| m.to.starts_with("ann+"))
        .collect();
    assert_eq!(mails.len(), 1);
    let token = token_of(link_after(&mails[0].text, "this page:"));
    let done = notify_post(&app, &token).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Confirmed"), "{}", done.body);
    assert_eq!(app.store.subscriptions().len(), 3);
    assert!(app.store.subscriptions().iter().all(|s| s.confirmed));

    // A reply to the third comment reaches Ann.
    let mut reply = comment_by("Bob", "bob@example.net", "An answer to the third.");
    reply["parent"] = json!(ids[2]);
    post(&app, &reply).await;
    approve(&app, "An answer to the third.").await;
    let notices = app
        .mailer
        .sent()
        .into_iter()
        .filter(|m| m.to == "ann+2@example.org" && m.text.contains("An answer to the third."))
        .count();
    assert_eq!(notices, 1);
}

#[tokio::test]
async fn a_reply_asking_for_notifications_spends_no_confirmation_of_the_day() {
    let app = app(&[]);
    let parent = post(
        &app,
        &comment_by("Bob", "bob@example.net", "A first comment."),
    )
    .await;
    approve(&app, "A first comment.").await;
    let mut reply = comment_by("Ann", ANN, "A reply that asks.");
    reply["parent"] = json!(parent);
    reply["notify"] = json!("on");
    post(&app, &reply).await;
    approve(&app, "A reply that asks.").await;
    assert!(
        mails_to(&app, ANN).is_empty(),
        "replies cannot be replied to"
    );
    assert!(app.store.subscriptions().is_empty());
    let mut top = comment_by("Ann", ANN, "A top-level comment that asks.");
    top["notify"] = json!("on");
    post(&app, &top).await;
    approve(&app, "A top-level comment that asks.").await;
    assert_eq!(mails_to(&app, ANN).len(), 1);
}

#[tokio::test]
async fn without_moderation_the_confirmation_follows_publication_at_once() {
    let app = app(&[("MODERATION", "off")]);
    let mut body = comment_by("Ann", ANN, "Published at once.");
    body["notify"] = json!("on");
    post(&app, &body).await;
    let mails = mails_to(&app, ANN);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("Confirm"));
}

#[tokio::test]
async fn without_site_url_notify_is_accepted_and_nothing_is_mailed_to_visitors() {
    let app = spawn_app(&[]);
    let mut body = comment_by("Ann", ANN, "No site URL here.");
    body["notify"] = json!("on");
    post(&app, &body).await;
    approve(&app, "No site URL here.").await;
    assert!(mails_to(&app, ANN).is_empty());
    assert!(app.store.subscriptions().is_empty());
}

#[tokio::test]
async fn notify_without_an_email_is_a_400_on_email() {
    let app = app(&[]);
    let body = json!({"post": "/p/", "name": "Ann", "body": "Hello there", "notify": "on"});
    let reply = app.send(Event::post_json("/comment", &body)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json()["fields"][0]["field"], "email");
    assert_eq!(reply.json()["fields"][0]["code"], "required");
}

#[tokio::test]
async fn rejecting_or_deleting_a_comment_removes_its_subscription() {
    let app = app(&[]);
    let id = confirmed_subscriber(&app).await;
    assert_eq!(app.store.subscriptions().len(), 1);
    let keys = Keys::derive(SECRET.as_bytes());
    let token = Token {
        action: Decision::Delete,
        comment_id: id,
        expires_s: rust_aws::domain::ids::now_ms() / 1000 + 600,
    }
    .sign(&keys.moderation);
    let reply = app
        .send(Event::v2("POST", "/comment/moderate").body(
            "application/x-www-form-urlencoded",
            &format!("token={token}"),
        ))
        .await;
    assert_eq!(reply.status, 200);
    assert!(app.store.subscriptions().is_empty());
}

#[tokio::test]
async fn hostile_tokens_are_refused_tampered_403_expired_410_wrong_purpose_403() {
    let app = app(&[]);
    let id = confirmed_subscriber(&app).await;
    let keys = Keys::derive(SECRET.as_bytes());
    let now_s = rust_aws::domain::ids::now_ms() / 1000;
    let unsubscribe = |expires_s| {
        NotifyToken {
            action: NotifyAction::Unsubscribe,
            comment_id: id.clone(),
            expires_s,
        }
        .sign(&keys.notify)
    };
    let good = unsubscribe(now_s + 600);
    let tampered = good.replacen(&id[..4], "ffff", 1);
    let expired = unsubscribe(now_s - 1);
    let moderation = Token {
        action: Decision::Approve,
        comment_id: id.clone(),
        expires_s: now_s + 600,
    }
    .sign(&keys.moderation);
    let other_key = NotifyToken {
        action: NotifyAction::Unsubscribe,
        comment_id: id.clone(),
        expires_s: now_s + 600,
    }
    .sign(&keys.moderation);
    for (token, status) in [
        (tampered.as_str(), 403),
        ("", 403),
        ("%3Cscript%3E", 403),
        (expired.as_str(), 410),
        (moderation.as_str(), 403),
        (other_key.as_str(), 403),
    ] {
        let get = notify_get(&app, token).await;
        assert_eq!(get.status, status, "GET {token}");
        assert_safe_page(&get);
        assert!(!get.body.contains("<script>"));
        assert_eq!(
            notify_post(&app, token).await.status,
            status,
            "POST {token}"
        );
    }
    // A notification token opens no moderation page either.
    let reply = app
        .send(Event::v2("GET", &format!("/comment/moderate?token={good}")))
        .await;
    assert_eq!(reply.status, 403);
    // One-click never confirms.
    let confirm = NotifyToken {
        action: NotifyAction::Confirm,
        comment_id: id.clone(),
        expires_s: now_s + 600,
    }
    .sign(&keys.notify);
    let reply = one_click(
        &app,
        &format!("https://api.example.org/comment/notify?token={confirm}"),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(app.store.subscriptions().len(), 1, "nothing changed");
}

#[tokio::test]
async fn an_address_subscriptions_are_found_and_erased_by_email() {
    let app = app(&[]);
    let id = confirmed_subscriber(&app).await;
    let comments = app.store.comments();
    let now = rust_aws::domain::ids::now_ms();
    let found = rust_aws::outbox::replies::subscriptions_of(
        &*app.store,
        &comments,
        " Ann@Example.ORG",
        now,
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].comment_id, id);
    assert!(
        rust_aws::outbox::replies::subscriptions_of(&*app.store, &comments, "bob@example.net", now)
            .await
            .unwrap()
            .is_empty()
    );
    let erased = rust_aws::outbox::replies::erase_subscriptions_of(&*app.store, &comments, ANN)
        .await
        .unwrap();
    assert_eq!(erased, vec![id]);
    assert!(app.store.subscriptions().is_empty());
    assert_eq!(app.store.comments().len(), 1, "the comment itself stays");
}
