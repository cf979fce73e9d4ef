//! Routing, the shared submission intake, and the tower `Service` that both
//! Lambda and the local server drive.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{ACCEPT, CONTENT_TYPE, ORIGIN, REFERER};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use lambda_http::{Body, Request};
use tracing::Instrument;

use crate::config::Config;
use crate::error::ApiError;
use crate::intake::{self, ContentTypeError, Fields, MediaType};
use crate::mail::Mailer;
use crate::request::{RequestInfo, Source};
use crate::store::{BoxFuture, Store};
use crate::{ids, keys, notify, respond, routes};

/// Everything a request needs, built once at start-up.
pub struct State {
    /// The validated configuration.
    pub config: Config,
    /// Where data lives.
    pub store: Arc<dyn Store>,
    /// Where mail goes.
    pub mailer: Arc<dyn Mailer>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The application as a tower `Service`: Lambda's `run`, the local server and
/// the tests all call it the same way.
#[derive(Clone, Debug)]
pub struct App {
    state: Arc<State>,
}

impl App {
    /// Wraps the state.
    pub fn new(state: State) -> Self {
        Self {
            state: Arc::new(state),
        }
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<State> {
        &self.state
    }
}

impl tower::Service<Request> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move { Ok(handle(state, req).await) })
    }
}

/// The resources, one per path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    Comments,
    Count,
    Moderate,
    Contact,
}

impl Resource {
    fn of(path: &str) -> Option<Self> {
        match path {
            "/comment" => Some(Resource::Comments),
            "/comment/count" => Some(Resource::Count),
            "/comment/moderate" => Some(Resource::Moderate),
            "/contact" => Some(Resource::Contact),
            _ => None,
        }
    }

    fn allow(self) -> &'static str {
        match self {
            Resource::Comments | Resource::Moderate => "GET, POST, OPTIONS",
            Resource::Count => "GET, OPTIONS",
            Resource::Contact => "POST, OPTIONS",
        }
    }
}

async fn handle(state: Arc<State>, req: Request) -> Response<Body> {
    let info = RequestInfo::of(&req, state.config.trusted_proxy_hops);
    let span = tracing::info_span!("request", request_id = %info.request_id);
    async move {
        if info.source == Source::Event {
            return notify::handle_event(&state, &info).await;
        }
        let origin = req
            .headers()
            .get(ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut res = route(&state, &info, req).await;
        add_cors(&state.config, origin.as_deref(), &mut res);
        tracing::info!(status = res.status().as_u16(), "answered");
        res
    }
    .instrument(span)
    .await
}

async fn route(state: &State, info: &RequestInfo, req: Request) -> Response<Body> {
    let Some(resource) = Resource::of(&info.path) else {
        return respond::error(&ApiError::NotFound, &info.request_id);
    };
    let method = req.method().clone();
    if method == Method::OPTIONS {
        return preflight(&state.config, resource, req.headers(), &info.request_id);
    }
    let result = match (resource, method) {
        (Resource::Comments, Method::GET) => routes::comment::list(state, &req).await,
        (Resource::Count, Method::GET) => routes::comment::count(state, &req).await,
        (Resource::Moderate, Method::GET) => return routes::moderate::show(state, &req).await,
        (Resource::Moderate, Method::POST) => {
            return routes::moderate::decide(state, info, req).await;
        }
        (Resource::Comments, Method::POST) => {
            return submission(state, info, req, routes::comment::submit).await;
        }
        (Resource::Contact, Method::POST) => {
            return submission(state, info, req, routes::contact::submit).await;
        }
        _ => Err(ApiError::MethodNotAllowed(resource.allow())),
    };
    result.unwrap_or_else(|e| respond::error(&e, &info.request_id))
}

/// `OPTIONS`: a CORS preflight from an allowed origin gets 204 with the
/// headers; from any other origin 403; without an `Origin` a plain 204 + `Allow`.
fn preflight(
    config: &Config,
    resource: Resource,
    headers: &HeaderMap,
    request_id: &str,
) -> Response<Body> {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    h.insert(
        http::header::ALLOW,
        HeaderValue::from_static(resource.allow()),
    );
    match headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
        None => {}
        Some(origin) if config.allowed_origins.allows(origin) => {
            h.insert(
                "access-control-allow-methods",
                HeaderValue::from_static(resource.allow()),
            );
            h.insert(
                "access-control-allow-headers",
                HeaderValue::from_static("content-type, accept"),
            );
            h.insert("access-control-max-age", HeaderValue::from_static("600"));
        }
        Some(_) => return respond::error(&ApiError::ForbiddenOrigin, request_id),
    }
    res
}

/// Lets browsers on allowed origins read the answer.
fn add_cors(config: &Config, origin: Option<&str>, res: &mut Response<Body>) {
    let h = res.headers_mut();
    h.append(http::header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin.filter(|o| config.allowed_origins.allows(o))
        && let Ok(v) = HeaderValue::from_str(origin)
    {
        h.insert("access-control-allow-origin", v);
        // Without this a browser script cannot read these two headers.
        h.insert(
            "access-control-expose-headers",
            HeaderValue::from_static("location, retry-after"),
        );
    }
}

/// A submission that passed the intake (origin, content type, size, parse,
/// honeypot, rate limit), ready for its route's validation.
#[derive(Debug)]
pub struct Submission {
    /// The parsed fields.
    pub fields: Fields,
    /// Keyed hash of the source address (stored, never the address).
    pub ip_hash: String,
    /// Base URL for emailed links.
    pub links_base: String,
    /// The request id.
    pub request_id: String,
}

/// How a submission's outcome is delivered: JSON, or a 303 for plain forms.
#[derive(Debug, Default)]
struct Reply {
    redirect_to: Option<String>,
}

impl Reply {
    fn error(&self, err: &ApiError, request_id: &str) -> Response<Body> {
        match &self.redirect_to {
            Some(target) => {
                let mut res =
                    respond::see_other(&intake::append_query(target, "error", err.code()));
                respond::decorate(&mut res, err);
                res
            }
            None => respond::error(err, request_id),
        }
    }

    fn success(&self, json: Response<Body>) -> Response<Body> {
        match &self.redirect_to {
            Some(target) => respond::see_other(target),
            None => json,
        }
    }
}

/// The redirect target of a plain HTML form post: `_redirect`, else
/// `Referer`, each only when on an allowed origin.
fn redirect_target(
    config: &Config,
    headers: &HeaderMap,
    media: &MediaType,
    fields: Option<&Fields>,
) -> Option<String> {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    if !media.is_form() || intake::accepts_json(accept) {
        return None;
    }
    let allowed =
        |url: &str| intake::origin_of_url(url).is_some_and(|o| config.allowed_origins.allows(&o));
    let from_field = fields
        .and_then(|f| f.text("_redirect"))
        .map(str::trim)
        .filter(|u| allowed(u));
    let from_referer = headers
        .get(REFERER)
        .and_then(|v| v.to_str().ok())
        .filter(|u| allowed(u));
    from_field.or(from_referer).map(str::to_owned)
}

type RouteFn = for<'a> fn(&'a State, Submission) -> BoxFuture<'a, Result<Response<Body>, ApiError>>;

async fn submission(
    state: &State,
    info: &RequestInfo,
    req: Request,
    route: RouteFn,
) -> Response<Body> {
    let mut reply = Reply::default();
    let result = intake(state, info, req, &mut reply).await;
    let outcome = match result {
        Ok(Intake::Accepted(sub)) => route(state, sub).await,
        Ok(Intake::Honeypot(fields)) => {
            return reply.success(honeypot_answer(state, info, &fields));
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(res) => reply.success(res),
        Err(e) => reply.error(&e, &info.request_id),
    }
}

/// What the intake lets through.
enum Intake {
    /// On to validation.
    Accepted(Submission),
    /// The honeypot was filled: answer as a success would, do nothing.
    Honeypot(Fields),
}

/// Runs the intake in PRODUCT.md's order.
async fn intake(
    state: &State,
    info: &RequestInfo,
    req: Request,
    reply: &mut Reply,
) -> Result<Intake, ApiError> {
    let config = &state.config;
    let headers = req.headers().clone();
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if origin != "null" && !config.allowed_origins.allows(origin) {
            return Err(ApiError::ForbiddenOrigin);
        }
    }
    let media = match intake::media_type(headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())) {
        Ok(m) => m,
        Err(ContentTypeError::Unsupported) => return Err(ApiError::UnsupportedMediaType),
        Err(ContentTypeError::Invalid(e)) => return Err(ApiError::field(e)),
    };
    reply.redirect_to = redirect_target(config, &headers, &media, None);
    let body = req.into_body();
    if body.len() > intake::MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let fields = Fields::parse(&media, body.as_ref()).map_err(ApiError::field)?;
    reply.redirect_to = redirect_target(config, &headers, &media, Some(&fields));
    if fields.is_filled(&config.honeypot_field) {
        tracing::info!("honeypot filled; answering as a success, storing nothing");
        return Ok(Intake::Honeypot(fields));
    }
    let identity = crate::request::rate_identity(info.source_ip.as_deref());
    let ip_hash = ids::hex(&keys::hmac(&config.keys.ip, identity.as_bytes())[..16]);
    let now_s = ids::now_ms() / 1000;
    let window = now_s / 60;
    let window_end = (window + 1) * 60;
    let key = format!("RATE#{}#{ip_hash}#{window}", info.path);
    let count = state.store.hit_rate(&key, window_end + 120).await?;
    if count > u64::from(config.rate_limit_per_minute) {
        return Err(ApiError::RateLimited {
            retry_after_s: (window_end - now_s).max(1),
        });
    }
    let links_base = config
        .public_url
        .clone()
        .or_else(|| info.base_url.clone())
        .unwrap_or_else(|| "http://localhost".to_owned());
    Ok(Intake::Accepted(Submission {
        fields,
        ip_hash,
        links_base,
        request_id: info.request_id.clone(),
    }))
}

/// The answer to a filled honeypot: indistinguishable from a success.
fn honeypot_answer(state: &State, info: &RequestInfo, fields: &Fields) -> Response<Body> {
    let id = ids::new_id();
    if info.path == "/contact" {
        routes::contact::accepted(&id)
    } else {
        let post = fields.text("post").map(str::trim).unwrap_or("");
        routes::comment::created(&id, post, routes::comment::initial_status(&state.config))
    }
}
