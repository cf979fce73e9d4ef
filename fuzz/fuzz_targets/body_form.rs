//! An `application/x-www-form-urlencoded` body, as a plain HTML form posts it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_aws::web::intake::{Fields, MediaType};

fuzz_target!(|data: &[u8]| {
    if let Ok(fields) = Fields::parse(&MediaType::UrlEncoded, data) {
        rust_aws_fuzz::check_fields(&fields);
    }
});
