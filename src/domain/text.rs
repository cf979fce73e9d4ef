//! The text rules of every field: Unicode scalar values counted after trimming;
//! single-line fields refuse control characters and bidi overrides;
//! multi-line fields allow only `\n` and `\t` among control characters.

use super::{FieldCode, FieldError};

/// Bidirectional overrides and isolates (U+202A–202E, U+2066–2069): they make
/// text display differently from what it is ("Trojan Source").
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `value` (already trimmed) for `field`: free of the characters `refused`
/// marks (the error says what the field must be), `min..=max` characters.
fn checked(
    field: &str,
    value: &str,
    (min, max): (usize, usize),
    refused: impl Fn(char) -> bool,
    must: &str,
) -> Result<String, FieldError> {
    if let Some(c) = value.chars().find(|&c| refused(c)) {
        return Err(FieldError::invalid(
            field,
            format_args!("{must} (found U+{:04X})", c as u32),
        ));
    }
    if value.is_empty() {
        return Err(FieldError::required(field));
    }
    let n = value.chars().count();
    if n < min {
        return Err(FieldError::new(
            field,
            FieldCode::TooShort,
            format!("{field} must be at least {min} characters"),
        ));
    }
    if n > max {
        return Err(FieldError::new(
            field,
            FieldCode::TooLong,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A trimmed single line of text: no control characters, no bidi overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SingleLine(String);

impl SingleLine {
    /// Parses `raw` for `field`, `min..=max` characters after trimming.
    pub fn parse(field: &str, raw: &str, min: usize, max: usize) -> Result<Self, FieldError> {
        let refused = |c: char| c.is_control() || is_bidi_control(c);
        let must = "must be a single line without control characters";
        checked(field, raw.trim(), (min, max), refused, must).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trimmed multi-line text. Line ends are normalised to `\n` first, since
/// browsers submit a textarea's newlines as CRLF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiLine(String);

impl MultiLine {
    /// Parses `raw` for `field`, `min..=max` characters after trimming.
    pub fn parse(field: &str, raw: &str, min: usize, max: usize) -> Result<Self, FieldError> {
        let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
        let refused = |c: char| c.is_control() && c != '\n' && c != '\t';
        let must = "must not contain control characters";
        checked(field, normalised.trim(), (min, max), refused, must).map(Self)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_is_trimmed_and_counted_in_scalar_values() {
        let v = SingleLine::parse("name", "  Zoë 🦀  ", 1, 5).unwrap();
        assert_eq!(v.as_str(), "Zoë 🦀");
        assert_eq!(
            SingleLine::parse("name", "Zoë 🦀!", 1, 5).unwrap_err().code,
            FieldCode::TooLong
        );
    }

    #[test]
    fn single_line_blank_is_required() {
        assert_eq!(
            SingleLine::parse("name", " \t ", 1, 5).unwrap_err().code,
            FieldCode::Required
        );
    }

    #[test]
    fn single_line_refuses_newlines_nul_and_bidi_overrides() {
        for bad in [
            "a\nb",
            "a\0b",
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{7f}b",
            "a\u{85}b",
        ] {
            let e = SingleLine::parse("name", bad, 1, 100).unwrap_err();
            assert_eq!(e.code, FieldCode::Invalid, "{bad:?}");
            assert_eq!(e.field, "name");
        }
    }

    #[test]
    fn multi_line_allows_newline_and_tab_and_normalises_crlf() {
        let v = MultiLine::parse("body", "line 1\r\n\tline 2\rline 3", 1, 100).unwrap();
        assert_eq!(v.as_str(), "line 1\n\tline 2\nline 3");
    }

    #[test]
    fn multi_line_refuses_other_control_characters() {
        for bad in ["a\u{0}b", "a\u{1b}[31mb", "a\u{8}b"] {
            assert_eq!(
                MultiLine::parse("body", bad, 1, 100).unwrap_err().code,
                FieldCode::Invalid
            );
        }
    }

    #[test]
    fn multi_line_too_short_after_trimming() {
        assert_eq!(
            MultiLine::parse("body", " x ", 2, 100).unwrap_err().code,
            FieldCode::TooShort
        );
    }
}
