//! The submission pipeline of `POST /comment` and `POST /contact`, in
//! this order (README.md, "API"): origin → content type → size → parse → honeypot →
//! rate limit → captcha (when configured) → validation → store → deliver. (Route and method are the
//! router's.) One generic function; what differs per route is a [`Form`].

use http::header::{ACCEPT, CONTENT_TYPE, ORIGIN, REFERER};
use http::{HeaderMap, HeaderValue, Response};
use lambda_http::{Body, Request};

use crate::config::state::State;
use crate::config::{AllowedOrigins, Config};
use crate::domain::FieldError;
use crate::domain::ids;
use crate::security::{captcha, keys};
use crate::store::RateWindow;
use crate::web::error::ApiError;
use crate::web::intake::{self, ContentTypeError, Fields, MediaType};
use crate::web::request::{BodyTooLarge, RequestInfo};
use crate::web::respond;

/// What one submission route adds to the shared pipeline.
pub(crate) trait Form: Sized {
    /// The route's path, which also scopes its rate limit.
    const PATH: &'static str;

    /// Validates the fields into the route's domain value.
    fn parse(fields: &Fields) -> Result<Self, Vec<FieldError>>;

    /// Stores (then delivers) a valid submission and answers its success.
    fn accept(
        self,
        state: &State,
        submission: Submission,
    ) -> impl Future<Output = Result<Response<Body>, ApiError>> + Send;

    /// The answer to a filled honeypot: indistinguishable from a success,
    /// with nothing stored.
    fn decoy(state: &State, fields: &Fields) -> Response<Body>;
}

/// A submission that passed the pipeline up to validation.
#[derive(Debug)]
pub(crate) struct Submission {
    /// Keyed hash of the source address (stored, never the address).
    pub ip_hash: String,
    /// Base URL for emailed links.
    pub links_base: String,
    /// When the answer is due.
    pub deadline: crate::web::deadline::Deadline,
    /// What Akismet is told about the visitor (sent, never stored).
    pub visitor: crate::security::spam::Visitor,
}

/// Runs the pipeline for form `F` and answers in JSON or, for a plain HTML
/// form, with a 303.
pub(crate) async fn run<F: Form>(
    state: &State,
    info: &RequestInfo,
    req: Request,
) -> Response<Body> {
    let mut reply = Reply::default();
    let outcome = match admit(state, info, req, F::PATH, &mut reply).await {
        Ok(Admitted::Honeypot(fields)) => Ok(F::decoy(state, &fields)),
        Ok(Admitted::Fields(fields, submission)) => match F::parse(&fields) {
            Ok(form) => form.accept(state, submission).await,
            Err(errors) => Err(ApiError::Validation(errors)),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(res) => reply.success(res),
        Err(e) => reply.error(&e, &info.request_id),
    }
}

/// What the checks before validation let through.
enum Admitted {
    /// On to validation.
    Fields(Fields, Submission),
    /// The honeypot was filled: answer as a success would, do nothing.
    Honeypot(Fields),
}

/// Origin, content type, size, parse, honeypot, rate limit and captcha, in
/// that order.
async fn admit(
    state: &State,
    info: &RequestInfo,
    req: Request,
    path: &str,
    reply: &mut Reply,
) -> Result<Admitted, ApiError> {
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
    let cut = req.extensions().get::<BodyTooLarge>().is_some();
    let body = req.into_body();
    if cut || body.len() > intake::MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let fields = Fields::parse(&media, body.as_ref()).map_err(ApiError::field)?;
    reply.redirect_to = redirect_target(config, &headers, &media, Some(&fields));
    if fields.is_filled(&config.honeypot_field) {
        tracing::info!("honeypot filled; answering as a success, storing nothing");
        return Ok(Admitted::Honeypot(fields));
    }
    let identity = crate::web::request::rate_identity(info.source_ip.as_deref());
    let ip_hash = ids::hex(&keys::hmac(&config.keys.ip, identity.as_bytes())[..16]);
    let now_s = ids::now_ms() / 1000;
    let minute = now_s / 60;
    let window_end = (minute + 1) * 60;
    let window = RateWindow {
        route: path,
        source: &ip_hash,
        minute,
    };
    let count = state.store.hit_rate(&window).await?;
    if count > u64::from(config.rate_limit_per_minute) {
        return Err(ApiError::RateLimited {
            retry_after_s: (window_end - now_s).max(1),
        });
    }
    if let Some(captcha) = &config.captcha {
        captcha
            .check(&fields, info.source_ip.as_deref())
            .await
            .map_err(|failure| match failure {
                captcha::Failure::Field(e) => ApiError::field(e),
                captcha::Failure::Unverified(e) => {
                    tracing::warn!(error = %e, "captcha not verified; answering 503");
                    ApiError::Unavailable
                }
            })?;
    }
    let links_base = config
        .public_url
        .clone()
        .or_else(|| info.base_url.clone())
        .unwrap_or_else(|| "http://localhost".to_owned());
    Ok(Admitted::Fields(
        fields,
        Submission {
            ip_hash,
            links_base,
            deadline: info.deadline,
            visitor: crate::security::spam::Visitor {
                ip: info.source_ip.clone(),
                user_agent: header_text(&headers, http::header::USER_AGENT),
                referrer: header_text(&headers, REFERER),
            },
        },
    ))
}

/// A header's value as text, if it is text.
fn header_text(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(1024).collect())
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
/// `Referer`, each only when it can be a `Location` as it is and is on an
/// allowed origin. With `ALLOWED_ORIGINS=*` "allowed" means the request's own
/// `Origin` or `Referer` origin: any site may post, but a 303 never sends the
/// browser to a third site (no open redirect).
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
    let own: Vec<String> = [ORIGIN, REFERER]
        .iter()
        .filter_map(|h| headers.get(h).and_then(|v| v.to_str().ok()))
        .filter_map(intake::origin_of_url)
        .collect();
    let on_allowed_origin = |origin: &str| match &config.allowed_origins {
        AllowedOrigins::Any => own.iter().any(|o| o == origin),
        list => list.allows(origin),
    };
    let allowed = |url: &str| {
        locatable(url) && intake::origin_of_url(url).is_some_and(|o| on_allowed_origin(&o))
    };
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

/// Whether `url` can be sent as a `Location` header as it is: no control
/// character (CR, LF, tab, DEL), nothing else a header value cannot carry.
/// A target that cannot falls back to the next choice, never to a 303
/// without a `Location`.
fn locatable(url: &str) -> bool {
    !url.is_empty() && !url.chars().any(char::is_control) && HeaderValue::from_str(url).is_ok()
}
