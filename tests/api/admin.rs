//! `/admin…`: the owner's console. Sign-in by mailed link, the session
//! cookie, every refusal of a state-changing POST (origin, session, CSRF),
//! the queue's and the published list's decisions (the mailed links'
//! decisions: same counts, same mails), the outbox's "Retry now", and what
//! every page sends (CSP, no-store, no referrer, no framing, escaped text).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rust_aws::domain::CommentStatus;
use rust_aws::security::keys::Keys;
use rust_aws::store::Outbox;
use serde_json::json;
use sha2::Sha256;

use crate::helpers::list;
use crate::support::events::{Event, comment};
use crate::support::memory::{Reply, SECRET, TestApp, spawn_app};

/// The fixture's API origin (`requestContext.domainName`): the console's own.
const API: &str = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";

/// A form post as the console's own pages send it (Chromium under
/// `Referrer-Policy: no-referrer`: `Origin: null`, `Sec-Fetch-Site: same-origin`).
fn own_post(path: &str, pairs: &[(&str, &str)], cookie: Option<&str>) -> Event {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut e = Event::v2("POST", path)
        .header("accept", "text/html")
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .body_base64("application/x-www-form-urlencoded", body.as_bytes());
    if let Some(c) = cookie {
        e = e.header("cookie", c);
    }
    e
}

fn get(path: &str, cookie: Option<&str>) -> Event {
    let e = Event::v2("GET", path).header("accept", "text/html");
    match cookie {
        Some(c) => e.header("cookie", c),
        None => e,
    }
}

/// The sign-in link of the last mail.
fn mailed_link(app: &TestApp) -> String {
    let mail = app.mailer.sent().last().cloned().expect("a mail");
    mail.text
        .split_whitespace()
        .find(|w| w.contains("/admin/sign-in?token="))
        .expect("a sign-in link")
        .to_owned()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

/// `name=value` of the `Set-Cookie` header.
fn cookie_of(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("set-cookie");
    set.split(';').next().unwrap().to_owned()
}

/// The CSRF token a signed-in page carries.
fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

/// Signs in through the mailed link; the session cookie and its CSRF token.
async fn sign_in(app: &TestApp) -> (String, String) {
    let asked = app.send(own_post("/admin/link", &[], None)).await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let link = mailed_link(app);
    assert!(
        link.starts_with(&format!("{API}/admin/sign-in?token=")),
        "{link}"
    );
    let token = token_of(&link);
    let done = app
        .send(own_post("/admin/sign-in", &[("token", &token)], None))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("location"), Some("/admin"));
    let cookie = cookie_of(&done);
    let page = app.send(get("/admin", Some(&cookie))).await;
    assert_eq!(page.status, 200);
    (cookie.clone(), csrf_of(&page.body))
}

/// A pending comment on `post` with `body`; its id.
async fn pending(app: &TestApp, post: &str, body: &str) -> String {
    let mut c = comment(post);
    c["body"] = json!(body);
    let reply = app.send(Event::post_json("/comment", &c)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

async fn count(app: &TestApp, post: &str) -> u64 {
    app.send(Event::v2("GET", &format!("/comment/count?post={post}")))
        .await
        .json()["counts"][post]
        .as_u64()
        .unwrap()
}

/// The ids of `ids`' comments in list order: oldest first, ties (the same
/// millisecond) by id.
fn in_order(app: &TestApp, ids: &[String]) -> Vec<String> {
    let mut all: Vec<_> = app
        .store
        .comments()
        .into_iter()
        .filter(|c| ids.contains(&c.id))
        .map(|c| (c.created_ms, c.id))
        .collect();
    all.sort();
    all.into_iter().map(|(_, id)| id).collect()
}

fn status_of(app: &TestApp, id: &str) -> Option<CommentStatus> {
    app.store
        .comments()
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| c.status)
}

fn assert_console_headers(reply: &Reply) {
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("referrer-policy"), Some("no-referrer"));
    let csp = reply.header("content-security-policy").unwrap();
    for part in [
        "default-src 'none'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"));
    assert!(!reply.body.contains("<script") && !reply.body.contains("style="));
}

#[tokio::test]
async fn signed_out_the_console_is_one_button_and_the_link_signs_in_once() {
    let app = spawn_app(&[]);
    let page = app.send(get("/admin", None)).await;
    assert_eq!(page.status, 200);
    assert_console_headers(&page);
    assert!(
        page.body.contains("Email me a sign-in link"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"csrf\""));

    let asked = app.send(own_post("/admin/link", &[], None)).await;
    assert_eq!(asked.status, 303);
    assert_eq!(asked.header("location"), Some("/admin?note=link-sent"));
    let mail = app.mailer.sent().last().cloned().unwrap();
    assert!(mail.subject.contains("sign-in link"), "{}", mail.subject);
    let token = token_of(&mailed_link(&app));

    // Opening the link (or a scanner prefetching it) changes nothing.
    for _ in 0..2 {
        let opened = app
            .send(get(&format!("/admin/sign-in?token={token}"), None))
            .await;
        assert_eq!(opened.status, 200);
        assert_console_headers(&opened);
        assert!(opened.body.contains(">Sign in</button>"));
        assert!(opened.header("set-cookie").is_none());
    }
    let done = app
        .send(own_post("/admin/sign-in", &[("token", &token)], None))
        .await;
    assert_eq!(done.status, 303);
    let set = done.header("set-cookie").unwrap();
    assert!(set.starts_with("__Host-rust-aws="), "{set}");
    for attr in [
        "; Path=/",
        "; Secure",
        "; HttpOnly",
        "; SameSite=Strict",
        "; Max-Age=43200",
    ] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    assert!(!set.contains("Domain"), "{set}");

    // Single use: the link's page now says so, and a second press is a
    // 409 that sets no cookie.
    let opened = app
        .send(get(&format!("/admin/sign-in?token={token}"), None))
        .await;
    assert_eq!(opened.status, 409);
    assert!(opened.body.contains("has been used already"));
    let again = app
        .send(own_post("/admin/sign-in", &[("token", &token)], None))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again.header("set-cookie").is_none());
    assert_console_headers(&again);
}

/// A sign-in token signed with the test key, as the function would sign it.
fn forged(nonce: &str, expires_s: u64, key: &[u8]) -> String {
    let payload = format!("signin.{nonce}.{expires_s}");
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(payload.as_bytes());
    format!(
        "{payload}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn tampered_expired_and_unissued_links_start_no_session() {
    let app = spawn_app(&[]);
    let key = Keys::derive(SECRET.as_bytes()).console;
    app.send(own_post("/admin/link", &[], None)).await;
    let good = token_of(&mailed_link(&app));
    let tampered = format!("{}x", good);
    let expired = forged("0123", 1_000, &key);
    let never_issued = forged("0123", u64::MAX / 2000, &key);
    let moderation_key = forged(
        "0123",
        u64::MAX / 2000,
        &Keys::derive(SECRET.as_bytes()).moderation,
    );
    for (token, status) in [
        (tampered.as_str(), 403),
        ("", 403),
        (expired.as_str(), 410),
        (moderation_key.as_str(), 403),
    ] {
        let opened = app
            .send(get(&format!("/admin/sign-in?token={token}"), None))
            .await;
        assert_eq!(opened.status, status, "GET {token}");
        let pressed = app
            .send(own_post("/admin/sign-in", &[("token", token)], None))
            .await;
        assert_eq!(pressed.status, status, "POST {token}");
        assert!(pressed.header("set-cookie").is_none());
    }
    // Genuinely signed, never mailed (no record): refused as used.
    let opened = app
        .send(get(&format!("/admin/sign-in?token={never_issued}"), None))
        .await;
    assert_eq!(opened.status, 409);
    let pressed = app
        .send(own_post(
            "/admin/sign-in",
            &[("token", &never_issued)],
            None,
        ))
        .await;
    assert_eq!(pressed.status, 409);
    // The good link still works.
    let pressed = app
        .send(own_post("/admin/sign-in", &[("token", &good)], None))
        .await;
    assert_eq!(pressed.status, 303);
}

#[tokio::test]
async fn at_most_five_links_an_hour_and_every_answer_is_the_same() {
    let app = spawn_app(&[]);
    let mut answers = Vec::new();
    for _ in 0..7 {
        let r = app.send(own_post("/admin/link", &[], None)).await;
        answers.push((r.status, r.header("location").map(str::to_owned), r.body));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(app.mailer.sent().len(), 5);
    let links: std::collections::HashSet<String> =
        app.mailer.sent().iter().map(|m| m.text.clone()).collect();
    assert_eq!(links.len(), 5, "each link is a new one");
}

#[tokio::test]
async fn a_link_request_from_another_origin_mails_nothing() {
    let app = spawn_app(&[]);
    let r = app
        .send(own_post("/admin/link", &[], None).header("origin", "https://blog.example.com"))
        .await;
    assert_eq!(r.status, 403);
    assert!(app.mailer.sent().is_empty());
}

#[tokio::test]
async fn the_queue_shows_what_the_owner_decides_on_escaped_oldest_first() {
    let app = spawn_app(&[("SITE_URL", "https://blog.example.com")]);
    let first = pending(&app, "/p/", "The first <b>one</b>").await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    let hostile = pending(
        &app,
        "/p/\"><script>alert(1)</script>",
        "<script>alert('x')</script><img src=x onerror=alert(1)>",
    )
    .await;
    let (cookie, _) = sign_in(&app).await;
    let page = app.send(get("/admin", Some(&cookie))).await;
    assert_console_headers(&page);
    let b = &page.body;
    assert!(
        b.find(&first).unwrap() < b.find(&hostile).unwrap(),
        "oldest first"
    );
    assert!(b.contains("The first &lt;b&gt;one&lt;/b&gt;"));
    assert!(b.contains(
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    ));
    assert!(!b.contains("<script") && !b.contains("<img"), "{b}");
    for shown in [
        "Bob",
        "Bob@Example.org",
        "https://bob.example.net",
        "href=\"https://blog.example.com/p/\"",
        "2 pending",
        "Approve selected",
        "Reject selected",
        "Delete selected",
    ] {
        assert!(b.contains(shown), "{shown} not in the queue");
    }
}

#[tokio::test]
async fn one_click_and_bulk_decisions_are_the_links_decisions() {
    let app = spawn_app(&[]);
    let a = pending(&app, "/q/", "approve me").await;
    let r = pending(&app, "/q/", "reject me").await;
    let d = pending(&app, "/q/", "delete me").await;
    let b1 = pending(&app, "/q/", "bulk one").await;
    let b2 = pending(&app, "/q/", "bulk two").await;
    let (cookie, csrf) = sign_in(&app).await;
    let decide = |pairs: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        own_post("/admin/decide", &pairs, Some(&cookie))
    };
    let with = |extra: Vec<(&'static str, String)>| {
        let mut p = vec![("csrf", csrf.clone()), ("back", "queue".to_owned())];
        p.extend(extra);
        p
    };
    let res = app
        .send(decide(with(vec![("one", format!("approve:{a}"))])))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location"),
        Some("/admin?done=approve&n=1&skipped=0")
    );
    assert_eq!(count(&app, "/q/").await, 1);

    app.send(decide(with(vec![("one", format!("reject:{r}"))])))
        .await;
    assert_eq!(status_of(&app, &r), Some(CommentStatus::Rejected));
    app.send(decide(with(vec![("one", format!("delete:{d}"))])))
        .await;
    assert_eq!(status_of(&app, &d), None);

    let res = app
        .send(decide(with(vec![
            ("bulk", "approve".into()),
            ("id", b1.clone()),
            ("id", b2.clone()),
            ("id", a.clone()),
        ])))
        .await;
    assert_eq!(
        res.header("location"),
        Some("/admin?done=approve&n=2&skipped=1"),
        "the already approved one is skipped"
    );
    assert_eq!(count(&app, "/q/").await, 3);
    assert_eq!(
        list(&app, "post=/q/").await.json()["comments"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let page = app
        .send(get("/admin?done=approve&n=2&skipped=1", Some(&cookie)))
        .await;
    assert!(
        page.body.contains("2 comments approved. 1 not"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Nothing waits for you."));

    // Bulk delete from the published list: the counts follow.
    let res = app
        .send(own_post(
            "/admin/decide",
            &[
                ("csrf", &csrf),
                ("back", "published"),
                ("post", "/q/"),
                ("bulk", "delete"),
                ("id", &b1),
                ("id", &b2),
            ],
            Some(&cookie),
        ))
        .await;
    assert_eq!(
        res.header("location"),
        Some("/admin/published?post=%2Fq%2F&done=delete&n=2&skipped=0")
    );
    assert_eq!(count(&app, "/q/").await, 1);

    // Nothing selected: nothing happens, and the page says why.
    let res = app
        .send(decide(with(vec![("bulk", "reject".into())])))
        .await;
    assert_eq!(res.header("location"), Some("/admin?note=none-selected"));
}

#[tokio::test]
async fn approving_in_the_console_records_the_mails_a_link_would() {
    let app = spawn_app(&[("SITE_URL", "https://blog.example.com")]);
    let mut c = comment("/n/");
    c["notify"] = json!(true);
    let id = app.send(Event::post_json("/comment", &c)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (cookie, csrf) = sign_in(&app).await;
    let before = app.mailer.sent().len();
    app.send(own_post(
        "/admin/decide",
        &[("csrf", &csrf), ("one", &format!("approve:{id}"))],
        Some(&cookie),
    ))
    .await;
    let sent = app.mailer.sent();
    assert_eq!(sent.len(), before + 1, "the confirmation mail");
    assert!(sent.last().unwrap().to.contains("Example.org"));
    assert!(sent.last().unwrap().text.contains("/comment/notify?token="));
}

#[tokio::test]
async fn every_refused_post_changes_nothing() {
    let app = spawn_app(&[]);
    let id = pending(&app, "/r/", "still pending").await;
    let (cookie, csrf) = sign_in(&app).await;
    let (other_cookie, other_csrf) = sign_in(&app).await;
    let one = format!("approve:{id}");
    let pairs = [("csrf", csrf.as_str()), ("one", one.as_str())];
    let cases: Vec<(&str, Event, u16)> = vec![
        (
            "a site allowed to submit comments is still another origin",
            own_post("/admin/decide", &pairs, Some(&cookie))
                .header("origin", "https://blog.example.com"),
            403,
        ),
        (
            "cross-site, origin hidden",
            own_post("/admin/decide", &pairs, Some(&cookie)).header("sec-fetch-site", "cross-site"),
            403,
        ),
        (
            "same-site sibling",
            own_post("/admin/decide", &pairs, Some(&cookie))
                .header("origin", "https://evil.execute-api.eu-west-1.amazonaws.com")
                .header("sec-fetch-site", "same-site"),
            403,
        ),
        (
            "no CSRF token",
            own_post("/admin/decide", &[("one", &one)], Some(&cookie)),
            403,
        ),
        (
            "another session's CSRF token",
            own_post(
                "/admin/decide",
                &[("csrf", &other_csrf), ("one", &one)],
                Some(&cookie),
            ),
            403,
        ),
        ("no session", own_post("/admin/decide", &pairs, None), 403),
        (
            "a made-up session",
            own_post(
                "/admin/decide",
                &pairs,
                Some("__Host-rust-aws=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ),
            403,
        ),
        (
            "the token in JSON",
            own_post("/admin/decide", &[], Some(&cookie)).body(
                "application/json",
                &json!({"csrf": csrf, "one": one}).to_string(),
            ),
            403,
        ),
    ];
    for (why, event, status) in cases {
        let r = app.send(event).await;
        assert_eq!(r.status, status, "{why}: {}", r.body);
        assert_console_headers(&r);
        assert_eq!(status_of(&app, &id), Some(CommentStatus::Pending), "{why}");
    }
    // The own origin, spelled out, passes.
    let r = app
        .send(
            own_post(
                "/admin/decide",
                &[("csrf", &other_csrf), ("one", &one)],
                Some(&other_cookie),
            )
            .header("origin", API),
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(status_of(&app, &id), Some(CommentStatus::Approved));
}

#[tokio::test]
async fn sign_out_ends_this_session_and_everywhere_ends_all() {
    let app = spawn_app(&[]);
    let (a, a_csrf) = sign_in(&app).await;
    let (b, b_csrf) = sign_in(&app).await;
    let (c, _) = sign_in(&app).await;
    let out = app
        .send(own_post(
            "/admin/sign-out",
            &[("csrf", &a_csrf), ("scope", "this")],
            Some(&a),
        ))
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/admin?note=signed-out"));
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let page = app.send(get("/admin?note=signed-out", Some(&a))).await;
    assert!(page.body.contains("Email me a sign-in link"), "signed out");
    assert!(page.body.contains("You are signed out."));
    assert!(
        app.send(get("/admin", Some(&b)))
            .await
            .body
            .contains("Queue")
    );

    let out = app
        .send(own_post(
            "/admin/sign-out",
            &[("csrf", &b_csrf), ("scope", "all")],
            Some(&b),
        ))
        .await;
    assert_eq!(
        out.header("location"),
        Some("/admin?note=signed-out-everywhere")
    );
    for cookie in [&b, &c] {
        let page = app.send(get("/admin", Some(cookie))).await;
        assert!(page.body.contains("Email me a sign-in link"));
    }
    // Sign-out itself needs the session's token.
    let r = app
        .send(own_post("/admin/sign-out", &[("scope", "all")], Some(&c)))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id_whatever_cookie_came_along() {
    let app = spawn_app(&[]);
    let planted = "__Host-rust-aws=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    let (old, _) = sign_in(&app).await;
    for sent in [planted, old.as_str()] {
        app.send(own_post("/admin/link", &[], None)).await;
        let token = token_of(&mailed_link(&app));
        let done = app
            .send(own_post("/admin/sign-in", &[("token", &token)], Some(sent)))
            .await;
        let new = cookie_of(&done);
        assert_ne!(new, sent);
        assert!(
            app.send(get("/admin", Some(&new)))
                .await
                .body
                .contains("Queue")
        );
    }
    // The session the browser had before is over.
    let page = app.send(get("/admin", Some(&old))).await;
    assert!(page.body.contains("Email me a sign-in link"));
}

#[tokio::test]
async fn published_is_newest_first_paged_and_filtered_by_post() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "1000")]);
    let (cookie, csrf) = sign_in(&app).await;
    let mut ids = Vec::new();
    for i in 0..53 {
        let post = if i % 2 == 0 { "/even/" } else { "/odd/" };
        let id = pending(&app, post, &format!("comment number {i}")).await;
        app.send(own_post(
            "/admin/decide",
            &[("csrf", &csrf), ("one", &format!("approve:{id}"))],
            Some(&cookie),
        ))
        .await;
        ids.push(id);
    }
    let ids = in_order(&app, &ids);
    let page = app.send(get("/admin/published", Some(&cookie))).await;
    assert_eq!(page.status, 200);
    assert_console_headers(&page);
    let b = &page.body;
    assert!(
        b.find(&ids[52]).unwrap() < b.find(&ids[51]).unwrap(),
        "newest first"
    );
    assert!(!b.contains(&ids[2]), "the first page holds 50");
    let at = b.find("published?before=").expect("an Older link") + 17;
    let cursor = b[at..].split('"').next().unwrap().to_owned();
    let older = app
        .send(get(
            &format!("/admin/published?before={cursor}"),
            Some(&cookie),
        ))
        .await;
    for id in &ids[..3] {
        assert!(older.body.contains(id.as_str()));
    }
    assert!(!older.body.contains(&ids[3]) && !older.body.contains("published?before="));

    let odd = app
        .send(get("/admin/published?post=%2Fodd%2F", Some(&cookie)))
        .await;
    let on = |id: &str| {
        app.store
            .comments()
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
            .post
    };
    for id in &ids {
        assert_eq!(odd.body.contains(id.as_str()), on(id) == "/odd/", "{id}");
    }
    assert!(
        odd.body.contains("value=\"/odd/\""),
        "the filter keeps its value"
    );

    // Signed out, the pages send the visitor to the sign-in page.
    let r = app.send(get("/admin/published", None)).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/admin")));
    let r = app.send(get("/admin/outbox", None)).await;
    assert_eq!((r.status, r.header("location")), (303, Some("/admin")));
}

#[tokio::test]
async fn the_queue_pages_after_fifty() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "1000")]);
    let mut ids = Vec::new();
    for i in 0..52 {
        ids.push(pending(&app, "/many/", &format!("waiting {i}")).await);
    }
    let ids = in_order(&app, &ids);
    let (cookie, _) = sign_in(&app).await;
    let page = app.send(get("/admin", Some(&cookie))).await;
    assert!(page.body.contains("50+ pending"));
    assert!(page.body.contains(&ids[49]) && !page.body.contains(&ids[50]));
    let at = page.body.find("/admin?after=").unwrap() + 13;
    let cursor = page.body[at..].split('"').next().unwrap().to_owned();
    let next = app
        .send(get(&format!("/admin?after={cursor}"), Some(&cookie)))
        .await;
    assert!(next.body.contains(&ids[50]) && next.body.contains(&ids[51]));
    assert!(!next.body.contains(&ids[49]));
}

#[tokio::test]
async fn the_outbox_lists_undelivered_mail_and_retries_it_now() {
    let app = spawn_app(&[]);
    let (cookie, csrf) = sign_in(&app).await;
    app.mailer.fail_next(1);
    let id = pending(&app, "/o/", "its mail fails").await;
    let page = app.send(get("/admin/outbox", Some(&cookie))).await;
    assert_eq!(page.status, 200);
    assert_console_headers(&page);
    assert!(
        page.body.contains(&format!("value=\"comment:{id}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Retry now"));
    let before = app.mailer.sent().len();
    let r = app
        .send(own_post(
            "/admin/outbox",
            &[("csrf", &csrf), ("retry", &format!("comment:{id}"))],
            Some(&cookie),
        ))
        .await;
    assert_eq!(
        r.header("location"),
        Some("/admin/outbox?retry=sent"),
        "{}",
        r.body
    );
    assert_eq!(app.mailer.sent().len(), before + 1);
    assert!(app.store.list_outbox(10).await.unwrap().is_empty());
    let page = app
        .send(get("/admin/outbox?retry=sent", Some(&cookie)))
        .await;
    assert!(
        page.body.contains("The mail was sent.") && page.body.contains("All mail is delivered.")
    );
    // Without the token nothing is retried.
    let r = app
        .send(own_post(
            "/admin/outbox",
            &[("retry", &format!("comment:{id}"))],
            Some(&cookie),
        ))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn the_stylesheet_is_served_and_wrong_methods_are_405() {
    let app = spawn_app(&[]);
    let css = app.send(get("/admin/console.css", None)).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.body.contains("prefers-color-scheme: dark"));
    let r = app.send(Event::v2("GET", "/admin/decide")).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    let r = app.send(Event::v2("DELETE", "/admin")).await;
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test]
async fn the_sign_in_link_follows_public_url() {
    let app = spawn_app(&[("PUBLIC_URL", "https://comments.example.org")]);
    app.send(own_post("/admin/link", &[], None).header("origin", "https://comments.example.org"))
        .await;
    assert!(mailed_link(&app).starts_with("https://comments.example.org/admin/sign-in?token="));
    // The API's execute-api name is no longer its own origin.
    let r = app
        .send(own_post("/admin/link", &[], None).header("origin", API))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn http_apis_cookies_array_carries_the_session_as_a_header_would() {
    let app = spawn_app(&[]);
    let (cookie, _) = sign_in(&app).await;
    // HTTP API (payload 2.0) sends cookies in `cookies`, not in a header.
    let mut e = get("/admin", None);
    e.0["cookies"] = json!(["theme=dark", cookie]);
    let page = app.send(e).await;
    assert!(page.body.contains("Sign out everywhere"), "{}", page.body);
}

#[tokio::test]
async fn behind_a_rest_api_stage_every_link_and_redirect_keeps_the_stage() {
    let app = spawn_app(&[]);
    let staged = |method: &str, path: &str| {
        let mut v = crate::support::events::fixture("apigw-v1-rest-staged.json");
        v["httpMethod"] = json!(method);
        v["path"] = json!(format!("/Prod{path}"));
        v["resource"] = json!(path);
        v["body"] = serde_json::Value::Null;
        v["headers"]["origin"] = json!("https://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com");
        v["multiValueHeaders"] = json!({});
        v
    };
    let page = app.invoke(&staged("GET", "/admin").to_string()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("action=\"/Prod/admin/link\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/Prod/admin/console.css\""));
    let asked = app.invoke(&staged("POST", "/admin/link").to_string()).await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    assert_eq!(asked.header("location"), Some("/Prod/admin?note=link-sent"));
    assert!(mailed_link(&app).starts_with(
        "https://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/Prod/admin/sign-in?token="
    ));
}

#[tokio::test]
async fn the_spam_folder_releases_condemns_and_deletes_and_refuses_without_csrf() {
    use rust_aws::store::SpamFolder;
    let app = spawn_app(&[("SPAM_BLOCKLIST", "casino")]);
    let held = pending(&app, "/s/", "Best <b>casino</b> in town").await;
    assert_eq!(
        status_of(&app, &held),
        None,
        "spam is held, not stored as a comment"
    );
    let (cookie, csrf) = sign_in(&app).await;

    let page = app.send(get("/admin/spam", Some(&cookie))).await;
    assert_eq!(page.status, 200);
    assert_console_headers(&page);
    assert!(
        page.body.contains("Best &lt;b&gt;casino&lt;/b&gt; in town"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("value=\"ham:{held}\"")));

    let act = |one: String, csrf: &str| {
        own_post(
            "/admin/spam",
            &[("csrf", csrf), ("one", &one)],
            Some(&cookie),
        )
    };
    // No CSRF token: a 403, and the item stays in the folder.
    let refused = app.send(act(format!("ham:{held}"), "")).await;
    assert_eq!(refused.status, 403);
    let now = rust_aws::domain::ids::now_ms();
    assert_eq!(app.store.list_spam(None, 10, now).await.unwrap().len(), 1);

    // "Not spam": back to the queue, pending.
    let res = app.send(act(format!("ham:{held}"), &csrf)).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location"),
        Some("/admin/spam?done=ham&n=1&skipped=0")
    );
    assert_eq!(status_of(&app, &held), Some(CommentStatus::Pending));
    assert!(app.store.list_spam(None, 10, now).await.unwrap().is_empty());

    // "Spam" from the queue: taken down into the folder again.
    let res = app
        .send(own_post(
            "/admin/decide",
            &[
                ("csrf", &csrf),
                ("back", "queue"),
                ("one", &format!("spam:{held}")),
            ],
            Some(&cookie),
        ))
        .await;
    assert_eq!(
        res.header("location"),
        Some("/admin?done=spam&n=1&skipped=0")
    );
    assert_eq!(status_of(&app, &held), None);
    let queue = app
        .send(get("/admin?done=spam&n=1&skipped=0", Some(&cookie)))
        .await;
    assert!(
        queue.body.contains("1 comment moved to the spam folder"),
        "{}",
        queue.body
    );

    // "Delete": gone from the folder for good.
    let res = app.send(act(format!("drop:{held}"), &csrf)).await;
    assert_eq!(
        res.header("location"),
        Some("/admin/spam?done=drop&n=1&skipped=0")
    );
    let page = app.send(get("/admin/spam", Some(&cookie))).await;
    assert!(page.body.contains("No spam."), "{}", page.body);
}

#[tokio::test]
async fn not_spam_publishes_a_comment_when_moderation_is_off() {
    let app = spawn_app(&[("SPAM_BLOCKLIST", "casino"), ("MODERATION", "off")]);
    let mut c = comment("/off/");
    c["body"] = json!("Casino talk, but a real reader");
    let reply = app.send(Event::post_json("/comment", &c)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["status"], "approved", "the same answer as ham");
    let held = reply.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(count(&app, "/off/").await, 0, "spam is not published");
    let (cookie, csrf) = sign_in(&app).await;
    let res = app
        .send(own_post(
            "/admin/spam",
            &[("csrf", &csrf), ("one", &format!("ham:{held}"))],
            Some(&cookie),
        ))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(status_of(&app, &held), Some(CommentStatus::Approved));
    assert_eq!(count(&app, "/off/").await, 1);
}
