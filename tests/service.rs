//! Service tests: the app in memory, driven with real API Gateway payloads,
//! asserting on the answer and on what the store and mailer recorded.
#![allow(clippy::unwrap_used)]

mod support;

use rust_aws::keys::Keys;
use rust_aws::store::Decision;
use rust_aws::token::Token;
use serde_json::{Value, json};
use support::events::{Event, SITE, comment, contact, fixture, multipart};
use support::memory::{Reply, SECRET, TestApp, spawn_app};

fn assert_field_error(reply: &Reply, field: &str, code: &str) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    let v = reply.json();
    assert_eq!(v["error"], "validation_failed");
    let fields = v["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f["field"] == field && f["code"] == code),
        "expected {field}/{code} in {}",
        reply.body
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

// ---- POST /contact ----------------------------------------------------------

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

// ---- the shared intake ------------------------------------------------------

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
async fn the_rate_limit_answers_429_with_retry_after_per_route_and_ip() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "2")]);
    let bad = json!({"name": ""});
    // Invalid submissions count too.
    assert_eq!(
        app.send(Event::post_json("/contact", &bad)).await.status,
        400
    );
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()))
            .await
            .status,
        202
    );
    let reply = app.send(Event::post_json("/contact", &contact())).await;
    assert_eq!(reply.status, 429);
    assert_eq!(reply.json()["error"], "rate_limited");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Another route and another address have their own windows.
    assert_eq!(
        app.send(Event::post_json("/comment", &comment("/p/")))
            .await
            .status,
        201
    );
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()).source_ip("192.0.2.1"))
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn the_rate_limit_keys_ipv6_by_its_64() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "1")]);
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()).source_ip("2001:db8:aa:bb::1"))
            .await
            .status,
        202
    );
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()).source_ip("2001:db8:aa:bb:ffff::2"))
            .await
            .status,
        429
    );
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()).source_ip("2001:db8:aa:bc::1"))
            .await
            .status,
        202
    );
}

#[tokio::test]
async fn x_forwarded_for_is_ignored_unless_proxies_are_trusted() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "1")]);
    let spoof = |ip: &str| Event::post_json("/contact", &contact()).header("x-forwarded-for", ip);
    assert_eq!(app.send(spoof("10.0.0.1")).await.status, 202);
    assert_eq!(
        app.send(spoof("10.0.0.2")).await.status,
        429,
        "a client-chosen header must not reset the limit"
    );
}

/// What API Gateway delivers behind CloudFront: CloudFront appended the
/// viewer to whatever the viewer sent, API Gateway appended the edge that
/// connected to it, which is also `sourceIp`.
#[tokio::test]
async fn behind_cloudfront_the_viewer_is_the_client_and_skipping_cloudfront_gains_nothing() {
    const EDGE: &str = "130.176.9.1";
    const PROXY_SECRET: &str = "cloudfront-origin-secret-0123456789abcdef";
    let app = spawn_app(&[
        ("RATE_LIMIT_PER_MINUTE", "1"),
        ("TRUSTED_PROXY_HOPS", "1"),
        ("TRUSTED_PROXY_SECRET", PROXY_SECRET),
    ]);
    let via_cdn = |viewer: &str| {
        Event::post_json("/contact", &contact())
            .header("x-forwarded-for", &format!("6.6.6.6, {viewer}, {EDGE}"))
            .header("x-origin-verify", PROXY_SECRET)
            .source_ip(EDGE)
    };
    assert_eq!(app.send(via_cdn("198.51.100.1")).await.status, 202);
    assert_eq!(
        app.send(via_cdn("198.51.100.2")).await.status,
        202,
        "viewers behind one edge are counted apart"
    );
    assert_eq!(app.send(via_cdn("198.51.100.1")).await.status, 429);

    // Calling execute-api directly with a chosen X-Forwarded-For, without
    // (or with a wrong) secret: counted by the caller's own address.
    let direct = |chosen: &str, secret: Option<&str>| {
        let event = Event::post_json("/contact", &contact())
            .header("x-forwarded-for", &format!("{chosen}, 203.0.113.66"))
            .source_ip("203.0.113.66");
        match secret {
            Some(s) => event.header("x-origin-verify", s),
            None => event,
        }
    };
    assert_eq!(app.send(direct("192.0.2.1", None)).await.status, 202);
    assert_eq!(app.send(direct("192.0.2.2", None)).await.status, 429);
    assert_eq!(
        app.send(direct(
            "192.0.2.3",
            Some("a-guess-0123456789abcdef0123456789")
        ))
        .await
        .status,
        429
    );
}

#[tokio::test]
async fn a_redirect_target_that_cannot_be_a_location_falls_back_to_the_next_choice() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "100")]);
    for bad in [
        format!("{SITE}/thanks/\r\nSet-Cookie: a=b"),
        format!("{SITE}/than\nks/"),
        format!("{SITE}/tha\u{7f}nks/"),
        format!("{SITE}/tha\tnks/"),
    ] {
        let pairs = [
            ("name", "Ann"),
            ("email", "ann@example.org"),
            ("message", "Hi"),
            ("_redirect", bad.as_str()),
        ];
        let reply = app.send(Event::post_form("/contact", &pairs)).await;
        assert_eq!(reply.status, 303, "{bad:?}");
        assert_eq!(
            reply.header("location"),
            Some(format!("{SITE}/contact/").as_str()),
            "{bad:?} falls back to the Referer"
        );
        // And with no Referer to fall back to: JSON, never a 303 without Location.
        let reply = app
            .send(Event::post_form("/contact", &pairs).without("referer"))
            .await;
        assert_eq!(reply.status, 202, "{bad:?}");
        assert!(reply.header("location").is_none());
    }
}

#[tokio::test]
async fn with_any_origin_allowed_a_303_goes_only_to_the_requests_own_origin() {
    let app = spawn_app(&[("ALLOWED_ORIGINS", "*"), ("RATE_LIMIT_PER_MINUTE", "100")]);
    let form = |redirect: &str| {
        let pairs = [
            ("name", "Ann"),
            ("email", "ann@example.org"),
            ("message", "Hi"),
            ("_redirect", redirect),
        ];
        Event::post_form("/contact", &pairs).header("origin", SITE)
    };
    let reply = app.send(form("https://evil.example/phish")).await;
    assert_eq!(
        reply.header("location"),
        Some(format!("{SITE}/contact/").as_str()),
        "a third site is never a target; the Referer is"
    );
    let reply = app.send(form(&format!("{SITE}/thanks/"))).await;
    assert_eq!(
        reply.header("location"),
        Some(format!("{SITE}/thanks/").as_str())
    );
    let reply = app
        .send(
            form("https://evil.example/phish")
                .without("origin")
                .without("referer"),
        )
        .await;
    assert_eq!(reply.status, 202, "no origin of its own: plain JSON");
}

#[tokio::test]
async fn plain_forms_are_redirected_303_to_referer_or_allowed_redirect() {
    let app = spawn_app(&[]);
    let pairs = [
        ("name", "Ann"),
        ("email", "ann@example.org"),
        ("message", "Hi"),
    ];
    let reply = app.send(Event::post_form("/contact", &pairs)).await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        reply.header("location"),
        Some(format!("{SITE}/contact/").as_str())
    );

    let thanks = format!("{SITE}/thanks/#top");
    let mut with_redirect = pairs.to_vec();
    with_redirect.push(("_redirect", &thanks));
    assert_eq!(
        app.send(Event::post_form("/contact", &with_redirect))
            .await
            .header("location"),
        Some(thanks.as_str())
    );

    let mut foreign = pairs.to_vec();
    foreign.push(("_redirect", "https://evil.example/phish"));
    assert_eq!(
        app.send(Event::post_form("/contact", &foreign))
            .await
            .header("location"),
        Some(format!("{SITE}/contact/").as_str())
    );
}

#[tokio::test]
async fn plain_form_errors_redirect_with_the_error_code() {
    let app = spawn_app(&[]);
    let reply = app
        .send(Event::post_form(
            "/contact",
            &[("name", "Ann"), ("email", "nope"), ("message", "Hi")],
        ))
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        reply.header("location"),
        Some(format!("{SITE}/contact/?error=validation_failed").as_str())
    );
    assert!(app.store.contacts().is_empty());
}

#[tokio::test]
async fn forms_get_json_when_they_accept_json_or_have_no_allowed_target() {
    let app = spawn_app(&[]);
    let pairs = [
        ("name", "Ann"),
        ("email", "ann@example.org"),
        ("message", "Hi"),
    ];
    let reply = app
        .send(Event::post_form("/contact", &pairs).header("accept", "application/json"))
        .await;
    assert_eq!(reply.status, 202);
    let reply = app
        .send(Event::post_form("/contact", &pairs).header("referer", "https://evil.example/"))
        .await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.json()["status"], "received");
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

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app(&[]);
    let reply = app.send(Event::v2("GET", "/nope")).await;
    assert_eq!(
        (reply.status, reply.json()["error"].as_str()),
        (404, Some("not_found"))
    );
    for (method, path, allow) in [
        ("GET", "/contact", "POST, OPTIONS"),
        ("DELETE", "/comment", "GET, HEAD, POST, OPTIONS"),
        ("POST", "/comment/count", "GET, HEAD, OPTIONS"),
    ] {
        let reply = app.send(Event::v2(method, path)).await;
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("allow"), Some(allow));
        assert_eq!(reply.json()["error"], "method_not_allowed");
    }
}

#[tokio::test]
async fn head_answers_as_get_would_without_a_body() {
    let app = spawn_app(&[]);
    let get = app.send(Event::v2("GET", "/comment?post=%2Fa%2F")).await;
    let head = app.send(Event::v2("HEAD", "/comment?post=%2Fa%2F")).await;
    assert_eq!((get.status, head.status), (200, 200));
    assert!(!get.body.is_empty());
    assert!(head.body.is_empty(), "HEAD body: {}", head.body);
    for name in ["content-type", "cache-control", "vary"] {
        assert_eq!(head.header(name), get.header(name), "{name}");
    }
    let head = app.send(Event::v2("HEAD", "/contact")).await;
    assert_eq!(
        (head.status, head.header("allow")),
        (405, Some("POST, OPTIONS"))
    );
}

#[tokio::test]
async fn preflights_get_204_with_cors_for_allowed_origins_and_403_otherwise() {
    let app = spawn_app(&[]);
    let pre = |origin: &str| {
        Event::v2("OPTIONS", "/contact")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
    };
    let reply = app.send(pre(SITE)).await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("access-control-allow-origin"), Some(SITE));
    assert!(
        reply
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(
        reply
            .header("access-control-allow-headers")
            .unwrap()
            .contains("content-type")
    );
    assert_eq!(app.send(pre("https://evil.example")).await.status, 403);
}

#[tokio::test]
async fn errors_carry_the_request_id_and_no_store() {
    let app = spawn_app(&[]);
    let reply = app.send(Event::v2("GET", "/nope")).await;
    assert!(!reply.json()["request_id"].as_str().unwrap().is_empty());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

// ---- delivery and redelivery ------------------------------------------------

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
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()).source_ip("192.0.2.9"))
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

// ---- comments -----------------------------------------------------------------

fn moderation_links(app: &TestApp) -> Vec<String> {
    let text = app.mailer.sent().last().unwrap().text.clone();
    text.split_whitespace()
        .filter(|w| w.contains("/comment/moderate?token="))
        .map(str::to_owned)
        .collect()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn moderate(app: &TestApp, token: &str) -> Reply {
    app.send(
        Event::v2("POST", "/comment/moderate")
            .header(
                "origin",
                &format!(
                    "https://{}",
                    "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
                ),
            )
            .body(
                "application/x-www-form-urlencoded",
                &format!("token={token}"),
            ),
    )
    .await
}

async fn list(app: &TestApp, query: &str) -> Reply {
    app.send(Event::v2("GET", &format!("/comment?{query}")))
        .await
}

#[tokio::test]
async fn a_comment_is_pending_until_approved_through_its_mailed_link() {
    let app = spawn_app(&[]);
    let reply = app
        .send(Event::post_json(
            "/comment",
            &comment("/2026/11/rust-on-lambda/"),
        ))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["status"], "pending");
    assert_eq!(
        reply.header("location"),
        Some("/comment?post=%2F2026%2F11%2Frust-on-lambda%2F")
    );
    // A browser on the site may read Location (and Retry-After) from script.
    assert_eq!(reply.header("access-control-allow-origin"), Some(SITE));
    assert!(
        reply
            .header("access-control-expose-headers")
            .unwrap()
            .contains("location")
    );
    assert_eq!(
        list(&app, "post=/2026/11/rust-on-lambda/").await.json()["comments"],
        json!([])
    );

    let links = moderation_links(&app);
    assert_eq!(links.len(), 3, "approve, reject, delete");
    assert!(links[0].starts_with(
        "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/comment/moderate?token=approve."
    ));

    // Opening the link only shows a page.
    let page = app
        .send(Event::v2(
            "GET",
            &format!("/comment/moderate?token={}", token_of(&links[0])),
        ))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(page.body.contains("Great write-up."));
    assert_eq!(
        list(&app, "post=/2026/11/rust-on-lambda/").await.json()["comments"],
        json!([])
    );

    assert_eq!(moderate(&app, &token_of(&links[0])).await.status, 200);
    let listed = list(&app, "post=/2026/11/rust-on-lambda/").await;
    assert_eq!(listed.header("cache-control"), Some("public, max-age=60"));
    let c = &listed.json()["comments"][0];
    assert_eq!(c["body"], "Great write-up.");
    assert_eq!(c["parent"], Value::Null);
    assert_eq!(c["url"], "https://bob.example.net");
    // SHA-256 of the trimmed, lowercased address.
    assert_eq!(c["avatar"].as_str().unwrap().len(), 64);
    assert!(c.get("email").is_none() && c.get("ip_hash").is_none());
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    let count = app
        .send(Event::v2(
            "GET",
            "/comment/count?post=/2026/11/rust-on-lambda/&post=/other/",
        ))
        .await;
    assert_eq!(
        count.json(),
        json!({"counts": {"/2026/11/rust-on-lambda/": 1, "/other/": 0}})
    );
}

#[tokio::test]
async fn avatars_are_the_sha256_of_the_normalised_email_or_null() {
    use sha2::{Digest, Sha256};
    let app = spawn_app(&[("MODERATION", "off")]);
    app.send(Event::post_json("/comment", &comment("/p/")))
        .await;
    let expected = rust_aws::ids::hex(&Sha256::digest(b"bob@example.org"));
    assert_eq!(
        list(&app, "post=/p/").await.json()["comments"][0]["avatar"],
        expected.as_str()
    );

    let app = spawn_app(&[("MODERATION", "off"), ("AVATARS", "off")]);
    app.send(Event::post_json("/comment", &comment("/p/")))
        .await;
    assert_eq!(
        list(&app, "post=/p/").await.json()["comments"][0]["avatar"],
        Value::Null
    );
}

#[tokio::test]
async fn rejecting_hides_and_deleting_removes_an_approved_comment() {
    let app = spawn_app(&[]);
    app.send(Event::post_json("/comment", &comment("/p/")))
        .await;
    let links = moderation_links(&app);
    assert_eq!(
        moderate(&app, &token_of(&links[1])).await.status,
        200,
        "reject"
    );
    assert_eq!(
        moderate(&app, &token_of(&links[1])).await.status,
        409,
        "reject again"
    );
    assert_eq!(
        moderate(&app, &token_of(&links[0])).await.status,
        200,
        "approve after all"
    );
    assert_eq!(
        list(&app, "post=/p/").await.json()["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        moderate(&app, &token_of(&links[2])).await.status,
        200,
        "delete"
    );
    assert_eq!(list(&app, "post=/p/").await.json()["comments"], json!([]));
    assert_eq!(
        app.send(Event::v2("GET", "/comment/count?post=/p/"))
            .await
            .json()["counts"]["/p/"],
        0
    );
    assert_eq!(
        moderate(&app, &token_of(&links[2])).await.status,
        409,
        "gone"
    );
    assert!(app.store.comments().is_empty());
}

#[tokio::test]
async fn tampered_links_get_403_and_expired_ones_410() {
    let app = spawn_app(&[]);
    app.send(Event::post_json("/comment", &comment("/p/")))
        .await;
    let approve = token_of(&moderation_links(&app)[0]);
    let tampered = approve.replacen("approve", "delete", 1);
    for t in [tampered.as_str(), "garbage", ""] {
        let page = app
            .send(Event::v2("GET", &format!("/comment/moderate?token={t}")))
            .await;
        assert_eq!(page.status, 403, "{t}");
        assert_eq!(moderate(&app, t).await.status, 403);
    }
    let id = app.store.comments()[0].id.clone();
    let keys = Keys::derive(SECRET.as_bytes());
    let expired = Token {
        action: Decision::Approve,
        comment_id: id,
        expires_s: 1,
    }
    .sign(&keys.moderation);
    assert_eq!(
        app.send(Event::v2(
            "GET",
            &format!("/comment/moderate?token={expired}")
        ))
        .await
        .status,
        410
    );
    assert_eq!(moderate(&app, &expired).await.status, 410);
    assert_eq!(list(&app, "post=/p/").await.json()["comments"], json!([]));
}

#[tokio::test]
async fn moderation_pages_escape_what_they_show() {
    let app = spawn_app(&[]);
    let mut c = comment("/p/<b>");
    c["name"] = json!("<script>alert(1)</script>");
    c["body"] = json!("<img src=x onerror=alert(1)>");
    app.send(Event::post_json("/comment", &c)).await;
    let page = app
        .send(Event::v2(
            "GET",
            &format!(
                "/comment/moderate?token={}",
                token_of(&moderation_links(&app)[0])
            ),
        ))
        .await;
    assert!(
        !page.body.contains("<script>alert") && !page.body.contains("<img"),
        "{}",
        page.body
    );
    assert!(page.body.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn moderation_off_publishes_at_once_and_mails_only_a_delete_link() {
    let app = spawn_app(&[("MODERATION", "off")]);
    let reply = app
        .send(Event::post_json("/comment", &comment("/p/")))
        .await;
    assert_eq!(reply.json()["status"], "approved");
    assert_eq!(
        list(&app, "post=/p/").await.json()["comments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let links = moderation_links(&app);
    assert_eq!(links.len(), 1);
    assert!(links[0].contains("token=delete."));
}

#[tokio::test]
async fn replies_need_an_approved_top_level_parent_on_the_same_post() {
    let app = spawn_app(&[("MODERATION", "off"), ("RATE_LIMIT_PER_MINUTE", "100")]);
    let parent = app
        .send(Event::post_json("/comment", &comment("/p/")))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut reply = comment("/p/");
    reply["parent"] = json!(parent);
    let r = app.send(Event::post_json("/comment", &reply)).await;
    assert_eq!(r.status, 201);
    let child = r.json()["id"].as_str().unwrap().to_owned();
    let listed = list(&app, "post=/p/").await.json();
    // Both may share a millisecond, so find the reply by id, not position.
    let listed_child = listed["comments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == child.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed_child["parent"], parent.as_str());

    for (post, parent_id) in [
        ("/other/", parent.as_str()),
        ("/p/", child.as_str()),
        ("/p/", "0123456789abcdef0123456789abcdef"),
        ("/p/", "not-hex!"),
    ] {
        let mut bad = comment(post);
        bad["parent"] = json!(parent_id);
        assert_field_error(
            &app.send(Event::post_json("/comment", &bad)).await,
            "parent",
            "invalid",
        );
    }

    let app = spawn_app(&[]);
    let pending = app
        .send(Event::post_json("/comment", &comment("/p/")))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut to_pending = comment("/p/");
    to_pending["parent"] = json!(pending);
    assert_field_error(
        &app.send(Event::post_json("/comment", &to_pending)).await,
        "parent",
        "invalid",
    );
}

#[tokio::test]
async fn post_comment_returns_400_naming_each_invalid_field() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"name": "A", "body": "hello"}), "post", "required"),
        (
            json!({"post": "x".repeat(513), "name": "A", "body": "hello"}),
            "post",
            "too_long",
        ),
        (
            json!({"post": "/p/\u{2067}", "name": "A", "body": "hello"}),
            "post",
            "invalid",
        ),
        (json!({"post": "/p/", "body": "hello"}), "name", "required"),
        (
            json!({"post": "/p/", "name": "A", "body": "h"}),
            "body",
            "too_short",
        ),
        (
            json!({"post": "/p/", "name": "A", "body": "x".repeat(5001)}),
            "body",
            "too_long",
        ),
        (
            json!({"post": "/p/", "name": "A", "body": "a\u{1b}[2Jb"}),
            "body",
            "invalid",
        ),
        (
            json!({"post": "/p/", "name": "A", "body": "hello", "email": "x@"}),
            "email",
            "invalid",
        ),
        (
            json!({"post": "/p/", "name": "A", "body": "hello", "url": "javascript:alert(1)"}),
            "url",
            "invalid",
        ),
        (
            json!({"post": "/p/", "name": "A", "body": "hello", "url": format!("https://e.com/{}", "a".repeat(2048))}),
            "url",
            "too_long",
        ),
    ];
    for (body, field, code) in cases {
        let app = spawn_app(&[]);
        assert_field_error(
            &app.send(Event::post_json("/comment", &body)).await,
            field,
            code,
        );
        assert!(app.store.comments().is_empty());
    }
}

#[tokio::test]
async fn comment_bodies_come_back_as_inert_text() {
    let app = spawn_app(&[("MODERATION", "off")]);
    let mut c = comment("/p/");
    c["body"] = json!("<script>alert('x')</script>\n</textarea>");
    app.send(Event::post_json("/comment", &c)).await;
    let listed = list(&app, "post=/p/").await;
    assert_eq!(listed.header("content-type"), Some("application/json"));
    assert_eq!(listed.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        listed.json()["comments"][0]["body"],
        "<script>alert('x')</script>\n</textarea>"
    );
}

#[tokio::test]
async fn pages_walk_every_comment_once_without_short_pages() {
    let app = spawn_app(&[("MODERATION", "off"), ("RATE_LIMIT_PER_MINUTE", "100")]);
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut c = comment("/p/");
        c["body"] = json!(format!("comment number {i}"));
        ids.push(
            app.send(Event::post_json("/comment", &c)).await.json()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        // Distinct submission times, so "oldest first" has one right answer.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("post=/p/&limit=3&cursor={c}"),
            None => "post=/p/&limit=3".to_owned(),
        };
        let page = list(&app, &q).await.json();
        let comments = page["comments"].as_array().unwrap();
        sizes.push(comments.len());
        seen.extend(
            comments
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(seen, ids, "oldest first, no gaps, no duplicates");
}

#[tokio::test]
async fn list_and_count_refuse_bad_queries_with_400() {
    let app = spawn_app(&[("MODERATION", "off")]);
    app.send(Event::post_json("/comment", &comment("/p/")))
        .await;
    for (q, field) in [
        ("", "post"),
        ("post=/p/&limit=0", "limit"),
        ("post=/p/&limit=101", "limit"),
        ("post=/p/&limit=ten", "limit"),
        ("post=/p/&cursor=forged", "cursor"),
    ] {
        let reply = list(&app, q).await;
        assert_eq!(reply.status, 400, "{q}");
        assert!(
            reply.json()["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "{q}: {}",
            reply.body
        );
    }
    let many: String = (0..51).map(|i| format!("post=/p{i}/&")).collect();
    assert_eq!(
        app.send(Event::v2("GET", &format!("/comment/count?{many}")))
            .await
            .status,
        400
    );
    assert_eq!(
        app.send(Event::v2("GET", "/comment/count")).await.status,
        400
    );
    // A cursor from one post does not work on another.
    for i in 0..2 {
        let mut c = comment("/q/");
        c["body"] = json!(format!("body {i}"));
        app.send(Event::post_json("/comment", &c)).await;
    }
    let cursor = list(&app, "post=/q/&limit=1").await.json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        list(&app, &format!("post=/p/&cursor={cursor}"))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn an_unknown_post_is_an_empty_list() {
    let app = spawn_app(&[]);
    let reply = list(&app, "post=/never-commented/").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"post": "/never-commented/", "comments": [], "next_cursor": null})
    );
}
