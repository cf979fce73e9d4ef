//! What every route shares at the HTTP level: 404 and 405 with `Allow` from
//! the route table, HEAD, CORS preflights, and error bodies.

use crate::support::events::{Event, SITE};
use crate::support::memory::spawn_app;

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
