//! Who may use the console: sign-in links, the session cookie, CSRF tokens
//! and the own-origin rule. Pure functions; the store calls are in
//! [`super`]. The reasoning behind each rule: docs/security.md, "The owner's
//! console".

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::security::keys;

/// The session cookie. `__Host-`: the browser accepts it only with
/// `Secure`, `Path=/` and no `Domain`, so no sibling subdomain can set or
/// shadow it.
pub(crate) const COOKIE: &str = "__Host-rust-aws";
/// How long a sign-in link works.
pub(crate) const LINK_TTL_MS: u64 = 15 * 60 * 1000;
/// Sign-in links mailed per hour, at most.
pub(crate) const LINKS_PER_HOUR: u32 = 5;
/// How long a session lasts, whatever happens.
pub(crate) const SESSION_TTL_MS: u64 = 12 * 60 * 60 * 1000;

/// A sign-in link's token: `signin.<nonce>.<expires_s>.<tag>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignIn {
    /// The one-use nonce the store records.
    pub nonce: String,
    /// Epoch seconds after which the link is refused.
    pub expires_s: u64,
}

/// Why a sign-in link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkError {
    /// Tampered, malformed, or not a sign-in link: 403.
    Invalid,
    /// Genuine but expired: 410.
    Expired,
}

impl SignIn {
    /// A new link's token, valid for [`LINK_TTL_MS`] from `now_ms`.
    pub(crate) fn new(now_ms: u64) -> Self {
        Self {
            nonce: crate::domain::ids::new_id(),
            expires_s: (now_ms + LINK_TTL_MS) / 1000,
        }
    }

    /// The signed text.
    pub(crate) fn sign(&self, key: &[u8; 32]) -> String {
        let payload = format!("signin.{}.{}", self.nonce, self.expires_s);
        let tag = keys::hmac(key, payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks the signature, then the expiry.
    pub(crate) fn verify(text: &str, key: &[u8; 32], now_s: u64) -> Result<Self, LinkError> {
        if text.len() > 200 {
            return Err(LinkError::Invalid);
        }
        let (payload, tag) = text.rsplit_once('.').ok_or(LinkError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| LinkError::Invalid)?;
        if !keys::verify(key, payload.as_bytes(), &tag) {
            return Err(LinkError::Invalid);
        }
        let mut parts = payload.split('.');
        let (Some("signin"), Some(nonce), Some(expires), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Invalid);
        };
        let expires_s: u64 = expires.parse().map_err(|_| LinkError::Invalid)?;
        if now_s >= expires_s {
            return Err(LinkError::Expired);
        }
        Ok(Self {
            nonce: nonce.to_owned(),
            expires_s,
        })
    }
}

/// A new session id: 256 random bits, URL-safe (the cookie's value).
pub(crate) fn new_session_id() -> String {
    URL_SAFE_NO_PAD.encode(crate::domain::ids::random_bytes::<32>())
}

/// What the store keeps of a session id: its SHA-256, so that reading the
/// table yields no cookie that works.
pub(crate) fn id_hash(session_id: &str) -> String {
    crate::domain::ids::hex(&Sha256::digest(session_id.as_bytes()))
}

/// The CSRF token of a session: an HMAC of its id, so it is bound to that
/// session, changes with every sign-in and needs no storage.
pub(crate) fn csrf_token(key: &[u8; 32], session_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(keys::hmac(key, format!("csrf.{session_id}").as_bytes()))
}

/// Whether `sent` is the CSRF token of `session_id` (constant time).
pub(crate) fn csrf_ok(key: &[u8; 32], session_id: &str, sent: Option<&str>) -> bool {
    let Some(tag) = sent.and_then(|t| URL_SAFE_NO_PAD.decode(t.trim()).ok()) else {
        return false;
    };
    keys::verify(key, format!("csrf.{session_id}").as_bytes(), &tag)
}

/// The session id the request's cookie carries, if it looks like one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        })
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn set_cookie(session_id: &str) -> String {
    format!(
        "{COOKIE}={session_id}; Path=/; Max-Age={}; Secure; HttpOnly; SameSite=Strict",
        SESSION_TTL_MS / 1000
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict")
}

/// Whether a state-changing POST comes from the console's own pages: its
/// `Origin` is `own` (the API's origin), or it is `null` or absent while
/// `Sec-Fetch-Site` is `same-origin` or absent (Chromium sends `Origin:
/// null` on a form post from a page under `Referrer-Policy: no-referrer`;
/// clients that send neither header are not browsers, which carry no
/// ambient cookie for an attacker to ride on). A cross-site
/// `Sec-Fetch-Site` is refused whatever the `Origin` says.
pub(crate) fn own_origin(headers: &HeaderMap, own: Option<&str>) -> bool {
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    let fetch_site = header("sec-fetch-site");
    if fetch_site.is_some_and(|s| !s.eq_ignore_ascii_case("same-origin")) {
        return false;
    }
    match header("origin") {
        None | Some("null") => true,
        Some(origin) => own.is_some_and(|own| origin.eq_ignore_ascii_case(own)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9; 32];

    #[test]
    fn a_sign_in_link_verifies_until_it_expires() {
        let link = SignIn {
            nonce: "n1".into(),
            expires_s: 1_000,
        };
        let text = link.sign(&KEY);
        assert_eq!(SignIn::verify(&text, &KEY, 999), Ok(link));
        assert_eq!(SignIn::verify(&text, &KEY, 1_000), Err(LinkError::Expired));
        for bad in [
            text.replacen("n1", "n2", 1),
            text.replacen("1000", "9000", 1),
            format!("{text}x"),
            String::new(),
            "signin.n1.1000".into(),
        ] {
            assert_eq!(
                SignIn::verify(&bad, &KEY, 0),
                Err(LinkError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(SignIn::verify(&text, &[8; 32], 0), Err(LinkError::Invalid));
    }

    #[test]
    fn a_moderation_token_is_no_sign_in_link() {
        let moderation = crate::security::token::Token {
            action: crate::domain::Decision::Approve,
            comment_id: "abc".into(),
            expires_s: 9_999,
        }
        .sign(&KEY);
        assert_eq!(
            SignIn::verify(&moderation, &KEY, 0),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let (a, b) = (new_session_id(), new_session_id());
        let token = csrf_token(&KEY, &a);
        assert!(csrf_ok(&KEY, &a, Some(&token)));
        assert!(!csrf_ok(&KEY, &b, Some(&token)));
        assert!(!csrf_ok(&KEY, &a, None));
        assert!(!csrf_ok(&KEY, &a, Some("")));
        assert!(!csrf_ok(&[1; 32], &a, Some(&token)));
    }

    #[test]
    fn the_cookie_is_read_among_others_and_must_look_like_an_id() {
        let id = new_session_id();
        let mut h = HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            format!("a=b; {COOKIE}={id}; c=d").parse().unwrap(),
        );
        assert_eq!(session_cookie(&h), Some(id));
        h.insert(
            http::header::COOKIE,
            format!("{COOKIE}=short").parse().unwrap(),
        );
        assert_eq!(session_cookie(&h), None);
        assert!(set_cookie("x").contains("Secure; HttpOnly; SameSite=Strict"));
        assert!(!set_cookie("x").contains("Domain"));
    }

    #[test]
    fn only_the_own_origin_or_a_same_origin_null_passes() {
        let own = Some("https://api.example.org");
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, v.parse().unwrap());
            }
            m
        };
        assert!(own_origin(
            &h(&[("origin", "https://api.example.org")]),
            own
        ));
        assert!(own_origin(
            &h(&[
                ("origin", "HTTPS://API.example.org"),
                ("sec-fetch-site", "same-origin")
            ]),
            own
        ));
        assert!(own_origin(
            &h(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            own
        ));
        assert!(own_origin(&h(&[]), own));
        assert!(!own_origin(&h(&[("origin", "https://evil.example")]), own));
        assert!(!own_origin(
            &h(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            own
        ));
        assert!(
            own_origin(&h(&[("origin", "null")]), own),
            "a non-browser client"
        );
        assert!(!own_origin(&h(&[("sec-fetch-site", "none")]), own));
        assert!(!own_origin(&h(&[("sec-fetch-site", "same-site")]), own));
        assert!(!own_origin(
            &h(&[
                ("origin", "https://api.example.org"),
                ("sec-fetch-site", "cross-site")
            ]),
            own
        ));
        assert!(!own_origin(
            &h(&[("origin", "https://api.example.org")]),
            None
        ));
    }
}
