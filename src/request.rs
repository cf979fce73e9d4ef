//! What the app needs to know about a request beyond method, path and body,
//! from whichever front door it came through: API Gateway v2 (HTTP API and
//! Function URLs), API Gateway v1 (REST), a scheduled event, or the local server.

use std::net::IpAddr;

use lambda_http::request::{LambdaRequest, RequestContext};
use lambda_http::{LambdaEvent, Request, RequestExt};

/// Set by the local server in place of a Lambda request context.
#[derive(Debug, Clone)]
pub struct LocalContext {
    /// The TCP peer.
    pub peer: IpAddr,
    /// A fresh id per request.
    pub request_id: String,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

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
    pub base_url: Option<String>,
    /// The path without any stage prefix.
    pub path: String,
    /// HTTP or event.
    pub source: Source,
    /// When the answer is due (the invocation's deadline less a margin).
    pub deadline: crate::deadline::Deadline,
}

/// The `n`-th address from the right of `X-Forwarded-For` (n ≥ 1).
fn forwarded_for(req: &Request, hops: usize) -> Option<String> {
    let joined: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect();
    let entry = joined.iter().rev().nth(hops - 1)?;
    entry.parse::<IpAddr>().ok().map(|ip| ip.to_string())
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
    /// Reads the request's context. `trusted_proxy_hops` > 0 takes the client
    /// address from `X-Forwarded-For`; otherwise that header is ignored.
    pub fn of(req: &Request, trusted_proxy_hops: usize) -> Self {
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
        let source_ip = if trusted_proxy_hops > 0 {
            forwarded_for(req, trusted_proxy_hops).or(context_ip)
        } else {
            context_ip
        };
        Self {
            request_id: lambda_id
                .or_else(|| local.map(|l| l.request_id.clone()))
                .unwrap_or_else(crate::ids::new_id),
            source_ip,
            base_url: local
                .map(|l| l.base_url.clone())
                .or_else(|| base_url(domain.as_deref(), stage.as_deref())),
            path: strip_stage(path, stage.as_deref()),
            source,
            deadline: crate::deadline::Deadline::of(req),
        }
    }
}

/// The rate-limit identity of an address: IPv6 by its /64 (one subscriber
/// usually holds a whole /64), IPv4 as is, anything unparsable as one bucket.
pub fn rate_identity(ip: Option<&str>) -> String {
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
            serde_json::from_str(include_str!("../tests/fixtures/apigw-v2-http-api.json")).unwrap();
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
