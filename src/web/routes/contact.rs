//! POST /contact: stored first, then delivered.

use http::{Response, StatusCode};
use lambda_http::Body;
use serde_json::json;

use crate::config::state::State;
use crate::domain::{ContactMessage, ContactRecord, FieldError, Held, MailKind, OutboxEntry, ids};
use crate::outbox::{self, alerts};
use crate::security::spam::{self, Verdict};
use crate::store::CLAIM_MARGIN_MS;
use crate::web::error::ApiError;
use crate::web::intake::Fields;
use crate::web::respond;
use crate::web::submit::{Form, Submission};

/// The 202 body.
pub(crate) fn accepted(id: &str) -> Response<Body> {
    respond::json(
        StatusCode::ACCEPTED,
        &json!({"id": id, "status": "received"}),
    )
}

/// `POST /contact`'s part of the submission pipeline.
#[derive(Debug)]
pub(crate) struct ContactForm(ContactMessage);

impl Form for ContactForm {
    const PATH: &'static str = "/contact";

    fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        ContactMessage::parse(fields).map(ContactForm)
    }

    /// Stores, then mails the owner. A mail failure still answers 202: the
    /// message stays stored, undelivered, and is redelivered later.
    async fn accept(self, state: &State, sub: Submission) -> Result<Response<Body>, ApiError> {
        let message = self.0;
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
        if !sub.deadline.has(crate::web::deadline::STORE_WRITE) {
            tracing::warn!("too little time left to store the submission; answering 503");
            return Err(ApiError::Unavailable);
        }
        // The verdict: spam is held back, answered exactly as ham would be;
        // an unchecked message is delivered (the owner reads it anyway).
        let held = Held::Contact(record);
        let verdict = spam::screen(state, &held, &sub.visitor, &sub.deadline).await?;
        if matches!(verdict, Verdict::Spam(_) | Verdict::Discard) {
            let answer = accepted(held.id());
            if !sub.deadline.has(crate::web::deadline::STORE_WRITE) {
                return Err(ApiError::Unavailable);
            }
            spam::hold(state, held, verdict).await?;
            return Ok(answer);
        }
        let Held::Contact(record) = held else {
            unreachable!("held as a contact message just above")
        };
        state
            .store
            .put_contact(&record, sub.deadline.epoch_ms() + CLAIM_MARGIN_MS)
            .await?;
        tracing::info!(contact_id = %record.id, "contact message stored");
        let entry = OutboxEntry {
            kind: MailKind::Contact,
            id: record.id.clone(),
        };
        outbox::deliver(
            state,
            &entry,
            outbox::Loaded::Contact(&record),
            &sub.deadline,
            0,
        )
        .await;
        let event = alerts::contact_event(state, &record, &sub.links_base);
        alerts::announce(state, &record.id, &event, &sub.deadline).await;
        Ok(accepted(&record.id))
    }

    fn decoy(_: &State, _: &Fields) -> Response<Body> {
        accepted(&ids::new_id())
    }
}
