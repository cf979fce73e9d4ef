//! Loopback stand-ins for the services the function calls out to besides
//! AWS: Akismet (`comment-check`, `submit-spam`, `submit-ham`) and the
//! owner's alert channels (a generic webhook receiver, Slack, Discord,
//! Telegram). Plain HTTP, reached through `AKISMET_URL`, the webhook URLs and
//! `TELEGRAM_API_URL`; every call is recorded.
//!
//! The Akismet stub answers as Akismet documents for its test values:
//! `comment_author` `akismet-guaranteed-spam` is spam (`true`), anything
//! else ham (`false`); `akismet-guaranteed-discard` (a name of this stub's)
//! is `true` with `X-akismet-pro-tip: discard`; a call without `api_key` or
//! `blog` is `invalid` with `X-akismet-debug-help`. Corrections answer
//! Akismet's thanks.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Akismet's documented author that is always spam.
pub const AKISMET_SPAM_AUTHOR: &str = "akismet-guaranteed-spam";
/// This stub's author that is blatant spam (the pro-tip `discard`).
pub const AKISMET_DISCARD_AUTHOR: &str = "akismet-guaranteed-discard";

/// How a stub answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// As the service does.
    Service,
    /// The same, after this long.
    Slow(Duration),
    /// This status, with a short body.
    Status(u16),
    /// 200 with an HTML page (a captive portal, a proxy's error page).
    Nonsense,
}

/// One call a stub received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub path: String,
    pub content_type: Option<String>,
    pub signature: Option<String>,
    pub body: Vec<u8>,
}

impl Call {
    /// A form field of a form-encoded body.
    pub fn field(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(&self.body)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A running stub.
pub struct Stub {
    /// Its base URL (no trailing slash).
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Stub {
    /// Starts a stub answering with `behaviour`.
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
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

    /// A base URL nothing listens on: the service is down.
    pub fn dead_url() -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("http://127.0.0.1:{port}")
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls to one path.
    pub fn calls_to(&self, path: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.path == path)
            .collect()
    }
}

/// Checks a generic webhook call as a receiver should: the signature is the
/// HMAC-SHA256 of the raw body with `secret`, and the signed timestamp is
/// within five minutes of now. Written against the hmac crate directly, not
/// the function's own code.
pub fn verify_webhook(secret: &str, call: &Call) -> Result<serde_json::Value, String> {
    use hmac::{KeyInit, Mac};
    let header = call.signature.as_deref().ok_or("no signature header")?;
    let hex = header
        .strip_prefix("sha256=")
        .ok_or("signature without sha256=")?;
    let tag: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|_| "signature is not hex")?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&call.body);
    mac.verify_slice(&tag)
        .map_err(|_| "signature does not match")?;
    let event: serde_json::Value = serde_json::from_slice(&call.body).map_err(|e| e.to_string())?;
    let ts = event["timestamp"].as_u64().ok_or("no timestamp")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(ts) > 300 {
        return Err(format!("timestamp {ts} is not within 5 minutes of {now}"));
    }
    Ok(event)
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    behaviour: Behaviour,
    recorded: Arc<Mutex<Vec<Call>>>,
) -> hyper::Response<Full<Bytes>> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (content_type, signature) = (header("content-type"), header("x-rust-aws-signature"));
    let path = req.uri().path().to_owned();
    let body = req.into_body().collect().await.unwrap().to_bytes().to_vec();
    let call = Call {
        path: path.clone(),
        content_type,
        signature,
        body,
    };
    recorded.lock().unwrap().push(call.clone());
    let respond = |status: u16, headers: &[(&str, &str)], body: &str| {
        let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_owned())));
        *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
        for (k, v) in headers {
            r.headers_mut().insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        r
    };
    match behaviour {
        Behaviour::Status(s) => return respond(s, &[], "failure"),
        Behaviour::Nonsense => {
            return respond(
                200,
                &[("content-type", "text/html")],
                "<html>Sign in to the Wi-Fi</html>",
            );
        }
        Behaviour::Slow(d) => tokio::time::sleep(d).await,
        Behaviour::Service => {}
    }
    let text = [("content-type", "text/plain")];
    if path.ends_with("/1.1/comment-check") {
        if call.field("api_key").is_none() || call.field("blog").is_none() {
            return respond(
                200,
                &[(
                    "x-akismet-debug-help",
                    "Empty \"api_key\" or \"blog\" value",
                )],
                "invalid",
            );
        }
        return match call.field("comment_author").as_deref() {
            Some(AKISMET_SPAM_AUTHOR) => respond(200, &text, "true"),
            Some(AKISMET_DISCARD_AUTHOR) => {
                respond(200, &[("x-akismet-pro-tip", "discard")], "true")
            }
            _ => respond(200, &text, "false"),
        };
    }
    if path.ends_with("/1.1/submit-spam") || path.ends_with("/1.1/submit-ham") {
        return respond(200, &text, "Thanks for making the web a better place.");
    }
    if path.ends_with("/sendMessage") {
        // Telegram's Bot API answers a JSON object with `ok`.
        return respond(
            200,
            &[("content-type", "application/json")],
            r#"{"ok":true,"result":{"message_id":1}}"#,
        );
    }
    // Slack answers `ok`, Discord 204; a generic receiver anything 2xx.
    respond(200, &text, "ok")
}
