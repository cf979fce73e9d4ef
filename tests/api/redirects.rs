//! Plain HTML forms: the 303 redirect after a submission (Referer, the allowed
//! redirect, the request's own origin) and when a form gets JSON instead.

use crate::support::events::{Event, SITE};
use crate::support::memory::spawn_app;

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
