//! `multipart/form-data` (RFC 7578) over a fully buffered body, text fields only.
//!
//! The body is at most 128 KiB and already in memory, so a small slice parser
//! is enough; a streaming library (multer) would add async machinery and an
//! encoding table to the binary for no gain here. Fuzzed in `fuzz/`.

use super::BODY_FIELD;
use crate::domain::FieldError;

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn malformed(why: &str) -> FieldError {
    FieldError::invalid(
        BODY_FIELD,
        format_args!("is not valid multipart/form-data ({why})"),
    )
}

/// The `name` of a part and whether it carries a file, from its headers.
fn disposition(headers: &str) -> Result<(String, bool), FieldError> {
    let mut name = None;
    let mut is_file = false;
    for line in headers.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key.eq_ignore_ascii_case("content-disposition") {
            let mut params = value.split(';');
            if !params
                .next()
                .is_some_and(|d| d.trim().eq_ignore_ascii_case("form-data"))
            {
                return Err(malformed("a part is not form-data"));
            }
            for param in params {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v.to_owned()),
                    "filename" | "filename*" => is_file = true,
                    _ => {}
                }
            }
        } else if key.eq_ignore_ascii_case("content-type") {
            let essence = value.split(';').next().unwrap_or("").trim();
            is_file |= !essence.eq_ignore_ascii_case("text/plain");
        }
    }
    let name = name.ok_or_else(|| malformed("a part has no name"))?;
    Ok((name, is_file))
}

/// Parses the parts into `(name, text)` pairs.
pub(super) fn parse(boundary: &str, body: &[u8]) -> Result<Vec<(String, String)>, FieldError> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    // The first delimiter may follow a preamble, or open the body.
    let mut rest = if body.starts_with(delimiter.as_bytes()) {
        &body[delimiter.len()..]
    } else {
        let at = find(body, next_delimiter.as_bytes()).ok_or_else(|| malformed("no boundary"))?;
        &body[at + next_delimiter.len()..]
    };
    let mut fields = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(fields);
        }
        // Transport padding (spaces, tabs) may precede the line break.
        let padding = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        rest = rest[padding..]
            .strip_prefix(b"\r\n")
            .ok_or_else(|| malformed("bad delimiter line"))?;
        let header_end = find(rest, b"\r\n\r\n");
        let (headers, content) = match header_end {
            Some(0) => ("", &rest[4..]),
            Some(at) => (
                std::str::from_utf8(&rest[..at]).map_err(|_| malformed("headers are not UTF-8"))?,
                &rest[at + 4..],
            ),
            // A part with no headers at all starts with an empty line.
            None if rest.starts_with(b"\r\n") => ("", &rest[2..]),
            None => return Err(malformed("unterminated part headers")),
        };
        let end = find(content, next_delimiter.as_bytes())
            .ok_or_else(|| malformed("no closing boundary"))?;
        let (name, is_file) = disposition(headers)?;
        if is_file {
            return Err(FieldError::invalid(
                &name,
                "must be a text field, not a file",
            ));
        }
        let text = std::str::from_utf8(&content[..end])
            .map_err(|_| FieldError::invalid(&name, "is not valid UTF-8"))?;
        fields.push((name, text.to_owned()));
        rest = &content[end + next_delimiter.len()..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[&str]) -> Vec<u8> {
        let mut b = String::from("preamble\r\n");
        for p in parts {
            b.push_str("--XyZ\r\n");
            b.push_str(p);
            b.push_str("\r\n");
        }
        b.push_str("--XyZ--\r\n");
        b.into_bytes()
    }

    #[test]
    fn parses_text_fields_like_formdata_sends() {
        let b = body(&[
            "Content-Disposition: form-data; name=\"name\"\r\n\r\nAnn",
            "Content-Disposition: form-data; name=\"message\"\r\n\r\nline 1\r\nline 2",
        ]);
        let got = parse("XyZ", &b).unwrap();
        assert_eq!(
            got,
            vec![
                ("name".into(), "Ann".into()),
                ("message".into(), "line 1\r\nline 2".into())
            ]
        );
    }

    #[test]
    fn a_file_part_is_refused_naming_its_field() {
        let b = body(&[
            "Content-Disposition: form-data; name=\"cv\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF",
        ]);
        let e = parse("XyZ", &b).unwrap_err();
        assert_eq!(e.field, "cv");
    }

    #[test]
    fn truncated_or_foreign_bodies_are_refused() {
        for b in [
            &b""[..],
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
            b"--Other\r\n\r\n--Other--",
            b"--XyZ\r\n\r\nx\r\n--XyZ--",
        ] {
            assert!(parse("XyZ", b).is_err(), "{:?}", String::from_utf8_lossy(b));
        }
    }

    #[test]
    fn an_empty_form_is_no_fields() {
        assert_eq!(parse("XyZ", b"--XyZ--\r\n").unwrap(), vec![]);
    }
}
