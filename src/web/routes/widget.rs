//! GET /embed.js and GET /embed.css: the embeddable widget, served from the binary.
//!
//! The sources under `src/web/widget/` are written to be read; the served copy
//! drops their indentation and whole-line comments (about a tenth of the
//! gzipped size), once per process, as is the `ETag` that revalidation
//! compares against.

use std::sync::LazyLock;

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use lambda_http::Body;
use sha2::{Digest, Sha256};

use crate::domain::ids;

/// Fresh for an hour, then used while revalidating in the background for a
/// week: the URL carries no version, so a deploy reaches readers within the
/// hour, and a revalidation is a 304 without a body.
const CACHE: &str = "public, max-age=3600, stale-while-revalidate=604800";

/// One widget file, ready to serve.
#[derive(Debug)]
pub(crate) struct Asset {
    body: String,
    etag: HeaderValue,
    content_type: &'static str,
}

/// `embed.js`, as served.
pub(crate) static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_str!("../widget/embed.js"),
        "text/javascript; charset=utf-8",
    )
});

/// `embed.css`, as served.
pub(crate) static STYLESHEET: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_str!("../widget/embed.css"),
        "text/css; charset=utf-8",
    )
});

impl Asset {
    pub(crate) fn new(source: &str, content_type: &'static str) -> Self {
        let body = compact(source);
        let digest = Sha256::digest(body.as_bytes());
        let etag = HeaderValue::from_str(&format!("\"{}\"", ids::hex(&digest[..12])))
            .expect("a quoted hex string is a valid header value");
        Self {
            body,
            etag,
            content_type,
        }
    }

    /// 200 with the asset, or 304 when `If-None-Match` names its `ETag`.
    pub(crate) fn respond(&self, request: &HeaderMap) -> Response<Body> {
        let fresh = request
            .get_all(IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| matches_etag(v, self.etag.as_bytes()));
        let mut res = if fresh {
            let mut res = Response::new(Body::Empty);
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            res
        } else {
            let mut res = Response::new(Body::from(self.body.clone()));
            res.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
            res
        };
        let h = res.headers_mut();
        h.insert(ETAG, self.etag.clone());
        h.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        // Sites that isolate themselves (COEP require-corp) may still load it.
        h.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
        res
    }
}

/// `If-None-Match` uses the weak comparison (RFC 9110 13.1.2): `W/` is
/// ignored, and `*` matches any current representation.
fn matches_etag(header: &str, etag: &[u8]) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == etag)
}

/// Drops indentation, blank lines, whole-line `//` comments and block
/// comments that start a line. Only whole lines are touched, so a `//` inside
/// a string (a URL) is safe; the sources keep comments on lines of their own.
fn compact(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_block = false;
    for line in source.lines().map(str::trim) {
        if in_block {
            in_block = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block = !line.contains("*/");
            continue;
        }
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(if_none_match: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, HeaderValue::from_str(if_none_match).unwrap());
        h
    }

    #[test]
    fn compact_drops_comment_lines_and_indentation_only() {
        let source = "/* a\n * block\n */\nconst a = 1; // kept: not a whole line\n\n  // gone\n  const u = \"https://x\";\n/* one line */\nb();\n";
        assert_eq!(
            compact(source),
            "const a = 1; // kept: not a whole line\nconst u = \"https://x\";\nb();\n"
        );
    }

    #[test]
    fn served_assets_keep_their_code() {
        assert!(SCRIPT.body.contains("window.rustAws = { init };"));
        assert!(!SCRIPT.body.contains("\n  "));
        assert!(STYLESHEET.body.contains(".rac-body {"));
        assert!(!STYLESHEET.body.contains("/*"));
    }

    #[test]
    fn asset_answers_200_with_type_etag_and_cache_control() {
        let res = SCRIPT.respond(&HeaderMap::new());
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()[CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(res.headers()[CACHE_CONTROL], CACHE);
        let etag = res.headers()[ETAG].to_str().unwrap();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 26);
        assert_eq!(
            STYLESHEET.respond(&HeaderMap::new()).headers()[CONTENT_TYPE],
            "text/css; charset=utf-8"
        );
    }

    #[test]
    fn asset_answers_304_when_if_none_match_names_its_etag() {
        let etag = SCRIPT.etag.to_str().unwrap().to_owned();
        for value in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
            "*".to_owned(),
        ] {
            let res = SCRIPT.respond(&headers(&value));
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{value}");
            assert!(matches!(res.body(), Body::Empty));
            assert_eq!(res.headers()[ETAG], etag.as_str());
        }
        let stale = SCRIPT.respond(&headers("\"0123\""));
        assert_eq!(stale.status(), StatusCode::OK);
        assert_ne!(SCRIPT.etag, STYLESHEET.etag);
    }
}
