//! What the service signs and checks: keys derived from `SECRET_KEY` (one per
//! purpose), signed links ([`token`]), signed list cursors ([`cursor`]), and
//! the optional captcha check.

pub(crate) mod captcha;
pub mod cursor;
pub mod keys;
pub mod token;
