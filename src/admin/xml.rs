//! A small element tree over quick-xml, enough for the export formats: they
//! are documents of a few megabytes read whole, and a tree keeps each
//! format's reader a plain walk over named children.

use quick_xml::XmlVersion;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::import::FormatError;

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

fn line_of(input: &str, pos: u64) -> usize {
    let end = usize::try_from(pos).unwrap_or(usize::MAX).min(input.len());
    input.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses a whole document into its root element; a malformed document is
/// refused with the line at fault.
pub(crate) fn parse(input: &str) -> Result<Element, FormatError> {
    let mut reader = Reader::from_str(input);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |pos: u64, why: &dyn std::fmt::Display| {
        FormatError::new(format!("line {}", line_of(input, pos)), why)
    };
    loop {
        let start = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| at(reader.error_position(), &e))?;
        match event {
            Event::Start(tag) => {
                let mut element = Element {
                    name: tag.name().as_ref().to_owned(),
                    line: line_of(input, start),
                    ..Element::default()
                };
                for attr in tag.attributes() {
                    let attr = attr.map_err(|e| at(start, &e))?;
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| at(start, &e))?;
                    element
                        .attrs
                        .push((attr.key.as_ref().to_owned(), value.into_owned()));
                }
                if root.is_some() {
                    return Err(at(start, &"content after the root element"));
                }
                stack.push(element);
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| at(start, &"unexpected end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content();
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text);
                } else if !text.trim().is_empty() {
                    return Err(at(start, &"text outside the root element"));
                }
            }
            Event::CData(data) => {
                let data = data.xml10_content();
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&data);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name: &str = &reference;
                        quick_xml::escape::resolve_xml_entity(name)
                            .ok_or_else(|| at(start, &format_args!("unknown entity &{name};")))?
                            .to_owned()
                    }
                    Err(e) => return Err(at(start, &e)),
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Empty(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(FormatError::new(
            format!("line {}", open.line),
            format!("<{}> is never closed (the file ends first)", open.name),
        ));
    }
    root.ok_or_else(|| FormatError::new("line 1", "no root element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cdata_and_entities_are_joined() {
        let root =
            parse("<a x=\"1&amp;2\"><b>one &amp; <![CDATA[<two>]]> &#x41;</b><c/></a>").unwrap();
        assert_eq!(root.attr("x"), Some("1&2"));
        assert_eq!(root.child_text("b"), "one & <two> A");
        assert!(root.child("c").is_some());
    }

    #[test]
    fn a_mismatched_tag_is_refused_with_its_line() {
        let err = parse("<a>\n<b>\n</c>\n</a>").unwrap_err();
        assert_eq!(err.at, "line 3", "{err}");
    }

    #[test]
    fn a_truncated_document_names_the_open_element() {
        let err = parse("<a>\n  <b>text").unwrap_err();
        assert!(err.to_string().contains("<b>"), "{err}");
    }
}
