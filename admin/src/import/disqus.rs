//! Disqus's XML export: `<disqus>` holding `<thread dsq:id>` elements (a page:
//! `<link>`, `<title>`) and `<post dsq:id>` elements (a comment: `<message>`
//! HTML, `<createdAt>`, `<isDeleted>`, `<isSpam>`, `<author>` with `<name>` and
//! `<email>`, `<thread dsq:id>` and an optional `<parent dsq:id>`).

use std::collections::HashMap;

use super::{FormatError, SourceComment, html, parse_date, post_from_link};
use crate::xml::{self, Element};

const ID: &str = "dsq:id";

fn required_id(element: &Element) -> Result<&str, FormatError> {
    element
        .attr(ID)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            FormatError::new(
                format!("<{}> at line {}", element.name, element.line),
                "has no dsq:id attribute",
            )
        })
}

const SHAPE: xml::Shape = xml::Shape {
    root: "disqus",
    within: &[],
    records: &["thread", "post"],
    what: "a Disqus export",
};

/// Reads a Disqus export, reporting the bytes read to `progress`.
pub fn parse(input: &str, progress: &dyn Fn(u64)) -> Result<Vec<SourceComment>, FormatError> {
    // Threads may come after the posts that name them: each post keeps its
    // thread's id until the whole file is read.
    let mut pages: HashMap<String, Result<String, String>> = HashMap::new();
    let mut comments: Vec<(SourceComment, Option<String>)> = Vec::new();
    xml::read(input, &SHAPE, progress, &mut |record| {
        if record.name == "thread" {
            let page = post_from_link(record.child_text("link"));
            pages.insert(required_id(&record)?.to_owned(), page);
        } else {
            comments.push(read_post(&record)?);
        }
        Ok(())
    })?;
    Ok(comments
        .into_iter()
        .map(|(mut comment, thread)| {
            comment.post = match thread {
                Some(thread) => pages
                    .get(&thread)
                    .cloned()
                    .unwrap_or_else(|| Err(format!("its thread {thread} is not in the file"))),
                None => Err("it names no thread".to_owned()),
            };
            comment
        })
        .collect())
}

/// A `<post>`, and the id of its thread.
fn read_post(post: &Element) -> Result<(SourceComment, Option<String>), FormatError> {
    let id = required_id(post)?;
    let thread = post.child("thread").map(required_id).transpose()?;
    let parent = post.child("parent").map(required_id).transpose()?;
    let author = post.child("author");
    let author_text = |name| author.map_or("", |a| a.child_text(name));
    let flag = |name| post.child_text(name).eq_ignore_ascii_case("true");
    let excluded = if flag("isDeleted") {
        Some("deleted in Disqus".to_owned())
    } else if flag("isSpam") {
        Some("marked as spam in Disqus".to_owned())
    } else {
        None
    };
    let comment = SourceComment {
        source_id: id.to_owned(),
        parent: parent.map(str::to_owned),
        post: Err(String::new()),
        name: author_text("name").to_owned(),
        email: Some(author_text("email").to_owned()),
        url: None,
        body: html::to_text(post.child_text("message")),
        created_ms: parse_date(post.child_text("createdAt")),
        excluded,
    };
    Ok((comment, thread.map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <category dsq:id="1"><forum>example</forum><title>General</title><isDefault>true</isDefault></category>
  <thread dsq:id="10">
    <id>post-one</id><forum>example</forum><category dsq:id="1"/>
    <link>https://blog.example.org/2024/01/one/</link><title>One</title>
    <createdAt>2024-01-01T08:00:00Z</createdAt>
    <author><name>Owner</name><isAnonymous>false</isAnonymous></author>
    <isClosed>false</isClosed><isDeleted>false</isDeleted>
  </thread>
  <post dsq:id="100">
    <id/><message><![CDATA[<p>Hello &amp; welcome</p><p>Second</p>]]></message>
    <createdAt>2024-01-02T09:30:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>ada@example.org</email><name>Ada Example</name><isAnonymous>false</isAnonymous></author>
    <thread dsq:id="10"/>
  </post>
  <post dsq:id="101">
    <message>&lt;p&gt;Reply&lt;/p&gt;</message>
    <createdAt>2024-01-03T09:30:00Z</createdAt><isDeleted>true</isDeleted><isSpam>false</isSpam>
    <author><name>Bo</name></author>
    <thread dsq:id="10"/><parent dsq:id="100"/>
  </post>
</disqus>"#;

    #[test]
    fn posts_become_comments_on_their_thread_page() {
        let comments = parse(EXPORT, &|_| {}).unwrap();
        assert_eq!(comments.len(), 2);
        let first = &comments[0];
        assert_eq!(first.source_id, "100");
        assert_eq!(first.post, Ok("/2024/01/one/".into()));
        assert_eq!(first.name, "Ada Example");
        assert_eq!(first.email.as_deref(), Some("ada@example.org"));
        assert_eq!(first.body, "Hello & welcome\n\nSecond");
        assert_eq!(first.created_ms, Ok(1_704_187_800_000));
        assert_eq!(first.excluded, None);
        let reply = &comments[1];
        assert_eq!(reply.parent.as_deref(), Some("100"));
        assert_eq!(reply.body, "Reply");
        assert_eq!(reply.excluded.as_deref(), Some("deleted in Disqus"));
    }

    #[test]
    fn a_post_without_id_refuses_the_file_naming_its_line() {
        let broken = EXPORT.replace("<post dsq:id=\"101\">", "<post>");
        let err = parse(&broken, &|_| {}).unwrap_err();
        assert!(err.at.starts_with("<post> at line 17"), "{err}");
    }

    #[test]
    fn an_auto_link_shortened_by_disqus_keeps_its_target() {
        let linked = EXPORT.replace(
            "<p>Second</p>",
            "<p><a href=\"https://example.com/2024/a-long-article-name/\" rel=\"nofollow noopener\" title=\"https://example.com/2024/a-long-article-name/\">https://example.com/2024/a-lon...</a></p>",
        );
        let comments = parse(&linked, &|_| {}).unwrap();
        assert_eq!(
            comments[0].body,
            "Hello & welcome\n\nhttps://example.com/2024/a-long-article-name/"
        );
    }

    #[test]
    fn threads_after_their_posts_are_found() {
        let start = EXPORT.find("  <thread dsq:id=\"10\">").unwrap();
        let end = EXPORT.find("</thread>").unwrap() + "</thread>".len();
        let thread = &EXPORT[start..end];
        let moved = EXPORT
            .replacen(thread, "", 1)
            .replace("</disqus>", &format!("{thread}\n</disqus>"));
        let comments = parse(&moved, &|_| {}).unwrap();
        assert_eq!(comments[0].post, Ok("/2024/01/one/".into()));
    }

    #[test]
    fn another_format_is_refused() {
        let err = parse("<rss><channel/></rss>", &|_| {}).unwrap_err();
        assert!(err.message.contains("not a Disqus export"), "{err}");
    }
}
