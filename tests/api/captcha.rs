//! The captcha check (`CAPTCHA=turnstile|hcaptcha`) against a siteverify stub
//! on loopback that implements the providers' documented test secrets.

use std::time::{Duration, Instant};

use crate::support::events::{Event, comment, contact};
use crate::support::memory::{Reply, TestApp, spawn_app};
use crate::support::siteverify::{
    Behaviour, HCAPTCHA_RESPONSE, HCAPTCHA_SECRET, SiteVerify, TURNSTILE_DUMMY_TOKEN,
    TURNSTILE_FAIL, TURNSTILE_PASS, TURNSTILE_SPENT,
};
use serde_json::{Value, json};

/// The source address of the v2 fixture, as API Gateway reports it.
const SOURCE_IP: &str = "198.51.100.23";

fn turnstile_app(secret: &str, url: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("CAPTCHA", "turnstile"),
        ("CAPTCHA_SECRET", secret),
        ("CAPTCHA_VERIFY_URL", url),
    ];
    vars.extend_from_slice(extra);
    spawn_app(&vars)
}

fn with_token(mut body: Value, field: &str, token: &str) -> Value {
    body[field] = json!(token);
    body
}

fn turnstile_comment(token: &str) -> Value {
    with_token(comment("/p/"), "cf-turnstile-response", token)
}

fn assert_captcha_error(reply: &Reply, code: &str) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    let v = reply.json();
    assert_eq!(v["error"], "validation_failed");
    assert_eq!(
        v["fields"],
        json!([{"field": "captcha", "code": code, "message": v["fields"][0]["message"]}]),
        "only the captcha is reported: it is checked before validation"
    );
}

fn assert_nothing_stored(app: &TestApp) {
    assert!(app.store.comments().is_empty());
    assert!(app.store.contacts().is_empty());
    assert!(app.mailer.sent().is_empty());
}

#[tokio::test]
async fn a_comment_without_a_token_is_400_captcha_required_and_nothing_is_verified() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    let app = turnstile_app(TURNSTILE_PASS, &stub.url, &[]);
    let reply = app
        .send(Event::post_json("/comment", &comment("/p/")))
        .await;
    assert_captcha_error(&reply, "required");
    let blank = app
        .send(Event::post_json("/comment", &turnstile_comment("  ")))
        .await;
    assert_captcha_error(&blank, "required");
    assert!(stub.calls().is_empty(), "no call without a token");
    assert_nothing_stored(&app);
}

#[tokio::test]
async fn an_accepted_token_is_201_and_secret_token_and_source_ip_reach_the_verifier() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    let app = turnstile_app(TURNSTILE_PASS, &stub.url, &[]);
    let reply = app
        .send(Event::post_json(
            "/comment",
            &turnstile_comment(TURNSTILE_DUMMY_TOKEN),
        ))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(app.store.comments().len(), 1);
    let calls = stub.calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.secret.as_deref(), Some(TURNSTILE_PASS));
    assert_eq!(call.response.as_deref(), Some(TURNSTILE_DUMMY_TOKEN));
    assert_eq!(call.remoteip.as_deref(), Some(SOURCE_IP));
    assert_eq!(
        call.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn the_remote_ip_sent_is_the_trusted_source_not_a_client_header() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    let app = turnstile_app(TURNSTILE_PASS, &stub.url, &[]);
    let event = Event::post_json("/comment", &turnstile_comment(TURNSTILE_DUMMY_TOKEN))
        .source_ip("2001:db8::7")
        .header("x-forwarded-for", "10.9.9.9");
    assert_eq!(app.send(event).await.status, 201);
    assert_eq!(stub.calls()[0].remoteip.as_deref(), Some("2001:db8::7"));
}

#[tokio::test]
async fn refused_and_spent_tokens_are_400_captcha_invalid_and_nothing_is_stored() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    for secret in [TURNSTILE_FAIL, TURNSTILE_SPENT] {
        let app = turnstile_app(secret, &stub.url, &[]);
        let reply = app
            .send(Event::post_json(
                "/comment",
                &turnstile_comment(TURNSTILE_DUMMY_TOKEN),
            ))
            .await;
        assert_captcha_error(&reply, "invalid");
        assert_nothing_stored(&app);
    }
    assert_eq!(stub.calls().len(), 2);
}

#[tokio::test]
async fn hcaptcha_passes_its_test_response_and_refuses_any_other() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    let app = spawn_app(&[
        ("CAPTCHA", "hcaptcha"),
        ("CAPTCHA_SECRET", HCAPTCHA_SECRET),
        ("CAPTCHA_VERIFY_URL", &stub.url),
        ("RATE_LIMIT_PER_MINUTE", "100"),
    ]);
    let good = with_token(contact(), "h-captcha-response", HCAPTCHA_RESPONSE);
    let reply = app.send(Event::post_json("/contact", &good)).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(app.store.contacts().len(), 1);

    let forged = with_token(
        contact(),
        "h-captcha-response",
        "10000000-aaaa-bbbb-cccc-000000000002",
    );
    assert_captcha_error(
        &app.send(Event::post_json("/contact", &forged)).await,
        "invalid",
    );
    // Turnstile's field means nothing to an hCaptcha site.
    let wrong_field = with_token(contact(), "cf-turnstile-response", HCAPTCHA_RESPONSE);
    assert_captcha_error(
        &app.send(Event::post_json("/contact", &wrong_field)).await,
        "required",
    );
    assert_eq!(app.store.contacts().len(), 1);
    assert_eq!(stub.calls().len(), 2);
    assert_eq!(stub.calls()[0].secret.as_deref(), Some(HCAPTCHA_SECRET));
}

async fn assert_fails_closed(url: &str) {
    let app = turnstile_app(TURNSTILE_PASS, url, &[]);
    let started = Instant::now();
    let reply = app
        .send(Event::post_json(
            "/comment",
            &turnstile_comment(TURNSTILE_DUMMY_TOKEN),
        ))
        .await;
    let took = started.elapsed();
    assert_eq!(reply.status, 503, "{url}: {}", reply.body);
    assert_eq!(reply.json()["error"], "unavailable");
    assert!(reply.header("retry-after").is_some());
    assert!(
        took < Duration::from_millis(2_900),
        "{url}: answered after {took:?}, not within the 2 s bound"
    );
    assert_nothing_stored(&app);
}

#[tokio::test]
async fn a_verifier_that_is_down_slow_or_talking_nonsense_is_503_and_nothing_is_stored() {
    assert_fails_closed(&SiteVerify::down_url()).await;
    let slow = SiteVerify::start(Behaviour::Slow(Duration::from_secs(5))).await;
    assert_fails_closed(&slow.url).await;
    assert_eq!(slow.calls().len(), 1, "the slow verifier was asked");
    let nonsense = SiteVerify::start(Behaviour::Nonsense).await;
    assert_fails_closed(&nonsense.url).await;
    let failing = SiteVerify::start(Behaviour::Status(502)).await;
    assert_fails_closed(&failing.url).await;
}

#[tokio::test]
async fn a_secret_the_provider_does_not_know_is_503_not_the_visitors_fault() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    assert_fails_closed_with(&stub.url, "not-a-secret-the-provider-issued").await;
}

async fn assert_fails_closed_with(url: &str, secret: &str) {
    let app = turnstile_app(secret, url, &[]);
    let reply = app
        .send(Event::post_json(
            "/comment",
            &turnstile_comment(TURNSTILE_DUMMY_TOKEN),
        ))
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_nothing_stored(&app);
}

#[tokio::test]
async fn the_captcha_comes_after_honeypot_and_rate_limit_and_before_validation() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    let app = turnstile_app(TURNSTILE_PASS, &stub.url, &[("RATE_LIMIT_PER_MINUTE", "2")]);

    // Honeypot: a success, no verification.
    let mut trap = turnstile_comment(TURNSTILE_DUMMY_TOKEN);
    trap["_gotcha"] = json!("I am a bot");
    assert_eq!(
        app.send(Event::post_json("/comment", &trap)).await.status,
        201
    );
    assert!(stub.calls().is_empty());

    // Validation runs only after a verified token.
    let invalid = json!({"post": "/p/", "name": "", "body": "x", "cf-turnstile-response": TURNSTILE_DUMMY_TOKEN});
    let reply = app.send(Event::post_json("/comment", &invalid)).await;
    assert_eq!(reply.status, 400);
    let fields: Vec<_> = reply.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "body"]);
    assert_eq!(stub.calls().len(), 1);

    // The rate limit counts before the verifier is asked.
    let missing = comment("/p/");
    assert_captcha_error(
        &app.send(Event::post_json("/comment", &missing)).await,
        "required",
    );
    let limited = app
        .send(Event::post_json(
            "/comment",
            &turnstile_comment(TURNSTILE_DUMMY_TOKEN),
        ))
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(stub.calls().len(), 1, "a limited request is never verified");
}

#[tokio::test]
async fn a_plain_form_without_a_token_comes_back_with_the_error() {
    let stub = SiteVerify::start(Behaviour::Provider).await;
    let app = turnstile_app(TURNSTILE_PASS, &stub.url, &[]);
    let reply = app
        .send(Event::post_form(
            "/contact",
            &[
                ("name", "Ann"),
                ("email", "ann@example.org"),
                ("message", "Hi"),
            ],
        ))
        .await;
    assert_eq!(reply.status, 303);
    assert!(
        reply
            .header("location")
            .unwrap()
            .ends_with("error=validation_failed"),
        "{:?}",
        reply.header("location")
    );
    let reply = app
        .send(Event::post_form(
            "/contact",
            &[
                ("name", "Ann"),
                ("email", "ann@example.org"),
                ("message", "Hi"),
                ("cf-turnstile-response", TURNSTILE_DUMMY_TOKEN),
            ],
        ))
        .await;
    assert_eq!(reply.status, 303);
    assert!(!reply.header("location").unwrap().contains("error="));
    assert_eq!(app.store.contacts().len(), 1);
}
