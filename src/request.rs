//! What the app needs to know about a request beyond method, path and body,
//! from whichever front door it came through: API Gateway v2 (HTTP API and
//! Function URLs), API Gateway v1 (REST), a scheduled event, or the local server.

use std::net::IpAddr;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

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

#[cfg(test)]
mod tests {
    use super::*;

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
