//! What the app needs to know about a request beyond method, path and body,
//! from whichever front door it came through: API Gateway v2 (HTTP API and
//! Function URLs), API Gateway v1 (REST), a scheduled event, or the local server.

use std::net::IpAddr;

use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{LambdaEvent, Request, RequestExt};

/// Set by the local server in place of a Lambda request context.
#[derive(Debug, Clone)]
pub(crate) struct LocalContext {
    /// The TCP peer.
    pub(crate) peer: IpAddr,
    /// A fresh id per request.
    pub request_id: String,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
}

/// Set by the local server on a request whose body it stopped reading at its
/// limit: the body arrives empty, and the submission pipeline answers 413 at
/// its size check (after route, method, origin and content type, as for any
/// other oversized body).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTooLarge;

/// Where the invocation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An HTTP request.
    Http,
    /// A non-HTTP event (the scheduled redelivery run).
    Event,
}

/// The facts the routes use.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The Lambda request id (or the local one): in every log line and error body.
    pub request_id: String,
    /// The client address as API Gateway saw it (or a trusted proxy reported it).
    pub source_ip: Option<String>,
    /// Base URL of this API for emailed links (before `PUBLIC_URL` overrides it).
    pub(crate) base_url: Option<String>,
    /// The path without any stage prefix.
    pub path: String,
    /// HTTP or event.
    pub source: Source,
    /// When the answer is due (the invocation's deadline less a margin).
    pub deadline: crate::web::deadline::Deadline,
}

/// The header a trusted proxy (CloudFront's origin custom header) sets to
/// `TRUSTED_PROXY_SECRET`, proving that a request came through it.
pub(crate) const PROXY_SECRET_HEADER: &str = "x-origin-verify";

/// The proxies in front of API Gateway whose `X-Forwarded-For` entries are
/// trusted: how many, and the secret they add to every request.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    /// Proxies between the client and API Gateway (0: trust none).
    pub(crate) hops: usize,
    /// The value of [`PROXY_SECRET_HEADER`] they send.
    pub secret: Option<String>,
}

impl std::fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedProxies")
            .field("hops", &self.hops)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The client's address behind `hops` trusted proxies.
///
/// What the header holds (AWS documentation, and the shapes in
/// tests/fixtures): every proxy appends the address that connected to it,
/// CloudFront included (it appends the viewer's address, after any entries
/// the viewer sent itself), and API Gateway appends the address of the TCP
/// connection it received, which it also reports as `sourceIp`. So behind
/// CloudFront an HTTP API event carries `X-Forwarded-For: <anything the
/// viewer sent>, <viewer>, <edge>` with `sourceIp` = `<edge>`. The last entry
/// is dropped when it is `sourceIp`; the `hops`-th from the right of what is
/// left is the address the first trusted proxy saw. Entries further left are
/// whatever the client chose to send, never trusted.
fn forwarded_for(req: &Request, hops: usize, context_ip: Option<&str>) -> Option<String> {
    let mut entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let peer = context_ip.and_then(|ip| ip.parse::<IpAddr>().ok());
    if peer.is_some() && entries.last().and_then(|e| e.parse::<IpAddr>().ok()) == peer {
        entries.pop();
    }
    let entry = entries.iter().rev().nth(hops.checked_sub(1)?)?;
    entry.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

/// Whether the request carries the trusted proxies' secret (compared in
/// constant time). Without it, `X-Forwarded-For` is anyone's say: a client
/// that calls the `execute-api` endpoint directly, skipping CloudFront.
fn through_trusted_proxy(req: &Request, secret: &str) -> bool {
    let Some(sent) = req.headers().get(PROXY_SECRET_HEADER) else {
        return false;
    };
    // Equal values have equal tags; the tag check takes constant time.
    let expected = crate::security::keys::hmac(secret.as_bytes(), b"trusted proxy");
    crate::security::keys::verify(sent.as_bytes(), b"trusted proxy", &expected)
}

fn strip_stage(path: &str, stage: Option<&str>) -> String {
    match stage {
        Some(stage) if stage != "$default" && !stage.is_empty() => {
            let prefix = format!("/{stage}");
            match path.strip_prefix(&prefix) {
                Some("") => "/".to_owned(),
                Some(rest) if rest.starts_with('/') => rest.to_owned(),
                _ => path.to_owned(),
            }
        }
        _ => path.to_owned(),
    }
}

fn base_url(domain: Option<&str>, stage: Option<&str>) -> Option<String> {
    let domain = domain.filter(|d| {
        !d.is_empty()
            && d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
    })?;
    Some(match stage {
        Some(s) if s != "$default" && !s.is_empty() => format!("https://{domain}/{s}"),
        _ => format!("https://{domain}"),
    })
}

impl RequestInfo {
    /// Reads the request's context. With trusted proxies configured and the
    /// request carrying their secret, the client address comes from
    /// `X-Forwarded-For`; otherwise that header is ignored.
    pub fn of(req: &Request, proxies: &TrustedProxies) -> Self {
        let lambda_id = req.lambda_context_ref().map(|c| c.request_id.clone());
        let local = req.extensions().get::<LocalContext>();
        let path = req.uri().path();
        let (source, context_ip, stage, domain) = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => (
                Source::Http,
                ctx.http.source_ip.clone(),
                ctx.stage.clone(),
                ctx.domain_name.clone(),
            ),
            Some(RequestContext::ApiGatewayV1(ctx)) => (
                Source::Http,
                ctx.identity.source_ip.clone(),
                ctx.stage.clone(),
                ctx.domain_name.clone(),
            ),
            Some(RequestContext::PassThrough) => (Source::Event, None, None, None),
            Some(_) => (Source::Http, None, None, None),
            None => (Source::Http, local.map(|l| l.peer.to_string()), None, None),
        };
        let trusted = match &proxies.secret {
            Some(secret) if proxies.hops > 0 => through_trusted_proxy(req, secret),
            _ => false,
        };
        let source_ip = if trusted {
            forwarded_for(req, proxies.hops, context_ip.as_deref()).or(context_ip)
        } else {
            context_ip
        };
        Self {
            request_id: lambda_id
                .or_else(|| local.map(|l| l.request_id.clone()))
                .unwrap_or_else(crate::domain::ids::new_id),
            source_ip,
            base_url: local
                .map(|l| l.base_url.clone())
                .or_else(|| base_url(domain.as_deref(), stage.as_deref())),
            path: strip_stage(path, stage.as_deref()),
            source,
            deadline: crate::web::deadline::Deadline::of(req),
        }
    }
}

/// The rate-limit identity of an address: IPv6 by its /64 (one subscriber
/// usually holds a whole /64), IPv4 as is, anything unparsable as one bucket.
pub(crate) fn rate_identity(ip: Option<&str>) -> String {
    match ip.and_then(|s| s.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".to_owned(),
    }
}

/// Makes a Lambda event safe for `lambda_http`'s own conversion to a
/// [`Request`], which runs before any code of ours and panics (an abort in
/// the release build) on what API Gateway never sends but a direct
/// `lambda:InvokeFunction` can: a body flagged `isBase64Encoded` that is not
/// base64, or a `Host`, `X-Forwarded-Proto`, `domainName`, stage, path or raw
/// query that does not make a URI. Such a body becomes empty (the route then
/// answers 400, or 415 without a content type); such a host, scheme, domain
/// or stage is dropped (none of them routes anything: links are built from
/// `PUBLIC_URL` or a valid `domainName`, never from `Host`); a path or query
/// has the bytes a URI cannot carry percent-encoded. Events from API Gateway
/// pass unchanged; the `event` fuzz target (fuzz/) keeps it that way.
pub fn defuse(event: &mut LambdaRequest) {
    match event {
        LambdaRequest::ApiGatewayV2(ag) => {
            defuse_body(&mut ag.body, &mut ag.is_base64_encoded);
            defuse_headers(&mut ag.headers);
            defuse_context(
                &mut ag.request_context.domain_name,
                &mut ag.request_context.stage,
            );
            defuse_path(&mut ag.raw_path);
            if let Some(q) = &mut ag.raw_query_string {
                let encoded = percent_encoding::utf8_percent_encode(q, NOT_URI_QUERY).to_string();
                // An http::Uri holds at most 64 KiB; API Gateway sends 10 KiB at most.
                *q = if encoded.len() > MAX_URI_PART {
                    String::new()
                } else {
                    encoded
                };
            }
        }
        LambdaRequest::ApiGatewayV1(ag) => {
            defuse_body(&mut ag.body, &mut ag.is_base64_encoded);
            defuse_headers(&mut ag.headers);
            defuse_context(
                &mut ag.request_context.domain_name,
                &mut ag.request_context.stage,
            );
            defuse_path(&mut ag.path);
        }
        _ => {}
    }
}

/// Longest path, and longest query, passed on: far above API Gateway's own
/// limits, far below the 64 KiB an `http::Uri` can hold (an over-long path
/// becomes `/`, a 404; an over-long query is dropped).
const MAX_URI_PART: usize = 16 * 1024;

/// Bytes left as they are in a path: RFC 3986 `pchar` and `/`.
const NOT_URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@')
    .remove(b'%')
    .remove(b'/');

/// Bytes left as they are in a query: a path's, and `?`.
const NOT_URI_QUERY: &percent_encoding::AsciiSet = &NOT_URI_PATH.remove(b'?');

fn defuse_body(body: &mut Option<String>, is_base64: &mut bool) {
    use base64::Engine;
    let decodes = || {
        body.as_deref()
            .is_none_or(|b| base64::engine::general_purpose::STANDARD.decode(b).is_ok())
    };
    if *is_base64 && !decodes() {
        *body = None;
        *is_base64 = false;
    }
}

/// `host[:port]` as lambda_http's conversion parses it (with the `url`
/// crate, which also checks IPv4 forms and IDNA labels), at DNS length.
fn is_host(value: &str) -> bool {
    value.len() <= 260
        && !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
        && url::Url::parse(&format!("https://{value}/")).is_ok()
}

fn defuse_headers(headers: &mut http::HeaderMap) {
    let host_ok = headers
        .get_all(http::header::HOST)
        .iter()
        .all(|v| v.to_str().is_ok_and(is_host));
    if !host_ok {
        headers.remove(http::header::HOST);
    }
    let proto_ok = headers
        .get_all("x-forwarded-proto")
        .iter()
        .all(|v| matches!(v.as_bytes(), b"http" | b"https"));
    if !proto_ok {
        headers.remove("x-forwarded-proto");
    }
}

fn defuse_context(domain: &mut Option<String>, stage: &mut Option<String>) {
    if domain.as_deref().is_some_and(|d| !is_host(d)) {
        *domain = None;
    }
    let stage_ok = |s: &str| {
        s == "$default"
            || (!s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)))
    };
    if stage.as_deref().is_some_and(|s| !stage_ok(s)) {
        *stage = None;
    }
}

fn defuse_path(path: &mut Option<String>) {
    if let Some(p) = path {
        let encoded = percent_encoding::utf8_percent_encode(p, NOT_URI_PATH).to_string();
        *p = if encoded.len() > MAX_URI_PART {
            "/".to_owned()
        } else if encoded.starts_with('/') {
            encoded
        } else {
            format!("/{encoded}")
        };
    }
}

/// [`defuse`] in front of a service of Lambda events (`lambda_http`'s
/// adapter): what `main` hands to the runtime.
#[derive(Debug, Clone)]
pub struct Defused<S>(pub S);

impl<S> tower::Service<LambdaEvent<LambdaRequest>> for Defused<S>
where
    S: tower::Service<LambdaEvent<LambdaRequest>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut event: LambdaEvent<LambdaRequest>) -> S::Future {
        defuse(&mut event.payload);
        self.0.call(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_event(patch: impl FnOnce(&mut serde_json::Value)) -> LambdaRequest {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/apigw-v2-http-api.json"))
                .unwrap();
        patch(&mut v);
        serde_json::from_value(v).unwrap()
    }

    fn converted(mut event: LambdaRequest) -> Request {
        defuse(&mut event);
        event.into()
    }

    #[test]
    fn an_api_gateway_event_passes_defuse_unchanged() {
        let req = converted(v2_event(|_| {}));
        assert_eq!(req.uri().path(), "/contact");
        assert_eq!(
            req.headers()["host"],
            "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
        );
        assert!(!req.body().is_empty());
    }

    // Events of each kind that make lambda_http's conversion panic unless
    // defused.
    #[test]
    fn an_invalid_base64_body_becomes_empty_instead_of_a_panic() {
        let req = converted(v2_event(|v| {
            v["body"] = "name=Ann&x=%".into();
            v["isBase64Encoded"] = true.into();
        }));
        assert!(req.body().is_empty());
    }

    #[test]
    fn hosts_schemes_stages_paths_and_queries_that_make_no_uri_are_defused() {
        for (pointer, value) in [
            (
                "/headers/host",
                "a1b2c3d4e5.execut[e-api.eu-west-1.amazonaws.com",
            ),
            ("/headers/host", "evil.example:99999"),
            ("/headers/x-forwarded-proto", "a b"),
            ("/requestContext/domainName", "x:y:z"),
            ("/requestContext/stage", "a/b?c"),
            ("/rawPath", ":99999"),
            ("/rawPath", "/con tact\u{0}\u{202e}#x"),
            ("/rawQueryString", "post=/p/ \"<>{}|\\^`\u{7f}é"),
            ("/rawPath", &format!("/{}", "x".repeat(70_000))),
            ("/rawQueryString", &"x".repeat(70_000)),
        ] {
            let req = converted(v2_event(|v| {
                *v.pointer_mut(pointer).unwrap() = value.into()
            }));
            assert!(req.uri().path().starts_with('/'), "{pointer}={value:?}");
        }
        let host_only = |host: &str| {
            converted(v2_event(|v| {
                v["headers"]["host"] = host.into();
                v["requestContext"]["domainName"] = host.into();
            }))
        };
        assert!(!host_only("evil.example/x?").headers().contains_key("host"));
        assert!(!host_only("1.2.3.999").headers().contains_key("host"));
        assert!(!host_only("xn--a.example").headers().contains_key("host"));
        assert_eq!(
            host_only("Blog.Example.com:8443").headers()["host"],
            "Blog.Example.com:8443"
        );
    }

    fn with_forwarded(xff: &str, source_ip: &str, secret: Option<&str>) -> Request {
        converted(v2_event(|v| {
            v["headers"]["x-forwarded-for"] = xff.into();
            v["requestContext"]["http"]["sourceIp"] = source_ip.into();
            if let Some(s) = secret {
                v["headers"][PROXY_SECRET_HEADER] = s.into();
            }
        }))
    }

    #[test]
    fn the_client_is_counted_from_the_right_past_what_api_gateway_appended() {
        let proxies = |hops| TrustedProxies {
            hops,
            secret: Some("s".repeat(32)),
        };
        let secret = "s".repeat(32);
        // CloudFront: <sent by the viewer>, <viewer>, <edge = sourceIp>.
        let req = with_forwarded(
            "6.6.6.6, 198.51.100.1, 130.176.9.1",
            "130.176.9.1",
            Some(&secret),
        );
        assert_eq!(
            RequestInfo::of(&req, &proxies(1)).source_ip.as_deref(),
            Some("198.51.100.1")
        );
        // Two proxies: the viewer is one further left.
        let req = with_forwarded(
            "6.6.6.6, 198.51.100.1, 10.1.1.1, 130.176.9.1",
            "130.176.9.1",
            Some(&secret),
        );
        assert_eq!(
            RequestInfo::of(&req, &proxies(2)).source_ip.as_deref(),
            Some("198.51.100.1")
        );
        // Fewer entries than hops, or garbage where the client should be:
        // the connection's own address.
        let req = with_forwarded("130.176.9.1", "130.176.9.1", Some(&secret));
        assert_eq!(
            RequestInfo::of(&req, &proxies(1)).source_ip.as_deref(),
            Some("130.176.9.1")
        );
        let req = with_forwarded("not-an-ip, 130.176.9.1", "130.176.9.1", Some(&secret));
        assert_eq!(
            RequestInfo::of(&req, &proxies(1)).source_ip.as_deref(),
            Some("130.176.9.1")
        );
    }

    #[test]
    fn x_forwarded_for_counts_only_with_the_proxies_secret() {
        let proxies = TrustedProxies {
            hops: 1,
            secret: Some("s".repeat(32)),
        };
        for secret in [None, Some("wrong"), Some(&*"s".repeat(31))] {
            let req = with_forwarded("198.51.100.1, 203.0.113.66", "203.0.113.66", secret);
            assert_eq!(
                RequestInfo::of(&req, &proxies).source_ip.as_deref(),
                Some("203.0.113.66"),
                "{secret:?}"
            );
        }
        let none = TrustedProxies::default();
        let req = with_forwarded("198.51.100.1, 203.0.113.66", "203.0.113.66", None);
        assert_eq!(
            RequestInfo::of(&req, &none).source_ip.as_deref(),
            Some("203.0.113.66")
        );
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_an_identity() {
        assert_eq!(
            rate_identity(Some("2001:db8:1:2:aaaa::1")),
            rate_identity(Some("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            rate_identity(Some("2001:db8:1:2::1")),
            rate_identity(Some("2001:db8:1:3::1"))
        );
        assert_eq!(rate_identity(Some("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(rate_identity(Some("garbage")), "unknown");
    }

    #[test]
    fn stage_prefix_is_stripped_only_at_a_segment_boundary() {
        assert_eq!(strip_stage("/Prod/comment", Some("Prod")), "/comment");
        assert_eq!(
            strip_stage("/Production/comment", Some("Prod")),
            "/Production/comment"
        );
        assert_eq!(strip_stage("/comment", Some("$default")), "/comment");
    }

    #[test]
    fn base_url_includes_a_named_stage() {
        assert_eq!(
            base_url(
                Some("abc.execute-api.eu-west-1.amazonaws.com"),
                Some("$default")
            )
            .as_deref(),
            Some("https://abc.execute-api.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            base_url(Some("abc.example.com"), Some("Prod")).as_deref(),
            Some("https://abc.example.com/Prod")
        );
        assert_eq!(base_url(Some("evil.com/x?"), None), None);
    }
}
