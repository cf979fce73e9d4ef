//! The submitted fields of one request, whatever the encoding.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use super::{BODY_FIELD, MediaType, multipart};
use crate::domain::{FieldError, FormValues};

#[derive(Debug, Clone)]
enum Entry {
    Text(String),
    Refused(FieldError),
}

/// Named text fields. A field given twice, or given as a non-string JSON
/// value, is kept as a refusal so that reading it names the problem; fields
/// nobody reads are ignored, as the API promises for unknown fields.
#[derive(Debug, Clone, Default)]
pub struct Fields(BTreeMap<String, Entry>);

impl Fields {
    /// Parses a decoded body (already checked against the size limit).
    pub fn parse(media: &MediaType, body: &[u8]) -> Result<Self, FieldError> {
        match media {
            MediaType::Json => parse_json(body),
            MediaType::UrlEncoded => parse_urlencoded(body),
            MediaType::Multipart { boundary } => {
                let mut fields = Fields::default();
                for (name, value) in multipart::parse(boundary, body)? {
                    fields.insert(name, value);
                }
                Ok(fields)
            }
        }
    }

    /// Fields from already-decoded pairs, for tests.
    #[cfg(test)]
    pub(crate) fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut fields = Fields::default();
        for (k, v) in pairs {
            fields.insert(k.into(), v.into());
        }
        fields
    }

    fn insert(&mut self, name: String, value: String) {
        self.push(name, Entry::Text(value));
    }

    fn push(&mut self, name: String, entry: Entry) {
        use std::collections::btree_map::Entry as Slot;
        match self.0.entry(name) {
            Slot::Vacant(slot) => {
                slot.insert(entry);
            }
            Slot::Occupied(mut slot) => {
                let refusal = FieldError::invalid(slot.key(), "was given more than once");
                slot.insert(Entry::Refused(refusal));
            }
        }
    }

    /// The field's text, `None` when absent.
    pub(crate) fn optional(&self, name: &str) -> Result<Option<&str>, FieldError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Entry::Text(t)) => Ok(Some(t)),
            Some(Entry::Refused(e)) => Err(e.clone()),
        }
    }

    /// Like [`Fields::optional`], with a blank value (an empty form input) taken as absent.
    pub(crate) fn optional_nonblank(&self, name: &str) -> Result<Option<&str>, FieldError> {
        Ok(self.optional(name)?.filter(|t| !t.trim().is_empty()))
    }

    /// The field's text; absent is a `required` error.
    pub fn required(&self, name: &str) -> Result<&str, FieldError> {
        self.optional(name)?
            .ok_or_else(|| FieldError::required(name))
    }

    /// True when the field is present with anything but blank text (a
    /// honeypot a bot filled, even with a non-string or twice).
    pub(crate) fn is_filled(&self, name: &str) -> bool {
        match self.0.get(name) {
            None => false,
            Some(Entry::Text(t)) => !t.trim().is_empty(),
            Some(Entry::Refused(_)) => true,
        }
    }

    /// The field's text when it is present and well-formed, else `None`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.optional(name).ok().flatten()
    }
}

struct JsonFields(Fields);

impl<'de> Deserialize<'de> for JsonFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = JsonFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonFields, A::Error> {
                let mut fields = Fields::default();
                while let Some((name, value)) = map.next_entry::<String, serde_json::Value>()? {
                    match value {
                        // `null` is how JavaScript clients often say "not given".
                        serde_json::Value::Null => {}
                        serde_json::Value::String(s) => fields.insert(name, s),
                        // `{"notify": true}`: a checkbox's value as JSON clients send it.
                        serde_json::Value::Bool(b) => fields.insert(name, b.to_string()),
                        _ => {
                            let refusal = FieldError::invalid(&name, "must be a string");
                            fields.push(name, Entry::Refused(refusal));
                        }
                    }
                }
                Ok(JsonFields(fields))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

fn parse_json(body: &[u8]) -> Result<Fields, FieldError> {
    // serde_json bounds nesting (128 levels), so deep input fails cleanly.
    serde_json::from_slice::<JsonFields>(body)
        .map(|f| f.0)
        .map_err(|e| {
            FieldError::invalid(
                BODY_FIELD,
                format_args!("is not a JSON object of fields ({e})"),
            )
        })
}

/// Decodes one `application/x-www-form-urlencoded` component. Invalid UTF-8 is
/// refused rather than replaced, so what is stored is what was sent.
fn decode_component(raw: &[u8]) -> Result<String, ()> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| ())
}

fn parse_urlencoded(body: &[u8]) -> Result<Fields, FieldError> {
    let mut fields = Fields::default();
    for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = decode_component(k)
            .map_err(|()| FieldError::invalid(BODY_FIELD, "has a field name that is not UTF-8"))?;
        match decode_component(v) {
            Ok(value) => fields.insert(name, value),
            Err(()) => {
                let refusal = FieldError::invalid(&name, "is not valid UTF-8");
                fields.push(name, Entry::Refused(refusal));
            }
        }
    }
    Ok(fields)
}

impl FormValues for Fields {
    fn required(&self, name: &str) -> Result<&str, FieldError> {
        Fields::required(self, name)
    }

    fn optional_nonblank(&self, name: &str) -> Result<Option<&str>, FieldError> {
        Fields::optional_nonblank(self, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldCode;

    #[test]
    fn json_strings_become_fields_and_null_is_absent() {
        let f = Fields::parse(
            &MediaType::Json,
            br#"{"name":"Ann","url":null,"extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(f.required("name"), Ok("Ann"));
        assert_eq!(f.optional("url"), Ok(None));
    }

    #[test]
    fn json_non_string_value_is_invalid_for_that_field() {
        let f = Fields::parse(&MediaType::Json, br#"{"name":5}"#).unwrap();
        let e = f.required("name").unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("name", FieldCode::Invalid));
    }

    #[test]
    fn json_duplicate_keys_are_refused_for_that_field() {
        let f = Fields::parse(&MediaType::Json, br#"{"name":"a","name":"b"}"#).unwrap();
        assert_eq!(f.required("name").unwrap_err().code, FieldCode::Invalid);
    }

    #[test]
    fn json_that_is_not_an_object_or_too_deep_is_refused() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        for body in [
            &b"[1,2]"[..],
            b"\"x\"",
            b"{",
            b"{\"a\":\"b\"} trailing",
            deep.as_bytes(),
            b"\xff\xfe",
        ] {
            assert_eq!(
                Fields::parse(&MediaType::Json, body).unwrap_err().field,
                BODY_FIELD
            );
        }
    }

    #[test]
    fn urlencoded_decodes_plus_and_percent() {
        let f = Fields::parse(
            &MediaType::UrlEncoded,
            b"name=Zo%C3%AB+Smith&message=a%26b%3Dc&empty=",
        )
        .unwrap();
        assert_eq!(f.required("name"), Ok("Zoë Smith"));
        assert_eq!(f.required("message"), Ok("a&b=c"));
        assert_eq!(f.optional_nonblank("empty"), Ok(None));
    }

    #[test]
    fn urlencoded_invalid_utf8_is_refused_for_that_field() {
        let f = Fields::parse(&MediaType::UrlEncoded, b"name=%FF").unwrap();
        assert_eq!(f.required("name").unwrap_err().code, FieldCode::Invalid);
    }

    #[test]
    fn honeypot_counts_as_filled_when_refused() {
        let f = Fields::parse(&MediaType::UrlEncoded, b"_gotcha=&_gotcha=").unwrap();
        assert!(f.is_filled("_gotcha"));
        assert!(
            !Fields::parse(&MediaType::UrlEncoded, b"_gotcha=+")
                .unwrap()
                .is_filled("_gotcha")
        );
    }
}
