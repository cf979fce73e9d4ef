//! The intake both submission routes share (`POST /comment`, `POST /contact`):
//! media types, size, malformed bodies, origins, the honeypot, multipart.

use serde_json::json;

use crate::helpers::assert_field_error;
use crate::support::events::{Event, comment, contact, multipart};
use crate::support::memory::spawn_app;

#[tokio::test]
async fn submissions_return_415_for_other_media_types() {
    for ct in [
        "text/plain",
        "application/xml",
        "application/json; charset=iso-8859-1",
    ] {
        let app = spawn_app(&[]);
        let reply = app
            .send(Event::v2("POST", "/contact").body(ct, "name=x"))
            .await;
        assert_eq!(reply.status, 415, "{ct}");
        assert_eq!(reply.json()["error"], "unsupported_media_type");
    }
    let app = spawn_app(&[]);
    assert_eq!(app.send(Event::v2("POST", "/contact")).await.status, 415);
}

#[tokio::test]
async fn submissions_return_413_above_128_kib_decoded() {
    let app = spawn_app(&[]);
    let mut body = contact();
    body["message"] = json!("x".repeat(128 * 1024));
    let reply = app.send(Event::post_json("/comment", &body)).await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.json()["error"], "payload_too_large");
    // Exactly at the limit is parsed (and then fails validation on length, not size).
    let filler = 128 * 1024 - r#"{"name":"A","email":"a@b.c","message":""}"#.len();
    let at_limit = json!({"name": "A", "email": "a@b.c", "message": "y".repeat(filler)});
    assert_eq!(at_limit.to_string().len(), 128 * 1024);
    assert_field_error(
        &app.send(Event::post_json("/contact", &at_limit)).await,
        "message",
        "too_long",
    );
}

#[tokio::test]
async fn submissions_return_400_for_malformed_bodies() {
    for body in ["{", "[1]", "\"text\"", "{\"name\":\"a\"} trailing"] {
        let app = spawn_app(&[]);
        let reply = app
            .send(Event::v2("POST", "/contact").body("application/json", body))
            .await;
        assert_field_error(&reply, "(request body)", "invalid");
    }
    let app = spawn_app(&[]);
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        app.send(Event::v2("POST", "/contact").body("application/json", &deep))
            .await
            .status,
        400
    );
    let dup = r#"{"name":"A","name":"B","email":"a@b.c","message":"hi"}"#;
    assert_field_error(
        &app.send(Event::v2("POST", "/contact").body("application/json", dup))
            .await,
        "name",
        "invalid",
    );
}

#[tokio::test]
async fn submissions_from_a_foreign_origin_get_403_and_store_nothing() {
    let app = spawn_app(&[]);
    let reply = app
        .send(Event::post_json("/contact", &contact()).header("origin", "https://evil.example"))
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["error"], "forbidden_origin");
    assert!(app.store.contacts().is_empty());
}

#[tokio::test]
async fn submissions_without_origin_or_with_null_origin_are_allowed() {
    let app = spawn_app(&[]);
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()).without("origin"))
            .await
            .status,
        202
    );
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()).header("origin", "null"))
            .await
            .status,
        202
    );
    // Origins compare case-insensitively.
    assert_eq!(
        app.send(
            Event::post_json("/contact", &contact()).header("origin", "HTTPS://Blog.Example.com")
        )
        .await
        .status,
        202
    );
}

#[tokio::test]
async fn a_filled_honeypot_answers_like_success_and_stores_sends_and_counts_nothing() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "1")]);
    let mut body = contact();
    body["_gotcha"] = json!("http://spam.example");
    for _ in 0..3 {
        let reply = app.send(Event::post_json("/contact", &body)).await;
        assert_eq!(reply.status, 202);
        assert_eq!(reply.json()["status"], "received");
        assert_eq!(reply.json()["id"].as_str().unwrap().len(), 32);
    }
    let mut c = comment("/p/");
    c["_gotcha"] = json!("x");
    let reply = app.send(Event::post_json("/comment", &c)).await;
    assert_eq!(
        (
            reply.status,
            reply.json()["post"].as_str(),
            reply.json()["status"].as_str()
        ),
        (201, Some("/p/"), Some("pending"))
    );
    assert!(app.store.contacts().is_empty() && app.store.comments().is_empty());
    assert!(app.mailer.sent().is_empty());
    // Nothing was counted: a real submission still passes the limit of 1.
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()))
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn a_custom_honeypot_field_is_honoured() {
    let app = spawn_app(&[("HONEYPOT_FIELD", "website2")]);
    let mut body = contact();
    body["website2"] = json!("filled");
    assert_eq!(
        app.send(Event::post_json("/contact", &body)).await.status,
        202
    );
    assert!(app.store.contacts().is_empty());
}

#[tokio::test]
async fn multipart_formdata_text_fields_are_accepted_and_files_refused() {
    let app = spawn_app(&[]);
    let body = multipart(
        "----WebKitFormBoundary7MA4YWxk",
        &[
            ("name", None, "Ann"),
            ("email", None, "ann@example.org"),
            ("message", None, "Line 1\r\nLine 2"),
        ],
    );
    let ct = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk";
    let reply = app
        .send(
            Event::v2("POST", "/contact")
                .header("accept", "application/json")
                .body_base64(ct, &body),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(app.store.contacts()[0].message, "Line 1\nLine 2");

    let with_file = multipart(
        "b0undary",
        &[("name", None, "Ann"), ("cv", Some("cv.pdf"), "%PDF-1.7")],
    );
    let reply = app
        .send(
            Event::v2("POST", "/contact")
                .header("accept", "application/json")
                .body_base64("multipart/form-data; boundary=b0undary", &with_file),
        )
        .await;
    assert_field_error(&reply, "cv", "invalid");
}
