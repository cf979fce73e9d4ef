//! `GET /embed.js` and `GET /embed.css`: the widget, served by the app with
//! the caching a page embedding it relies on.

use crate::support::events::Event;
use crate::support::memory::spawn_app;

#[tokio::test]
async fn the_widget_is_served_cacheable_with_its_type_and_an_etag() {
    let app = spawn_app(&[]);
    let script = app.send(Event::v2("GET", "/embed.js")).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script.body.contains("rustAws"), "{}", script.body);
    assert!(
        script
            .header("cache-control")
            .unwrap()
            .starts_with("public, max-age="),
        "{:?}",
        script.header("cache-control")
    );
    assert_eq!(script.header("x-content-type-options"), Some("nosniff"));

    let style = app.send(Event::v2("GET", "/embed.css")).await;
    assert_eq!(style.status, 200);
    assert_eq!(
        style.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert!(style.header("etag").is_some());
    assert_ne!(script.header("etag"), style.header("etag"));
}

#[tokio::test]
async fn a_revalidation_naming_the_etag_is_a_304_without_a_body() {
    let app = spawn_app(&[]);
    let first = app.send(Event::v2("GET", "/embed.js")).await;
    let etag = first.header("etag").unwrap().to_owned();
    let again = app
        .send(Event::v2("GET", "/embed.js").header("if-none-match", &etag))
        .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let changed = app
        .send(Event::v2("GET", "/embed.js").header("if-none-match", "\"0123\""))
        .await;
    assert_eq!(changed.status, 200);
    assert!(!changed.body.is_empty());
}
