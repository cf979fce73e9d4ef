//! The one error type of the HTTP boundary, mapped to the API's error codes in one place.

use http::StatusCode;

use crate::domain::FieldError;
use crate::store::StoreError;

/// Seconds a client should wait after a 503.
pub(crate) const UNAVAILABLE_RETRY_AFTER_S: u64 = 5;

/// Everything a request can fail with.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// 400 with the fields at fault.
    Validation(Vec<FieldError>),
    /// 403: `Origin` not in `ALLOWED_ORIGINS`.
    ForbiddenOrigin,
    /// 404.
    NotFound,
    /// 405 with the `Allow` header value.
    MethodNotAllowed(String),
    /// 413: decoded body over 128 KiB.
    PayloadTooLarge,
    /// 415.
    UnsupportedMediaType,
    /// 429 with seconds to the window's end.
    RateLimited {
        /// Seconds until the window ends.
        retry_after_s: u64,
    },
    /// 503: a dependency is down or time ran short.
    Unavailable,
    /// 503: the store failed. The cause is logged where the answer is made
    /// (`respond::decorate`), once, never by the conversion.
    Store(StoreError),
    /// 500: a bug; no detail leaves the function.
    Internal,
}

impl ApiError {
    /// One invalid field.
    pub fn field(error: FieldError) -> Self {
        ApiError::Validation(vec![error])
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::ForbiddenOrigin => "forbidden_origin",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable | ApiError::Store(_) => "unavailable",
            ApiError::Internal => "internal",
        }
    }

    /// A safe sentence for the client.
    pub fn message(&self) -> String {
        match self {
            ApiError::Validation(fields) => match fields.as_slice() {
                [one] => one.message.clone(),
                _ => format!("{} fields are invalid", fields.len()),
            },
            ApiError::ForbiddenOrigin => "this origin may not use this endpoint".into(),
            ApiError::NotFound => "no such route".into(),
            ApiError::MethodNotAllowed(allow) => format!("method not allowed; use {allow}"),
            ApiError::PayloadTooLarge => "the request body is larger than 128 KiB".into(),
            ApiError::UnsupportedMediaType => {
                "send application/json, application/x-www-form-urlencoded or multipart/form-data (UTF-8)".into()
            }
            ApiError::RateLimited { retry_after_s } => format!("too many submissions; retry in {retry_after_s} s"),
            ApiError::Unavailable | ApiError::Store(_) => {
                "temporarily unavailable; retry shortly".into()
            }
            ApiError::Internal => "internal error".into(),
        }
    }

    /// The `Retry-After` value, for 429 and 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_s } => Some(*retry_after_s),
            ApiError::Unavailable | ApiError::Store(_) => Some(UNAVAILABLE_RETRY_AFTER_S),
            _ => None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Store(e)
    }
}
