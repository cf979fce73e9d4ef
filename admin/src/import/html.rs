//! HTML bodies (Disqus, WordPress, Remark42) to the plain text we store: tags
//! stripped, entities decoded, paragraphs kept as blank lines, scripts and
//! styles dropped, and a link's target kept beside its text when the text does
//! not show it. Markdown that may hold HTML (Commento, Artalk) gets the same
//! treatment outside its code, and keeps its own syntax as the reader typed it.

use std::collections::HashMap;

/// Elements that end a paragraph: a blank line in the text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "blockquote",
    "pre",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "section",
    "article",
    "figure",
];
/// Elements that end a line.
const LINES: &[&str] = &["br", "li", "tr", "dt", "dd"];
/// Elements whose content is not text at all.
const HIDDEN: &[&str] = &["script", "style", "template", "iframe", "object"];

/// Converts an HTML fragment to plain text.
pub(crate) fn to_text(html: &str) -> String {
    convert(html, false)
}

/// Converts Markdown in which readers may write HTML (as Commento's and
/// Artalk's renderers allow) to plain text: the HTML as [`to_text`] does,
/// while code spans and fenced code (between backticks), autolinks
/// (`<https://…>`) and backslash escapes stay exactly as typed, and so does
/// the rest of the Markdown (`*emphasis*`, `[text](https://target)`).
pub(crate) fn markdown_to_text(markdown: &str) -> String {
    convert(markdown, true)
}

fn convert(input: &str, markdown: bool) -> String {
    let special: &[char] = if markdown {
        &['<', '&', '`', '\\']
    } else {
        &['<', '&']
    };
    let spans = if markdown {
        code_spans(input)
    } else {
        HashMap::new()
    };
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    // The open link: its target and where its text starts in `out`.
    let mut link: Option<(String, usize)> = None;
    while let Some(i) = rest.find(special) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('\\') {
            // An escaped character is the character, as typed.
            let used = rest[1..].chars().next().map_or(1, |c| 1 + c.len_utf8());
            out.push_str(&rest[..used]);
            rest = &rest[used..];
        } else if rest.starts_with('`') {
            let start = input.len() - rest.len();
            let run = rest.bytes().take_while(|&b| b == b'`').count();
            let used = spans
                .get(&start)
                .copied()
                .flatten()
                .map_or(run, |end| end - start);
            out.push_str(&rest[..used]);
            rest = &rest[used..];
        } else if let Some(url) = markdown.then(|| autolink(rest)).flatten() {
            out.push_str(url);
            rest = &rest[url.len() + 2..];
        } else if rest.starts_with('&') {
            let (text, used) = entity(rest);
            out.push_str(&text);
            rest = &rest[used..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
        } else if let Some(end) = tag_end(rest) {
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            if name.is_empty() {
                // Not a tag ("a < b"): keep it as text.
                out.push('<');
                out.push_str(tag);
                out.push('>');
            } else if name == "a" {
                if let Some((href, start)) = link.take() {
                    close_link(&mut out, start, &href);
                }
                if !closing {
                    link = attribute(tag, "href")
                        .and_then(|href| web_target(&href))
                        .map(|href| (href, out.len()));
                }
            } else if !closing && HIDDEN.contains(&name.as_str()) {
                let close = format!("</{name}");
                rest = find_ascii_ci(rest, &close).map_or("", |at| {
                    let after = &rest[at..];
                    after.find('>').map_or("", |gt| &after[gt + 1..])
                });
            } else if BLOCKS.contains(&name.as_str()) {
                out.push_str("\n\n");
            } else if LINES.contains(&name.as_str()) {
                out.push('\n');
            }
        } else {
            out.push('<');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    if let Some((href, start)) = link {
        close_link(&mut out, start, &href);
    }
    tidy(&out)
}

/// Where each backtick run of a text (by its start) closes: the end of the
/// next run of as many backticks, or `None` when none does (then the run is
/// text). Found in one pass from the end, so a text full of runs that never
/// close costs no more than any other.
fn code_spans(text: &str) -> HashMap<usize, Option<usize>> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'`' {
            let len = bytes[at..].iter().take_while(|&&b| b == b'`').count();
            runs.push((at, len));
            at += len;
        } else {
            at += 1;
        }
    }
    let mut next_of_len: HashMap<usize, usize> = HashMap::new();
    let mut closes = HashMap::with_capacity(runs.len());
    for &(start, len) in runs.iter().rev() {
        closes.insert(start, next_of_len.get(&len).map(|next| next + len));
        next_of_len.insert(len, start);
    }
    closes
}

/// The URL or address of a Markdown autolink at the start of `s`
/// (`<https://example.org/x>`, `<ada@example.org>`), which is text to keep.
fn autolink(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('<')?;
    let inner = &inner[..inner.find('>')?];
    let is_url = ["http://", "https://"].iter().any(|scheme| {
        inner.len() > scheme.len()
            && inner
                .get(..scheme.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
    });
    let is_address = inner.contains('@') && !inner.contains(['=', '"', '\'', '/']);
    (!inner.contains(char::is_whitespace) && !inner.contains('<') && (is_url || is_address))
        .then_some(inner)
}

/// Rewrites the text of a link (`out[start..]`) so that its target survives
/// the markup: kept as it is when it is the target, the target itself when
/// the text is the target shortened ("https://example.com/very…", as
/// Disqus and WordPress abbreviate long URLs), else "text (target)".
fn close_link(out: &mut String, start: usize, href: &str) {
    let text = out[start..].trim().to_owned();
    let stem = ["…", "..."]
        .iter()
        .find_map(|dots| text.strip_suffix(dots))
        .map(str::trim_end);
    let replacement = if text.is_empty() || stem.is_some_and(|s| shortens(s, href)) {
        href.to_owned()
    } else if bare(&text).eq_ignore_ascii_case(bare(href)) {
        return;
    } else {
        format!("{text} ({href})")
    };
    // Keep the whitespace around the text: it separates words.
    let lead = out[start..].len() - out[start..].trim_start().len();
    let trail = out[start..].len() - out[start..].trim_end().len();
    let tail = out[out.len() - trail..].to_owned();
    out.truncate(start + lead);
    out.push_str(&replacement);
    out.push_str(&tail);
}

/// Whether `stem` is the start of `href` as a person would write it.
fn shortens(stem: &str, href: &str) -> bool {
    let stem = bare(stem);
    !stem.is_empty()
        && bare(href)
            .to_ascii_lowercase()
            .starts_with(&stem.to_ascii_lowercase())
}

/// A URL as people write it: no scheme, no `www.`, no trailing slash.
fn bare(url: &str) -> &str {
    let url = url.trim();
    let url = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            url.get(..scheme.len())
                .filter(|s| s.eq_ignore_ascii_case(scheme))
                .map(|_| &url[scheme.len()..])
        })
        .unwrap_or(url);
    let url = url.strip_prefix("www.").unwrap_or(url);
    url.strip_suffix('/').unwrap_or(url)
}

/// A link target worth keeping: an absolute http(s) URL (never `javascript:`
/// or a path relative to a site the text no longer lives on).
fn web_target(href: &str) -> Option<String> {
    let parsed = url::Url::parse(href.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https")
        .then(|| parsed.as_str().to_owned())
        .filter(|url| url.len() <= 2048)
}

/// The decoded value of attribute `name` in a tag's inside (`a href="x" ...`).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag.trim_start_matches('/');
    // Past the tag's name.
    rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, used) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let end = after[1..].find(q).map_or(after.len(), |i| i + 1);
                    (&after[1..end], (end + 1).min(after.len()))
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], end)
                }
            };
            rest = &after[used..];
            value
        } else {
            ""
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(decode_entities(value));
        }
    }
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let (decoded, used) = entity(&rest[i..]);
        out.push_str(&decoded);
        rest = &rest[i + used..];
    }
    out.push_str(rest);
    out
}

/// Where the tag starting at `s[0] == '<'` ends, quotes respected.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '>') => return Some(i),
            (None, '<') => return None,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    None
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Decodes the entity at the start of `s` (`&...;`): its text and the bytes used.
/// An unknown or unterminated one stays as written.
fn entity(s: &str) -> (String, usize) {
    let Some(end) = s
        .char_indices()
        .take(40)
        .find(|&(_, c)| c == ';')
        .map(|(i, _)| i)
    else {
        return ("&".to_owned(), 1);
    };
    let name = &s[1..end];
    let decoded = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse().ok(),
        };
        code.and_then(char::from_u32)
            .filter(|&c| c != '\0')
            .map(String::from)
    } else {
        quick_xml::escape::resolve_html5_entity(name).map(str::to_owned)
    };
    match decoded {
        Some(text) => (text, end + 1),
        None => ("&".to_owned(), 1),
    }
}

/// Line ends normalised, no-break spaces as spaces, trailing blanks removed,
/// at most one blank line in a row, no leading or trailing blank lines.
fn tidy(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace(['\r', '\u{a0}'], " ");
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.split('\n') {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn paragraphs_become_blank_lines_and_breaks_newlines() {
        assert_eq!(
            to_text("<p>First <b>bold</b> line<br/>second</p><p>Next</p>"),
            "First bold line\nsecond\n\nNext"
        );
    }

    #[test]
    fn entities_are_decoded_once() {
        assert_eq!(
            to_text("Fish &amp; chips &lt;3 &#8212; &#x1F600; &eacute;&nbsp;x &amp;lt;"),
            "Fish & chips <3 \u{2014} \u{1F600} \u{e9} x &lt;"
        );
    }

    #[test]
    fn scripts_styles_and_comments_leave_nothing() {
        assert_eq!(
            to_text("a<script>alert('<p>x</p>')</SCRIPT>b<style>p{}</style>c<!-- hidden -->d"),
            "abcd"
        );
    }

    #[test]
    fn attributes_with_angle_brackets_do_not_leak() {
        assert_eq!(
            to_text(r#"<a href="x" title="a > b">link</a> <img src=x onerror="alert(1)">"#),
            "link"
        );
    }

    #[test]
    fn a_shortened_link_text_becomes_its_target() {
        assert_eq!(
            to_text(
                r#"See <a href="https://example.com/very/long/path?q=1&amp;r=2" rel="nofollow noopener" title="https://example.com/very/long/path?q=1&amp;r=2">https://example.com/very…</a> now"#
            ),
            "See https://example.com/very/long/path?q=1&r=2 now"
        );
        assert_eq!(
            to_text(r#"<a href="http://www.example.org/a/b/c/d">example.org/a/b...</a>"#),
            "http://www.example.org/a/b/c/d"
        );
    }

    #[test]
    fn a_link_whose_text_is_not_its_url_keeps_the_url_beside_it() {
        assert_eq!(
            to_text(r#"Read <a href='https://example.org/post'>my <b>post</b></a>, please"#),
            "Read my post (https://example.org/post), please"
        );
        assert_eq!(
            to_text(r#"<a href="https://example.org/">https://example.org</a>"#),
            "https://example.org",
            "the text is the URL: once"
        );
        assert_eq!(
            to_text(r#"<a href=https://example.org/x></a>"#),
            "https://example.org/x",
            "no text: the target"
        );
        assert_eq!(
            to_text(
                r#"<a href="https://example.org/a">one</a><a href="https://example.org/b">two"#
            ),
            "one (https://example.org/a)two (https://example.org/b)",
            "an unclosed link still keeps its target"
        );
    }

    #[test]
    fn only_web_targets_are_kept() {
        assert_eq!(
            to_text(
                r#"<a href="javascript:alert(1)">click</a> <a href="/relative">here</a> <a name="x">anchor</a>"#
            ),
            "click here anchor"
        );
    }

    #[test]
    fn stray_angle_brackets_and_ampersands_stay_text() {
        assert_eq!(to_text("1 < 2 && 3 > 2 & <> ok"), "1 < 2 && 3 > 2 & <> ok");
    }

    #[test]
    fn markdown_keeps_its_syntax_and_code_and_loses_its_html() {
        use super::markdown_to_text;
        assert_eq!(
            markdown_to_text(
                "**Bold** and [a link](https://example.org/a?b=1&c=2) &amp; <b>tags</b><br>next"
            ),
            "**Bold** and [a link](https://example.org/a?b=1&c=2) & tags\nnext"
        );
        assert_eq!(
            markdown_to_text("Use `<div>` and `` a ` b `` here\n\n```\n<p>&amp;</p>\n```"),
            "Use `<div>` and `` a ` b `` here\n\n```\n<p>&amp;</p>\n```",
            "code stays as typed"
        );
        assert_eq!(
            markdown_to_text("See <https://example.org/x> or mail <ada@example.org>"),
            "See https://example.org/x or mail ada@example.org"
        );
        assert_eq!(
            markdown_to_text(r#"<a href="https://example.org/p">my post</a> \<b\> 1 < 2 ` open"#),
            r#"my post (https://example.org/p) \<b\> 1 < 2 ` open"#
        );
        assert_eq!(
            to_text("<https://example.org/x>"),
            "",
            "HTML has no autolinks"
        );
    }

    #[test]
    fn plain_text_paragraphs_survive() {
        assert_eq!(
            to_text("line one\r\nline two\n\n\n\nnext paragraph  \n"),
            "line one\nline two\n\nnext paragraph"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_converts_without_panicking(text in "\\PC{0,200}") {
            let _ = to_text(&text);
            let _ = super::markdown_to_text(&text);
        }

        #[test]
        fn code_spans_stay_as_typed(code in "[a-z<>&;/ =\"]{1,40}") {
            let typed = format!("`{}`", code.trim());
            proptest::prop_assume!(!code.trim().is_empty());
            let text = super::markdown_to_text(&format!("a <b>{typed}</b> &amp; {typed}"));
            proptest::prop_assert_eq!(text, format!("a {typed} & {typed}"));
        }
    }
}
