//! What several resources' tests share: reading answers and the mailed
//! moderation links.

use crate::support::events::Event;
use crate::support::memory::{Reply, TestApp};

pub(crate) fn assert_field_error(reply: &Reply, field: &str, code: &str) {
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

pub(crate) fn moderation_links(app: &TestApp) -> Vec<String> {
    let text = app.mailer.sent().last().unwrap().text.clone();
    text.split_whitespace()
        .filter(|w| w.contains("/comment/moderate?token="))
        .map(str::to_owned)
        .collect()
}

pub(crate) fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

pub(crate) async fn moderate(app: &TestApp, token: &str) -> Reply {
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

pub(crate) async fn list(app: &TestApp, query: &str) -> Reply {
    app.send(Event::v2("GET", &format!("/comment?{query}")))
        .await
}
