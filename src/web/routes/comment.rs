//! POST /comment, GET /comment and GET /comment/count.

use http::header::{CACHE_CONTROL, LOCATION};
use http::{HeaderValue, Response, StatusCode};
use lambda_http::{Body, Request};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::Moderation;
use crate::config::state::State;
use crate::domain::{
    CommentRecord, CommentStatus, FieldCode, FieldError, Held, MailKind, NewComment, OutboxEntry,
    SingleLine, ids,
};
use crate::outbox::{self, alerts, replies};
use crate::security::cursor;
use crate::security::spam::{self, Verdict};
use crate::store::CLAIM_MARGIN_MS;
use crate::web::error::ApiError;
use crate::web::intake::{Fields, MediaType};
use crate::web::respond;
use crate::web::submit::{Form, Submission};

/// Default and largest page sizes.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;
/// Most posts one count request may name.
const MAX_COUNT_POSTS: usize = 50;

/// The status a new comment gets.
pub(crate) fn initial_status(config: &crate::config::Config) -> CommentStatus {
    match config.moderation {
        Moderation::Pre => CommentStatus::Pending,
        Moderation::Off => CommentStatus::Approved,
    }
}

/// The 201 answer with its `Location`.
pub(crate) fn created(id: &str, post: &str, status: CommentStatus) -> Response<Body> {
    let mut res = respond::json(
        StatusCode::CREATED,
        &json!({"id": id, "post": post, "status": status.as_str()}),
    );
    let location = format!(
        "/comment?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("post", post)
            .finish()
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

/// `POST /comment`'s part of the submission pipeline.
#[derive(Debug)]
pub(crate) struct CommentForm(NewComment);

impl Form for CommentForm {
    const PATH: &'static str = "/comment";

    fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>> {
        NewComment::parse(fields).map(CommentForm)
    }

    /// Checks the parent, stores, then mails the owner.
    async fn accept(self, state: &State, sub: Submission) -> Result<Response<Body>, ApiError> {
        let comment = self.0;
        let now = ids::now_ms();
        let post = comment.post.as_str().to_owned();
        if let Some(parent) = &comment.parent {
            let found = state.store.get_comment(parent, now).await?;
            let replyable = found.is_some_and(|p| {
                p.post == post && p.status == CommentStatus::Approved && p.parent.is_none()
            });
            if !replyable {
                return Err(ApiError::field(FieldError::invalid(
                    "parent",
                    "must be the id of an approved top-level comment on this post",
                )));
            }
        }
        let record = CommentRecord {
            id: ids::new_id(),
            post,
            parent: comment.parent,
            name: comment.name.as_str().to_owned(),
            email: comment.email.map(|e| e.as_str().to_owned()),
            url: comment.url.map(|u| u.as_str().to_owned()),
            body: comment.body.as_str().to_owned(),
            created_ms: now,
            status: initial_status(&state.config),
            ip_hash: sub.ip_hash,
            links_base: sub.links_base,
            notify: comment.notify,
            mailbox: None,
        };
        let mut record = CommentRecord {
            // The key of the day's limits, kept only while notifications are
            // on: without it the store subscribes no one.
            mailbox: record
                .email
                .as_deref()
                .filter(|_| record.notify && replies::enabled(state))
                .map(|email| replies::mailbox_key(state, email)),
            ..record
        };
        if !sub.deadline.has(crate::web::deadline::STORE_WRITE) {
            tracing::warn!("too little time left to store the submission; answering 503");
            return Err(ApiError::Unavailable);
        }
        // The verdict: spam is held back, answered exactly as ham would be.
        let held = Held::Comment(record.clone());
        let verdict = spam::screen(state, &held, &sub.visitor, &sub.deadline).await?;
        if matches!(verdict, Verdict::Spam(_) | Verdict::Discard) {
            if !sub.deadline.has(crate::web::deadline::STORE_WRITE) {
                return Err(ApiError::Unavailable);
            }
            spam::hold(state, held, verdict).await?;
            return Ok(created(&record.id, &record.post, record.status));
        }
        if verdict == Verdict::Unchecked {
            // No verdict: the owner decides, whatever MODERATION says.
            record.status = CommentStatus::Pending;
        }
        if !sub.deadline.has(crate::web::deadline::STORE_WRITE) {
            tracing::warn!("too little time left to store the submission; answering 503");
            return Err(ApiError::Unavailable);
        }
        state
            .store
            .put_comment(&record, sub.deadline.epoch_ms() + CLAIM_MARGIN_MS)
            .await?;
        tracing::info!(comment_id = %record.id, status = record.status.as_str(), "comment stored");
        let entry = OutboxEntry {
            kind: MailKind::Comment,
            id: record.id.clone(),
        };
        outbox::deliver(
            state,
            &entry,
            outbox::Loaded::Comment(&record),
            &sub.deadline,
            0,
        )
        .await;
        // Published at once (MODERATION=off): the store recorded the mails
        // that implies with the comment; they go now if time allows.
        outbox::published(state, &record, &sub.deadline).await;
        alerts::announce(
            state,
            &record.id,
            &alerts::comment_event(state, &record),
            &sub.deadline,
        )
        .await;
        Ok(created(&record.id, &record.post, record.status))
    }

    fn decoy(state: &State, fields: &Fields) -> Response<Body> {
        let post = fields.text("post").map(str::trim).unwrap_or("");
        created(&ids::new_id(), post, initial_status(&state.config))
    }
}

fn cacheable(mut res: Response<Body>) -> Response<Body> {
    res.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    res
}

fn query(req: &Request) -> &[u8] {
    req.uri().query().unwrap_or("").as_bytes()
}

fn parse_post(raw: &str) -> Result<String, FieldError> {
    SingleLine::parse("post", raw, 1, 512).map(|p| p.as_str().to_owned())
}

/// The public view of a comment: no email, no IP hash, no status.
fn public(state: &State, c: &CommentRecord) -> serde_json::Value {
    let avatar = c
        .email
        .as_deref()
        .filter(|_| state.config.avatars)
        .map(|e| ids::hex(&Sha256::digest(e.trim().to_lowercase().as_bytes())));
    json!({
        "id": c.id,
        "parent": c.parent,
        "name": c.name,
        "url": c.url,
        "avatar": avatar,
        "body": c.body,
        "created_at": ids::rfc3339(c.created_ms),
    })
}

/// GET /comment?post=P[&limit=N][&cursor=C]: one page of approved comments.
pub(crate) async fn list(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let q = Fields::parse(&MediaType::UrlEncoded, query(req)).map_err(ApiError::field)?;
    let mut errors = Vec::new();
    let post = q
        .required("post")
        .and_then(parse_post)
        .map_err(|e| errors.push(e))
        .ok();
    let limit = match q.optional("limit") {
        Ok(None) => Some(DEFAULT_LIMIT),
        Ok(Some(raw)) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::invalid(
                    "limit",
                    format_args!("must be a whole number from 1 to {MAX_LIMIT}"),
                ));
                None
            }
        },
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let after = match (q.optional("cursor"), &post) {
        (Ok(Some(c)), Some(post)) => match cursor::decode(&state.config.keys.cursor, post, c) {
            Some(position) => Some(position),
            None => {
                errors.push(FieldError::invalid(
                    "cursor",
                    "is not a cursor this API issued for this post",
                ));
                None
            }
        },
        (Err(e), _) => {
            errors.push(e);
            None
        }
        _ => None,
    };
    let (Some(post), Some(limit), true) = (post, limit, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    // One extra tells whether another page exists, so the last page never
    // ends in an empty one.
    let mut page = state.store.list_approved(&post, after, limit + 1).await?;
    let more = page.len() > limit;
    page.truncate(limit);
    let next_cursor = match page.last() {
        Some(last) if more => Some(cursor::encode(
            &state.config.keys.cursor,
            &post,
            &(last.created_ms, last.id.clone()),
        )),
        _ => None,
    };
    let comments: Vec<_> = page.iter().map(|c| public(state, c)).collect();
    Ok(cacheable(respond::json(
        StatusCode::OK,
        &json!({"post": post, "comments": comments, "next_cursor": next_cursor}),
    )))
}

/// GET /comment/count?post=A&post=B: approved-comment counts for up to 50 posts.
pub(crate) async fn count(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let mut posts: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query(req)) {
        if key != "post" {
            continue;
        }
        if value.contains('\u{FFFD}') {
            return Err(ApiError::field(FieldError::invalid(
                "post",
                "is not valid UTF-8",
            )));
        }
        let post = parse_post(&value).map_err(ApiError::field)?;
        if !posts.contains(&post) {
            posts.push(post);
        }
    }
    if posts.is_empty() {
        return Err(ApiError::field(FieldError::required("post")));
    }
    if posts.len() > MAX_COUNT_POSTS {
        return Err(ApiError::field(FieldError::new(
            "post",
            FieldCode::TooLong,
            format!("at most {MAX_COUNT_POSTS} posts per request"),
        )));
    }
    let counts = state.store.count_approved(&posts).await?;
    let map: serde_json::Map<String, serde_json::Value> = posts
        .into_iter()
        .zip(counts)
        .map(|(p, n)| (p, json!(n)))
        .collect();
    Ok(cacheable(respond::json(
        StatusCode::OK,
        &json!({"counts": map}),
    )))
}
