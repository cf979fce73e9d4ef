//! POST /contact: stored first, then delivered.

use http::{Response, StatusCode};
use lambda_http::Body;
use serde_json::json;

use crate::app::{State, Submission};
use crate::domain::ContactMessage;
use crate::error::ApiError;
use crate::store::{BoxFuture, CLAIM_LEASE_MS, ContactRecord, MailKind, OutboxEntry};
use crate::{ids, notify, respond};

/// The 202 body.
pub fn accepted(id: &str) -> Response<Body> {
    respond::json(
        StatusCode::ACCEPTED,
        &json!({"id": id, "status": "received"}),
    )
}

/// Validates, stores, then mails the owner. A mail failure still answers 202:
/// the message stays stored, undelivered, and is redelivered later.
pub fn submit(state: &State, sub: Submission) -> BoxFuture<'_, Result<Response<Body>, ApiError>> {
    Box::pin(async move {
        let message = ContactMessage::parse(&sub.fields).map_err(ApiError::Validation)?;
        let now = ids::now_ms();
        let record = ContactRecord {
            id: ids::new_id(),
            name: message.name.as_str().to_owned(),
            email: message.email.as_str().to_owned(),
            subject: message.subject.map(|s| s.as_str().to_owned()),
            message: message.message.as_str().to_owned(),
            created_ms: now,
            ip_hash: sub.ip_hash,
            delivered: false,
        };
        state
            .store
            .put_contact(&record, now + CLAIM_LEASE_MS)
            .await?;
        tracing::info!(contact_id = %record.id, "contact message stored");
        let entry = OutboxEntry {
            kind: MailKind::Contact,
            id: record.id.clone(),
        };
        notify::deliver(state, &entry, notify::Loaded::Contact(&record)).await;
        Ok(accepted(&record.id))
    })
}
