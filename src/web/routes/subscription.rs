//! GET and POST /comment/notify: the page a reply-notification mail's confirm
//! or unsubscribe link opens, its button, and RFC 8058 one-click unsubscribe.
//!
//! Like the moderation pages, opening a link changes nothing (mail scanners
//! prefetch links); only a POST does. The POST is authorised by the signed
//! token alone (from the page's form, or from the link's own query string
//! when a mail client posts `List-Unsubscribe=One-Click` to it), so it is
//! exempt from the origin rule.

use http::header::CONTENT_TYPE;
use http::{Response, StatusCode};
use lambda_http::{Body, Request};

use crate::Chain;
use crate::config::state::State;
use crate::domain::ids;
use crate::domain::{Confirmed, Subscription};
use crate::security::token::{NotifyAction, NotifyToken, NotifyTokenError};
use crate::web::intake::{self, Fields, MediaType};
use crate::web::request::RequestInfo;
use crate::web::respond::{escape_html, page};

/// The body a mail client posts for an RFC 8058 one-click unsubscribe.
const ONE_CLICK: (&str, &str) = ("List-Unsubscribe", "One-Click");

/// Why a request is refused, each with its page.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// Tampered, malformed, or another purpose's token: 403.
    Invalid,
    /// Genuine but expired: 410.
    Expired,
    /// The subscription to confirm no longer exists: 409.
    Gone,
    /// The store is unreachable: 503.
    Unavailable,
}

impl Refusal {
    fn page(self) -> Response<Body> {
        let (status, title, text) = match self {
            Refusal::Invalid => (
                StatusCode::FORBIDDEN,
                "Invalid link",
                "This link is not valid. Use the link from the mail as it is.",
            ),
            Refusal::Expired => (
                StatusCode::GONE,
                "Link expired",
                "This link has expired. Comment again with notifications on to get a new one.",
            ),
            Refusal::Gone => (
                StatusCode::CONFLICT,
                "Nothing to confirm",
                "This subscription no longer exists: it was cancelled, it expired, or its comment was removed.",
            ),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The service is temporarily unavailable. Try again in a moment.",
            ),
        };
        crate::web::respond::notice(status, title, text)
    }
}

fn verify(state: &State, text: Option<&str>) -> Result<NotifyToken, Refusal> {
    let text = text.ok_or(Refusal::Invalid)?;
    NotifyToken::verify(text.trim(), &state.config.keys.notify, ids::now_ms() / 1000).map_err(|e| {
        match e {
            NotifyTokenError::Invalid => Refusal::Invalid,
            NotifyTokenError::Expired => Refusal::Expired,
        }
    })
}

fn query(req: &Request) -> Fields {
    Fields::parse(
        &MediaType::UrlEncoded,
        req.uri().query().unwrap_or("").as_bytes(),
    )
    .unwrap_or_default()
}

async fn load(state: &State, comment_id: &str) -> Result<Option<Subscription>, Refusal> {
    state
        .store
        .get_subscription(comment_id, ids::now_ms())
        .await
        .map_err(|e| {
            tracing::warn!(error = %Chain(&e), "subscription page could not reach the store");
            Refusal::Unavailable
        })
}

fn button_page(title: &str, question: &str, label: &str, token: &str) -> Response<Body> {
    let body = format!(
        "<p>{question}</p>\n<form method=\"post\" action=\"notify\">\
<input type=\"hidden\" name=\"token\" value=\"{token}\"><button type=\"submit\">{label}</button></form>",
        token = escape_html(token),
        label = escape_html(label),
    );
    page(StatusCode::OK, title, &body)
}

/// GET: says what the link does and shows one button.
pub(crate) async fn show(state: &State, req: &Request) -> Response<Body> {
    let q = query(req);
    let text = q.text("token").map(str::trim).unwrap_or("");
    let token = match verify(state, Some(text)) {
        Ok(t) => t,
        Err(refusal) => return refusal.page(),
    };
    let sub = match load(state, &token.comment_id).await {
        Ok(sub) => sub,
        Err(refusal) => return refusal.page(),
    };
    let site = escape_html(&state.config.site_name);
    match (token.action, sub) {
        (NotifyAction::Confirm, None) => Refusal::Gone.page(),
        (NotifyAction::Confirm, Some(sub)) if sub.confirmed => page(
            StatusCode::OK,
            "Already confirmed",
            &format!(
                "<p>You already get an email when someone replies to your comment on <strong>{}</strong>.</p>",
                escape_html(&sub.post)
            ),
        ),
        (NotifyAction::Confirm, Some(sub)) => button_page(
            "Confirm reply notifications",
            &format!(
                "Email me when someone replies to my comment on <strong>{}</strong> at {site}?",
                escape_html(&sub.post)
            ),
            "Confirm",
            text,
        ),
        (NotifyAction::Unsubscribe, None) => unsubscribed_page(),
        (NotifyAction::Unsubscribe, Some(sub)) => button_page(
            "Unsubscribe",
            &format!(
                "Stop emails about replies to your comment on <strong>{}</strong> at {site}?",
                escape_html(&sub.post)
            ),
            "Unsubscribe",
            text,
        ),
    }
}

fn unsubscribed_page() -> Response<Body> {
    page(
        StatusCode::OK,
        "Unsubscribed",
        "<p>You will get no more emails about replies to this comment.</p>",
    )
}

/// POST: confirms or unsubscribes, as the token says. A body of
/// `List-Unsubscribe=One-Click` (RFC 8058) unsubscribes at once with the
/// token of the link it was posted to; it never confirms anything.
pub(crate) async fn act(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let q = query(&req);
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req.into_body();
    let fields = match intake::media_type(content_type.as_deref()) {
        Ok(media) if body.len() <= intake::MAX_BODY_BYTES => {
            Fields::parse(&media, body.as_ref()).unwrap_or_default()
        }
        _ => Fields::default(),
    };
    let one_click = fields.text(ONE_CLICK.0).map(str::trim) == Some(ONE_CLICK.1);
    let text = fields.text("token").or_else(|| q.text("token"));
    let token = match verify(state, text) {
        Ok(t) => t,
        Err(refusal) => return refusal.page(),
    };
    let now = ids::now_ms();
    match token.action {
        NotifyAction::Confirm if one_click => Refusal::Invalid.page(),
        NotifyAction::Confirm => match state
            .store
            .confirm_subscription(&token.comment_id, now)
            .await
        {
            Ok(Confirmed::Done | Confirmed::Already) => {
                tracing::info!(comment_id = %token.comment_id, request_id = %info.request_id, "reply notifications confirmed");
                page(
                    StatusCode::OK,
                    "Confirmed",
                    "<p>You will get an email when someone replies to your comment. Each one has a link to stop them.</p>",
                )
            }
            Ok(Confirmed::Gone) => Refusal::Gone.page(),
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "confirmation could not reach the store");
                Refusal::Unavailable.page()
            }
        },
        NotifyAction::Unsubscribe => match state.store.unsubscribe(&token.comment_id).await {
            Ok(removed) => {
                tracing::info!(comment_id = %token.comment_id, removed, one_click, request_id = %info.request_id, "reply notifications ended");
                unsubscribed_page()
            }
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "unsubscribe could not reach the store");
                Refusal::Unavailable.page()
            }
        },
    }
}
