//! The tower `Service` that Lambda, the local server and the tests all
//! drive: the router over [`routes::TABLE`], wrapped in the cross-cutting
//! layers, composed in one place ([`App::new`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::ORIGIN;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use lambda_http::{Body, Request};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tracing::Instrument;

use crate::config::AllowedOrigins;
use crate::error::ApiError;
use crate::request::{RequestInfo, Source, TrustedProxies};
use crate::state::State;
use crate::store::BoxFuture;
use crate::{notify, respond, routes};

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
            .layer(ContextLayer {
                proxies: state.config.trusted_proxies.clone(),
            })
            // Lets browsers on allowed origins read the answer (a 503 from
            // the deadline included).
            .layer(CorsLayer {
                origins: Arc::new(state.config.allowed_origins.clone()),
            })
            // Answers 503 when the invocation's deadline comes first.
            .layer(DeadlineLayer)
            // HEAD answers as GET would, without the body (RFC 9110).
            .layer(HeadLayer)
            .service(Router { state });
        Self {
            service: BoxCloneSyncService::new(service),
        }
    }
}

impl Service<Request> for App {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

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
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

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
        return notify::handle_event(state, &info, req.body().as_ref()).await;
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

/// Works out the request's [`RequestInfo`] once, hands it down as a request
/// extension, runs the rest inside a span carrying the request id, and logs
/// the status.
#[derive(Clone, Debug)]
struct ContextLayer {
    proxies: TrustedProxies,
}

impl<S> Layer<S> for ContextLayer {
    type Service = WithContext<S>;
    fn layer(&self, inner: S) -> WithContext<S> {
        WithContext {
            inner,
            proxies: self.proxies.clone(),
        }
    }
}

#[derive(Clone, Debug)]
struct WithContext<S> {
    inner: S,
    proxies: TrustedProxies,
}

impl<S> Service<Request> for WithContext<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let info = RequestInfo::of(&req, &self.proxies);
        let span = tracing::info_span!("request", request_id = %info.request_id);
        req.extensions_mut().insert(info);
        let inner = self.inner.clone();
        Box::pin(
            async move {
                let res = inner.oneshot(req).await?;
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
struct DeadlineLayer;

impl<S> Layer<S> for DeadlineLayer {
    type Service = WithDeadline<S>;
    fn layer(&self, inner: S) -> WithDeadline<S> {
        WithDeadline { inner }
    }
}

#[derive(Clone, Debug)]
struct WithDeadline<S> {
    inner: S,
}

impl<S> Service<Request> for WithDeadline<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let (deadline, request_id) = match req.extensions().get::<RequestInfo>() {
            Some(info) => (info.deadline, info.request_id.clone()),
            None => (crate::deadline::Deadline::of(&req), String::new()),
        };
        let inner = self.inner.clone();
        Box::pin(async move {
            match deadline.run(inner.oneshot(req)).await {
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
struct CorsLayer {
    origins: Arc<AllowedOrigins>,
}

impl<S> Layer<S> for CorsLayer {
    type Service = WithCors<S>;
    fn layer(&self, inner: S) -> WithCors<S> {
        WithCors {
            inner,
            origins: self.origins.clone(),
        }
    }
}

#[derive(Clone, Debug)]
struct WithCors<S> {
    inner: S,
    origins: Arc<AllowedOrigins>,
}

impl<S> Service<Request> for WithCors<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let origin = req
            .headers()
            .get(ORIGIN)
            .filter(|o| o.to_str().is_ok_and(|o| self.origins.allows(o)))
            .cloned();
        let inner = self.inner.clone();
        Box::pin(async move {
            let mut res = inner.oneshot(req).await?;
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
struct HeadLayer;

impl<S> Layer<S> for HeadLayer {
    type Service = WithHead<S>;
    fn layer(&self, inner: S) -> WithHead<S> {
        WithHead { inner }
    }
}

#[derive(Clone, Debug)]
struct WithHead<S> {
    inner: S,
}

impl<S> Service<Request> for WithHead<S>
where
    S: Service<Request, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let head = req.method() == Method::HEAD;
        if head {
            *req.method_mut() = Method::GET;
        }
        let inner = self.inner.clone();
        Box::pin(async move {
            let mut res = inner.oneshot(req).await?;
            if head {
                *res.body_mut() = Body::Empty;
            }
            Ok(res)
        })
    }
}
