//! WordPress's WXR export: RSS 2.0 with the `wp:` namespace. Each `<item>` (a
//! post or page: `<link>`) holds `<wp:comment>` elements: `wp:comment_id`,
//! `wp:comment_author`, `_author_email`, `_author_url`, `wp:comment_date_gmt`
//! (`YYYY-MM-DD HH:MM:SS`), `wp:comment_content`, `wp:comment_approved` (`1`,
//! `0`, `spam`, `trash`), `wp:comment_type` (empty or `comment`; `pingback`,
//! `trackback`) and `wp:comment_parent` (`0` for none).

use super::{FormatError, SourceComment, html, parse_date, post_from_link};
use crate::xml::{self, Element};

/// WordPress writes this for a date it does not have.
const NO_DATE: &str = "0000-00-00 00:00:00";

const SHAPE: xml::Shape = xml::Shape {
    root: "rss",
    within: &["channel"],
    records: &["item"],
    what: "a WordPress export",
};

/// Reads a WXR export, reporting the bytes read to `progress`.
pub fn parse(input: &str, progress: &dyn Fn(u64)) -> Result<Vec<SourceComment>, FormatError> {
    let mut comments = Vec::new();
    xml::read(input, &SHAPE, progress, &mut |item| {
        let page = post_from_link(item.child_text("link"));
        for comment in item.children_named("wp:comment") {
            comments.push(read_comment(comment, &page)?);
        }
        Ok(())
    })?;
    Ok(comments)
}

fn read_comment(c: &Element, page: &Result<String, String>) -> Result<SourceComment, FormatError> {
    let id = c.child_text("wp:comment_id");
    if id.is_empty() {
        return Err(FormatError::new(
            format!("<wp:comment> at line {}", c.line),
            "has no wp:comment_id",
        ));
    }
    let parent = Some(c.child_text("wp:comment_parent")).filter(|p| !p.is_empty() && *p != "0");
    let date = [
        c.child_text("wp:comment_date_gmt"),
        c.child_text("wp:comment_date"),
    ]
    .into_iter()
    .find(|d| !d.is_empty() && *d != NO_DATE)
    .unwrap_or(NO_DATE);
    let excluded = match c.child_text("wp:comment_approved") {
        "1" | "approve" => None,
        "0" | "hold" => Some("waiting for moderation in WordPress".to_owned()),
        "spam" => Some("marked as spam in WordPress".to_owned()),
        "trash" | "post-trashed" => Some("in WordPress's trash".to_owned()),
        other => Some(format!("WordPress status {other:?}")),
    };
    let excluded = excluded.or_else(|| match c.child_text("wp:comment_type") {
        "" | "comment" => None,
        kind => Some(format!("a {kind}, not a comment")),
    });
    Ok(SourceComment {
        source_id: id.to_owned(),
        parent: parent.map(str::to_owned),
        post: page.clone(),
        // WordPress stores names HTML-escaped (`Tom &amp; Jerry`).
        name: html::to_text(c.child_text("wp:comment_author")),
        email: Some(c.child_text("wp:comment_author_email").to_owned()),
        url: Some(c.child_text("wp:comment_author_url").to_owned()),
        body: html::to_text(c.child_text("wp:comment_content")),
        created_ms: parse_date(date),
        excluded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Example</title><link>https://blog.example.org</link><wp:wxr_version>1.2</wp:wxr_version>
  <item>
    <title>Hello</title><link>https://blog.example.org/hello-world/</link>
    <wp:post_id>1</wp:post_id><wp:post_type><![CDATA[post]]></wp:post_type>
    <wp:comment>
      <wp:comment_id>7</wp:comment_id>
      <wp:comment_author><![CDATA[Ada Example]]></wp:comment_author>
      <wp:comment_author_email><![CDATA[ada@example.org]]></wp:comment_author_email>
      <wp:comment_author_url>https://ada.example.org</wp:comment_author_url>
      <wp:comment_author_IP><![CDATA[192.0.2.1]]></wp:comment_author_IP>
      <wp:comment_date><![CDATA[2024-03-01 11:00:00]]></wp:comment_date>
      <wp:comment_date_gmt><![CDATA[2024-03-01 10:00:00]]></wp:comment_date_gmt>
      <wp:comment_content><![CDATA[First line
with <strong>markup</strong>

New paragraph]]></wp:comment_content>
      <wp:comment_approved><![CDATA[1]]></wp:comment_approved>
      <wp:comment_type><![CDATA[comment]]></wp:comment_type>
      <wp:comment_parent>0</wp:comment_parent>
      <wp:comment_user_id>0</wp:comment_user_id>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>8</wp:comment_id>
      <wp:comment_author><![CDATA[Other Blog]]></wp:comment_author>
      <wp:comment_date_gmt><![CDATA[0000-00-00 00:00:00]]></wp:comment_date_gmt>
      <wp:comment_content><![CDATA[[...] a pingback [...]]]></wp:comment_content>
      <wp:comment_approved><![CDATA[1]]></wp:comment_approved>
      <wp:comment_type><![CDATA[pingback]]></wp:comment_type>
      <wp:comment_parent>7</wp:comment_parent>
    </wp:comment>
  </item>
</channel>
</rss>"#;

    #[test]
    fn comments_keep_author_date_text_and_page() {
        let comments = parse(EXPORT, &|_| {}).unwrap();
        let first = &comments[0];
        assert_eq!(first.source_id, "7");
        assert_eq!(first.post, Ok("/hello-world/".into()));
        assert_eq!(first.url.as_deref(), Some("https://ada.example.org"));
        assert_eq!(first.body, "First line\nwith markup\n\nNew paragraph");
        assert_eq!(first.created_ms, Ok(1_709_287_200_000), "the GMT date");
        assert_eq!(first.parent, None);
        assert_eq!(first.excluded, None);
    }

    #[test]
    fn pingbacks_are_excluded_and_keep_their_parent() {
        let comments = parse(EXPORT, &|_| {}).unwrap();
        assert_eq!(comments[1].parent.as_deref(), Some("7"));
        assert_eq!(
            comments[1].excluded.as_deref(),
            Some("a pingback, not a comment")
        );
        assert!(comments[1].created_ms.is_err(), "no usable date");
    }

    #[test]
    fn a_comment_without_id_refuses_the_file() {
        let broken = EXPORT.replace("<wp:comment_id>8</wp:comment_id>", "");
        let err = parse(&broken, &|_| {}).unwrap_err();
        assert!(err.at.starts_with("<wp:comment> at line 25"), "{err}");
    }
}
