//! Validated domain types. No I/O: a value that exists is valid.
//!
//! Submissions are parsed field by field into newtypes; every failure is a
//! [`FieldError`] naming the field, so the client learns exactly what to fix.

mod comment;
mod contact;
mod email;
pub mod ids;
mod model;
mod spam;
mod text;
mod weburl;

pub use comment::NewComment;
pub use contact::ContactMessage;
pub use email::{Email, mailbox, same_mailbox};
pub(crate) use model::ListPosition;
pub use model::{
    CONFIRM_TTL_MS, CONFIRMATIONS_PER_SOURCE_A_DAY, CONTACT_TTL_MS, Channel, CommentRecord,
    CommentStatus, Confirmed, ContactRecord, DAY_MS, Decided, Decision, Deferral,
    FEEDBACK_PER_HOUR, JOINED_TTL_MS, MailCap, MailKind, OutboxEntry, OutboxItem, PENDING_TTL_MS,
    REJECTED_TTL_MS, Subscription,
};
pub use spam::{DUPLICATE_WINDOW_MS, Held, OutboundCall, SPAM_TTL_MS, SpamItem, SpamPosition};
pub use text::{MultiLine, SingleLine};
pub use weburl::WebUrl;

use serde::Serialize;

/// A submitted form's values by field name, as the parsers here read them.
/// The HTTP side decodes bodies into one (`intake::Fields`); the domain only
/// asks for values, so it depends on nothing outside itself.
pub trait FormValues {
    /// The field's text; absent is a `required` error.
    fn required(&self, name: &str) -> Result<&str, FieldError>;
    /// The field's text, with absent and blank both `None`.
    fn optional_nonblank(&self, name: &str) -> Result<Option<&str>, FieldError>;
}

/// Why one field was refused: the `code` of an entry of a 400's `fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldCode {
    /// Missing, or empty after trimming.
    Required,
    /// Fewer characters than the minimum.
    TooShort,
    /// More characters than the maximum.
    TooLong,
    /// Present but not acceptable (characters, format, type).
    Invalid,
}

/// One refused field, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as submitted.
    pub field: String,
    /// The machine-readable reason.
    pub code: FieldCode,
    /// A sentence for people.
    pub message: String,
}

impl FieldError {
    /// A refusal of `field` with `code` and a human message.
    pub fn new(field: &str, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }

    /// The field is missing or blank.
    pub fn required(field: &str) -> Self {
        Self::new(field, FieldCode::Required, format!("{field} is required"))
    }

    /// The field's value is not acceptable.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Self::new(field, FieldCode::Invalid, format!("{field} {why}"))
    }
}

/// Collects field errors so a client sees every problem at once, not one per try.
#[derive(Debug, Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    /// Keeps the value, or records the error and yields `None`.
    pub(crate) fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }

    /// `Ok(())` when nothing was recorded.
    pub(crate) fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}
