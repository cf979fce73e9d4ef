//! Arbitrary bytes as a Lambda event payload, deserialized the way the
//! runtime does (`serde_json` into lambda_http's `LambdaRequest`, as
//! `lambda_http::request::from_str` does), passed through
//! `rust_aws::web::request::defuse` exactly as `main` wires it in front of
//! lambda_http's conversion, then through the whole app (in-memory store,
//! recording mailer). The answer is never a 5xx other than 503, and nothing
//! panics: neither our code nor lambda_http's conversion.
#![no_main]

use lambda_http::Request;
use lambda_http::request::LambdaRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The Runtime API delivers JSON text; anything else never reaches us.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut event) = serde_json::from_str::<LambdaRequest>(text) else {
        return;
    };
    rust_aws::web::request::defuse(&mut event);
    let req: Request = event.into();
    rust_aws_fuzz::serve(req);
});
