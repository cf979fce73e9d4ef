//! List cursors from the query string. Nothing panics; a position that
//! decodes round-trips through `encode`, and never decodes for another post.
//! (The tag covers the parsed position, so `0001700…` and `1700…` name the
//! same position with the same tag: another spelling, never another position.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_aws::security::cursor::{decode, encode};
use rust_aws_fuzz::KEY;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(position) = decode(&KEY, "/a/", text) {
        let again = encode(&KEY, "/a/", &position);
        assert_eq!(decode(&KEY, "/a/", &again), Some(position));
        assert_eq!(decode(&KEY, "/b/", text), None);
    }
});
