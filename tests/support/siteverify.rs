//! A siteverify endpoint on loopback (plain HTTP, reached through
//! `CAPTCHA_VERIFY_URL`) that implements the providers' documented test
//! secrets and records every call it received.
//!
//! - Cloudflare Turnstile: secret `1x…AA` passes any token, `2x…AA` always
//!   fails (`invalid-input-response`), `3x…AA` answers "token already spent"
//!   (`timeout-or-duplicate`).
//! - hCaptcha: secret `0x0…0` passes only the test response
//!   `10000000-aaaa-bbbb-cccc-000000000001`.
//! - Any other secret: `invalid-input-secret`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

pub const TURNSTILE_PASS: &str = "1x0000000000000000000000000000000AA";
pub const TURNSTILE_FAIL: &str = "2x0000000000000000000000000000000AA";
pub const TURNSTILE_SPENT: &str = "3x0000000000000000000000000000000AA";
/// The token Turnstile's test sitekeys hand the browser.
pub const TURNSTILE_DUMMY_TOKEN: &str = "XXXX.DUMMY.TOKEN.XXXX";
pub const HCAPTCHA_SECRET: &str = "0x0000000000000000000000000000000000000000";
pub const HCAPTCHA_RESPONSE: &str = "10000000-aaaa-bbbb-cccc-000000000001";

/// How the stub answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// As the providers document for their test secrets.
    Provider,
    /// The same, after this long.
    Slow(Duration),
    /// 200 with an HTML page (a proxy's or a challenge page).
    Nonsense,
    /// This status with an empty body.
    Status(u16),
}

/// One call the stub received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub content_type: Option<String>,
    pub secret: Option<String>,
    pub response: Option<String>,
    pub remoteip: Option<String>,
}

pub struct SiteVerify {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl SiteVerify {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
        let calls = Arc::new(Mutex::new(Vec::new()));
        let recorded = calls.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let recorded = recorded.clone();
                        async move { Ok::<_, Infallible>(answer(req, behaviour, recorded).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { url, calls }
    }

    /// A URL nothing listens on: the verifier is down.
    pub fn down_url() -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("http://127.0.0.1:{port}/siteverify")
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

fn verdict(secret: Option<&str>, response: Option<&str>) -> serde_json::Value {
    let fail = |code: &str| json!({"success": false, "error-codes": [code]});
    let Some(response) = response.filter(|r| !r.is_empty()) else {
        return fail("missing-input-response");
    };
    match secret {
        Some(TURNSTILE_PASS) => json!({
            "success": true,
            "error-codes": [],
            "challenge_ts": "2026-11-29T12:00:00.000Z",
            "hostname": "blog.example.com",
        }),
        Some(TURNSTILE_FAIL) => fail("invalid-input-response"),
        Some(TURNSTILE_SPENT) => fail("timeout-or-duplicate"),
        Some(HCAPTCHA_SECRET) if response == HCAPTCHA_RESPONSE => json!({
            "success": true,
            "challenge_ts": "2026-11-29T12:00:00Z",
            "hostname": "blog.example.com",
        }),
        Some(HCAPTCHA_SECRET) => fail("invalid-input-response"),
        None | Some("") => fail("missing-input-secret"),
        Some(_) => fail("invalid-input-secret"),
    }
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    behaviour: Behaviour,
    recorded: Arc<Mutex<Vec<Call>>>,
) -> hyper::Response<Full<Bytes>> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let call = Call {
        content_type,
        secret: get("secret"),
        response: get("response"),
        remoteip: get("remoteip"),
    };
    recorded.lock().unwrap().push(call.clone());
    let respond = |status: u16, ct: &str, body: String| {
        let mut r = hyper::Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
        r.headers_mut().insert("content-type", ct.parse().unwrap());
        r
    };
    match behaviour {
        Behaviour::Nonsense => {
            return respond(
                200,
                "text/html",
                "<html><title>Just a moment...</title></html>".into(),
            );
        }
        Behaviour::Status(s) => return respond(s, "text/plain", String::new()),
        Behaviour::Slow(d) => tokio::time::sleep(d).await,
        Behaviour::Provider => {}
    }
    let v = verdict(call.secret.as_deref(), call.response.as_deref());
    respond(200, "application/json", v.to_string())
}
