//! Query strings of the GET routes (list, count, moderation page) through the
//! whole app: never a 5xx, never a panic. Bytes a URI cannot carry raw are
//! percent-encoded first, as a browser or API Gateway would.
#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::{AsciiSet, CONTROLS, percent_encode};

/// Everything outside what `http::Uri` accepts in a query.
const RAW: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'\\')
    .add(b'^');

fuzz_target!(|data: &[u8]| {
    let (route, query) = match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => return,
    };
    let path = match route % 3 {
        0 => "/comment",
        1 => "/comment/count",
        _ => "/comment/moderate",
    };
    let uri = format!("{path}?{}", percent_encode(query, RAW));
    let Ok(req) = http::Request::get(uri).body(lambda_http::Body::Empty) else {
        return;
    };
    let res = rust_aws_fuzz::serve(req);
    if path == "/comment/moderate" {
        // Nothing but a signed token gets past the 403 page.
        assert_ne!(res.status(), http::StatusCode::OK);
    }
});
