//! The tower `Service` that Lambda, the local server and the tests all
//! drive: the router over [`routes::TABLE`], wrapped in the cross-cutting
//! layers, composed in one place ([`App::new`]).

pub mod local;
pub mod startup;

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::ORIGIN;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use lambda_http::{Body, Request};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tracing::Instrument;

use crate::BoxFuture;
use crate::config::AllowedOrigins;
use crate::config::state::State;
use crate::outbox;
use crate::web::error::ApiError;
use crate::web::request::{RequestInfo, Source, TrustedProxies};
use crate::web::{respond, routes};

/// Every route the app serves, as `(method, path)`: read from the route
/// table the router dispatches on, never a copy of it. Part of the
/// deployment contract (`examples/contract.rs`, `ci/template_check.py`).
pub fn served_routes() -> impl Iterator<Item = (&'static str, &'static str)> {
    routes::TABLE.iter().map(|r| (r.method, r.path))
}

/// The application: Lambda's `run`, the local server and the tests call it
/// the same way.
#[derive(Clone)]
pub struct App {
    service: BoxCloneSyncService<Request, Response<Body>, Infallible>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// The router with its layers, outermost first.
    pub fn new(state: State) -> Self {
        let state = Arc::new(state);
        let service = ServiceBuilder::new()
            // The request's facts and its log span, for every layer below.
            .layer(StepLayer(WithContext {
                proxies: state.config.trusted_proxies.clone(),
            }))
            // Lets browsers on allowed origins read the answer (a 503 from
            // the deadline included).
            .layer(StepLayer(WithCors {
                origins: Arc::new(state.config.allowed_origins.clone()),
            }))
            // Answers 503 when the invocation's deadline comes first.
            .layer(StepLayer(WithDeadline))
            // HEAD answers as GET would, without the body (RFC 9110).
            .layer(StepLayer(WithHead))
            .service(Router { state });
        Self {
            service: BoxCloneSyncService::new(service),
        }
    }
}

impl Service<Request> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        Box::pin(self.service.call(req))
    }
}

/// Dispatches on the route table: 404 for an unknown path, 405 with `Allow`
/// for a wrong method, preflights for `OPTIONS`; non-HTTP events go to the
/// scheduled redelivery.
#[derive(Clone, Debug)]
struct Router {
    state: Arc<State>,
}

impl Service<Request> for Router {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let state = self.state.clone();
        Box::pin(async move { Ok(route(&state, req).await) })
    }
}

async fn route(state: &State, req: Request) -> Response<Body> {
    let info = req
        .extensions()
        .get::<RequestInfo>()
        .cloned()
        .unwrap_or_else(|| RequestInfo::of(&req, &state.config.trusted_proxies));
    if info.source == Source::Event {
        return outbox::handle_event(state, &info, req.body().as_ref()).await;
    }
    let Some(allow) = routes::allow(&info.path) else {
        return respond::error(&ApiError::NotFound, &info.request_id);
    };
    if req.method() == Method::OPTIONS {
        return preflight(
            &state.config.allowed_origins,
            &allow,
            req.headers(),
            &info.request_id,
        );
    }
    let found = routes::on(&info.path).find(|r| r.method == req.method().as_str());
    match found {
        Some(route) => (route.handler)(state, &info, req).await,
        None => respond::error(&ApiError::MethodNotAllowed(allow), &info.request_id),
    }
}

/// `OPTIONS`: a CORS preflight from an allowed origin gets 204 with the
/// headers; from any other origin 403; without an `Origin` a plain 204 + `Allow`.
fn preflight(
    origins: &AllowedOrigins,
    allow: &str,
    headers: &HeaderMap,
    request_id: &str,
) -> Response<Body> {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::NO_CONTENT;
    let allow = HeaderValue::from_str(allow).unwrap_or(HeaderValue::from_static("OPTIONS"));
    let h = res.headers_mut();
    h.insert(http::header::ALLOW, allow.clone());
    match headers.get(ORIGIN).and_then(|v| v.to_str().ok()) {
        None => {}
        Some(origin) if origins.allows(origin) => {
            h.insert("access-control-allow-methods", allow);
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

/// The answer a layer's step hands back.
type Answer = BoxFuture<'static, Result<Response<Body>, Infallible>>;

/// What one layer does around the rest of the stack: it may look at or
/// change the request, calls `next` (once, or not at all), and may change
/// the answer. One generic [`Service`] ([`Around`]) carries every step, so a
/// layer is only its logic.
trait Step: Clone + Send + Sync + 'static {
    fn run(&self, req: Request, next: impl Next) -> Answer;
}

/// The rest of the stack, as a [`Step`] sees it.
trait Next:
    Service<Request, Response = Response<Body>, Error = Infallible, Future: Send> + Send + 'static
{
}

impl<S> Next for S where
    S: Service<Request, Response = Response<Body>, Error = Infallible, Future: Send>
        + Send
        + 'static
{
}

/// A [`Step`] as a tower [`Layer`], for [`ServiceBuilder`].
#[derive(Clone, Debug)]
struct StepLayer<T>(T);

impl<T: Step, S> Layer<S> for StepLayer<T> {
    type Service = Around<T, S>;
    fn layer(&self, inner: S) -> Around<T, S> {
        Around {
            step: self.0.clone(),
            inner,
        }
    }
}

/// The service a [`StepLayer`] makes: `step` around `inner`.
#[derive(Clone, Debug)]
struct Around<T, S> {
    step: T,
    inner: S,
}

impl<T: Step, S: Next + Clone> Service<Request> for Around<T, S> {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Answer {
        // The clone is driven with `oneshot`, which waits for its readiness.
        self.step.run(req, self.inner.clone())
    }
}

/// Works out the request's [`RequestInfo`] once, hands it down as a request
/// extension, runs the rest inside a span carrying the request id, and logs
/// the status.
#[derive(Clone, Debug)]
struct WithContext {
    proxies: TrustedProxies,
}

impl Step for WithContext {
    fn run(&self, mut req: Request, next: impl Next) -> Answer {
        let info = RequestInfo::of(&req, &self.proxies);
        let span = tracing::info_span!("request", request_id = %info.request_id);
        req.extensions_mut().insert(info);
        Box::pin(
            async move {
                let res = next.oneshot(req).await?;
                tracing::info!(status = res.status().as_u16(), "answered");
                Ok(res)
            }
            .instrument(span),
        )
    }
}

/// Bounds every request by its deadline ([`RequestInfo::deadline`]: the
/// invocation's, less a margin): past it the answer is 503 with
/// `Retry-After`, before Lambda would end the invocation with no answer at
/// all. Routes keep within it themselves (no store write starts without the
/// time to finish, optional mail is left to redelivery); this is the
/// backstop for whatever still runs long.
#[derive(Clone, Copy, Debug)]
struct WithDeadline;

impl Step for WithDeadline {
    fn run(&self, req: Request, next: impl Next) -> Answer {
        let (deadline, request_id) = match req.extensions().get::<RequestInfo>() {
            Some(info) => (info.deadline, info.request_id.clone()),
            None => (crate::web::deadline::Deadline::of(&req), String::new()),
        };
        Box::pin(async move {
            match deadline.run(next.oneshot(req)).await {
                Some(answer) => answer,
                None => {
                    tracing::warn!("the request ran into its deadline; answering 503");
                    Ok(respond::error(&ApiError::Unavailable, &request_id))
                }
            }
        })
    }
}

/// Adds `Vary: Origin` to every answer, and the CORS response headers when
/// the request's `Origin` is allowed.
#[derive(Clone, Debug)]
struct WithCors {
    origins: Arc<AllowedOrigins>,
}

impl Step for WithCors {
    fn run(&self, req: Request, next: impl Next) -> Answer {
        let origin = req
            .headers()
            .get(ORIGIN)
            .filter(|o| o.to_str().is_ok_and(|o| self.origins.allows(o)))
            .cloned();
        Box::pin(async move {
            let mut res = next.oneshot(req).await?;
            let h = res.headers_mut();
            h.append(http::header::VARY, HeaderValue::from_static("Origin"));
            if let Some(origin) = origin {
                h.insert("access-control-allow-origin", origin);
                // Without this a browser script cannot read these two headers.
                h.insert(
                    "access-control-expose-headers",
                    HeaderValue::from_static("location, retry-after"),
                );
            }
            Ok(res)
        })
    }
}

/// Routes `HEAD` as `GET` and drops the body, keeping every header.
#[derive(Clone, Copy, Debug)]
struct WithHead;

impl Step for WithHead {
    fn run(&self, mut req: Request, next: impl Next) -> Answer {
        let head = req.method() == Method::HEAD;
        if head {
            *req.method_mut() = Method::GET;
        }
        Box::pin(async move {
            let mut res = next.oneshot(req).await?;
            if head {
                *res.body_mut() = Body::Empty;
            }
            Ok(res)
        })
    }
}
