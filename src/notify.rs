//! Mail to the owner: composing it, sending it at most `MAIL_PER_HOUR` an
//! hour, and redelivering whatever could not be sent.
//!
//! Delivery is at least once: a record is stored (undelivered, claimed by the
//! request that stored it) before its mail is sent; a scheduled run retries
//! every undelivered record whose claim has lapsed, claiming it first with a
//! conditional write so that two runs never send the same mail.

use std::time::Duration;

use http::{Response, StatusCode};
use lambda_http::Body;
use serde_json::json;

use crate::config::Moderation;
use crate::mail::Mail;
use crate::request::RequestInfo;
use crate::state::State;
use crate::store::{
    CLAIM_LEASE_MS, CommentRecord, CommentStatus, ContactRecord, DAY_MS, Decision, MailKind,
    OutboxEntry,
};
use crate::token::Token;
use crate::{contract, ids, respond};

/// Upper bound on one send, inside the SDK's own timeouts.
const SEND_TIMEOUT: Duration = Duration::from_secs(4);
/// Entries one scheduled run handles, to finish well inside the function timeout.
const REDELIVERY_BATCH: usize = 20;
/// Lifetime of delete links.
const DELETE_LINK_DAYS: u64 = 90;

/// A record already in hand, or only its id.
#[derive(Debug, Clone, Copy)]
pub enum Loaded<'a> {
    /// A contact message.
    Contact(&'a ContactRecord),
    /// A comment.
    Comment(&'a CommentRecord),
    /// Read it from the store first.
    No,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent and marked delivered.
    Sent,
    /// Left undelivered for a later run (hourly cap, mail or store failure).
    Deferred,
    /// Nothing to send (the record is gone).
    Gone,
}

/// The mail for a contact message.
pub fn contact_mail(state: &State, r: &ContactRecord) -> Mail {
    let c = &state.config;
    let subject = match &r.subject {
        Some(s) => format!("[{}] {s}", c.site_name),
        None => format!("[{}] Message from {}", c.site_name, r.name),
    };
    let text = format!(
        "{name} <{email}> wrote through the contact form of {site}:\n\n{message}\n\n-- \nReply to this mail to answer {name}. Message id {id}.\n",
        name = r.name,
        email = r.email,
        site = c.site_name,
        message = r.message,
        id = r.id,
    );
    owner_mail(
        state,
        subject,
        text,
        Some((r.name.clone(), r.email.clone())),
    )
}

/// A signed moderation link for `action` on comment `id`.
pub fn moderation_link(
    state: &State,
    base: &str,
    id: &str,
    action: Decision,
    now_ms: u64,
) -> String {
    let days = if action == Decision::Delete {
        DELETE_LINK_DAYS
    } else {
        u64::from(state.config.moderation_link_days)
    };
    let token = Token {
        action,
        comment_id: id.to_owned(),
        expires_s: now_ms / 1000 + days * DAY_MS / 1000,
    };
    format!(
        "{base}/comment/moderate?token={}",
        token.sign(&state.config.keys.moderation)
    )
}

/// The moderation mail for a comment.
pub fn comment_mail(state: &State, r: &CommentRecord, now_ms: u64) -> Mail {
    let c = &state.config;
    let link = |a| moderation_link(state, &r.links_base, &r.id, a, now_ms);
    let (subject, actions) = match (c.moderation, r.status) {
        (Moderation::Pre, CommentStatus::Pending) => (
            format!(
                "[{}] New comment on {} awaits approval",
                c.site_name, r.post
            ),
            format!(
                "Approve: {}\nReject:  {}\nDelete later: {}\n",
                link(Decision::Approve),
                link(Decision::Reject),
                link(Decision::Delete)
            ),
        ),
        _ => (
            format!("[{}] New comment on {}", c.site_name, r.post),
            format!("It is published. Delete it: {}\n", link(Decision::Delete)),
        ),
    };
    let text = format!(
        "{name}{email}{url} commented on {post}:\n\n{body}\n\n{actions}\nEach link opens a page with one button; nothing changes until you press it.\n",
        name = r.name,
        email = r
            .email
            .as_deref()
            .map(|e| format!(" <{e}>"))
            .unwrap_or_default(),
        url = r
            .url
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default(),
        post = r.post,
        body = r.body,
    );
    owner_mail(state, subject, text, None)
}

fn owner_mail(
    state: &State,
    subject: String,
    text: String,
    reply_to: Option<(String, String)>,
) -> Mail {
    let c = &state.config;
    Mail {
        from_name: c.site_name.clone(),
        from: c
            .sender_email
            .as_ref()
            .map_or("rust-aws@localhost", |e| e.as_str())
            .to_owned(),
        to: c
            .owner_email
            .as_ref()
            .map_or("owner@localhost", |e| e.as_str())
            .to_owned(),
        reply_to,
        subject,
        text,
    }
}

/// Emits one CloudWatch embedded-metric record (EMF): the undelivered-mail
/// alarm counts these. Printed directly so it is one JSON line whatever the
/// log format.
fn emit_undelivered_metric() {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned());
    let record = json!({
        "_aws": {
            "Timestamp": ids::now_ms(),
            "CloudWatchMetrics": [{
                "Namespace": contract::metrics::NAMESPACE,
                "Dimensions": [[contract::metrics::DIMENSION]],
                "Metrics": [{"Name": contract::metrics::MAIL_UNDELIVERED, "Unit": "Count"}],
            }],
        },
        contract::metrics::DIMENSION: function,
        contract::metrics::MAIL_UNDELIVERED: 1,
    });
    println!("{record}");
}

/// Tries to send the entry's mail once. Never fails the caller: anything that
/// goes wrong leaves the record undelivered for the next scheduled run.
pub async fn deliver(state: &State, entry: &OutboxEntry, loaded: Loaded<'_>) -> Delivery {
    let now = ids::now_ms();
    let mail = match (entry.kind, loaded) {
        (_, Loaded::Contact(r)) => contact_mail(state, r),
        (_, Loaded::Comment(r)) => comment_mail(state, r, now),
        (MailKind::Contact, Loaded::No) => match state.store.get_contact(&entry.id, now).await {
            Ok(Some(r)) => contact_mail(state, &r),
            Ok(None) => return Delivery::Gone,
            Err(e) => return deferred(entry, &e.to_string()),
        },
        (MailKind::Comment, Loaded::No) => match state.store.get_comment(&entry.id, now).await {
            Ok(Some(r)) => comment_mail(state, &r, now),
            // Deleted before its mail went out: nothing left to moderate.
            Ok(None) => return Delivery::Gone,
            Err(e) => return deferred(entry, &e.to_string()),
        },
    };
    match state
        .store
        .take_mail_slot(now / 3_600_000, state.config.mail_per_hour)
        .await
    {
        Ok(true) => {}
        Ok(false) => return deferred(entry, "MAIL_PER_HOUR reached"),
        Err(e) => return deferred(entry, &e.to_string()),
    }
    match tokio::time::timeout(SEND_TIMEOUT, state.mailer.send(&mail)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return deferred(entry, &e.to_string()),
        Err(_) => return deferred(entry, "send timed out"),
    }
    if let Err(e) = state.store.mark_delivered(entry, ids::now_ms()).await {
        // Sent but not marked: a later run sends it again (at least once).
        tracing::warn!(kind = entry.kind.as_str(), id = %entry.id, error = %e, "mail sent but not marked delivered");
    }
    tracing::info!(kind = entry.kind.as_str(), id = %entry.id, "mail delivered");
    Delivery::Sent
}

fn deferred(entry: &OutboxEntry, why: &str) -> Delivery {
    tracing::warn!(kind = entry.kind.as_str(), id = %entry.id, reason = why, "mail undelivered; will retry");
    emit_undelivered_metric();
    Delivery::Deferred
}

/// Counts of one redelivery run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Redelivery {
    /// Undelivered entries seen.
    pub found: usize,
    /// Claimed by another run (skipped).
    pub busy: usize,
    /// Sent now.
    pub sent: usize,
    /// Still undelivered.
    pub deferred: usize,
}

/// One redelivery run over the oldest undelivered entries.
pub async fn redeliver(state: &State) -> Result<Redelivery, crate::store::StoreError> {
    let entries = state.store.undelivered(REDELIVERY_BATCH).await?;
    let mut run = Redelivery {
        found: entries.len(),
        ..Redelivery::default()
    };
    for entry in entries {
        let now = ids::now_ms();
        if !state.store.claim(&entry, now, now + CLAIM_LEASE_MS).await? {
            run.busy += 1;
            continue;
        }
        match deliver(state, &entry, Loaded::No).await {
            Delivery::Sent => run.sent += 1,
            Delivery::Deferred => run.deferred += 1,
            Delivery::Gone => {}
        }
    }
    Ok(run)
}

/// A non-HTTP invocation: the scheduled redelivery run.
pub async fn handle_event(state: &State, info: &RequestInfo) -> Response<Body> {
    match redeliver(state).await {
        Ok(run) => {
            tracing::info!(
                found = run.found,
                sent = run.sent,
                deferred = run.deferred,
                busy = run.busy,
                "redelivery run"
            );
            respond::json(StatusCode::OK, &json!({"redelivery": run}))
        }
        Err(e) => {
            tracing::warn!(error = %e, "redelivery run could not read the outbox");
            respond::error(&crate::error::ApiError::Unavailable, &info.request_id)
        }
    }
}
