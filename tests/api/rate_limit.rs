//! The per-route, per-IP rate limit on submissions, and which address is the
//! client's (IPv6 /64s, X-Forwarded-For, CloudFront).

use serde_json::json;

use crate::support::events::{Event, comment, contact};
use crate::support::memory::spawn_app;

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
