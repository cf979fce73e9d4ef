//! A `multipart/form-data` body. The first line of the input is the boundary
//! (as the Content-Type header would give it), the rest is the body, so the
//! fuzzer varies both; seeds use browser-style boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_aws::web::intake::{ContentTypeError, Fields, MediaType, media_type};

fuzz_target!(|data: &[u8]| {
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"XyZ"[..], data),
    };
    let Ok(boundary) = std::str::from_utf8(first) else {
        return;
    };
    // The boundary goes through the Content-Type parser, as in production.
    let header = format!("multipart/form-data; boundary={boundary}");
    let media = match media_type(Some(&header)) {
        Ok(m @ MediaType::Multipart { .. }) => m,
        Ok(other) => panic!("multipart header read as {other:?}"),
        Err(ContentTypeError::Invalid(_) | ContentTypeError::Unsupported) => return,
    };
    if let Ok(fields) = Fields::parse(&media, body) {
        rust_aws_fuzz::check_fields(&fields);
    }
});
