//! Turning an untrusted request body into named text fields.
//!
//! Pure functions over bytes, no I/O and no AWS types, so the fuzz targets and
//! property tests exercise exactly the code that runs in production.

mod fields;
mod multipart;
mod origin;

pub use fields::Fields;
pub use origin::{append_query, origin_of_url};

use crate::domain::FieldError;

/// Largest decoded body accepted: 128 KiB; a larger one is a 413.
pub(crate) const MAX_BODY_BYTES: usize = 128 * 1024;

/// The field name used when the body as a whole cannot be read.
pub(crate) const BODY_FIELD: &str = "(request body)";

/// The three body encodings the submission routes accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: one object of fields.
    Json,
    /// `application/x-www-form-urlencoded`: what a plain HTML form posts.
    UrlEncoded,
    /// `multipart/form-data` with text fields only: what `fetch(new FormData(form))` posts.
    Multipart {
        /// The part delimiter from the `boundary` parameter.
        boundary: String,
    },
}

impl MediaType {
    /// True for the encodings a plain HTML form produces.
    pub(crate) fn is_form(&self) -> bool {
        !matches!(self, MediaType::Json)
    }
}

/// Why a `Content-Type` is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentTypeError {
    /// Not one of the three accepted media types (or not UTF-8): 415.
    Unsupported,
    /// Multipart without a usable boundary: 400.
    Invalid(FieldError),
}

/// Splits a header value into its lowercase media type and its parameters.
fn split_params(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((k.trim().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    (essence, params)
}

/// Reads the request's `Content-Type`.
pub fn media_type(content_type: Option<&str>) -> Result<MediaType, ContentTypeError> {
    let (essence, params) = split_params(content_type.ok_or(ContentTypeError::Unsupported)?);
    let charset_ok = params
        .iter()
        .filter(|(k, _)| k == "charset")
        .all(|(_, v)| v.eq_ignore_ascii_case("utf-8") || v.eq_ignore_ascii_case("utf8"));
    if !charset_ok {
        return Err(ContentTypeError::Unsupported);
    }
    match essence.as_str() {
        "application/json" => Ok(MediaType::Json),
        "application/x-www-form-urlencoded" => Ok(MediaType::UrlEncoded),
        "multipart/form-data" => {
            let boundary = params
                .into_iter()
                .find(|(k, _)| k == "boundary")
                .map(|(_, v)| v);
            match boundary {
                // RFC 2046: 1–70 characters.
                Some(b) if !b.is_empty() && b.len() <= 70 && b.is_ascii() => {
                    Ok(MediaType::Multipart { boundary: b })
                }
                _ => Err(ContentTypeError::Invalid(FieldError::invalid(
                    BODY_FIELD,
                    "is multipart/form-data without a valid boundary",
                ))),
            }
        }
        _ => Err(ContentTypeError::Unsupported),
    }
}

/// True when the client asked for JSON (`Accept` names `application/json`).
pub fn accepts_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',')
            .any(|m| split_params(m).0 == "application/json")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_case_insensitive_and_accept_utf8_charset() {
        assert_eq!(
            media_type(Some("Application/JSON; charset=UTF-8")),
            Ok(MediaType::Json)
        );
        assert_eq!(
            media_type(Some("application/x-www-form-urlencoded")),
            Ok(MediaType::UrlEncoded)
        );
        assert_eq!(
            media_type(Some("multipart/form-data; boundary=\"----x\"")),
            Ok(MediaType::Multipart {
                boundary: "----x".into()
            })
        );
    }

    #[test]
    fn other_media_types_and_charsets_are_unsupported() {
        for ct in [
            None,
            Some("text/plain"),
            Some("application/json; charset=latin1"),
            Some(""),
        ] {
            assert_eq!(media_type(ct), Err(ContentTypeError::Unsupported), "{ct:?}");
        }
    }

    #[test]
    fn multipart_without_boundary_is_invalid() {
        assert!(matches!(
            media_type(Some("multipart/form-data")),
            Err(ContentTypeError::Invalid(_))
        ));
    }

    #[test]
    fn accept_json_is_detected_among_others() {
        assert!(accepts_json(Some("text/html, application/json;q=0.9")));
        assert!(!accepts_json(Some(
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )));
        assert!(!accepts_json(None));
    }
}
