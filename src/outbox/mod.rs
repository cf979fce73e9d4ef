//! Sending mail: composing the owner's (visitors' mails are composed by
//! [`crate::outbox::replies`], which never sends), sending each under its hourly cap
//! (`MAIL_PER_HOUR`, `VISITOR_MAIL_PER_HOUR`), and redelivering whatever
//! could not be sent.
//!
//! Delivery is at least once: a record is stored (undelivered, claimed by the
//! request that stored it) before its mail is sent; a scheduled run retries
//! every undelivered record whose claim has lapsed, claiming it first with a
//! conditional write so that two runs never send the same mail.
//!
//! The outbox is fair and bounded: each entry keeps its failed attempts and
//! the time of its next one (exponential backoff), so a mail that keeps
//! failing moves behind newer mail; after [`MAX_ATTEMPTS`] it is parked
//! (listed by `rust-aws outbox`, alarmed through the `MailParked` metric).
//! An hourly cap counts mails sent: the slot of a failed send is given back,
//! and a capped mail waits for the next hour without counting an attempt.
//! Nothing is started that the invocation's deadline cannot finish.

pub mod alerts;
pub mod replies;

use std::time::Duration;

use http::{Response, StatusCode};
use lambda_http::Body;
use serde_json::json;

use crate::Chain;
use crate::config::Moderation;
use crate::config::contract;
use crate::config::state::State;
use crate::domain::ids;
use crate::domain::{
    CommentRecord, CommentStatus, ContactRecord, DAY_MS, Decision, Deferral, MailCap, MailKind,
    OutboxEntry,
};
use crate::mail::Mail;
use crate::security::token::Token;
use crate::store::CLAIM_MARGIN_MS;
use crate::web::deadline::Deadline;
use crate::web::request::RequestInfo;
use crate::web::respond;

/// Upper bound on one send, inside the SDK's own timeouts.
pub(crate) const SEND_TIMEOUT: Duration = Duration::from_secs(4);
/// Time kept after a send to record its outcome: a mail sent but not marked
/// is sent again by a later run.
pub(crate) const RECORD_RESERVE: Duration = Duration::from_millis(1_000);
/// Least time left to start a delivery at all (read, cap, send, record);
/// below it the mail is left to the next scheduled run.
pub(crate) const DELIVERY_BUDGET: Duration = Duration::from_millis(2_500);
/// Entries one scheduled run looks at; the deadline usually stops it sooner.
const REDELIVERY_BATCH: usize = 50;
/// Failed attempts after which an entry is parked.
pub const MAX_ATTEMPTS: u32 = 8;
/// The wait after the second failed attempt; it doubles with each further one.
const FIRST_BACKOFF: Duration = Duration::from_secs(5 * 60);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 60 * 60);
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

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent and marked delivered.
    Sent,
    /// The send failed; the attempt is recorded and a later run retries.
    Failed,
    /// The send failed for the last time allowed: the entry is parked.
    Parked,
    /// The hourly cap is reached: the mail waits for the next hour.
    Postponed,
    /// Not attempted (too little time left, or the store did not answer):
    /// the claim lapses shortly after the deadline and a later run takes it.
    Unstarted,
    /// Nothing to send (the record is gone, or its mail would say what is
    /// no longer true): the entry left the outbox.
    Gone,
}

/// The mail for a contact message.
pub(crate) fn contact_mail(state: &State, r: &ContactRecord) -> Mail {
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
pub(crate) fn moderation_link(
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

/// The moderation mail for a comment, as things stand now: `None` when
/// the comment was decided since it was stored (rejected, or approved while
/// moderation is on), since the mail would then announce a status it no
/// longer has and links for decisions already made.
pub(crate) fn comment_mail(state: &State, r: &CommentRecord, now_ms: u64) -> Option<Mail> {
    let c = &state.config;
    let link = |a| moderation_link(state, &r.links_base, &r.id, a, now_ms);
    let (subject, actions) = match (r.status, c.moderation) {
        (CommentStatus::Pending, _) => (
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
        (CommentStatus::Approved, Moderation::Off) => (
            format!("[{}] New comment on {}", c.site_name, r.post),
            format!("It is published. Delete it: {}\n", link(Decision::Delete)),
        ),
        (CommentStatus::Approved, Moderation::Pre) | (CommentStatus::Rejected, _) => return None,
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
    Some(owner_mail(state, subject, text, None))
}

/// A mail to the site owner from the site's sender.
pub(crate) fn owner_mail(
    state: &State,
    subject: String,
    text: String,
    reply_to: Option<(String, String)>,
) -> Mail {
    let c = &state.config;
    Mail {
        from_name: c.site_name.clone(),
        from: c.sender().to_owned(),
        to: c
            .owner_email
            .as_ref()
            .map_or("owner@localhost", |e| e.as_str())
            .to_owned(),
        reply_to,
        subject,
        text,
        list_unsubscribe: None,
    }
}

/// Emits one CloudWatch embedded-metric record (EMF) counting `metric`:
/// the template's alarms watch these. Printed directly so it is one JSON
/// line whatever the log format.
pub(crate) fn emit_metric(metric: &str) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned());
    let record = json!({
        "_aws": {
            "Timestamp": ids::now_ms(),
            "CloudWatchMetrics": [{
                "Namespace": contract::metrics::NAMESPACE,
                "Dimensions": [[contract::metrics::DIMENSION]],
                "Metrics": [{"Name": metric, "Unit": "Count"}],
            }],
        },
        contract::metrics::DIMENSION: function,
        metric: 1,
    });
    println!("{record}");
}

/// The wait before the next attempt of an entry that has failed `attempts`
/// times: none after the first failure (usually the request's own attempt;
/// the next scheduled run retries), then [`FIRST_BACKOFF`] doubling up to
/// [`MAX_BACKOFF`], plus up to a tenth of it at random so entries that
/// failed together spread out.
pub fn retry_delay(attempts: u32) -> Duration {
    if attempts <= 1 {
        return Duration::ZERO;
    }
    let doubled = FIRST_BACKOFF.saturating_mul(1 << (attempts - 2).min(16));
    let base = doubled.min(MAX_BACKOFF);
    let spread = u64::from(u16::from_le_bytes(ids::random_bytes::<2>())) % 1_000;
    base + base / 10 * u32::try_from(spread).unwrap_or(0) / 1_000
}

pub(crate) fn cap_limit(state: &State, cap: MailCap) -> u32 {
    match cap {
        MailCap::Owner => state.config.mail_per_hour,
        MailCap::Visitor => state.config.visitor_mail_per_hour,
        MailCap::Alerts => state.config.alerts.per_hour,
        MailCap::Feedback => crate::domain::FEEDBACK_PER_HOUR,
    }
}

/// Tries to send the entry's mail once, the caller holding its claim and
/// `attempts` being its failed attempts so far. Never fails the caller:
/// whatever goes wrong is recorded on the entry for a later run.
pub async fn deliver(
    state: &State,
    entry: &OutboxEntry,
    loaded: Loaded<'_>,
    deadline: &Deadline,
    attempts: u32,
) -> Delivery {
    let log = |reason: &str| {
        tracing::info!(kind = entry.kind.as_str(), id = %entry.id, reason, "mail left to redelivery");
        Delivery::Unstarted
    };
    if !entry.kind.is_mail() {
        return crate::outbox::alerts::deliver(state, entry, deadline, attempts).await;
    }
    if !deadline.has(DELIVERY_BUDGET) {
        return log("too little time left in this invocation");
    }
    let now = ids::now_ms();
    let mail = match (entry.kind, loaded) {
        (MailKind::Confirm | MailKind::Reply, _) => {
            match deadline
                .run(crate::outbox::replies::mail_for(state, entry, now))
                .await
            {
                Some(Ok(mail)) => mail,
                _ => return log("the store did not answer"),
            }
        }
        (_, Loaded::Contact(r)) => Some(contact_mail(state, r)),
        (_, Loaded::Comment(r)) => comment_mail(state, r, now),
        (MailKind::Contact, Loaded::No) => {
            match deadline.run(state.store.get_contact(&entry.id, now)).await {
                Some(Ok(r)) => r.map(|r| contact_mail(state, &r)),
                _ => return log("the store did not answer"),
            }
        }
        (MailKind::Comment, Loaded::No) => {
            match deadline.run(state.store.get_comment(&entry.id, now)).await {
                Some(Ok(r)) => r.and_then(|r| comment_mail(state, &r, now)),
                _ => return log("the store did not answer"),
            }
        }
        // Not mail: delivered above by `alerts::deliver`.
        (MailKind::Alert(_) | MailKind::Feedback, Loaded::No) => {
            return log("not a mail");
        }
    };
    let Some(mail) = mail else {
        // Nothing true to tell any more (the record is gone or past its
        // expiry, the comment was decided, the subscription ended): the
        // entry leaves the outbox unsent. Left in, an expired record that
        // DynamoDB has not swept would be claimed again by every run.
        return match deadline.run(state.store.mark_delivered(entry, now)).await {
            Some(Ok(())) => {
                tracing::info!(kind = entry.kind.as_str(), id = %entry.id, "mail dropped: nothing left to tell");
                Delivery::Gone
            }
            _ => log("the store did not answer"),
        };
    };
    let (cap, hour) = match take_slot(state, entry, attempts, now, deadline).await {
        Ok(slot) => slot,
        Err(held) => return held.unwrap_or_else(|| log("the store did not answer")),
    };
    let sent = deadline
        .run_for(SEND_TIMEOUT, RECORD_RESERVE, state.mailer.send(&mail))
        .await;
    let error = match sent {
        Some(Ok(())) => {
            match deadline
                .run(state.store.mark_delivered(entry, ids::now_ms()))
                .await
            {
                Some(Ok(())) => {}
                // Sent but not marked: a later run sends it again (at least once).
                _ => {
                    tracing::warn!(kind = entry.kind.as_str(), id = %entry.id, "mail sent but not marked delivered")
                }
            }
            tracing::info!(kind = entry.kind.as_str(), id = %entry.id, "mail delivered");
            return Delivery::Sent;
        }
        Some(Err(e)) => e.class().to_owned(),
        // SES may still have taken it: then a later run sends it twice.
        None => "send timed out".to_owned(),
    };
    // The cap counts mails sent: the slot goes back.
    if !matches!(
        deadline.run(state.store.return_mail_slot(cap, hour)).await,
        Some(Ok(()))
    ) {
        tracing::warn!("could not give back the mail slot of a failed send");
    }
    let attempts = attempts + 1;
    let parked = attempts >= MAX_ATTEMPTS;
    let deferral = Deferral {
        attempts,
        next_attempt_ms: ids::now_ms() + retry_delay(attempts).as_millis() as u64,
        parked,
        error,
    };
    tracing::warn!(
        kind = entry.kind.as_str(),
        id = %entry.id,
        attempts,
        parked,
        error = %deferral.error,
        "mail not delivered"
    );
    emit_metric(contract::metrics::MAIL_UNDELIVERED);
    record(state, entry, &deferral, deadline).await;
    if parked {
        emit_metric(contract::metrics::MAIL_PARKED);
        Delivery::Parked
    } else {
        Delivery::Failed
    }
}

/// Delivers now, where the invocation has time, the mails that publishing
/// `comment` recorded with the publication itself (the confirmation of the
/// subscription it asked for, the notice to its parent's subscriber), each
/// claimed first as a redelivery run claims it. Never fails the caller:
/// whatever is not sent now, the scheduled redelivery sends.
pub async fn published(state: &State, comment: &CommentRecord, deadline: &Deadline) {
    if comment.status != CommentStatus::Approved {
        return;
    }
    let kinds = [
        (comment.subscribes().is_some(), MailKind::Confirm),
        (comment.parent.is_some(), MailKind::Reply),
    ];
    for (recorded, kind) in kinds {
        if !recorded || !deadline.has(DELIVERY_BUDGET) {
            continue;
        }
        let entry = OutboxEntry {
            kind,
            id: comment.id.clone(),
        };
        let claim_until = deadline.epoch_ms() + CLAIM_MARGIN_MS;
        let claim = state.store.claim(&entry, ids::now_ms(), claim_until);
        // `None`: nothing was recorded (no subscriber, the day's limits),
        // or a redelivery run holds it.
        if let Some(Ok(Some(attempts))) = deadline.run(claim).await {
            deliver(state, &entry, Loaded::No, deadline, attempts).await;
        }
    }
}

/// Takes a slot of the entry's hourly cap: which one (to give back if the
/// send fails). `Err(Some(Postponed))`: the
/// cap is reached, and the entry waits for the next hour (recorded);
/// `Err(None)`: the store did not answer.
pub(crate) async fn take_slot(
    state: &State,
    entry: &OutboxEntry,
    attempts: u32,
    now: u64,
    deadline: &Deadline,
) -> Result<(MailCap, u64), Option<Delivery>> {
    let cap = entry.kind.cap();
    let hour = now / 3_600_000;
    let slot = state.store.take_mail_slot(cap, hour, cap_limit(state, cap));
    match deadline.run(slot).await {
        Some(Ok(true)) => Ok((cap, hour)),
        Some(Ok(false)) => {
            let deferral = Deferral {
                attempts,
                next_attempt_ms: (hour + 1) * 3_600_000,
                parked: false,
                error: "hourly cap reached".to_owned(),
            };
            record(state, entry, &deferral, deadline).await;
            tracing::info!(kind = entry.kind.as_str(), id = %entry.id, "hourly cap reached; waits for the next hour");
            Err(Some(Delivery::Postponed))
        }
        _ => Err(None),
    }
}

/// Records a deferral; if the store does not answer, the claim lapses and a
/// later run retries without the record (the attempt is not counted).
pub(crate) async fn record(
    state: &State,
    entry: &OutboxEntry,
    deferral: &Deferral,
    deadline: &Deadline,
) {
    if !matches!(
        deadline.run(state.store.defer(entry, deferral)).await,
        Some(Ok(()))
    ) {
        tracing::warn!(kind = entry.kind.as_str(), id = %entry.id, "could not record the failed delivery");
    }
}

/// Counts of one redelivery run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Redelivery {
    /// Entries due.
    pub found: usize,
    /// Claimed by another run, parked or delivered meanwhile (skipped).
    pub(crate) busy: usize,
    /// Sent now.
    pub sent: usize,
    /// Failed again; retried later.
    pub(crate) deferred: usize,
    /// Failed for the last time allowed: parked.
    pub parked: usize,
    /// Waiting for the next hour's mail cap.
    pub postponed: usize,
    /// Not reached before the invocation's time ran short.
    pub unreached: usize,
}

/// One redelivery run over the entries that are due, each cap's line
/// longest-waiting first, taking new work only while the invocation has time
/// for it.
///
/// Each cap has its own line and batch, and the run takes from both in
/// turn: owner mail held by `MAIL_PER_HOUR` never fills the batch that
/// visitor mail needs, nor the reverse, whatever the backlog; and when the
/// invocation's time runs short, both have had their share.
pub async fn redeliver(
    state: &State,
    deadline: &Deadline,
) -> Result<Redelivery, crate::store::StoreError> {
    let mut lines = Vec::new();
    for cap in [
        MailCap::Owner,
        MailCap::Visitor,
        MailCap::Alerts,
        MailCap::Feedback,
    ] {
        let due = state.store.due_outbox(cap, ids::now_ms(), REDELIVERY_BATCH);
        let entries = deadline
            .run(due)
            .await
            .ok_or_else(|| crate::store::StoreError::new("outbox query timed out"))??;
        lines.push(entries.into_iter());
    }
    let mut entries = Vec::new();
    while lines.iter().any(|line| !line.as_slice().is_empty()) {
        entries.extend(lines.iter_mut().filter_map(Iterator::next));
    }
    let mut run = Redelivery {
        found: entries.len(),
        ..Redelivery::default()
    };
    // A cap reached holds for the other entries under it until the next
    // hour; entries under the other cap still go.
    let mut capped: Vec<MailCap> = Vec::new();
    let mut entries = entries.iter();
    for entry in entries.by_ref() {
        if capped.contains(&entry.kind.cap()) {
            run.postponed += 1;
            continue;
        }
        if !deadline.has(DELIVERY_BUDGET) {
            run.unreached += 1;
            break;
        }
        let claim_until = deadline.epoch_ms() + CLAIM_MARGIN_MS;
        let claim = state.store.claim(entry, ids::now_ms(), claim_until);
        let attempts = match deadline.run(claim).await {
            Some(Ok(Some(attempts))) => attempts,
            Some(Ok(None)) => {
                run.busy += 1;
                continue;
            }
            Some(Err(e)) => return Err(e),
            None => {
                run.unreached += 1;
                break;
            }
        };
        match deliver(state, entry, Loaded::No, deadline, attempts).await {
            Delivery::Sent => run.sent += 1,
            Delivery::Failed => run.deferred += 1,
            Delivery::Parked => run.parked += 1,
            Delivery::Postponed => {
                run.postponed += 1;
                capped.push(entry.kind.cap());
            }
            Delivery::Unstarted => run.unreached += 1,
            Delivery::Gone => {}
        }
    }
    run.unreached += entries.count();
    Ok(run)
}

/// Whether a pass-through event is the scheduled EventBridge event the
/// template's `Redeliver` schedule sends (`source` `aws.events`,
/// `detail-type` `Scheduled Event`). Everything else that is not an API
/// Gateway request (an ALB or WebSocket event, a queue message, a direct
/// Invoke with some payload) must not start a redelivery run.
pub fn is_schedule(event: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(event) else {
        return false;
    };
    v.get("source").and_then(|s| s.as_str()) == Some("aws.events")
        && v.get("detail-type").and_then(|s| s.as_str()) == Some("Scheduled Event")
}

/// What the log may say about an unrecognised event: its top-level field
/// names, never values (they could carry data).
fn describe(event: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(event) {
        Ok(serde_json::Value::Object(map)) => {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).take(12).collect();
            keys.sort_unstable();
            format!("a JSON object with fields {}", keys.join(", "))
        }
        Ok(_) => "JSON that is not an object".to_owned(),
        Err(_) => "a payload that is not JSON".to_owned(),
    }
}

/// A non-HTTP invocation: the scheduled redelivery run, or an event this
/// function does not handle (answered with an error, nothing changed).
pub(crate) async fn handle_event(
    state: &State,
    info: &RequestInfo,
    event: &[u8],
) -> Response<Body> {
    if !is_schedule(event) {
        let what = describe(event);
        tracing::warn!(
            event = %what,
            "ignored an event that is neither an API Gateway request nor the EventBridge schedule; check the function's triggers"
        );
        return respond::json(
            StatusCode::BAD_REQUEST,
            &json!({
                "error": "unsupported_event",
                "message": "this function handles API Gateway HTTP requests and its EventBridge schedule only",
                "request_id": info.request_id,
            }),
        );
    }
    match redeliver(state, &info.deadline).await {
        Ok(run) => {
            tracing::info!(
                found = run.found,
                sent = run.sent,
                deferred = run.deferred,
                parked = run.parked,
                postponed = run.postponed,
                unreached = run.unreached,
                busy = run.busy,
                "redelivery run"
            );
            respond::json(StatusCode::OK, &json!({"redelivery": run}))
        }
        Err(e) => {
            tracing::warn!(error = %Chain(&e), "redelivery run could not read the outbox");
            respond::error(&crate::web::error::ApiError::Unavailable, &info.request_id)
        }
    }
}
