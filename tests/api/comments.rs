//! `POST /comment`, `GET /comment` and `GET /comment/count`: submission,
//! validation, replies, listing, paging and counts.

use serde_json::{Value, json};

use crate::helpers::{assert_field_error, list, moderate, moderation_links, token_of};
use crate::support::events::{Event, SITE, comment};
use crate::support::memory::spawn_app;

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
    let expected = rust_aws::domain::ids::hex(&Sha256::digest(b"bob@example.org"));
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
    // Another body: the same one again within a day is spam.
    reply["body"] = json!("A reply to that.");
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
