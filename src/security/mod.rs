//! What the service signs and checks: keys derived from `SECRET_KEY` (one per
//! purpose), signed links ([`token`]), signed list cursors ([`cursor`]), the
//! optional captcha check, and the spam verdict ([`spam`]).

pub(crate) mod captcha;
pub mod cursor;
pub mod keys;
pub mod spam;
pub mod token;
