//! What the fuzz targets share: the app in memory (as `tests/support/memory.rs`
//! builds it), one Tokio runtime, and the invariants every input must keep.
//!
//! Each check panics on a violation: libFuzzer reports a panic as a crash and
//! saves the input under `fuzz/artifacts/<target>/`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use http::Response;
use lambda_http::{Body, Request};
use rust_aws::app::App;
use rust_aws::config::Config;
use rust_aws::config::state::State;
use rust_aws::domain::{ContactMessage, NewComment};
use rust_aws::mail::Mail;
use rust_aws::mail::memory::MemoryMailer;
use rust_aws::store::memory::MemoryStore;
use rust_aws::web::intake::Fields;
use tower::ServiceExt;

/// The root secret of the fuzzed app (tokens and cursors in the seeds use keys
/// derived from it, so they reach past the signature check).
pub const SECRET: &str = "fuzz-secret-0123456789abcdef-0123456789";

/// A fixed key for the token and cursor targets.
pub const KEY: [u8; 32] = [7; 32];

/// A fresh app per input: the in-memory store and the recording mailer, so a
/// crash reproduces from its input alone. The rate limit is high so inputs
/// reach validation instead of stopping at 429.
pub fn app() -> App {
    let env: HashMap<&str, &str> = HashMap::from([
        ("ALLOWED_ORIGINS", "https://blog.example.com"),
        ("SECRET_KEY", SECRET),
        ("SITE_NAME", "Example Blog"),
        ("RATE_LIMIT_PER_MINUTE", "100000"),
    ]);
    let config = Config::from_lookup(|k| env.get(k).map(|v| (*v).to_owned()))
        .expect("the fuzz configuration is valid");
    App::new(State {
        config,
        store: Arc::new(MemoryStore::new()),
        mailer: Arc::new(MemoryMailer::new()),
    })
}

/// Runs a future to completion on one shared current-thread runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a Tokio runtime")
    })
    .block_on(f)
}

/// Sends one request through the whole app and checks the answer.
pub fn serve(req: Request) -> Response<Body> {
    let Ok(res) = block_on(app().oneshot(req));
    check_response(&res);
    res
}

/// No input produces a 5xx other than 503; JSON answers are JSON;
/// HTML pages carry their protective headers.
pub fn check_response(res: &Response<Body>) {
    let status = res.status();
    assert!(
        !status.is_server_error() || status == http::StatusCode::SERVICE_UNAVAILABLE,
        "answered {status}"
    );
    let content_type = res
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let text = match res.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b.as_slice(),
        _ => &[],
    };
    if content_type == "application/json" {
        let v: serde_json::Value = serde_json::from_slice(text).expect("a JSON answer is JSON");
        if status.is_client_error() {
            assert!(v["error"].is_string(), "error shape: {v}");
        }
    }
    if content_type.starts_with("text/html") {
        assert!(res.headers().contains_key("content-security-policy"));
        assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    }
}

fn single_line_ok(s: &str) {
    assert_eq!(s, s.trim(), "single-line values are trimmed");
    assert!(
        !s.chars()
            .any(|c| c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
        "control or bidi character in {s:?}"
    );
}

fn multi_line_ok(s: &str) {
    assert_eq!(s, s.trim(), "multi-line values are trimmed");
    assert!(
        !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
        "control character in {s:?}"
    );
}

fn email_ok(s: &str) {
    assert!(s.is_ascii() && s.len() <= 254 && s.contains('@'), "{s:?}");
    assert!(
        !s.bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'<' || b == b'>')
    );
}

/// Validates the fields as both routes would, and checks that whatever the
/// domain accepts keeps the text rules and cannot inject a mail header.
pub fn check_fields(fields: &Fields) {
    if let Ok(c) = NewComment::parse(fields) {
        single_line_ok(c.post.as_str());
        single_line_ok(c.name.as_str());
        multi_line_ok(c.body.as_str());
        if let Some(e) = &c.email {
            email_ok(e.as_str());
        }
        if let Some(u) = &c.url {
            assert!(u.as_str().to_ascii_lowercase().starts_with("http"));
            assert!(
                !u.as_str()
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control())
            );
        }
        check_mail(&Mail {
            from_name: c.post.as_str().to_owned(),
            from: "noreply@example.com".into(),
            to: "owner@example.com".into(),
            reply_to: None,
            subject: format!("[Blog] New comment on {}", c.post.as_str()),
            text: c.body.as_str().to_owned(),
            list_unsubscribe: None,
        });
    }
    if let Ok(m) = ContactMessage::parse(fields) {
        single_line_ok(m.name.as_str());
        email_ok(m.email.as_str());
        multi_line_ok(m.message.as_str());
        let subject = m.subject.as_ref().map_or("", |s| s.as_str());
        single_line_ok(subject);
        check_mail(&Mail {
            from_name: "Blog".into(),
            from: "noreply@example.com".into(),
            to: "owner@example.com".into(),
            reply_to: Some((m.name.as_str().to_owned(), m.email.as_str().to_owned())),
            subject: format!("[Blog] {subject}"),
            text: m.message.as_str().to_owned(),
            list_unsubscribe: None,
        });
    }
}

/// The headers a mail may have, in the order `Mail::to_mime` writes them.
const MAIL_HEADERS: &[&str] = &[
    "From: ",
    "To: ",
    "Reply-To: ",
    "Subject: ",
    "MIME-Version: ",
    "Content-Type: ",
    "Content-Transfer-Encoding: ",
];

fn is_angle_addr(s: &str) -> bool {
    s.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .is_some_and(|a| {
            a.bytes()
                .all(|b| b.is_ascii_graphic() && !b"<>\"".contains(&b))
        })
}

/// The raw MIME has exactly the headers `to_mime` writes, each once, every
/// continuation line an encoded word, and a body of base64 lines.
pub fn check_mail(mail: &Mail) {
    let mime = String::from_utf8(mail.to_mime()).expect("MIME is ASCII");
    assert!(mime.is_ascii(), "non-ASCII byte in the MIME");
    let (head, body) = mime.split_once("\r\n\r\n").expect("a header/body split");
    let mut seen = Vec::new();
    for line in head.split("\r\n") {
        assert!(
            !line.contains('\r') && !line.contains('\n'),
            "bare line break"
        );
        if let Some(rest) = line.strip_prefix(' ') {
            // A folded encoded word; the last one of a mailbox carries the
            // address after it.
            let (word, address) = rest.split_once(' ').unwrap_or((rest, ""));
            assert!(
                word.starts_with("=?utf-8?B?") && word.ends_with("?=") && word.len() <= 75,
                "continuation line is not an encoded word: {line:?}"
            );
            assert!(
                address.is_empty() || is_angle_addr(address),
                "continuation line carries more than an address: {line:?}"
            );
            continue;
        }
        let name = MAIL_HEADERS
            .iter()
            .find(|h| line.starts_with(**h))
            .unwrap_or_else(|| panic!("unexpected header line {line:?}"));
        assert!(!seen.contains(name), "header {name:?} twice");
        seen.push(name);
    }
    for line in body.split("\r\n") {
        assert!(
            line.len() <= 76
                && line
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
            "body line is not base64: {line:?}"
        );
    }
}
