//! The console's HTML: one layout, each page's main part, every piece of
//! stored text through [`escape_html`]. Plain forms, no script; the pages'
//! CSP allows the console's own stylesheet and nothing else.

use std::fmt::Write as _;

use http::{HeaderValue, Response, StatusCode};
use lambda_http::Body;

use crate::domain::{CommentRecord, Held, OutboxItem, SpamItem};
use crate::web::respond::escape_html;

/// The console pages' policy: the stylesheet from the function, forms to
/// itself, no script at all, no framing.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Where the pages are: the API's path prefix (a REST API stage, or empty)
/// and the site's name.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// Path prefix of the API, without a trailing slash (`""`, `/prod`).
    pub root: String,
    /// `SITE_NAME`.
    pub site: String,
    /// `SITE_URL`, for links to posts.
    pub site_url: Option<String>,
}

/// The console's sections: the bar's links. The Spam folder joins them
/// with the spam issue (`GET /admin/spam`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Queue,
    Published,
    Spam,
    Outbox,
}

impl Section {
    const ALL: [Section; 4] = [
        Section::Queue,
        Section::Published,
        Section::Spam,
        Section::Outbox,
    ];

    fn path(self) -> &'static str {
        match self {
            Section::Queue => "/admin",
            Section::Published => "/admin/published",
            Section::Spam => "/admin/spam",
            Section::Outbox => "/admin/outbox",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Queue => "Queue",
            Section::Published => "Published",
            Section::Spam => "Spam",
            Section::Outbox => "Outbox",
        }
    }
}

/// A notice at the top of a page.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub text: String,
    pub warn: bool,
}

/// The headers of every console page.
pub(crate) fn html(status: StatusCode, html: String) -> Response<Body> {
    let mut res = crate::web::respond::html_page(status, html, CSP);
    res.headers_mut()
        .insert("x-frame-options", HeaderValue::from_static("DENY"));
    res
}

fn head(frame: &Frame, title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><meta name=\"color-scheme\" content=\"light dark\">\
<title>{title} · {site}</title>\
<link rel=\"stylesheet\" href=\"{root}/admin/console.css\"></head>\n",
        title = escape_html(title),
        site = escape_html(&frame.site),
        root = escape_html(&frame.root),
    )
}

fn notice_html(notice: Option<&Notice>) -> String {
    notice.map_or(String::new(), |n| {
        format!(
            "<p class=\"notice{}\" role=\"status\">{}</p>\n",
            if n.warn { " warn" } else { "" },
            escape_html(&n.text)
        )
    })
}

/// A page for someone not signed in (the sign-in page, the link's page,
/// refusals): a small card.
pub(crate) fn card(
    status: StatusCode,
    frame: &Frame,
    title: &str,
    notice: Option<&Notice>,
    inner: &str,
) -> Response<Body> {
    let body = format!(
        "{head}<body><main class=\"narrow\"><div class=\"card\">\
<h1>{title}</h1>\n{notice}{inner}</div></main></body></html>\n",
        head = head(frame, title),
        title = escape_html(title),
        notice = notice_html(notice),
    );
    html(status, body)
}

/// A signed-in page: the bar, the section's heading and its content.
pub(crate) fn signed_in(
    frame: &Frame,
    current: Section,
    csrf: &str,
    heading: &str,
    notice: Option<&Notice>,
    inner: &str,
) -> Response<Body> {
    let root = escape_html(&frame.root);
    let mut nav = String::new();
    for s in Section::ALL {
        let _ = write!(
            nav,
            "<a href=\"{root}{}\"{}>{}</a>",
            s.path(),
            if s == current {
                " aria-current=\"page\""
            } else {
                ""
            },
            s.label()
        );
    }
    let body = format!(
        "{head}<body><a class=\"skip\" href=\"#main\">Skip to content</a>\
<header class=\"bar\"><a class=\"brand\" href=\"{root}/admin\">{site} <span>console</span></a>\
<nav class=\"sections\" aria-label=\"Console sections\">{nav}</nav>\
<form class=\"signout\" method=\"post\" action=\"{root}/admin/sign-out\">{csrf_field}\
<button class=\"quiet\" name=\"scope\" value=\"this\">Sign out</button>\
<button class=\"quiet\" name=\"scope\" value=\"all\">Sign out everywhere</button></form></header>\n\
<main id=\"main\" tabindex=\"-1\"><h1>{heading}</h1>\n{notice}{inner}</main></body></html>\n",
        head = head(frame, current.label()),
        site = escape_html(&frame.site),
        csrf_field = csrf_field(csrf),
        notice = notice_html(notice),
    );
    html(StatusCode::OK, body)
}

fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape_html(csrf)
    )
}

/// "5 min", "3 h", "2 d": how long ago `ms` was.
fn age(ms: u64, now_ms: u64) -> String {
    let s = now_ms.saturating_sub(ms) / 1000;
    match s {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

fn time(ms: u64, now_ms: u64) -> String {
    let at = crate::domain::ids::rfc3339(ms);
    format!(
        "<time datetime=\"{at}\" title=\"{at}\">{}</time>",
        age(ms, now_ms)
    )
}

/// The first line of a text, at most 120 characters.
fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut out: String = line.chars().take(120).collect();
    if line.chars().count() > 120 {
        out.push('…');
    }
    out
}

/// The post, linked to the page when `SITE_URL` is set and the post is a
/// path (a slug, or anything else, stays text: `SITE_URL` + `@host` would
/// be a link to another site).
fn post_html(frame: &Frame, post: &str) -> String {
    match &frame.site_url {
        Some(site) if post.starts_with('/') && !post.starts_with("//") => format!(
            "<a class=\"post\" href=\"{}{}\">{}</a>",
            escape_html(site),
            escape_html(post),
            escape_html(post)
        ),
        _ => format!("<span class=\"post\">{}</span>", escape_html(post)),
    }
}

/// One comment of a list, with its checkbox and its buttons (`actions`:
/// `(value, label, class)`; a button's value is `action:id`).
fn item_html(
    frame: &Frame,
    c: &CommentRecord,
    parent: Option<&str>,
    actions: &[(&str, &str, &str)],
    now_ms: u64,
) -> String {
    let id = escape_html(&c.id);
    let mut meta = format!(
        "<span class=\"who\" id=\"who-{id}\">{}</span>",
        escape_html(&c.name)
    );
    if let Some(email) = &c.email {
        let _ = write!(meta, "<span>{}</span>", escape_html(email));
    }
    if let Some(url) = &c.url {
        let _ = write!(
            meta,
            "<a href=\"{u}\" rel=\"nofollow noopener noreferrer ugc\">{u}</a>",
            u = escape_html(url)
        );
    }
    let _ = write!(
        meta,
        "<span>on {}</span>{}",
        post_html(frame, &c.post),
        time(c.created_ms, now_ms)
    );
    let parent = match (&c.parent, parent) {
        (Some(_), Some(line)) => format!(
            "<p class=\"parent\">Reply to: {}</p>",
            escape_html(&first_line(line))
        ),
        (Some(_), None) => {
            "<p class=\"parent\">Reply to a comment that is no longer published.</p>".to_owned()
        }
        (None, _) => String::new(),
    };
    let mut buttons = String::new();
    for (action, label, class) in actions {
        let _ = write!(
            buttons,
            "<button{class} name=\"one\" value=\"{action}:{id}\" aria-describedby=\"who-{id}\">{label}</button>",
            class = if class.is_empty() {
                String::new()
            } else {
                format!(" class=\"{class}\"")
            }
        );
    }
    format!(
        "<li class=\"item\"><div class=\"pick\"><input type=\"checkbox\" name=\"id\" value=\"{id}\" id=\"pick-{id}\" aria-label=\"Select the comment by {name}\"></div>\
<div class=\"meta\">{meta}</div>{parent}<p class=\"body\">{body}</p><div class=\"actions\">{buttons}</div></li>\n",
        name = escape_html(&c.name),
        body = escape_html(&c.body),
    )
}

fn empty(title: &str, text: &str) -> String {
    format!(
        "<div class=\"empty\"><strong>{}</strong>{}</div>\n",
        escape_html(title),
        escape_html(text)
    )
}

/// The queue: pending comments, oldest first, in one form whose buttons
/// decide one comment (`one`) or the selected ones (`bulk`).
pub(crate) fn queue(
    frame: &Frame,
    csrf: &str,
    notice: Option<&Notice>,
    comments: &[(CommentRecord, Option<String>)],
    next: Option<&str>,
    now_ms: u64,
) -> Response<Body> {
    let root = escape_html(&frame.root);
    let mut inner = String::new();
    if comments.is_empty() {
        inner.push_str(&empty(
            "Nothing waits for you.",
            " New comments appear here, oldest first.",
        ));
    } else {
        let _ = write!(
            inner,
            "<form method=\"post\" action=\"{root}/admin/decide\">{}<input type=\"hidden\" name=\"back\" value=\"queue\">\
<div class=\"toolbar\" role=\"group\" aria-label=\"Selected comments\"><span class=\"hint\">Oldest first; select some to decide them together.</span>\
<button class=\"approve\" name=\"bulk\" value=\"approve\">Approve selected</button>\
<button name=\"bulk\" value=\"reject\">Reject selected</button>\
<button name=\"bulk\" value=\"spam\">Spam selected</button>\
<button class=\"danger\" name=\"bulk\" value=\"delete\">Delete selected</button></div>\n<ol class=\"items\">\n",
            csrf_field(csrf)
        );
        for (c, parent) in comments {
            inner.push_str(&item_html(
                frame,
                c,
                parent.as_deref(),
                &[
                    ("approve", "Approve", "approve"),
                    ("reject", "Reject", ""),
                    ("spam", "Spam", ""),
                    ("delete", "Delete", "danger"),
                ],
                now_ms,
            ));
        }
        inner.push_str("</ol></form>\n");
    }
    if let Some(next) = next {
        let _ = write!(
            inner,
            "<nav class=\"pager\" aria-label=\"Pages\"><a class=\"button\" href=\"{root}/admin?after={}\">Next page</a></nav>",
            escape_html(next)
        );
    }
    let heading = match comments.len() {
        0 => "Queue".to_owned(),
        n if next.is_some() => format!("Queue <span class=\"sub\">{n}+ pending</span>"),
        n => format!("Queue <span class=\"sub\">{n} pending</span>"),
    };
    signed_in(frame, Section::Queue, csrf, &heading, notice, &inner)
}

/// The published comments, newest first, optionally of one post.
pub(crate) fn published(
    frame: &Frame,
    csrf: &str,
    notice: Option<&Notice>,
    post: Option<&str>,
    comments: &[(CommentRecord, Option<String>)],
    next: Option<&str>,
    now_ms: u64,
) -> Response<Body> {
    let root = escape_html(&frame.root);
    let mut inner = format!(
        "<form class=\"filter\" method=\"get\" action=\"{root}/admin/published\" role=\"search\">\
<label for=\"post\">Post</label><input id=\"post\" name=\"post\" value=\"{}\" placeholder=\"/2026/11/a-post/\" maxlength=\"512\">\
<button>Filter</button>{}</form>\n",
        escape_html(post.unwrap_or("")),
        if post.is_some() {
            format!("<a href=\"{root}/admin/published\">All posts</a>")
        } else {
            String::new()
        }
    );
    if comments.is_empty() {
        inner.push_str(&empty(
            "No published comments.",
            if post.is_some() {
                " None on this post."
            } else {
                " Approved comments appear here, newest first."
            },
        ));
    } else {
        let post_field = post.map_or(String::new(), |p| {
            format!(
                "<input type=\"hidden\" name=\"post\" value=\"{}\">",
                escape_html(p)
            )
        });
        let _ = write!(
            inner,
            "<form method=\"post\" action=\"{root}/admin/decide\">{}<input type=\"hidden\" name=\"back\" value=\"published\">{post_field}\
<div class=\"toolbar\" role=\"group\" aria-label=\"Selected comments\"><span class=\"hint\">Newest first.</span>\
<button name=\"bulk\" value=\"reject\">Unpublish selected</button>\
<button name=\"bulk\" value=\"spam\">Spam selected</button>\
<button class=\"danger\" name=\"bulk\" value=\"delete\">Delete selected</button></div>\n<ol class=\"items\">\n",
            csrf_field(csrf)
        );
        for (c, parent) in comments {
            inner.push_str(&item_html(
                frame,
                c,
                parent.as_deref(),
                &[("spam", "Spam", ""), ("delete", "Delete", "danger")],
                now_ms,
            ));
        }
        inner.push_str("</ol></form>\n");
    }
    if let Some(next) = next {
        let mut href = format!("{root}/admin/published?before={}", escape_html(next));
        if let Some(p) = post {
            let _ = write!(
                href,
                "&amp;post={}",
                escape_html(&form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>())
            );
        }
        let _ = write!(
            inner,
            "<nav class=\"pager\" aria-label=\"Pages\"><a class=\"button\" href=\"{href}\">Older</a></nav>"
        );
    }
    let heading = match post {
        Some(p) => format!("Published <span class=\"sub\">on {}</span>", escape_html(p)),
        None => "Published".to_owned(),
    };
    signed_in(frame, Section::Published, csrf, &heading, notice, &inner)
}

/// The spam folder, newest first: what a verdict held back, and why.
pub(crate) fn spam(
    frame: &Frame,
    csrf: &str,
    notice: Option<&Notice>,
    items: &[SpamItem],
    next: Option<&str>,
    now_ms: u64,
) -> Response<Body> {
    let root = escape_html(&frame.root);
    let mut inner = String::new();
    if items.is_empty() {
        inner.push_str(&empty(
            "No spam.",
            " What the spam rules or Akismet hold back waits here for 30 days, newest first.",
        ));
    } else {
        let _ = writeln!(
            inner,
            "<form method=\"post\" action=\"{root}/admin/spam\">{}<ol class=\"items\">",
            csrf_field(csrf)
        );
        for item in items {
            let id = escape_html(item.held.id());
            let (kind, who, email, url, place, text) = match &item.held {
                Held::Comment(c) => (
                    "Comment",
                    &c.name,
                    c.email.as_deref(),
                    c.url.as_deref(),
                    format!("on {}", post_html(frame, &c.post)),
                    &c.body,
                ),
                Held::Contact(m) => (
                    "Contact message",
                    &m.name,
                    Some(m.email.as_str()),
                    None,
                    m.subject
                        .as_deref()
                        .map_or(String::new(), |s| format!("“{}”", escape_html(s))),
                    &m.message,
                ),
            };
            let mut meta = format!(
                "<span class=\"badge parked\">{kind}: {}</span><span class=\"who\" id=\"who-{id}\">{}</span>",
                escape_html(&item.reason),
                escape_html(who)
            );
            if let Some(email) = email {
                let _ = write!(meta, "<span>{}</span>", escape_html(email));
            }
            if let Some(url) = url {
                let _ = write!(meta, "<span>{}</span>", escape_html(url));
            }
            let _ = write!(meta, "<span>{place}</span>{}", time(item.marked_ms, now_ms));
            let _ = writeln!(
                inner,
                "<li class=\"item\"><div class=\"meta\">{meta}</div><p class=\"body\">{body}</p><div class=\"actions\">\
<button class=\"approve\" name=\"one\" value=\"ham:{id}\" aria-describedby=\"who-{id}\">Not spam</button>\
<button class=\"danger\" name=\"one\" value=\"drop:{id}\" aria-describedby=\"who-{id}\">Delete</button></div></li>",
                body = escape_html(text),
            );
        }
        inner.push_str("</ol></form>\n");
    }
    if let Some(next) = next {
        let _ = write!(
            inner,
            "<nav class=\"pager\" aria-label=\"Pages\"><a class=\"button\" href=\"{root}/admin/spam?after={}\">Older</a></nav>",
            escape_html(next)
        );
    }
    signed_in(frame, Section::Spam, csrf, "Spam", notice, &inner)
}

/// What an outbox entry mails, as the owner would name it.
fn kind_label(kind: crate::domain::MailKind) -> &'static str {
    use crate::domain::{Channel, MailKind};
    match kind {
        MailKind::Contact => "Contact message",
        MailKind::Comment => "Moderation mail",
        MailKind::Confirm => "Reply-notification confirmation",
        MailKind::Reply => "Reply notification",
        MailKind::Alert(Channel::Webhook) => "Alert (webhook)",
        MailKind::Alert(Channel::Slack) => "Alert (Slack)",
        MailKind::Alert(Channel::Discord) => "Alert (Discord)",
        MailKind::Alert(Channel::Telegram) => "Alert (Telegram)",
        MailKind::Feedback => "Correction for Akismet",
    }
}

/// The mail not delivered yet.
pub(crate) fn outbox(
    frame: &Frame,
    csrf: &str,
    notice: Option<&Notice>,
    items: &[OutboxItem],
    now_ms: u64,
) -> Response<Body> {
    let root = escape_html(&frame.root);
    let mut inner = String::new();
    if items.is_empty() {
        inner.push_str(&empty(
            "All mail is delivered.",
            " Mail that could not be sent waits here until it goes out.",
        ));
    } else {
        let parked = items.iter().filter(|i| i.parked).count();
        let _ = write!(
            inner,
            "<form method=\"post\" action=\"{root}/admin/outbox\">{}<div class=\"table-wrap\"><table>\
<caption>{} undelivered, {parked} parked (given up on after repeated failures). Redelivery runs every 5 minutes.</caption>\
<thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Stored</th><th scope=\"col\">Attempts</th><th scope=\"col\">Last error</th><th scope=\"col\">State</th><th scope=\"col\"><span class=\"skip\">Action</span></th></tr></thead><tbody>",
            csrf_field(csrf),
            items.len(),
        );
        for i in items {
            let state = if i.parked {
                "<span class=\"badge parked\">parked</span>".to_owned()
            } else if i.next_attempt_ms > now_ms {
                format!(
                    "<span class=\"badge waiting\">next try in {}</span>",
                    age(now_ms, i.next_attempt_ms).trim_end_matches(" ago")
                )
            } else {
                "<span class=\"badge waiting\">due</span>".to_owned()
            };
            let _ = write!(
                inner,
                "<tr><td>{what}</td><td>{stored}</td><td>{attempts}</td><td class=\"mono\">{error}</td><td>{state}</td>\
<td><button name=\"retry\" value=\"{kind}:{id}\">Retry now</button></td></tr>",
                kind = i.entry.kind.as_str(),
                what = kind_label(i.entry.kind),
                stored = time(i.created_ms, now_ms),
                attempts = i.attempts,
                error = escape_html(i.last_error.as_deref().unwrap_or("—")),
                id = escape_html(&i.entry.id),
            );
        }
        inner.push_str("</tbody></table></div></form>\n");
    }
    signed_in(frame, Section::Outbox, csrf, "Outbox", notice, &inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(0, 30_000), "just now");
        assert_eq!(age(0, 5 * 60_000), "5 min ago");
        assert_eq!(age(0, 3 * 3_600_000), "3 h ago");
        assert_eq!(age(0, 2 * 86_400_000), "2 d ago");
        assert_eq!(age(10, 0), "just now");
    }

    #[test]
    fn a_post_is_linked_only_as_a_path_under_the_site() {
        let frame = Frame {
            root: String::new(),
            site: "S".into(),
            site_url: Some("https://blog.example.org".into()),
        };
        assert!(post_html(&frame, "/a/").contains("href=\"https://blog.example.org/a/\""));
        assert!(!post_html(&frame, "@evil.example/").contains("href"));
        assert!(!post_html(&frame, "//evil.example/").contains("href"));
        assert!(post_html(&frame, "/<b>").contains("&lt;b&gt;"));
    }

    #[test]
    fn first_lines_skip_blank_lines_and_are_cut() {
        assert_eq!(first_line("\n\n  \nhello\nworld"), "hello");
        assert_eq!(first_line(&"x".repeat(200)).chars().count(), 121);
    }
}
