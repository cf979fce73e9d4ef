//! GET /comment/feed[?post=P]: an Atom 1.0 feed (RFC 4287) of the latest
//! approved comments of one page, or of the whole site.
//!
//! The document is written by hand: it is a dozen elements, and every piece
//! of text a visitor chose goes through [`text`], which escapes markup and
//! drops what XML 1.0 cannot carry, so the feed is well-formed whatever a
//! comment holds.

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use lambda_http::{Body, Request};
use sha2::{Digest, Sha256};

use crate::config::state::State;
use crate::domain::CommentRecord;
use crate::domain::SingleLine;
use crate::domain::ids;
use crate::outbox::replies;
use crate::web::error::ApiError;
use crate::web::intake::{Fields, MediaType};
use crate::web::request::RequestInfo;

/// Entries in a feed: the latest 50, as feed readers poll and keep their own history.
pub(crate) const ENTRIES: usize = 50;

/// The feed's media type.
const ATOM: &str = "application/atom+xml; charset=utf-8";

/// GET /comment/feed[?post=P]. An unknown post (or a site without approved
/// comments) is an empty feed, as an unknown post is an empty list: a feed
/// subscribed before the first comment must not fail.
pub(crate) async fn atom(
    state: &State,
    info: &RequestInfo,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let query = req.uri().query().unwrap_or("").as_bytes();
    let q = Fields::parse(&MediaType::UrlEncoded, query).map_err(ApiError::field)?;
    let post = match q.optional("post").map_err(ApiError::field)? {
        Some(raw) => Some(
            SingleLine::parse("post", raw, 1, 512)
                .map_err(ApiError::field)?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let entries = state
        .store
        .latest_approved(post.as_deref(), ENTRIES)
        .await?;
    let api = state
        .config
        .public_url
        .clone()
        .or_else(|| info.base_url.clone())
        .unwrap_or_else(|| "http://localhost".to_owned());
    let site = Site {
        name: &state.config.site_name,
        url: state.config.site_url.as_deref(),
        api: &api,
    };
    let xml = render(&site, post.as_deref(), &entries, ids::now_ms());
    let mut res = Response::new(Body::from(xml));
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(ATOM));
    // Cacheable like the lists: a reader polling every minute costs one Query a minute.
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

/// What a feed says about where it comes from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site<'a> {
    /// `SITE_NAME`.
    pub name: &'a str,
    /// `SITE_URL`: entries link to their page only when it is set.
    pub url: Option<&'a str>,
    /// The API's base URL (`PUBLIC_URL`, or the request's), for the self link.
    pub api: &'a str,
}

/// The Atom document of `entries` (newest first) of `post`, or of the
/// whole site with `None`; `now_ms` dates a feed without entries.
pub(crate) fn render(
    site: &Site<'_>,
    post: Option<&str>,
    entries: &[CommentRecord],
    now_ms: u64,
) -> String {
    let mut self_link = format!("{}/comment/feed", site.api);
    if let Some(post) = post {
        self_link.push('?');
        self_link.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .append_pair("post", post)
                .finish(),
        );
    }
    let title = match post {
        Some(post) => format!("Comments on {post} · {}", site.name),
        None => format!("Comments · {}", site.name),
    };
    let updated = entries.first().map_or(now_ms, |c| c.created_ms);
    // The feed's identity is the site and the page, not the API's address,
    // which can change (a custom domain added) without the feed changing.
    let identity = format!(
        "feed\0{}\0{}",
        site.url.unwrap_or(site.api),
        post.unwrap_or("")
    );

    let mut x = String::with_capacity(1024 + entries.len() * 512);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:thr=\"http://purl.org/syndication/thread/1.0\">\n");
    element(&mut x, "id", &urn(&identity));
    element(&mut x, "title", &title);
    element(&mut x, "updated", &ids::rfc3339(updated));
    link(&mut x, "self", ATOM_TYPE, &self_link);
    if let Some(url) = site.url {
        let page = post.map_or_else(|| format!("{url}/"), |p| replies::page_url(url, p));
        link(&mut x, "alternate", "text/html", &page);
    }
    x.push_str("<author><name>");
    text(&mut x, site.name);
    x.push_str("</name></author>\n");
    x.push_str("<generator>rust-aws</generator>\n");
    for c in entries {
        entry(&mut x, site, c);
    }
    x.push_str("</feed>\n");
    x
}

const ATOM_TYPE: &str = "application/atom+xml";

fn entry(x: &mut String, site: &Site<'_>, c: &CommentRecord) {
    let at = ids::rfc3339(c.created_ms);
    x.push_str("<entry>\n");
    element(x, "id", &comment_urn(&c.id));
    element(x, "title", &format!("{} on {}", c.name, c.post));
    if let Some(url) = site.url {
        let page = replies::page_url(url, &c.post);
        link(
            x,
            "alternate",
            "text/html",
            &format!("{page}#comment-{}", c.id),
        );
        if let Some(parent) = &c.parent {
            in_reply_to(
                x,
                &comment_urn(parent),
                Some(&format!("{page}#comment-{parent}")),
            );
        }
    } else if let Some(parent) = &c.parent {
        in_reply_to(x, &comment_urn(parent), None);
    }
    element(x, "published", &at);
    element(x, "updated", &at);
    // The name and website the commenter gave; never the address.
    x.push_str("<author><name>");
    text(x, &c.name);
    x.push_str("</name>");
    if let Some(url) = &c.url {
        x.push_str("<uri>");
        text(x, url);
        x.push_str("</uri>");
    }
    x.push_str("</author>\n");
    x.push_str("<content type=\"text\">");
    text(x, &c.body);
    x.push_str("</content>\n</entry>\n");
}

/// `<name>value</name>` on a line, `value` escaped.
fn element(x: &mut String, name: &str, value: &str) {
    x.push('<');
    x.push_str(name);
    x.push('>');
    text(x, value);
    x.push_str("</");
    x.push_str(name);
    x.push_str(">\n");
}

fn link(x: &mut String, rel: &str, media_type: &str, href: &str) {
    x.push_str("<link rel=\"");
    x.push_str(rel);
    x.push_str("\" type=\"");
    x.push_str(media_type);
    x.push_str("\" href=\"");
    text(x, href);
    x.push_str("\"/>\n");
}

/// RFC 4685's link from a reply to its parent.
fn in_reply_to(x: &mut String, parent_id: &str, href: Option<&str>) {
    x.push_str("<thr:in-reply-to ref=\"");
    text(x, parent_id);
    x.push('"');
    if let Some(href) = href {
        x.push_str(" type=\"text/html\" href=\"");
        text(x, href);
        x.push('"');
    }
    x.push_str("/>\n");
}

/// Appends `s` as XML character data, fit for element content and quoted
/// attributes alike: markup characters escaped (`]]>` included, as `]]&gt;`),
/// and every character XML 1.0 does not allow dropped — C0 controls but tab
/// and newline (a carriage return too, which a parser would turn into a
/// newline anyway), C1 controls, and U+FFFE and U+FFFF (Rust strings hold no
/// lone surrogates). Nothing of what is dropped could be shown as text.
pub(crate) fn text(x: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => x.push_str("&amp;"),
            '<' => x.push_str("&lt;"),
            '>' => x.push_str("&gt;"),
            '"' => x.push_str("&quot;"),
            '\'' => x.push_str("&apos;"),
            '\t' | '\n' => x.push(c),
            '\u{FFFE}' | '\u{FFFF}' => {}
            c if c.is_control() => {}
            c => x.push(c),
        }
    }
}

/// A stable `urn:uuid:` for `name`: the first 128 bits of its SHA-256, with
/// the version (8, RFC 9562's name-based custom form) and variant bits set.
fn urn(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = ids::hex(&b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An entry's id: its comment's, so it never changes with the site's address.
fn comment_urn(id: &str) -> String {
    urn(&format!("comment\0{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_and_drops_what_xml_cannot_hold() {
        let mut x = String::new();
        text(
            &mut x,
            "a]]><script>&\"'\u{0}\u{1b}\u{7f}\u{85}\u{FFFE}\u{FFFF}\r\n\tz😀",
        );
        assert_eq!(x, "a]]&gt;&lt;script&gt;&amp;&quot;&apos;\n\tz😀");
    }

    #[test]
    fn urns_are_stable_version_8_uuids() {
        let a = urn("comment\0abc");
        assert_eq!(a, urn("comment\0abc"));
        assert_ne!(a, urn("comment\0abd"));
        assert_eq!(a.len(), "urn:uuid:".len() + 36);
        assert_eq!(&a[23..24], "8", "{a}");
        assert!(matches!(&a[28..29], "8" | "9" | "a" | "b"), "{a}");
    }
}
