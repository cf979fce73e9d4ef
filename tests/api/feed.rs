//! `GET /comment/feed[?post=P]`: the Atom feeds, read back with a real XML
//! parser (quick-xml) and every character checked against XML 1.0's `Char`.

use proptest::prelude::*;
use quick_xml::events::Event as Xml;
use quick_xml::reader::Reader;
use rust_aws::domain::ids::{new_id, now_ms};
use rust_aws::domain::{CommentRecord, CommentStatus};
use rust_aws::store::Comments;

use crate::support::events::{Event, comment};
use crate::support::memory::{TestApp, spawn_app};

const BLOG: &str = "https://blog.example.com";

/// One element of a parsed document: enough of a tree to assert on.
#[derive(Debug, Default, Clone)]
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn one(&self, name: &str) -> &El {
        let found: Vec<&El> = self.children.iter().filter(|c| c.name == name).collect();
        assert_eq!(found.len(), 1, "<{name}> in <{}>: {found:?}", self.name);
        found[0]
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn link(&self, rel: &str) -> Option<&str> {
        self.all("link")
            .find(|l| l.attr("rel") == Some(rel))
            .and_then(|l| l.attr("href"))
    }
}

/// XML 1.0's `Char` production: what a well-formed document may contain.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Parses `doc` as XML, failing on anything not well-formed: a character
/// outside `Char`, a mismatched or unclosed tag, an unknown entity, a bad
/// attribute, text outside the one root element.
fn parse(doc: &str) -> Result<El, String> {
    if let Some(c) = doc.chars().find(|c| !xml_char(*c)) {
        return Err(format!("U+{:04X} is not an XML 1.0 character", c as u32));
    }
    let mut reader = Reader::from_str(doc);
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let start = |tag: &quick_xml::events::BytesStart<'_>| -> Result<El, String> {
        let mut el = El {
            name: tag.name().as_ref().to_owned(),
            ..El::default()
        };
        for attr in tag.attributes() {
            let attr = attr.map_err(|e| e.to_string())?;
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| e.to_string())?;
            el.attrs
                .push((attr.key.as_ref().to_owned(), value.into_owned()));
        }
        Ok(el)
    };
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        let text = |s: &str, stack: &mut Vec<El>| -> Result<(), String> {
            match stack.last_mut() {
                Some(el) => {
                    el.text.push_str(s);
                    Ok(())
                }
                None if s.trim().is_empty() => Ok(()),
                None => Err(format!("text outside the root: {s:?}")),
            }
        };
        match event {
            Xml::Start(tag) => {
                if root.is_some() {
                    return Err("a second root element".into());
                }
                stack.push(start(&tag)?);
            }
            Xml::Empty(tag) => {
                let el = start(&tag)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Err("an empty root element".into()),
                }
            }
            Xml::End(_) => {
                let done = stack.pop().ok_or("an end tag without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Xml::Text(t) => text(&t.xml10_content(), &mut stack)?,
            Xml::CData(d) => text(&d.xml10_content(), &mut stack)?,
            Xml::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) if xml_char(c) => c.to_string(),
                    Some(c) => return Err(format!("&#{};", c as u32)),
                    None => {
                        let name: &str = &r;
                        quick_xml::escape::resolve_xml_entity(name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_owned()
                    }
                };
                text(&resolved, &mut stack)?;
            }
            Xml::DocType(_) => return Err("a DOCTYPE".into()),
            Xml::Eof => break,
            Xml::Decl(_) | Xml::PI(_) | Xml::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("<{}> never closed", stack[0].name));
    }
    root.ok_or_else(|| "no root element".into())
}

/// The feed at `path`, parsed; asserts the answer's status and headers.
async fn feed(app: &TestApp, path: &str) -> El {
    let reply = app.send(Event::v2("GET", path)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    let root = parse(&reply.body).unwrap_or_else(|e| panic!("{e}:\n{}", reply.body));
    assert_eq!(root.name, "feed");
    assert_eq!(root.attr("xmlns"), Some("http://www.w3.org/2005/Atom"));
    root
}

/// An approved comment on `post`, stored directly (as an import would), so a
/// test chooses its time and its text, even text the API would refuse.
async fn approved(app: &TestApp, post: &str, created_ms: u64, body: &str) -> CommentRecord {
    let record = record(post, created_ms, body);
    app.store.put_comment(&record, 0).await.unwrap();
    record
}

fn record(post: &str, created_ms: u64, body: &str) -> CommentRecord {
    CommentRecord {
        id: new_id(),
        post: post.into(),
        parent: None,
        name: "Ann".into(),
        email: Some("ann@example.org".into()),
        url: Some("https://ann.example.net/".into()),
        body: body.into(),
        created_ms,
        status: CommentStatus::Approved,
        ip_hash: "h".into(),
        links_base: "https://api.example.com".into(),
        notify: false,
        mailbox: None,
    }
}

fn ids_of(feed: &El) -> Vec<String> {
    feed.all("entry")
        .map(|e| e.one("content").text.clone())
        .collect()
}

#[tokio::test]
async fn a_page_feed_holds_its_approved_comments_newest_first_as_atom() {
    let app = spawn_app(&[("SITE_URL", BLOG)]);
    let t = now_ms() - 10_000;
    let first = approved(&app, "/a/", t, "first on a").await;
    approved(&app, "/b/", t + 1, "on b").await;
    let second = approved(&app, "/a/", t + 2, "second on a").await;
    let mut pending = record("/a/", t + 3, "pending");
    pending.status = CommentStatus::Pending;
    app.store.put_comment(&pending, 0).await.unwrap();

    let f = feed(&app, "/comment/feed?post=/a/").await;
    assert_eq!(ids_of(&f), ["second on a", "first on a"]);
    assert_eq!(f.one("title").text, "Comments on /a/ · Example Blog");
    assert_eq!(f.one("updated").text, rust_aws::domain::ids::rfc3339(t + 2));
    assert_eq!(f.one("author").one("name").text, "Example Blog");
    assert!(f.one("id").text.starts_with("urn:uuid:"));
    assert_eq!(
        f.link("self"),
        Some("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/comment/feed?post=%2Fa%2F")
    );
    assert_eq!(f.link("alternate"), Some("https://blog.example.com/a/"));

    let entry = f.all("entry").next().unwrap();
    assert_eq!(
        entry.link("alternate").unwrap(),
        format!("https://blog.example.com/a/#comment-{}", second.id)
    );
    assert_eq!(entry.one("title").text, "Ann on /a/");
    assert_eq!(entry.one("content").attr("type"), Some("text"));
    assert_eq!(entry.one("author").one("name").text, "Ann");
    assert_eq!(
        entry.one("author").one("uri").text,
        "https://ann.example.net/"
    );
    assert_eq!(
        entry.one("published").text,
        rust_aws::domain::ids::rfc3339(t + 2)
    );
    assert_eq!(
        entry.one("updated").text,
        rust_aws::domain::ids::rfc3339(t + 2)
    );
    let ids: Vec<_> = f.all("entry").map(|e| e.one("id").text.clone()).collect();
    assert!(ids.iter().all(|id| id.starts_with("urn:uuid:")));
    assert_ne!(ids[0], ids[1]);
    // Stable: the same comment has the same id in the site-wide feed.
    let site = feed(&app, "/comment/feed").await;
    assert!(site.all("entry").any(|e| e.one("id").text == ids[1]));
    let _ = first;
}

#[tokio::test]
async fn the_site_feed_holds_every_pages_comments_and_at_most_fifty() {
    let app = spawn_app(&[("SITE_URL", BLOG)]);
    let t = now_ms() - 100_000;
    for i in 0..55 {
        approved(&app, &format!("/p{}/", i % 3), t + i, &format!("c{i}")).await;
    }
    let f = feed(&app, "/comment/feed").await;
    let bodies = ids_of(&f);
    let want: Vec<String> = (5..55).rev().map(|i| format!("c{i}")).collect();
    assert_eq!(bodies, want, "the latest 50, newest first, of every page");
    assert_eq!(f.one("title").text, "Comments · Example Blog");
    assert_eq!(
        f.link("self"),
        Some("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/comment/feed")
    );
    assert_eq!(f.link("alternate"), Some("https://blog.example.com/"));
    assert!(
        f.all("entry")
            .next()
            .unwrap()
            .link("alternate")
            .unwrap()
            .starts_with("https://blog.example.com/p0/#comment-")
    );
}

#[tokio::test]
async fn a_hostile_comment_posted_through_the_api_stays_text_in_a_well_formed_feed() {
    let app = spawn_app(&[("MODERATION", "off"), ("SITE_URL", BLOG)]);
    let hostile = "]]> <script>alert('x')</script> &amp; <![CDATA[ x ]]> \"q\" <!-- c --> \
                   write to bob@example.net";
    let mut c = comment("/a/");
    c["body"] = hostile.into();
    c["name"] = "<b>Eve</b> & \"co\"".into();
    c["email"] = "eve.secret@example.org".into();
    let reply = app.send(Event::post_json("/comment", &c)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);

    for path in ["/comment/feed?post=/a/", "/comment/feed"] {
        let raw = app.send(Event::v2("GET", path)).await.body;
        assert!(!raw.contains("<script>"), "{raw}");
        assert!(
            !raw.contains("eve.secret"),
            "the commenter's address: {raw}"
        );
        let f = feed(&app, path).await;
        let entry = f.one("entry");
        assert_eq!(entry.one("content").text, hostile, "the body, as text");
        assert_eq!(entry.one("author").one("name").text, "<b>Eve</b> & \"co\"");
    }
}

#[tokio::test]
async fn control_characters_and_noncharacters_are_dropped_not_sent() {
    let app = spawn_app(&[]);
    approved(
        &app,
        "/a/",
        now_ms(),
        "a\u{0}b\u{1b}c\u{7f}d\u{85}e\u{FFFE}f\u{FFFF}g\r\nh\ti",
    )
    .await;
    let f = feed(&app, "/comment/feed?post=/a/").await;
    assert_eq!(f.one("entry").one("content").text, "abcdefg\nh\ti");
    // Without SITE_URL the API cannot know where pages live: no page links.
    assert_eq!(f.one("entry").link("alternate"), None);
    assert_eq!(f.link("alternate"), None);
}

#[tokio::test]
async fn an_unknown_post_is_an_empty_feed_and_a_bad_post_a_400() {
    let app = spawn_app(&[]);
    let f = feed(&app, "/comment/feed?post=/never-commented/").await;
    assert_eq!(f.all("entry").count(), 0);
    assert!(!f.one("updated").text.is_empty());
    let site = feed(&app, "/comment/feed").await;
    assert_eq!(site.all("entry").count(), 0);

    for bad in ["post=", "post=%01", &format!("post={}", "x".repeat(513))] {
        let reply = app
            .send(Event::v2("GET", &format!("/comment/feed?{bad}")))
            .await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert_eq!(reply.json()["fields"][0]["field"], "post", "{bad}");
    }
}

#[tokio::test]
async fn head_answers_a_feeds_headers_without_its_body() {
    let app = spawn_app(&[]);
    approved(&app, "/a/", now_ms(), "hello").await;
    let reply = app.send(Event::v2("HEAD", "/comment/feed?post=/a/")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(reply.body, "");
    let post = app.send(Event::v2("POST", "/comment/feed")).await;
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn the_checker_refuses_what_is_not_well_formed() {
    for bad in [
        "<feed><a></feed>",
        "<feed>&nope;</feed>",
        "<feed>\u{1}</feed>",
        "<feed>\u{FFFF}</feed>",
        "<feed></feed><feed></feed>",
        "<feed a=\"1\" a=\"2\"/>",
        "<feed>",
        "<feed>&#1;</feed>",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} passed");
    }
    assert!(parse("<feed a=\"&lt;\">x &amp; y</feed>").is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the text of a comment's fields, the feed parses, and each
    /// field comes back as that text less what XML cannot carry.
    #[test]
    fn any_comment_text_yields_a_well_formed_feed(
        body in any::<String>(),
        name in any::<String>(),
        post in "[^\u{0}]{1,40}",
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let app = spawn_app(&[("SITE_URL", BLOG)]);
            let mut record = record(&post, now_ms(), &body);
            record.name = name.clone();
            app.store.put_comment(&record, 0).await.unwrap();
            let reply = app.send(Event::v2("GET", "/comment/feed")).await;
            prop_assert_eq!(reply.status, 200);
            let root = parse(&reply.body).map_err(|e| TestCaseError::fail(format!("{e}: {}", reply.body)))?;
            let kept = |s: &str| -> String {
                s.chars()
                    .filter(|c| matches!(c, '\t' | '\n') || (!c.is_control() && xml_char(*c)))
                    .collect()
            };
            let entry = root.one("entry");
            prop_assert_eq!(&entry.one("content").text, &kept(&body));
            prop_assert_eq!(&entry.one("author").one("name").text, &kept(&name));
            Ok(())
        })?;
    }
}
