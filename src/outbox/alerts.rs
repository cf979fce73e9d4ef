//! Owner alerts (PRODUCT.md, "Owner alerts"): a new comment or contact
//! message (never spam) is announced on each configured channel — a signed
//! generic webhook, Slack, Discord, Telegram — besides the owner's mail.
//!
//! Alerts go through the outbox like mail: one entry per channel, stored
//! before the first attempt, delivered at least once, each with its own
//! backoff and parking, under their own hourly cap (`ALERTS_PER_HOUR`), so a
//! failing channel holds back no other and no mail. The outbox's
//! corrections for Akismet (`submit-ham`, `submit-spam`) are delivered here
//! too: they are the same kind of thing, an HTTPS call stored first.
//!
//! Webhook URLs and bot tokens are secrets: never logged (a failure is
//! logged by class: `HTTP 404`, `unreachable`, `timed out`), redacted in
//! `Debug`.

use std::fmt;

use serde_json::{Value, json};

use super::{DELIVERY_BUDGET, Delivery, RECORD_RESERVE, SEND_TIMEOUT};
use crate::config::ConfigError;
use crate::config::state::State;
use crate::config::{contract, outbound};
use crate::domain::ids;
use crate::domain::{Channel, OutboundCall};
use crate::domain::{CommentRecord, ContactRecord, Deferral, MailKind, OutboxEntry};
use crate::security::keys;
use crate::security::spam::akismet::{self, Correction};
use crate::store::CLAIM_MARGIN_MS;
use crate::web::deadline::Deadline;

/// Where Telegram's Bot API is unless `TELEGRAM_API_URL` says otherwise.
const TELEGRAM_API: &str = "https://api.telegram.org";
/// The longest excerpt of what the visitor wrote in an alert.
const EXCERPT_CHARS: usize = 200;
/// The header carrying the webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-rust-aws-signature";

/// The alert channels (`ALERT_WEBHOOK_URL` + `ALERT_WEBHOOK_SECRET`,
/// `SLACK_WEBHOOK_URL`, `DISCORD_WEBHOOK_URL`, `TELEGRAM_BOT_TOKEN` +
/// `TELEGRAM_CHAT_ID` + `TELEGRAM_API_URL`) and their cap.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Alerts {
    webhook: Option<(String, String)>,
    slack: Option<String>,
    discord: Option<String>,
    telegram: Option<Telegram>,
    /// Alerts sent per hour at most, all channels together.
    pub(crate) per_hour: u32,
}

#[derive(Clone, PartialEq, Eq)]
struct Telegram {
    token: String,
    chat_id: String,
    api_url: String,
}

impl fmt::Debug for Alerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which channels are on, never where they point.
        let on: Vec<&str> = self.channels().iter().map(|c| c.as_str()).collect();
        f.debug_struct("Alerts")
            .field("channels", &on)
            .field("per_hour", &self.per_hour)
            .finish()
    }
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// An endpoint that may carry a secret: `https`, or `http` to loopback
/// (a local stub). The message never repeats the value.
fn endpoint(variable: &'static str, value: String) -> Result<String, ConfigError> {
    let uri: http::Uri = value
        .parse()
        .map_err(|_| err(variable, "must be an absolute https URL"))?;
    let loopback = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match uri.scheme_str() {
        Some("https") if uri.host().is_some() => Ok(value),
        Some("http") if loopback => Ok(value),
        _ => Err(err(
            variable,
            "must be an absolute https URL (http only to a loopback address)",
        )),
    }
}

fn plausible_secret(variable: &'static str, value: &str, min: usize) -> Result<(), ConfigError> {
    if value.len() < min || value.len() > 1024 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(err(
            variable,
            format!("must be {min} to 1024 printable ASCII characters without spaces"),
        ));
    }
    Ok(())
}

/// Reads the alert channels; each is on when its variables are set, and a
/// variable without its partner is a mistake named at start.
pub(crate) fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Alerts, ConfigError> {
    let webhook = match (get("ALERT_WEBHOOK_URL"), get("ALERT_WEBHOOK_SECRET")) {
        (None, None) => None,
        (Some(url), Some(secret)) => {
            plausible_secret("ALERT_WEBHOOK_SECRET", &secret, 16)?;
            Some((endpoint("ALERT_WEBHOOK_URL", url)?, secret))
        }
        (Some(_), None) => {
            return Err(err(
                "ALERT_WEBHOOK_SECRET",
                "is required with ALERT_WEBHOOK_URL (the key the receiver checks signatures with)",
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "ALERT_WEBHOOK_URL",
                "is required with ALERT_WEBHOOK_SECRET",
            ));
        }
    };
    let slack = get("SLACK_WEBHOOK_URL")
        .map(|u| endpoint("SLACK_WEBHOOK_URL", u))
        .transpose()?;
    let discord = get("DISCORD_WEBHOOK_URL")
        .map(|u| endpoint("DISCORD_WEBHOOK_URL", u))
        .transpose()?;
    let api = get("TELEGRAM_API_URL");
    let telegram = match (get("TELEGRAM_BOT_TOKEN"), get("TELEGRAM_CHAT_ID")) {
        (None, None) => {
            if api.is_some() {
                return Err(err(
                    "TELEGRAM_API_URL",
                    "is set but TELEGRAM_BOT_TOKEN is not",
                ));
            }
            None
        }
        (Some(token), Some(chat_id)) => {
            plausible_secret("TELEGRAM_BOT_TOKEN", &token, 8)?;
            if !token.contains(':') || token.contains('/') {
                return Err(err(
                    "TELEGRAM_BOT_TOKEN",
                    "is not a bot token (BotFather's `<digits>:<characters>`)",
                ));
            }
            if chat_id.len() > 64 || !chat_id.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(err(
                    "TELEGRAM_CHAT_ID",
                    "must be a chat id (digits, or @channelname)",
                ));
            }
            let api_url = match api {
                None => TELEGRAM_API.to_owned(),
                Some(u) => endpoint("TELEGRAM_API_URL", u)?
                    .trim_end_matches('/')
                    .to_owned(),
            };
            Some(Telegram {
                token,
                chat_id,
                api_url,
            })
        }
        (Some(_), None) => {
            return Err(err(
                "TELEGRAM_CHAT_ID",
                "is required with TELEGRAM_BOT_TOKEN",
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "TELEGRAM_BOT_TOKEN",
                "is required with TELEGRAM_CHAT_ID",
            ));
        }
    };
    let per_hour = match get("ALERTS_PER_HOUR") {
        None => 100,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                err(
                    "ALERTS_PER_HOUR",
                    format!("must be 1 to 1000000, got {v:?}"),
                )
            })?,
    };
    Ok(Alerts {
        webhook,
        slack,
        discord,
        telegram,
        per_hour,
    })
}

impl Alerts {
    /// The channels that are on.
    pub fn channels(&self) -> Vec<Channel> {
        Channel::ALL
            .into_iter()
            .filter(|c| self.is_on(*c))
            .collect()
    }

    fn is_on(&self, channel: Channel) -> bool {
        match channel {
            Channel::Webhook => self.webhook.is_some(),
            Channel::Slack => self.slack.is_some(),
            Channel::Discord => self.discord.is_some(),
            Channel::Telegram => self.telegram.is_some(),
        }
    }
}

/// The text a visitor wrote, shortened for an alert: whitespace collapsed,
/// at most [`EXCERPT_CHARS`] characters.
fn excerpt(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXCERPT_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(EXCERPT_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The event of a new comment.
pub(crate) fn comment_event(state: &State, r: &CommentRecord) -> Value {
    json!({
        "type": "comment.created",
        "site": state.config.site_name,
        "id": r.id,
        "post": r.post,
        "reply_to": r.parent,
        "author": r.name,
        "excerpt": excerpt(&r.body),
        "status": r.status.as_str(),
        "console": format!("{}/admin/", r.links_base),
        "created_at": ids::rfc3339(r.created_ms),
    })
}

/// The event of a new contact message.
pub(crate) fn contact_event(state: &State, r: &ContactRecord, links_base: &str) -> Value {
    json!({
        "type": "contact.received",
        "site": state.config.site_name,
        "id": r.id,
        "subject": r.subject,
        "author": r.name,
        "excerpt": excerpt(&r.message),
        "console": format!("{links_base}/admin/"),
        "created_at": ids::rfc3339(r.created_ms),
    })
}

/// One line saying what happened, for the chat channels.
fn headline(event: &Value) -> String {
    let s = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or("");
    match s("type") {
        "comment.created" => {
            let state = if s("status") == "approved" {
                "published"
            } else {
                "awaiting approval"
            };
            format!(
                "[{}] New comment on {} by {} ({state})",
                s("site"),
                s("post"),
                s("author")
            )
        }
        _ => match event.get("subject").and_then(Value::as_str) {
            Some(subject) => format!("[{}] Message from {}: {subject}", s("site"), s("author")),
            None => format!("[{}] Message from {}", s("site"), s("author")),
        },
    }
}

/// The chat message: the headline, the excerpt, the console link.
fn chat_text(event: &Value) -> String {
    let s = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or("");
    format!("{}\n{}\n{}", headline(event), s("excerpt"), s("console"))
}

/// Slack's mrkdwn treats `&`, `<` and `>` as markup: escaped as Slack
/// documents, so a visitor's text cannot make links or mentions.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`: the webhook's signature.
pub fn signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", ids::hex(&keys::hmac(secret.as_bytes(), body)))
}

/// One call ready to send.
struct Call {
    url: String,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// The call for an outbound entry, or `None` when there is nothing to send
/// any more (the channel or Akismet is no longer configured, the payload is
/// not ours).
fn call_for(state: &State, kind: MailKind, payload: &str, now_ms: u64) -> Option<Call> {
    let mut event: Value = serde_json::from_str(payload).ok()?;
    let alerts = &state.config.alerts;
    let json_call = |url: &str, body: Value| Call {
        url: url.to_owned(),
        content_type: "application/json",
        headers: Vec::new(),
        body: body.to_string().into_bytes(),
    };
    match kind {
        MailKind::Alert(Channel::Webhook) => {
            let (url, secret) = alerts.webhook.as_ref()?;
            // A timestamp in the signed body lets the receiver refuse replays.
            event
                .as_object_mut()?
                .insert("timestamp".into(), json!(now_ms / 1000));
            let body = event.to_string().into_bytes();
            Some(Call {
                url: url.clone(),
                content_type: "application/json",
                headers: vec![(SIGNATURE_HEADER, signature(secret, &body))],
                body,
            })
        }
        MailKind::Alert(Channel::Slack) => {
            let url = alerts.slack.as_ref()?;
            Some(json_call(
                url,
                json!({"text": slack_escape(&chat_text(&event))}),
            ))
        }
        MailKind::Alert(Channel::Discord) => {
            let url = alerts.discord.as_ref()?;
            let text: String = chat_text(&event).chars().take(2_000).collect();
            // No @everyone, role or user pings from a visitor's text.
            Some(json_call(
                url,
                json!({"content": text, "allowed_mentions": {"parse": []}}),
            ))
        }
        MailKind::Alert(Channel::Telegram) => {
            let t = alerts.telegram.as_ref()?;
            let url = format!("{}/bot{}/sendMessage", t.api_url, t.token);
            Some(json_call(
                &url,
                json!({
                    "chat_id": t.chat_id,
                    "text": chat_text(&event),
                    "link_preview_options": {"is_disabled": true},
                }),
            ))
        }
        MailKind::Feedback => {
            let ak = state.config.spam.akismet.as_ref()?;
            let method = match event.get("correction")?.as_str()? {
                "ham" => Correction::Ham,
                "spam" => Correction::Spam,
                _ => return None,
            };
            let fields: Vec<(String, String)> =
                serde_json::from_value(event.get("fields")?.clone()).ok()?;
            Some(Call {
                url: akismet::endpoint(ak, method.method()),
                content_type: "application/x-www-form-urlencoded",
                headers: Vec::new(),
                body: akismet::form(ak, &fields).into_bytes(),
            })
        }
        MailKind::Contact | MailKind::Comment | MailKind::Confirm | MailKind::Reply => None,
    }
}

/// Stores an alert of `event` for each channel that is on, claimed by this
/// request, then tries them all at once where the request has time; what
/// is not sent now, the scheduled redelivery sends.
pub(crate) async fn announce(state: &State, id: &str, event: &Value, deadline: &Deadline) {
    let channels = state.config.alerts.channels();
    if channels.is_empty() {
        return;
    }
    let now = ids::now_ms();
    let calls: Vec<OutboundCall> = channels
        .iter()
        .map(|&c| OutboundCall {
            entry: OutboxEntry {
                kind: MailKind::Alert(c),
                id: id.to_owned(),
            },
            payload: event.to_string(),
            created_ms: now,
        })
        .collect();
    let stored = state
        .store
        .put_outbound(&calls, deadline.epoch_ms() + CLAIM_MARGIN_MS);
    if !matches!(deadline.run(stored).await, Some(Ok(()))) {
        tracing::warn!(
            id,
            "could not store the alerts of a new item; none will be sent"
        );
        return;
    }
    let one = |channel: Channel| {
        let call = calls
            .iter()
            .find(|c| c.entry.kind == MailKind::Alert(channel));
        async move {
            if let Some(call) = call {
                deliver(state, &call.entry, deadline, 0).await;
            }
        }
    };
    tokio::join!(
        one(Channel::Webhook),
        one(Channel::Slack),
        one(Channel::Discord),
        one(Channel::Telegram)
    );
}

/// Tries an outbound entry once, the caller holding its claim and
/// `attempts` being its failed attempts so far; as [`super::deliver`] does
/// for mail, whatever goes wrong is recorded on the entry for a later run.
pub(crate) async fn deliver(
    state: &State,
    entry: &OutboxEntry,
    deadline: &Deadline,
    attempts: u32,
) -> Delivery {
    let kind = entry.kind.as_str();
    let log = |reason: &str| {
        tracing::info!(kind, id = %entry.id, reason, "alert left to redelivery");
        Delivery::Unstarted
    };
    if !deadline.has(DELIVERY_BUDGET) {
        return log("too little time left in this invocation");
    }
    let payload = match deadline.run(state.store.get_outbound(entry)).await {
        Some(Ok(p)) => p,
        _ => return log("the store did not answer"),
    };
    let now = ids::now_ms();
    let Some(call) = payload.and_then(|p| call_for(state, entry.kind, &p, now)) else {
        return match deadline.run(state.store.mark_delivered(entry, now)).await {
            Some(Ok(())) => {
                tracing::info!(kind, id = %entry.id, "dropped: its channel is no longer configured");
                Delivery::Gone
            }
            _ => log("the store did not answer"),
        };
    };
    let (cap, hour) = match super::take_slot(state, entry, attempts, now, deadline).await {
        Ok(slot) => slot,
        Err(held) => return held.unwrap_or_else(|| log("the store did not answer")),
    };
    let sent = deadline
        .run_for(
            SEND_TIMEOUT,
            RECORD_RESERVE,
            outbound::post(&call.url, call.content_type, &call.headers, call.body),
        )
        .await;
    let error = match sent {
        Some(Ok(a)) if entry.kind == MailKind::Feedback && akismet::accepted(a.status, &a.body) => {
            None
        }
        Some(Ok(a)) if entry.kind == MailKind::Feedback => {
            Some(format!("refused (HTTP {})", a.status))
        }
        Some(Ok(a)) if (200..300).contains(&a.status) => None,
        Some(Ok(a)) => Some(format!("HTTP {}", a.status)),
        // The class only: the client's text may name the host.
        Some(Err(e)) => Some(e.class.to_owned()),
        None => Some("timed out".to_owned()),
    };
    let Some(error) = error else {
        if !matches!(
            deadline
                .run(state.store.mark_delivered(entry, ids::now_ms()))
                .await,
            Some(Ok(()))
        ) {
            tracing::warn!(kind, id = %entry.id, "alert sent but not marked delivered");
        }
        tracing::info!(kind, id = %entry.id, "alert delivered");
        return Delivery::Sent;
    };
    if !matches!(
        deadline.run(state.store.return_mail_slot(cap, hour)).await,
        Some(Ok(()))
    ) {
        tracing::warn!("could not give back the alert slot of a failed send");
    }
    let attempts = attempts + 1;
    let parked = attempts >= super::MAX_ATTEMPTS;
    let deferral = Deferral {
        attempts,
        next_attempt_ms: ids::now_ms() + super::retry_delay(attempts).as_millis() as u64,
        parked,
        error,
    };
    tracing::warn!(kind, id = %entry.id, attempts, parked, error = %deferral.error, "alert not delivered");
    super::emit_metric(contract::metrics::MAIL_UNDELIVERED);
    super::record(state, entry, &deferral, deadline).await;
    if parked {
        super::emit_metric(contract::metrics::MAIL_PARKED);
        Delivery::Parked
    } else {
        Delivery::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alerts(vars: &[(&str, &str)]) -> Result<Alerts, ConfigError> {
        let map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_lookup(&|k: &str| map.get(k).cloned())
    }

    #[test]
    fn channels_are_on_with_their_variables_and_partners_are_required() {
        let a = alerts(&[]).unwrap();
        assert!(a.channels().is_empty());
        assert_eq!(a.per_hour, 100);
        assert_eq!(
            alerts(&[("ALERT_WEBHOOK_URL", "https://h.example/x")])
                .unwrap_err()
                .variable,
            "ALERT_WEBHOOK_SECRET"
        );
        assert_eq!(
            alerts(&[("TELEGRAM_BOT_TOKEN", "123:abc")])
                .unwrap_err()
                .variable,
            "TELEGRAM_CHAT_ID"
        );
        let a = alerts(&[
            ("ALERT_WEBHOOK_URL", "https://hooks.example.org/a"),
            ("ALERT_WEBHOOK_SECRET", "0123456789abcdef"),
            (
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T/B/secretpart",
            ),
            (
                "DISCORD_WEBHOOK_URL",
                "http://127.0.0.1:9/api/webhooks/1/tok",
            ),
            ("TELEGRAM_BOT_TOKEN", "123456:ABC-secret"),
            ("TELEGRAM_CHAT_ID", "-100123"),
            ("ALERTS_PER_HOUR", "7"),
        ])
        .unwrap();
        assert_eq!(a.channels(), Channel::ALL.to_vec());
        let shown = format!("{a:?}");
        for secret in [
            "hooks.example",
            "secretpart",
            "tok",
            "ABC-secret",
            "0123456789",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn a_plain_http_endpoint_is_refused_unless_loopback_and_never_echoed() {
        let e = alerts(&[(
            "SLACK_WEBHOOK_URL",
            "http://hooks.slack.com/services/T/B/secretpart",
        )])
        .unwrap_err();
        assert_eq!(e.variable, "SLACK_WEBHOOK_URL");
        assert!(!e.message.contains("secretpart"));
        assert!(alerts(&[("SLACK_WEBHOOK_URL", "not a url")]).is_err());
    }

    #[test]
    fn the_signature_is_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn excerpts_are_short_single_lines_and_slack_markup_is_escaped() {
        assert_eq!(excerpt("a\n\n b\tc"), "a b c");
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), EXCERPT_CHARS);
        assert_eq!(
            slack_escape("<!channel> & <http://x|y>"),
            "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
        );
    }
}
