//! `POST /contact`: validation, storage, and the mail to the owner (sent at
//! once, or left for the next redelivery run).

use serde_json::{Value, json};

use crate::helpers::assert_field_error;
use crate::support::events::{Event, contact, fixture};
use crate::support::memory::spawn_app;

#[tokio::test]
async fn post_contact_returns_202_stores_the_message_then_mails_the_owner() {
    let app = spawn_app(&[]);
    let reply = app.send(Event::post_json("/contact", &contact())).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let v = reply.json();
    assert_eq!(v["status"], "received");
    let stored = app.store.contacts();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, v["id"].as_str().unwrap());
    assert!(stored[0].delivered);
    let sent = app.mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].reply_to.as_ref().unwrap().1, "ann@example.org");
    assert!(sent[0].text.contains("I liked your post.\nThanks!"));
    assert_eq!(sent[0].subject, "[Example Blog] Hello");
}

#[tokio::test]
async fn post_contact_works_from_every_front_door_fixture() {
    for (name, expected) in [
        ("apigw-v2-http-api.json", 202),
        ("apigw-v1-rest-staged.json", 202),
        ("function-url.json", 202),
        // A plain HTML form (base64, as API Gateway sends it) is redirected back.
        ("apigw-v2-form-base64.json", 303),
    ] {
        let app = spawn_app(&[]);
        let reply = app.invoke(&fixture(name).to_string()).await;
        assert_eq!(reply.status, expected, "{name}: {}", reply.body);
        assert_eq!(app.store.contacts().len(), 1, "{name}");
        assert_eq!(app.store.contacts()[0].name, "Ann", "{name}");
    }
}

#[tokio::test]
async fn post_contact_returns_400_naming_each_invalid_field() {
    let long = |n: usize| "x".repeat(n);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"email": "a@b.c", "message": "hi"}),
            "name",
            "required",
        ),
        (
            json!({"name": "  ", "email": "a@b.c", "message": "hi"}),
            "name",
            "required",
        ),
        (
            json!({"name": long(101), "email": "a@b.c", "message": "hi"}),
            "name",
            "too_long",
        ),
        (
            json!({"name": "A\nB", "email": "a@b.c", "message": "hi"}),
            "name",
            "invalid",
        ),
        (
            json!({"name": "A\u{202E}B", "email": "a@b.c", "message": "hi"}),
            "name",
            "invalid",
        ),
        (
            json!({"name": 42, "email": "a@b.c", "message": "hi"}),
            "name",
            "invalid",
        ),
        (json!({"name": "A", "message": "hi"}), "email", "required"),
        (
            json!({"name": "A", "email": "not-an-address", "message": "hi"}),
            "email",
            "invalid",
        ),
        (
            json!({"name": "A", "email": "zoë@example.org", "message": "hi"}),
            "email",
            "invalid",
        ),
        (
            json!({"name": "A", "email": "a@b.c\r\nBcc: x@y.z", "message": "hi"}),
            "email",
            "invalid",
        ),
        (
            json!({"name": "A", "email": format!("{}@b.c", long(260)), "message": "hi"}),
            "email",
            "too_long",
        ),
        (
            json!({"name": "A", "email": "a@b.c", "subject": long(201), "message": "hi"}),
            "subject",
            "too_long",
        ),
        (
            json!({"name": "A", "email": "a@b.c", "subject": "a\r\nBcc: x@y.z", "message": "hi"}),
            "subject",
            "invalid",
        ),
        (
            json!({"name": "A", "email": "a@b.c"}),
            "message",
            "required",
        ),
        (
            json!({"name": "A", "email": "a@b.c", "message": long(10_001)}),
            "message",
            "too_long",
        ),
        (
            json!({"name": "A", "email": "a@b.c", "message": "a\u{0}b"}),
            "message",
            "invalid",
        ),
    ];
    for (body, field, code) in cases {
        let app = spawn_app(&[]);
        let reply = app.send(Event::post_json("/contact", &body)).await;
        assert_field_error(&reply, field, code);
        assert!(app.store.contacts().is_empty(), "nothing stored for {body}");
        assert!(app.mailer.sent().is_empty());
    }
}

#[tokio::test]
async fn post_contact_reports_every_invalid_field_at_once() {
    let app = spawn_app(&[]);
    let reply = app.send(Event::post_json("/contact", &json!({}))).await;
    let fields: Vec<_> = reply.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].clone())
        .collect();
    assert_eq!(
        fields,
        vec![json!("name"), json!("email"), json!("message")]
    );
}

#[tokio::test]
async fn post_contact_ignores_unknown_fields_and_blank_subject() {
    let app = spawn_app(&[]);
    let mut body = contact();
    body["subject"] = json!("");
    body["favourite_colour"] = json!("green");
    assert_eq!(
        app.send(Event::post_json("/contact", &body)).await.status,
        202
    );
    assert_eq!(app.store.contacts()[0].subject, None);
}

#[tokio::test]
async fn a_failed_send_still_answers_202_keeps_the_message_and_the_next_run_delivers_it_once() {
    use rust_aws::store::Outbox;
    let app = spawn_app(&[]);
    app.mailer.fail_next(1);
    let reply = app.send(Event::post_json("/contact", &contact())).await;
    assert_eq!(reply.status, 202);
    assert!(app.mailer.sent().is_empty());
    assert!(!app.store.contacts()[0].delivered);
    let outbox = app.store.list_outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].attempts, 1, "the request's attempt is counted");
    assert_eq!(outbox[0].last_error.as_deref(), Some("simulated failure"));

    // The request released its claim: the next scheduled run retries at once.
    let run = app
        .invoke(&fixture("eventbridge-scheduled.json").to_string())
        .await;
    assert_eq!(run.json()["redelivery"]["sent"], 1, "{}", run.body);
    let again = app
        .invoke(&fixture("eventbridge-scheduled.json").to_string())
        .await;
    assert_eq!(again.json()["redelivery"]["found"], 0);
    assert_eq!(app.mailer.sent().len(), 1);
    assert!(app.store.contacts()[0].delivered);
    assert!(app.store.list_outbox(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn mail_beyond_mail_per_hour_waits_undelivered() {
    let app = spawn_app(&[("MAIL_PER_HOUR", "1")]);
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()))
            .await
            .status,
        202
    );
    // Another message: the same one again within a day is spam.
    let mut second = contact();
    second["message"] = json!("A second message.");
    assert_eq!(
        app.send(Event::post_json("/contact", &second).source_ip("192.0.2.9"))
            .await
            .status,
        202
    );
    assert_eq!(app.mailer.sent().len(), 1);
    assert_eq!(
        app.store.contacts().iter().filter(|c| !c.delivered).count(),
        1
    );
}
