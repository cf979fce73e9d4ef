//! Header values the intake reads: `Content-Type`, `Accept`, and the URLs of
//! `Origin`/`Referer`/`_redirect` (origins and the redirect target).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_aws::web::intake::{MediaType, accepts_json, append_query, media_type, origin_of_url};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(MediaType::Multipart { boundary }) = media_type(Some(text)) {
        assert!(!boundary.is_empty() && boundary.len() <= 70 && boundary.is_ascii());
    }
    let _ = accepts_json(Some(text));
    if let Some(origin) = origin_of_url(text) {
        // An origin is scheme://authority only: nothing that could smuggle a
        // path, credentials or whitespace into a comparison or a redirect.
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .expect("http(s) origin");
        assert!(!rest.is_empty());
        assert!(!rest.contains(['/', '?', '#', '@', '\\']), "{origin:?}");
        assert!(!rest.chars().any(|c| c.is_whitespace() || c.is_control()));
        assert_eq!(origin, origin.to_ascii_lowercase());
        // Appending the error code keeps the origin of the target.
        let redirected = append_query(text, "error", "rate_limited");
        assert_eq!(origin_of_url(&redirected).as_deref(), Some(origin.as_str()));
    }
});
