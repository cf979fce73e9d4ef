//! Reading the JSON exports (Commento, Artalk, Cusdis's tables, Remark42's
//! records): a syntax error or a cut-short file is refused with its line and
//! column, and a field of the wrong kind with the record and field it is in.

use serde_json::{Map, Value};

use super::FormatError;

/// The one JSON document a file holds.
pub(crate) fn document(text: &str) -> Result<Value, FormatError> {
    serde_json::from_str(text).map_err(|e| syntax(&e))
}

/// A syntax error at its line and column (serde_json counts both from 1).
pub(crate) fn syntax(e: &serde_json::Error) -> FormatError {
    let mut message = e.to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    if e.is_eof() {
        message.push_str(": the file is cut short");
    }
    FormatError::new(format!("line {}, column {}", e.line(), e.column()), message)
}

/// What a JSON value is, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The array `name` of a document's top-level object.
pub(crate) fn array<'a>(
    document: &'a Value,
    name: &str,
    what: &str,
) -> Result<&'a [Value], FormatError> {
    let Value::Object(top) = document else {
        return Err(FormatError::new(
            "the document",
            format_args!("is {}, not {what}", kind(document)),
        ));
    };
    match top.get(name) {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(FormatError::new(
            name,
            format_args!("is {}, not an array", kind(other)),
        )),
        None => Err(FormatError::new(
            "the document",
            format_args!("has no {name:?} array: not {what}"),
        )),
    }
}

/// One object of an export, and where it is (`comments[3]`).
pub(crate) struct Record<'a> {
    pub(crate) at: String,
    object: &'a Map<String, Value>,
}

impl<'a> Record<'a> {
    /// `value` as a record at `at`; anything but an object refuses the file.
    pub(crate) fn new(value: &'a Value, at: String) -> Result<Self, FormatError> {
        match value {
            Value::Object(object) => Ok(Self { at, object }),
            other => Err(FormatError::new(
                at,
                format_args!("is {}, not an object", kind(other)),
            )),
        }
    }

    /// Where field `name` is: `comments[3].url`, `line 7, field url`.
    fn field_at(&self, name: &str) -> String {
        if self.at.ends_with(']') {
            format!("{}.{name}", self.at)
        } else {
            format!("{}, field {name}", self.at)
        }
    }

    fn wrong(&self, name: &str, value: &Value, wanted: &str) -> FormatError {
        FormatError::new(
            self.field_at(name),
            format_args!("is {}, not {wanted}", kind(value)),
        )
    }

    /// A string field; missing or null is `None`.
    pub(crate) fn text(&self, name: &str) -> Result<Option<&'a str>, FormatError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(name, other, "a string")),
        }
    }

    /// A string field that must be there and not blank.
    pub(crate) fn required(&self, name: &str) -> Result<&'a str, FormatError> {
        self.text(name)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                FormatError::new(self.field_at(name), "is missing: every record has one")
            })
    }

    /// A field as text whatever scalar it is (Artalk reads every field of
    /// an Artran as a string: `"1"`, `1` and `true` alike).
    pub(crate) fn scalar(&self, name: &str) -> Result<Option<String>, FormatError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.wrong(name, other, "a string")),
        }
    }

    /// A yes/no field: JSON's booleans, or PostgreSQL's and Artalk's words
    /// for them (`t`/`f`, `"true"`/`"false"`, `1`/`0`); missing or null is no.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, FormatError> {
        let value = self.scalar(name)?;
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(false),
            Some(word) => yes_no(word).ok_or_else(|| {
                FormatError::new(
                    self.field_at(name),
                    format_args!("is {word:?}, not true or false"),
                )
            }),
        }
    }

    /// An object field; missing or null is `None`.
    pub(crate) fn object(&self, name: &str) -> Result<Option<Record<'a>>, FormatError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value @ Value::Object(_)) => Record::new(value, self.field_at(name)).map(Some),
            Some(other) => Err(self.wrong(name, other, "an object")),
        }
    }
}

/// A boolean as the sources write one.
pub(crate) fn yes_no(word: &str) -> Option<bool> {
    match word.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" => Some(true),
        "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_short_document_is_refused_with_its_place() {
        let err = document("{\"comments\": [\n  {\"id\": 1},\n  {\"id\"").unwrap_err();
        assert_eq!(err.at, "line 3, column 7", "{err}");
        assert!(err.message.contains("cut short"), "{err}");
    }

    #[test]
    fn absurd_nesting_is_refused_with_a_message() {
        let depth = 100_000;
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let err = document(&nested).unwrap_err();
        assert!(err.message.contains("recursion limit"), "{err}");
        assert!(err.at.starts_with("line 1, column"), "{err}");
    }

    #[test]
    fn fields_of_the_wrong_kind_name_their_record() {
        let value: Value =
            serde_json::from_str(r#"{"id": 7, "ok": "t", "no": "maybe", "user": []}"#).unwrap();
        let record = Record::new(&value, "comments[3]".into()).unwrap();
        let err = record.text("id").unwrap_err();
        assert_eq!(
            (err.at.as_str(), err.message.as_str()),
            ("comments[3].id", "is a number, not a string")
        );
        assert_eq!(record.scalar("id").unwrap().as_deref(), Some("7"));
        assert_eq!(record.text("absent").unwrap(), None);
        assert!(record.flag("ok").unwrap());
        assert!(!record.flag("absent").unwrap());
        assert_eq!(record.flag("no").unwrap_err().at, "comments[3].no");
        assert_eq!(record.object("user").err().unwrap().at, "comments[3].user");
        assert!(record.required("absent").is_err());
    }

    #[test]
    fn a_document_without_the_array_is_refused() {
        let value: Value = serde_json::from_str(r#"{"pages": {}}"#).unwrap();
        assert!(array(&value, "comments", "an export").is_err());
        assert_eq!(array(&value, "pages", "an export").unwrap_err().at, "pages");
        let list: Value = serde_json::from_str("[]").unwrap();
        assert!(
            array(&list, "comments", "an export")
                .unwrap_err()
                .message
                .contains("an array, not an export")
        );
    }
}
