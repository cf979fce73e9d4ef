//! `GET` and `POST /comment/moderate`: the signed links of the moderation
//! mail, their pages, and what each decision does.

use rust_aws::domain::Decision;
use rust_aws::security::keys::Keys;
use rust_aws::security::token::Token;
use serde_json::json;

use crate::helpers::{list, moderate, moderation_links, token_of};
use crate::support::events::{Event, comment};
use crate::support::memory::{SECRET, spawn_app};

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
