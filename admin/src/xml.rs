//! Streaming reader for the XML export formats, over quick-xml's reader.
//!
//! An export is one root holding many records (Disqus's `<post>`s,
//! WordPress's `<item>`s). The document is read once, front to back: each
//! record becomes a small element tree handed to the format's reader and
//! dropped, so time and memory grow with the file's size, nothing else.
//! Line numbers for messages are counted as the reader moves forward, never
//! from the start again.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::import::FormatError;

/// Deepest nesting accepted. The exports nest five levels at most; a file
/// nested deeper is not one of them, and refusing it early keeps every
/// element tree shallow (dropping one is recursive).
pub(crate) const MAX_DEPTH: usize = 64;

/// The progress callback is called at least this often (in bytes read).
const PROGRESS_EVERY: u64 = 64 * 1024;

/// One element: its qualified name (`wp:comment`), attributes, text (text and
/// CDATA joined, entities resolved) and children.
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
    /// The line of its start tag, for messages.
    pub(crate) line: usize,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child named `name`, or "".
    pub(crate) fn child_text(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.trim())
    }

    /// Every child named `name`.
    pub(crate) fn children_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// An attribute's value.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where a format keeps its records: the root element's name, the elements
/// between the root and the records, and the records' names. Elements
/// elsewhere are read (the whole file must be well-formed) but not kept.
#[derive(Debug)]
pub(crate) struct Shape {
    /// `disqus`, `rss`.
    pub(crate) root: &'static str,
    /// `[]` for Disqus, `["channel"]` for WordPress.
    pub(crate) within: &'static [&'static str],
    /// The names of the record elements.
    pub(crate) records: &'static [&'static str],
    /// For messages: "a Disqus export".
    pub(crate) what: &'static str,
}

/// Line numbers of byte positions, for positions that only move forward:
/// each byte is counted once however many positions are asked for.
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            line: 1,
        }
    }

    /// The line (from 1) of byte `pos`.
    pub(crate) fn at(&mut self, pos: u64) -> usize {
        let pos = usize::try_from(pos)
            .unwrap_or(usize::MAX)
            .min(self.input.len());
        if pos < self.pos {
            // Behind the last position asked (an error's position): counted
            // from the start, once.
            return newlines(&self.input[..pos]) + 1;
        }
        self.line += newlines(&self.input[self.pos..pos]);
        self.pos = pos;
        self.line
    }
}

/// What text found outside the root element is.
fn outside(root_done: bool) -> &'static str {
    if root_done {
        "content after the root element"
    } else {
        "text outside the root element"
    }
}

fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Reads a whole document, handing each record to `visit` as it ends, and
/// `progress` the bytes read so far (from the first byte). A malformed
/// document, one of another shape, one nested deeper than [`MAX_DEPTH`] or
/// with anything but comments after its root is refused with the line at
/// fault; records visited before the fault are the caller's to discard.
pub(crate) fn read(
    input: &str,
    shape: &Shape,
    progress: &dyn Fn(u64),
    visit: &mut dyn FnMut(Element) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut reader = Reader::from_str(input);
    reader.config_mut().expand_empty_elements = true;
    let mut lines = Lines::new(input.as_bytes());
    // Names of the open elements outside a record.
    let mut path: Vec<String> = Vec::new();
    // The open elements of the record being read, the record first.
    let mut record: Vec<Element> = Vec::new();
    let mut root_done = false;
    let mut within_found = shape.within.is_empty();
    let mut reported = 0;
    progress(0);
    loop {
        let start = reader.buffer_position();
        if start >= reported + PROGRESS_EVERY {
            progress(start);
            reported = start;
        }
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let pos = reader.error_position();
                return Err(FormatError::new(format!("line {}", lines.at(pos)), e));
            }
        };
        let at = |lines: &mut Lines<'_>, why: &dyn std::fmt::Display| {
            FormatError::new(format!("line {}", lines.at(start)), why)
        };
        match event {
            Event::Start(tag) => {
                if root_done {
                    return Err(at(&mut lines, &"content after the root element"));
                }
                let depth = path.len() + record.len();
                if depth >= MAX_DEPTH {
                    return Err(at(
                        &mut lines,
                        &format_args!(
                            "elements nested deeper than {MAX_DEPTH} levels: not {}",
                            shape.what
                        ),
                    ));
                }
                let qname = tag.name();
                let name: &str = qname.as_ref();
                if depth == 0 && name != shape.root {
                    return Err(at(
                        &mut lines,
                        &format_args!(
                            "the root element is <{name}>, not <{}>: not {}",
                            shape.root, shape.what
                        ),
                    ));
                }
                let in_record = !record.is_empty()
                    || (depth == shape.within.len() + 1
                        && path[1..] == *shape.within
                        && shape.records.contains(&name));
                if in_record {
                    let mut element = Element {
                        name: name.to_owned(),
                        line: lines.at(start),
                        ..Element::default()
                    };
                    for attr in tag.attributes() {
                        let attr = attr.map_err(|e| at(&mut lines, &e))?;
                        let value = attr
                            .normalized_value(XmlVersion::Implicit1_0)
                            .map_err(|e| at(&mut lines, &e))?;
                        element
                            .attrs
                            .push((attr.key.as_ref().to_owned(), value.into_owned()));
                    }
                    record.push(element);
                } else {
                    for attr in tag.attributes() {
                        attr.map_err(|e| at(&mut lines, &e))?;
                    }
                    path.push(name.to_owned());
                    if path.len() == shape.within.len() + 1 && path[1..] == *shape.within {
                        within_found = true;
                    }
                }
            }
            Event::End(_) => match record.pop() {
                Some(done) => match record.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => visit(done)?,
                },
                None => {
                    path.pop()
                        .ok_or_else(|| at(&mut lines, &"unexpected end tag"))?;
                    root_done = path.is_empty();
                }
            },
            Event::Text(text) => {
                if let Some(current) = record.last_mut() {
                    current.text.push_str(&text.xml10_content());
                } else if path.is_empty() && !text.trim().is_empty() {
                    // At the text itself, not at the line end before it.
                    let blank = text.len() - text.trim_start().len();
                    let line = lines.at(start + blank as u64);
                    return Err(FormatError::new(format!("line {line}"), outside(root_done)));
                }
            }
            Event::CData(data) => {
                if let Some(current) = record.last_mut() {
                    current.text.push_str(&data.xml10_content());
                } else if path.is_empty() {
                    return Err(at(&mut lines, &outside(root_done)));
                }
            }
            Event::GeneralRef(reference) => {
                // Checked wherever it is: an unknown entity is malformed XML.
                let mut buf = [0; 4];
                let resolved: &str = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.encode_utf8(&mut buf),
                    Ok(None) => {
                        let name: &str = &reference;
                        quick_xml::escape::resolve_xml_entity(name).ok_or_else(|| {
                            at(&mut lines, &format_args!("unknown entity &{name};"))
                        })?
                    }
                    Err(e) => return Err(at(&mut lines, &e)),
                };
                if let Some(current) = record.last_mut() {
                    current.text.push_str(resolved);
                } else if path.is_empty() {
                    return Err(at(&mut lines, &outside(root_done)));
                }
            }
            Event::DocType(_) if root_done || !path.is_empty() => {
                let why = if root_done {
                    outside(root_done)
                } else {
                    "a document type declaration inside the root element"
                };
                return Err(at(&mut lines, &why));
            }
            Event::Eof => break,
            Event::Empty(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
    }
    progress(input.len() as u64);
    let open = record
        .first()
        .map(|e| (e.name.clone(), e.line))
        .or_else(|| path.last().map(|name| (name.clone(), 0)));
    if let Some((name, line)) = open {
        let at = if line > 0 {
            format!("line {line}")
        } else {
            format!("line {}", lines.at(input.len() as u64))
        };
        return Err(FormatError::new(
            at,
            format!("<{name}> is never closed (the file ends first)"),
        ));
    }
    if !root_done {
        return Err(FormatError::new("line 1", "no root element"));
    }
    if !within_found {
        let path = shape.within.join("><");
        return Err(FormatError::new(
            "line 1",
            format!("no <{}><{path}>: not {}", shape.root, shape.what),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: Shape = Shape {
        root: "a",
        within: &[],
        records: &["b", "c"],
        what: "a test document",
    };

    fn records(input: &str) -> Result<Vec<Element>, FormatError> {
        let mut found = Vec::new();
        read(input, &SHAPE, &|_| {}, &mut |e| {
            found.push(e);
            Ok(())
        })?;
        Ok(found)
    }

    #[test]
    fn text_cdata_and_entities_are_joined() {
        let found =
            records("<a><b x=\"1&amp;2\">one &amp; <![CDATA[<two>]]> &#x41;</b><c/></a>").unwrap();
        assert_eq!(found[0].attr("x"), Some("1&2"));
        assert_eq!(found[0].text, "one & <two> A");
        assert_eq!(found[1].name, "c");
    }

    #[test]
    fn only_records_at_their_place_are_kept() {
        let shape = Shape {
            root: "rss",
            within: &["channel"],
            records: &["item"],
            what: "a feed",
        };
        let doc = "<rss><item>no</item><channel><title>t</title>\n<item><x>yes</x></item></channel></rss>";
        let mut found = Vec::new();
        read(doc, &shape, &|_| {}, &mut |e| {
            found.push(e);
            Ok(())
        })
        .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].child_text("x"), found[0].line), ("yes", 2));
        let err = read("<rss><item/></rss>", &shape, &|_| {}, &mut |_| Ok(())).unwrap_err();
        assert!(err.message.contains("no <rss><channel>"), "{err}");
    }

    #[test]
    fn a_mismatched_tag_is_refused_with_its_line() {
        let err = records("<a>\n<b>\n</c>\n</a>").unwrap_err();
        assert_eq!(err.at, "line 3", "{err}");
    }

    #[test]
    fn a_truncated_document_names_the_open_element() {
        let err = records("<a>\n  <b>text").unwrap_err();
        assert!(err.to_string().contains("<b>"), "{err}");
        assert_eq!(err.at, "line 2", "{err}");
    }

    #[test]
    fn another_root_is_refused() {
        let err = records("<rss><b/></rss>").unwrap_err();
        assert!(err.message.contains("not a test document"), "{err}");
    }

    #[test]
    fn content_after_the_root_element_is_refused() {
        for tail in [
            "<b/>",
            "<a/>",
            "text",
            "&amp;",
            "<![CDATA[x]]>",
            "</a>",
            "<!DOCTYPE a>",
        ] {
            let err = records(&format!("<a><b/></a>\n{tail}")).unwrap_err();
            assert_eq!(err.at, "line 2", "{tail}: {err}");
            if !tail.starts_with('<') || tail.starts_with("<!") {
                assert_eq!(err.message, "content after the root element", "{tail}");
            }
        }
        assert!(records("<a><b/></a>\n<!-- a comment -->\n<?pi x?>\n").is_ok());
    }

    #[test]
    fn nesting_past_the_limit_is_refused_with_a_message() {
        let deep = |n: usize| format!("<a>{}{}</a>", "<b>".repeat(n), "</b>".repeat(n));
        assert!(records(&deep(MAX_DEPTH - 1)).is_ok());
        let err = records(&deep(MAX_DEPTH)).unwrap_err();
        assert!(err.message.contains("nested deeper than"), "{err}");
        // A million levels: a message, not a stack overflow.
        let err = records(&deep(1_000_000)).unwrap_err();
        assert!(err.message.contains("nested deeper than"), "{err}");
    }

    #[test]
    fn progress_is_reported_from_the_first_byte_to_the_last() {
        let doc = format!("<a>{}</a>", "<b>some text</b>\n".repeat(20_000));
        let seen = std::cell::RefCell::new(Vec::new());
        read(
            &doc,
            &SHAPE,
            &|pos| seen.borrow_mut().push(pos),
            &mut |_| Ok(()),
        )
        .unwrap();
        let seen = seen.into_inner();
        assert_eq!(seen.first(), Some(&0));
        assert_eq!(seen.last(), Some(&(doc.len() as u64)));
        assert!(seen.len() > 4, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    }

    #[test]
    fn lines_are_counted_forward() {
        let text = b"a\nb\nc\nd";
        let mut lines = Lines::new(text);
        assert_eq!(lines.at(0), 1);
        assert_eq!(lines.at(2), 2);
        assert_eq!(lines.at(6), 4);
        assert_eq!(lines.at(3), 2, "behind: counted again");
        assert_eq!(lines.at(7), 4);
    }
}
