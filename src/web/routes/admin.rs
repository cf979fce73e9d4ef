//! GET and POST /admin…: the owner's console (README.md, "The owner's
//! console"; docs/security.md, "The owner's console").
//!
//! Signed in by a link mailed to `OWNER_EMAIL`, held by a `__Host-` session
//! cookie bound to a session record in the store. Every state-changing POST
//! passes three checks, in this order: the own-origin rule, the session,
//! and the CSRF token bound to the session; a refusal changes nothing.
//! Decisions are the mailed links' decisions ([`super::moderate::apply`]).
//! Each action answers 303 back to its page with a notice, so the pages
//! work as plain forms without JavaScript.

mod auth;
mod pages;

use std::collections::HashMap;
use std::sync::LazyLock;

use http::header::{CONTENT_TYPE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use lambda_http::{Body, Request};

use self::auth::SignIn;
use self::pages::{Frame, Notice};
use super::widget::Asset;
use crate::config::Moderation;
use crate::config::state::State;
use crate::domain::ids;
use crate::domain::{CommentRecord, Decided, Decision, Held, ListPosition, MailKind, OutboxEntry};
use crate::security::spam::{self, Condemned};
use crate::store::{CLAIM_MARGIN_MS, SessionRecord, StoreError};
use crate::web::deadline::STORE_WRITE;
use crate::web::intake;
use crate::web::request::RequestInfo;
use crate::web::respond::{escape_html, see_other};

/// Comments a list page shows.
const PAGE: usize = 50;
/// Comments one bulk decision takes (a page's worth, and some).
const BULK_MAX: usize = 100;
/// Mail entries the outbox page lists of each kind of line.
const OUTBOX_LIST: usize = 100;

/// `console.css`, as served.
pub(crate) static STYLESHEET: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(include_str!("admin/console.css"), "text/css; charset=utf-8"));

/// Where this request's console lives.
struct Place {
    frame: Frame,
    /// The API's own origin, for the own-origin rule.
    own: Option<String>,
    /// The API's base URL, for the mailed link.
    base: String,
}

fn place(state: &State, info: &RequestInfo) -> Place {
    let base = state
        .config
        .public_url
        .clone()
        .or_else(|| info.base_url.clone())
        .unwrap_or_else(|| "http://localhost".to_owned());
    let own = intake::origin_of_url(&base);
    let root = own
        .as_deref()
        .and_then(|o| base.get(o.len()..))
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned();
    Place {
        frame: Frame {
            root,
            site: state.config.site_name.clone(),
            site_url: state.config.site_url.clone(),
        },
        own,
        base: base.trim_end_matches('/').to_owned(),
    }
}

/// Form or query pairs, in order (a bulk decision repeats `id`).
type Pairs = Vec<(String, String)>;

fn get<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn query(req: &Request) -> Pairs {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The fields of a console form: URL-encoded, as the pages post them;
/// anything else reads as no fields (and so fails the CSRF check).
fn form(req: Request) -> Pairs {
    let urlencoded = matches!(
        intake::media_type(
            req.headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
        ),
        Ok(intake::MediaType::UrlEncoded)
    );
    let body = req.into_body();
    if !urlencoded || body.len() > intake::MAX_BODY_BYTES {
        return Pairs::new();
    }
    form_urlencoded::parse(body.as_ref()).into_owned().collect()
}

/// Why a console request is refused, each with its page. None changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// A POST from another origin: 403.
    Origin,
    /// A POST without a live session: 403.
    SignedOut,
    /// A POST without the session's CSRF token: 403.
    Csrf,
    /// A tampered or malformed sign-in link: 403.
    LinkInvalid,
    /// An expired sign-in link: 410.
    LinkExpired,
    /// A sign-in link used already: 409.
    LinkUsed,
    /// The store is unreachable: 503.
    Unavailable,
}

impl Refusal {
    fn page(self, place: &Place) -> Response<Body> {
        let (status, title, text) = match self {
            Refusal::Origin => (
                StatusCode::FORBIDDEN,
                "Refused",
                "This request did not come from the console's own pages, so nothing was changed.",
            ),
            Refusal::SignedOut => (
                StatusCode::FORBIDDEN,
                "Signed out",
                "Your session has ended, so nothing was changed. Sign in again.",
            ),
            Refusal::Csrf => (
                StatusCode::FORBIDDEN,
                "Refused",
                "This form is out of date or did not come from the console, so nothing was changed. Go back to the console and try again.",
            ),
            Refusal::LinkInvalid => (
                StatusCode::FORBIDDEN,
                "Invalid link",
                "This sign-in link is not valid. Use the link from the mail as it is, or ask for a new one.",
            ),
            Refusal::LinkExpired => (
                StatusCode::GONE,
                "Link expired",
                "This sign-in link has expired: links work for 15 minutes. Ask for a new one.",
            ),
            Refusal::LinkUsed => (
                StatusCode::CONFLICT,
                "Link used",
                "This sign-in link has been used already: each works once. Ask for a new one.",
            ),
            Refusal::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "The service is temporarily unavailable. Try again in a moment.",
            ),
        };
        let inner = format!(
            "<p>{}</p><p><a href=\"{}/admin\">Go to the console</a></p>",
            escape_html(text),
            escape_html(&place.frame.root)
        );
        pages::card(status, &place.frame, title, None, &inner)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "console: store call failed; answering 503");
        Refusal::Unavailable
    }
}

/// A live session of the request's cookie.
struct Signed {
    id_hash: String,
    csrf: String,
}

async fn session(state: &State, headers: &HeaderMap) -> Result<Option<Signed>, Refusal> {
    let Some(id) = auth::session_cookie(headers) else {
        return Ok(None);
    };
    let id_hash = auth::id_hash(&id);
    let found = state.store.get_session(&id_hash, ids::now_ms()).await?;
    Ok(found.map(|_| Signed {
        csrf: auth::csrf_token(&state.config.keys.console, &id),
        id_hash,
    }))
}

/// The session of a page that only a signed-in owner sees: signed out, a
/// redirect to `/admin` (the sign-in page).
async fn signed_in(
    state: &State,
    place: &Place,
    headers: &HeaderMap,
) -> Result<Signed, Response<Body>> {
    match session(state, headers).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(see_other(&format!("{}/admin", place.frame.root))),
        Err(r) => Err(r.page(place)),
    }
}

/// Cuts a list read `PAGE + 1` long to a page; the position of its last
/// item when there is a next page.
fn cut_page<T>(list: &mut Vec<T>, position: impl Fn(&T) -> ListPosition) -> Option<String> {
    if list.len() <= PAGE {
        return None;
    }
    list.truncate(PAGE);
    list.last().map(|last| position_text(&position(last)))
}

/// The checks of a state-changing POST, in order: own origin, session,
/// CSRF token. Then the form's fields.
async fn guard(
    state: &State,
    info: &RequestInfo,
    req: Request,
) -> Result<(Place, Signed, Pairs), Response<Body>> {
    let place = place(state, info);
    if !auth::own_origin(req.headers(), place.own.as_deref()) {
        return Err(Refusal::Origin.page(&place));
    }
    let cookie = auth::session_cookie(req.headers());
    let signed = match session(state, req.headers()).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(Refusal::SignedOut.page(&place)),
        Err(r) => return Err(r.page(&place)),
    };
    let fields = form(req);
    let id = cookie.unwrap_or_default();
    if !auth::csrf_ok(&state.config.keys.console, &id, get(&fields, "csrf")) {
        return Err(Refusal::Csrf.page(&place));
    }
    Ok((place, signed, fields))
}

fn with_cookie(mut res: Response<Body>, cookie: &str) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().insert(SET_COOKIE, v);
    }
    res
}

/// `ms.id` of a list position, as the pages' "next" links carry it.
fn position_text((ms, id): &ListPosition) -> String {
    format!("{ms}.{id}")
}

fn parse_position(text: Option<&str>) -> Option<ListPosition> {
    let (ms, id) = text?.split_once('.')?;
    let ok = !id.is_empty()
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
    ok.then_some((ms.parse().ok()?, id.to_owned()))
}

/// The notice a redirect asked for, from a fixed set of texts (nothing of
/// the query is shown as it came).
fn notice(q: &Pairs) -> Option<Notice> {
    let count = |name| {
        get(q, name)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let ok = |text: String| Some(Notice { text, warn: false });
    let warn = |text: &str| {
        Some(Notice {
            text: text.to_owned(),
            warn: true,
        })
    };
    if let Some(done) = get(q, "done") {
        let verb = match done {
            "approve" => "approved",
            "reject" => "rejected",
            "delete" => "deleted",
            "spam" => "moved to the spam folder (Akismet is told)",
            "ham" => "released from the spam folder into the normal flow (Akismet is told)",
            "drop" => "deleted from the spam folder",
            _ => return None,
        };
        let (n, skipped) = (count("n"), count("skipped"));
        let mut text = match n {
            1 => format!("1 comment {verb}."),
            n => format!("{n} comments {verb}."),
        };
        if skipped > 0 {
            text.push_str(&format!(
                " {skipped} not: already decided or gone, a reply whose parent is not published, or out of time."
            ));
        }
        return Some(Notice { text, warn: n == 0 });
    }
    match (get(q, "note"), get(q, "retry")) {
        (Some("none-selected"), _) => warn("Select at least one comment first."),
        (Some("link-sent"), _) => ok(
            "If this is the console of your site, a sign-in link is on its way to the owner's address. It works once, for 15 minutes."
                .into(),
        ),
        (Some("signed-out"), _) => ok("You are signed out.".into()),
        (Some("signed-out-everywhere"), _) => ok("Every session is signed out.".into()),
        (_, Some("sent")) => ok("The mail was sent.".into()),
        (_, Some("failed")) => warn("The mail could not be sent; its error is recorded and it is retried later."),
        (_, Some("busy")) => warn("That mail is being sent by another run, or is no longer waiting."),
        (_, Some("waiting")) => warn("Too little time left to send it now; the next run will."),
        _ => None,
    }
}

/// The sign-in page: one button.
fn sign_in_page(place: &Place, notice: Option<&Notice>) -> Response<Body> {
    let inner = format!(
        "<p>Sign in with a link mailed to the site owner's address. There is no password.</p>\
<form method=\"post\" action=\"{}/admin/link\"><button class=\"primary wide\">Email me a sign-in link</button></form>\
<p class=\"fine\">The link works once, for 15 minutes. At most 5 links are sent an hour.</p>",
        escape_html(&place.frame.root)
    );
    pages::card(
        StatusCode::OK,
        &place.frame,
        &format!("{} console", place.frame.site),
        notice,
        &inner,
    )
}

/// The first line of each replied-to comment among `comments`, read once each.
async fn with_parents(
    state: &State,
    comments: Vec<CommentRecord>,
    now_ms: u64,
) -> Result<Vec<(CommentRecord, Option<String>)>, Refusal> {
    let mut lines: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(comments.len());
    for c in comments {
        let parent = match &c.parent {
            None => None,
            Some(p) => {
                if !lines.contains_key(p) {
                    let found = state.store.get_comment(p, now_ms).await?;
                    lines.insert(p.clone(), found.map(|f| f.body));
                }
                lines.get(p).cloned().flatten()
            }
        };
        out.push((c, parent));
    }
    Ok(out)
}

/// `GET /admin`: the queue, or the sign-in page when signed out.
pub(crate) async fn home(state: &State, info: &RequestInfo, req: &Request) -> Response<Body> {
    let place = place(state, info);
    let q = query(req);
    let signed = match session(state, req.headers()).await {
        Ok(Some(s)) => s,
        Ok(None) => return sign_in_page(&place, notice(&q).as_ref()),
        Err(r) => return r.page(&place),
    };
    let now = ids::now_ms();
    let after = parse_position(get(&q, "after"));
    let mut list = match state.store.pending_page(after, PAGE + 1, now).await {
        Ok(l) => l,
        Err(e) => return Refusal::from(e).page(&place),
    };
    let next = cut_page(&mut list, |c| (c.created_ms, c.id.clone()));
    let list = match with_parents(state, list, now).await {
        Ok(l) => l,
        Err(r) => return r.page(&place),
    };
    pages::queue(
        &place.frame,
        &signed.csrf,
        notice(&q).as_ref(),
        &list,
        next.as_deref(),
        now,
    )
}

/// `GET /admin/published[?post=P][&before=C]`.
pub(crate) async fn published(state: &State, info: &RequestInfo, req: &Request) -> Response<Body> {
    let place = place(state, info);
    let signed = match signed_in(state, &place, req.headers()).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let q = query(req);
    let post = get(&q, "post")
        .map(str::trim)
        .filter(|p| !p.is_empty() && p.chars().count() <= 512);
    let before = parse_position(get(&q, "before"));
    let now = ids::now_ms();
    let mut list = match state.store.published_page(post, before, PAGE + 1).await {
        Ok(l) => l,
        Err(e) => return Refusal::from(e).page(&place),
    };
    let next = cut_page(&mut list, |c| (c.created_ms, c.id.clone()));
    let list = match with_parents(state, list, now).await {
        Ok(l) => l,
        Err(r) => return r.page(&place),
    };
    pages::published(
        &place.frame,
        &signed.csrf,
        notice(&q).as_ref(),
        post,
        &list,
        next.as_deref(),
        now,
    )
}

/// `GET /admin/outbox`.
pub(crate) async fn outbox(state: &State, info: &RequestInfo, req: &Request) -> Response<Body> {
    let place = place(state, info);
    let signed = match signed_in(state, &place, req.headers()).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let items = match state.store.list_outbox(OUTBOX_LIST).await {
        Ok(items) => items,
        Err(e) => return Refusal::from(e).page(&place),
    };
    pages::outbox(
        &place.frame,
        &signed.csrf,
        notice(&query(req)).as_ref(),
        &items,
        ids::now_ms(),
    )
}

/// `POST /admin/link`: mails a sign-in link (at most [`auth::LINKS_PER_HOUR`]
/// an hour) and answers the same whatever happened.
pub(crate) async fn link(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let place = place(state, info);
    if !auth::own_origin(req.headers(), place.own.as_deref()) {
        return Refusal::Origin.page(&place);
    }
    let now = ids::now_ms();
    let sign_in = SignIn::new(now);
    let hour = now / 3_600_000;
    let issued = state
        .store
        .issue_sign_in(
            &sign_in.nonce,
            sign_in.expires_s * 1000,
            hour,
            auth::LINKS_PER_HOUR,
        )
        .await;
    match issued {
        Err(e) => return Refusal::from(e).page(&place),
        Ok(false) => tracing::info!("console: this hour's sign-in links are used up; none sent"),
        Ok(true) => {
            let url = format!(
                "{}/admin/sign-in?token={}",
                place.base,
                sign_in.sign(&state.config.keys.console)
            );
            let site = &state.config.site_name;
            let mail = crate::outbox::owner_mail(
                state,
                format!("[{site}] Your sign-in link"),
                format!(
                    "Open this link to sign in to the console of {site}:\n\n{url}\n\n\
It works once, within 15 minutes, and opens a page with a \"Sign in\" button.\n\
If you did not ask for it, ignore this mail: nobody signs in without the link.\n"
                ),
                None,
            );
            // A link lives 15 minutes: it is sent now or not at all (no
            // outbox); the owner asks again.
            match info.deadline.run(state.mailer.send(&mail)).await {
                Some(Ok(())) => tracing::info!("console: sign-in link mailed"),
                Some(Err(e)) => tracing::warn!(error = %e, "console: sign-in link not mailed"),
                None => tracing::warn!("console: sign-in link not mailed before the deadline"),
            }
        }
    }
    see_other(&format!("{}/admin?note=link-sent", place.frame.root))
}

fn token_of(pairs: &Pairs) -> Option<&str> {
    get(pairs, "token").map(str::trim)
}

/// `GET /admin/sign-in?token=T`: the link's page, one button. Opening it
/// changes nothing, so a mail scanner that prefetches the link signs no one in.
pub(crate) async fn sign_in_link(
    state: &State,
    info: &RequestInfo,
    req: &Request,
) -> Response<Body> {
    let place = place(state, info);
    let q = query(req);
    let token = token_of(&q).unwrap_or("");
    let now = ids::now_ms();
    let link = match SignIn::verify(token, &state.config.keys.console, now / 1000) {
        Ok(link) => link,
        Err(auth::LinkError::Invalid) => return Refusal::LinkInvalid.page(&place),
        Err(auth::LinkError::Expired) => return Refusal::LinkExpired.page(&place),
    };
    match state.store.sign_in_usable(&link.nonce, now).await {
        Ok(true) => {}
        Ok(false) => return Refusal::LinkUsed.page(&place),
        Err(e) => return Refusal::from(e).page(&place),
    }
    let inner = format!(
        "<p>Press the button to sign in on this device. The session lasts 12 hours.</p>\
<form method=\"post\" action=\"{}/admin/sign-in\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
<button class=\"primary wide\">Sign in</button></form>",
        escape_html(&place.frame.root),
        escape_html(token)
    );
    pages::card(
        StatusCode::OK,
        &place.frame,
        &format!("Sign in to {}", place.frame.site),
        None,
        &inner,
    )
}

/// `POST /admin/sign-in`: uses the link up and starts a new session (a new
/// id whatever cookie came along: no session fixation).
pub(crate) async fn sign_in(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let place = place(state, info);
    if !auth::own_origin(req.headers(), place.own.as_deref()) {
        return Refusal::Origin.page(&place);
    }
    let old = auth::session_cookie(req.headers());
    let fields = form(req);
    let now = ids::now_ms();
    let link = match SignIn::verify(
        token_of(&fields).unwrap_or(""),
        &state.config.keys.console,
        now / 1000,
    ) {
        Ok(link) => link,
        Err(auth::LinkError::Invalid) => return Refusal::LinkInvalid.page(&place),
        Err(auth::LinkError::Expired) => return Refusal::LinkExpired.page(&place),
    };
    if !info.deadline.has(STORE_WRITE) {
        return Refusal::Unavailable.page(&place);
    }
    let id = auth::new_session_id();
    let record = SessionRecord {
        id_hash: auth::id_hash(&id),
        created_ms: now,
        expires_ms: now + auth::SESSION_TTL_MS,
    };
    match state.store.start_session(&link.nonce, &record, now).await {
        Ok(true) => {}
        Ok(false) => return Refusal::LinkUsed.page(&place),
        Err(e) => return Refusal::from(e).page(&place),
    }
    // The session this browser had, if any, ends: one browser, one session.
    if let Some(old) = old
        && let Err(e) = state.store.end_session(&auth::id_hash(&old)).await
    {
        tracing::warn!(error = %e, "console: the previous session was not ended");
    }
    tracing::info!("console: signed in");
    with_cookie(
        see_other(&format!("{}/admin", place.frame.root)),
        &auth::set_cookie(&id),
    )
}

/// `POST /admin/sign-out`: ends this session, or (`scope=all`) every one.
pub(crate) async fn sign_out(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let (place, signed, fields) = match guard(state, info, req).await {
        Ok(g) => g,
        Err(res) => return res,
    };
    let everywhere = get(&fields, "scope") == Some("all");
    let ended = if everywhere {
        state.store.end_all_sessions().await.map(|_| ())
    } else {
        state.store.end_session(&signed.id_hash).await.map(|_| ())
    };
    if let Err(e) = ended {
        return Refusal::from(e).page(&place);
    }
    tracing::info!(everywhere, "console: signed out");
    let note = if everywhere {
        "signed-out-everywhere"
    } else {
        "signed-out"
    };
    with_cookie(
        see_other(&format!("{}/admin?note={note}", place.frame.root)),
        &auth::clear_cookie(),
    )
}

/// `POST /admin/decide`: one comment (`one=action:id`) or the selected ones
/// (`bulk=action`, `id`…), in the order given, each as a mailed link
/// decides it.
pub(crate) async fn decide(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let (place, _, fields) = match guard(state, info, req).await {
        Ok(g) => g,
        Err(res) => return res,
    };
    let mut back = match get(&fields, "back") {
        Some("published") => {
            let mut url = format!("{}/admin/published?", place.frame.root);
            if let Some(post) = get(&fields, "post").filter(|p| !p.is_empty()) {
                url.push_str("post=");
                url.extend(form_urlencoded::byte_serialize(post.as_bytes()));
                url.push('&');
            }
            url
        }
        _ => format!("{}/admin?", place.frame.root),
    };
    let (action, ids): (Option<Act>, Vec<&str>) = match (get(&fields, "one"), get(&fields, "bulk"))
    {
        (Some(one), _) => match one.split_once(':') {
            Some((action, id)) => (Act::parse(action), vec![id]),
            None => (None, vec![]),
        },
        (None, Some(bulk)) => (
            Act::parse(bulk),
            fields
                .iter()
                .filter(|(k, _)| k == "id")
                .map(|(_, v)| v.as_str())
                .take(BULK_MAX)
                .collect(),
        ),
        (None, None) => (None, vec![]),
    };
    let Some(action) = action else {
        back.push_str("note=none-selected");
        return see_other(&back);
    };
    if ids.is_empty() {
        back.push_str("note=none-selected");
        return see_other(&back);
    }
    let (mut done, mut skipped) = (0usize, 0usize);
    for (i, id) in ids.iter().enumerate() {
        if !info.deadline.has(STORE_WRITE) {
            skipped += ids.len() - i;
            break;
        }
        let result = match action {
            Act::Decide(decision) => super::moderate::apply(state, info, id, decision).await,
            Act::Spam => spam::condemn(&*state.store, id, ids::now_ms())
                .await
                .map(|condemned| match condemned {
                    Condemned::Done(_) => Decided::Done,
                    Condemned::Already | Condemned::NotFound => Decided::Conflict,
                }),
        };
        match result {
            Ok(Decided::Done) => done += 1,
            Ok(Decided::Conflict | Decided::ParentUnpublished) => skipped += 1,
            Err(e) if done == 0 => return Refusal::from(e).page(&place),
            Err(e) => {
                tracing::warn!(error = %e, "console: a bulk decision stopped at a store failure");
                skipped += ids.len() - i;
                break;
            }
        }
    }
    back.push_str(&format!(
        "done={}&n={done}&skipped={skipped}",
        action.as_str()
    ));
    see_other(&back)
}

/// What a decision button asks: a moderation decision, or "Spam" (taken
/// down into the spam folder and reported to Akismet, as `rust-aws spam ID`).
#[derive(Debug, Clone, Copy)]
enum Act {
    Decide(Decision),
    Spam,
}

impl Act {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "spam" => Some(Act::Spam),
            other => Decision::parse(other).map(Act::Decide),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Act::Decide(decision) => decision.as_str(),
            Act::Spam => "spam",
        }
    }
}

/// `GET /admin/spam`: the spam folder, newest first, a page at a time.
pub(crate) async fn spam_folder(
    state: &State,
    info: &RequestInfo,
    req: &Request,
) -> Response<Body> {
    let place = place(state, info);
    let signed = match signed_in(state, &place, req.headers()).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let q = query(req);
    let now = ids::now_ms();
    let after = parse_position(get(&q, "after"));
    let mut items = match state.store.list_spam(after, PAGE + 1, now).await {
        Ok(items) => items,
        Err(e) => return Refusal::from(e).page(&place),
    };
    let next = cut_page(&mut items, |i| (i.marked_ms, i.held.id().to_owned()));
    pages::spam(
        &place.frame,
        &signed.csrf,
        notice(&q).as_ref(),
        &items,
        next.as_deref(),
        now,
    )
}

/// `POST /admin/spam`: "Not spam" (`one=ham:ID`: back into the normal flow,
/// reported to Akismet, as `rust-aws ham ID`; a comment is then published
/// with `MODERATION=off`, as it would have been) or "Delete" (`one=drop:ID`).
pub(crate) async fn spam_action(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let (place, _, fields) = match guard(state, info, req).await {
        Ok(g) => g,
        Err(res) => return res,
    };
    let back = |done: &str, n: usize| {
        see_other(&format!(
            "{}/admin/spam?done={done}&n={n}&skipped={}",
            place.frame.root,
            1 - n
        ))
    };
    let Some((action, id)) = get(&fields, "one").and_then(|one| one.split_once(':')) else {
        return see_other(&format!(
            "{}/admin/spam?note=none-selected",
            place.frame.root
        ));
    };
    let now = ids::now_ms();
    let result = match action {
        "ham" => match spam::release(&*state.store, id, now).await {
            // Without pre-moderation the normal flow publishes a comment.
            Ok(Some(item))
                if matches!(item.held, Held::Comment(_))
                    && state.config.moderation == Moderation::Off =>
            {
                super::moderate::apply(state, info, id, Decision::Approve)
                    .await
                    .map(|_| true)
            }
            Ok(released) => Ok(released.is_some()),
            Err(e) => Err(e),
        },
        "drop" => state.store.delete_spam(id).await,
        _ => {
            return see_other(&format!(
                "{}/admin/spam?note=none-selected",
                place.frame.root
            ));
        }
    };
    match result {
        Ok(done) => back(action, usize::from(done)),
        Err(e) => Refusal::from(e).page(&place),
    }
}

/// `POST /admin/outbox`: "Retry now" on one entry (`retry=kind:id`): a
/// parked entry is put back in line, and the entry is claimed and sent now,
/// as a redelivery run would.
pub(crate) async fn retry(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let (place, _, fields) = match guard(state, info, req).await {
        Ok(g) => g,
        Err(res) => return res,
    };
    let back = |outcome: &str| {
        see_other(&format!(
            "{}/admin/outbox?retry={outcome}",
            place.frame.root
        ))
    };
    let Some(entry) = get(&fields, "retry")
        .and_then(|v| v.split_once(':'))
        .and_then(|(kind, id)| {
            Some(OutboxEntry {
                kind: MailKind::parse(kind)?,
                id: id.to_owned(),
            })
        })
    else {
        return back("busy");
    };
    let now = ids::now_ms();
    if let Err(e) = state.store.requeue(&entry, now).await {
        return Refusal::from(e).page(&place);
    }
    let claim_until = info.deadline.epoch_ms() + CLAIM_MARGIN_MS;
    let attempts = match state.store.claim(&entry, now, claim_until).await {
        Ok(Some(attempts)) => attempts,
        Ok(None) => return back("busy"),
        Err(e) => return Refusal::from(e).page(&place),
    };
    use crate::outbox::{Delivery, Loaded, deliver};
    match deliver(state, &entry, Loaded::No, &info.deadline, attempts).await {
        Delivery::Sent | Delivery::Gone => back("sent"),
        Delivery::Failed | Delivery::Parked => back("failed"),
        Delivery::Postponed | Delivery::Unstarted => back("waiting"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_refuse_junk() {
        let p = (1_785_000_000_123, "abc123".to_owned());
        assert_eq!(parse_position(Some(&position_text(&p))), Some(p));
        for junk in ["", "x.abc", "12", "12.", "12.a<b", "12.a.b"] {
            assert_eq!(parse_position(Some(junk)), None, "{junk}");
        }
    }

    #[test]
    fn notices_come_from_a_fixed_set() {
        let q = |s: &str| -> Pairs { form_urlencoded::parse(s.as_bytes()).into_owned().collect() };
        assert_eq!(
            notice(&q("done=approve&n=3")).unwrap().text,
            "3 comments approved."
        );
        assert!(notice(&q("done=<script>&n=1")).is_none());
        assert!(notice(&q("note=<script>")).is_none());
        let n = notice(&q("done=delete&n=0&skipped=2")).unwrap();
        assert!(n.warn && n.text.starts_with("0 comments deleted. 2 not"));
    }
}
