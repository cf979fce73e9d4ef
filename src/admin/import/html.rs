//! HTML bodies (Disqus, WordPress) to the plain text we store: tags stripped,
//! entities decoded, paragraphs kept as blank lines, scripts and styles dropped.

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
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('&') {
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
    tidy(&out)
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
    fn stray_angle_brackets_and_ampersands_stay_text() {
        assert_eq!(to_text("1 < 2 && 3 > 2 & <> ok"), "1 < 2 && 3 > 2 & <> ok");
    }

    #[test]
    fn plain_text_paragraphs_survive() {
        assert_eq!(
            to_text("line one\r\nline two\n\n\n\nnext paragraph  \n"),
            "line one\nline two\n\nnext paragraph"
        );
    }
}
