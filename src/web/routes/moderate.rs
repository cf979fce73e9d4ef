//! GET and POST /comment/moderate: the page an emailed link opens, and its button.
//!
//! Opening a link changes nothing (mail scanners prefetch links); only the
//! page's POST does. The POST is authorised by the signed token alone, so it
//! is exempt from the origin rule.

use http::header::CONTENT_TYPE;
use http::{Response, StatusCode};
use lambda_http::{Body, Request};

use crate::Chain;
use crate::config::state::State;
use crate::domain::ids;
use crate::domain::{CommentRecord, Decided, Decision};
use crate::security::token::{Token, TokenError};
use crate::web::intake::{self, Fields, MediaType};
use crate::web::request::RequestInfo;
use crate::web::respond::{escape_html, page};

fn verb(action: Decision) -> (&'static str, &'static str) {
    match action {
        Decision::Approve => ("Approve", "approved"),
        Decision::Reject => ("Reject", "rejected"),
        Decision::Delete => ("Delete", "deleted"),
    }
}

/// Why a moderation request is refused, each with its page.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// Tampered or malformed token: 403.
    Invalid,
    /// Genuine but expired: 410.
    Expired,
    /// Already decided that way, or gone: 409.
    Conflict,
    /// A reply whose parent is no longer published: 409.
    ParentUnpublished,
    /// The store is unreachable: 503.
    Unavailable,
}

impl Refusal {
    fn page(self) -> Response<Body> {
        let (status, title, text) = match self {
            Refusal::Invalid => (
                StatusCode::FORBIDDEN,
                "Invalid link",
                "This moderation link is not valid. Use the link from the mail as it is.",
            ),
            Refusal::Expired => (
                StatusCode::GONE,
                "Link expired",
                "This moderation link has expired.",
            ),
            Refusal::Conflict => (
                StatusCode::CONFLICT,
                "Nothing to do",
                "This comment has already been decided that way, or it no longer exists.",
            ),
            Refusal::ParentUnpublished => (
                StatusCode::CONFLICT,
                "Reply not published",
                "The comment this replies to is no longer published, so the reply cannot be. Reject or delete it instead.",
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

fn verify(state: &State, text: Option<&str>) -> Result<Token, Refusal> {
    let text = text.ok_or(Refusal::Invalid)?;
    Token::verify(
        text.trim(),
        &state.config.keys.moderation,
        ids::now_ms() / 1000,
    )
    .map_err(|e| match e {
        TokenError::Invalid => Refusal::Invalid,
        TokenError::Expired(_) => Refusal::Expired,
    })
}

/// Loads the comment a token names, unless that action is moot.
async fn target(state: &State, token: &Token) -> Result<CommentRecord, Refusal> {
    match state
        .store
        .get_comment(&token.comment_id, ids::now_ms())
        .await
    {
        Err(_) => Err(Refusal::Unavailable),
        Ok(None) => Err(Refusal::Conflict),
        Ok(Some(c)) if token.action.target() == Some(c.status) => Err(Refusal::Conflict),
        Ok(Some(c)) => Ok(c),
    }
}

/// GET: shows the comment, the action and one button.
pub(crate) async fn show(state: &State, req: &Request) -> Response<Body> {
    let query = Fields::parse(
        &MediaType::UrlEncoded,
        req.uri().query().unwrap_or("").as_bytes(),
    )
    .unwrap_or_default();
    let text = query.text("token").map(str::to_owned);
    let token = match verify(state, text.as_deref()) {
        Ok(t) => t,
        Err(refusal) => return refusal.page(),
    };
    let comment = match target(state, &token).await {
        Ok(c) => c,
        Err(refusal) => return refusal.page(),
    };
    let (label, _) = verb(token.action);
    let body = format!(
        "<p>{label} this comment on <strong>{post}</strong> by <strong>{name}</strong>{url}, now {status}?</p>\n\
<blockquote>{text}</blockquote>\n\
<form method=\"post\" action=\"moderate\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
<button type=\"submit\">{label}</button></form>",
        post = escape_html(&comment.post),
        name = escape_html(&comment.name),
        url = comment
            .url
            .as_deref()
            .map(|u| format!(" ({})", escape_html(u)))
            .unwrap_or_default(),
        status = comment.status.as_str(),
        text = escape_html(&comment.body),
        token = escape_html(text.as_deref().unwrap_or("").trim()),
    );
    page(StatusCode::OK, &format!("{label} comment"), &body)
}

/// POST: applies the decision the token authorises.
pub(crate) async fn decide(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
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
    let token = match verify(state, fields.text("token")) {
        Ok(t) => t,
        Err(refusal) => return refusal.page(),
    };
    if !info.deadline.has(crate::web::deadline::STORE_WRITE) {
        return Refusal::Unavailable.page();
    }
    match apply(state, info, &token.comment_id, token.action).await {
        Ok(Decided::Done) => {
            let (_, done) = verb(token.action);
            page(
                StatusCode::OK,
                &format!("Comment {done}"),
                &format!("<p>The comment is now {done}.</p>"),
            )
        }
        Ok(Decided::Conflict) => Refusal::Conflict.page(),
        Ok(Decided::ParentUnpublished) => Refusal::ParentUnpublished.page(),
        Err(e) => {
            tracing::warn!(error = %Chain(&e), "moderation could not reach the store");
            Refusal::Unavailable.page()
        }
    }
}

/// Makes a moderation decision, whoever asks (a mailed link's button, the
/// owner's console): the store's one transaction, then, for an approval,
/// the mails it recorded, delivered now where the request has time.
pub(crate) async fn apply(
    state: &State,
    info: &RequestInfo,
    comment_id: &str,
    action: Decision,
) -> Result<Decided, crate::store::StoreError> {
    let decided = state
        .store
        .decide(comment_id, action, ids::now_ms())
        .await?;
    if decided != Decided::Done {
        return Ok(decided);
    }
    tracing::info!(comment_id = %comment_id, action = action.as_str(), request_id = %info.request_id, "comment moderated");
    if action == Decision::Approve {
        match state.store.get_comment(comment_id, ids::now_ms()).await {
            Ok(Some(comment)) => {
                crate::outbox::published(state, &comment, &info.deadline).await;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %Chain(&e), "approved comment not read back; no reply notifications for it");
            }
        }
    }
    Ok(decided)
}
