//! Building responses: JSON, HTML pages, redirects, and the error shape.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderValue, Response, StatusCode};
use lambda_http::Body;
use serde_json::json;

use crate::Chain;
use crate::web::error::ApiError;

/// A response with a JSON body and `Cache-Control: no-store`.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut res = Response::new(Body::from(value.to_string()));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Browsers must never sniff user text in JSON as HTML.
    res.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// The JSON error shape: `{"error", "message", "request_id", "fields"}` (README.md, "API", Errors).
pub fn error(err: &ApiError, request_id: &str) -> Response<Body> {
    let mut body = json!({"error": err.code(), "message": err.message(), "request_id": request_id});
    if let ApiError::Validation(fields) = err {
        body["fields"] = json!(fields);
    }
    let mut res = json(err.status(), &body);
    decorate(&mut res, err);
    res
}

/// The headers every answer to `err` carries, whatever its body.
pub(crate) fn decorate(res: &mut Response<Body>, err: &ApiError) {
    if let Some(s) = err.retry_after() {
        res.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
    }
    if let ApiError::MethodNotAllowed(allow) = err
        && let Ok(v) = HeaderValue::from_str(allow)
    {
        res.headers_mut().insert(http::header::ALLOW, v);
    }
    // Where an error becomes an answer: the one place its cause is logged.
    match err {
        ApiError::Internal => tracing::error!("answering 500"),
        ApiError::Store(cause) => {
            tracing::warn!(error = %Chain(cause), "store call failed; answering 503")
        }
        _ => {}
    }
}

/// 303 See Other to `location` (already checked to be on an allowed origin).
pub(crate) fn see_other(location: &str) -> Response<Body> {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::SEE_OTHER;
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

/// Escapes text for HTML element content and quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A small self-contained HTML page; `title` is escaped, `body_html` is
/// trusted markup built by the caller from escaped parts.
pub fn page(status: StatusCode, title: &str, body_html: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"robots\" content=\"noindex\"><title>{title}</title>\
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}\
blockquote{{white-space:pre-wrap;border-left:3px solid #ccc;margin:1rem 0;padding:.25rem 1rem}}\
button{{font-size:1rem;padding:.5rem 1.25rem}}</style></head>\n<body><h1>{title}</h1>\n{body_html}\n</body></html>\n",
        title = escape_html(title)
    );
    // The page runs no script and may not be framed.
    html_page(
        status,
        html,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
}

/// An HTML page that no cache keeps, whose address no referrer carries and
/// that `csp` confines: the link pages and the console's. A 503 carries
/// `Retry-After`, as the JSON answers do.
pub(crate) fn html_page(status: StatusCode, html: String, csp: &'static str) -> Response<Body> {
    let mut res = Response::new(Body::from(html));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("content-security-policy", HeaderValue::from_static(csp));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        h.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from(crate::web::error::UNAVAILABLE_RETRY_AFTER_S),
        );
    }
    res
}

/// A page of one escaped sentence: what the link pages answer when they
/// refuse. A 503 carries `Retry-After`, as the JSON answers do.
pub fn notice(status: StatusCode, title: &str, text: &str) -> Response<Body> {
    let mut res = page(status, title, &format!("<p>{}</p>", escape_html(text)));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(
            RETRY_AFTER,
            HeaderValue::from(crate::web::error::UNAVAILABLE_RETRY_AFTER_S),
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_html_neutralises_markup() {
        assert_eq!(
            escape_html("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn errors_carry_code_request_id_and_retry_after() {
        let res = error(&ApiError::RateLimited { retry_after_s: 17 }, "req-1");
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[RETRY_AFTER], "17");
        assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
        let Body::Text(text) = res.body() else {
            panic!("text body")
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            (v["error"].as_str(), v["request_id"].as_str()),
            (Some("rate_limited"), Some("req-1"))
        );
        assert!(v.get("fields").is_none());
    }

    #[test]
    fn a_store_failure_is_a_503_that_tells_the_client_nothing_of_its_cause() {
        let cause = crate::store::StoreError::new("PutItem: ProvisionedThroughputExceeded");
        let res = error(&ApiError::from(cause), "req-2");
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[RETRY_AFTER], "5");
        let Body::Text(text) = res.body() else {
            panic!("text body")
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["error"], "unavailable");
        assert!(
            !text.contains("PutItem") && !text.contains("Provisioned"),
            "{text}"
        );
    }
}
