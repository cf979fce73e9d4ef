//! A visitor's message to the site owner.

use super::{Email, Errors, FieldError, FormValues, MultiLine, SingleLine};

/// A validated contact message (README.md, "API", POST /contact).
#[derive(Debug, Clone)]
pub struct ContactMessage {
    /// 1–100 characters.
    pub name: SingleLine,
    /// Becomes the mail's `Reply-To`.
    pub email: Email,
    /// 1–200 characters, optional.
    pub subject: Option<SingleLine>,
    /// 1–10000 characters.
    pub message: MultiLine,
}

impl ContactMessage {
    /// Parses the submitted fields, reporting every invalid field at once.
    pub fn parse(fields: &impl FormValues) -> Result<Self, Vec<FieldError>> {
        let mut errors = Errors::default();
        let name = errors.take(
            fields
                .required("name")
                .and_then(|v| SingleLine::parse("name", v, 1, 100)),
        );
        let email = errors.take(
            fields
                .required("email")
                .and_then(|v| Email::parse("email", v)),
        );
        let subject = errors.take(fields.optional_nonblank("subject").and_then(|v| {
            v.map(|v| SingleLine::parse("subject", v, 1, 200))
                .transpose()
        }));
        let message = errors.take(
            fields
                .required("message")
                .and_then(|v| MultiLine::parse("message", v, 1, 10_000)),
        );
        errors.finish()?;
        match (name, email, subject, message) {
            (Some(name), Some(email), Some(subject), Some(message)) => Ok(Self {
                name,
                email,
                subject,
                message,
            }),
            _ => unreachable!("every None recorded an error"),
        }
    }
}
