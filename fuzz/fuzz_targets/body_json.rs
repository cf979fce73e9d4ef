//! A JSON request body: parsed into fields, then validated as a comment and
//! as a contact message. Nothing panics; whatever is accepted keeps the text
//! rules and cannot add a mail header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_aws::web::intake::{Fields, MediaType};

fuzz_target!(|data: &[u8]| {
    if let Ok(fields) = Fields::parse(&MediaType::Json, data) {
        rust_aws_fuzz::check_fields(&fields);
    }
});
