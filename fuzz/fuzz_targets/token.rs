//! Moderation tokens as a link or the page's form delivers them. Nothing
//! panics; whatever verifies round-trips through `sign`, and no text verifies
//! under another key. (A token is signed over its text, so only the key holder
//! could make a second spelling such as a zero-padded expiry; the server never
//! does, and such a token authorises nothing its signer did not.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_aws::security::token::{Token, TokenError};
use rust_aws_fuzz::KEY;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Token::verify(text, &KEY, 1_000) {
        Ok(token) | Err(TokenError::Expired(token)) => {
            let again = Token::verify(&token.sign(&KEY), &KEY, 1_000);
            assert!(matches!(again, Ok(ref t) | Err(TokenError::Expired(ref t)) if *t == token));
        }
        Err(TokenError::Invalid) => {}
    }
    // The same text under another key never verifies.
    assert!(matches!(
        Token::verify(text, &[8; 32], 1_000),
        Err(TokenError::Invalid)
    ));
});
