//! Real API Gateway payloads (tests/fixtures), adjusted per test case.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// The site the tests' ALLOWED_ORIGINS names.
pub const SITE: &str = "https://blog.example.com";

/// Loads a fixture by file name.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// An HTTP API (payload v2) event built from the fixture.
#[derive(Debug, Clone)]
pub struct Event(pub Value);

impl Event {
    /// `METHOD /path?query` with no body; headers as a browser on SITE sends.
    pub fn v2(method: &str, path_and_query: &str) -> Self {
        let mut v = fixture("apigw-v2-http-api.json");
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        v["routeKey"] = json!(format!("{method} {path}"));
        v["rawPath"] = json!(path);
        v["rawQueryString"] = json!(query);
        v["requestContext"]["http"]["method"] = json!(method);
        v["requestContext"]["http"]["path"] = json!(path);
        v["body"] = Value::Null;
        let headers = v["headers"].as_object_mut().unwrap();
        headers.remove("content-type");
        headers.remove("content-length");
        if !query.is_empty() {
            let mut params = serde_json::Map::new();
            for (k, val) in form_urlencoded::parse(query.as_bytes()) {
                params.insert(k.into_owned(), json!(val));
            }
            v["queryStringParameters"] = Value::Object(params);
        }
        Self(v)
    }

    /// POST with a JSON body.
    pub fn post_json(path: &str, body: &Value) -> Self {
        Self::v2("POST", path).body("application/json", &body.to_string())
    }

    /// POST of a plain HTML form (urlencoded, base64 as API Gateway sends it).
    pub fn post_form(path: &str, pairs: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Self::v2("POST", path)
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            .header("referer", &format!("{SITE}/contact/"))
            .body_base64("application/x-www-form-urlencoded", body.as_bytes())
    }

    /// Sets a text body and its content type.
    pub fn body(mut self, content_type: &str, body: &str) -> Self {
        self.0["body"] = json!(body);
        self.0["isBase64Encoded"] = json!(false);
        self.header("content-type", content_type)
    }

    /// Sets a base64-encoded body, as HTTP API delivers form posts.
    pub fn body_base64(mut self, content_type: &str, body: &[u8]) -> Self {
        self.0["body"] = json!(STANDARD.encode(body));
        self.0["isBase64Encoded"] = json!(true);
        self.header("content-type", content_type)
    }

    /// Sets (replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.0["headers"][name.to_ascii_lowercase()] = json!(value);
        self
    }

    /// Removes a header.
    pub fn without(mut self, name: &str) -> Self {
        self.0["headers"]
            .as_object_mut()
            .unwrap()
            .remove(&name.to_ascii_lowercase());
        self
    }

    /// Sets the source address API Gateway reports.
    pub fn source_ip(mut self, ip: &str) -> Self {
        self.0["requestContext"]["http"]["sourceIp"] = json!(ip);
        self
    }

    /// The event as JSON text.
    pub fn to_json(&self) -> String {
        self.0.to_string()
    }
}

/// A multipart body as `fetch(url, {body: new FormData(form)})` sends it.
pub fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (name, filename, value) in parts {
        body.push_str(&format!("--{boundary}\r\n"));
        match filename {
            Some(f) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )),
            None => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")),
        }
        body.push_str(value);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body.into_bytes()
}

/// A valid contact message as JSON.
pub fn contact() -> Value {
    json!({"name": "Ann Example", "email": "ann@example.org", "subject": "Hello", "message": "I liked your post.\nThanks!"})
}

/// A valid comment on `post` as JSON.
pub fn comment(post: &str) -> Value {
    json!({"post": post, "name": "Bob", "email": "Bob@Example.org ", "url": "https://bob.example.net", "body": "Great write-up."})
}
