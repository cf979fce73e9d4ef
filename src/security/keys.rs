//! Keys derived from `SECRET_KEY`, one per purpose, so a key leaked or
//! misused in one place cannot forge anything in another.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `message` under `key`.
pub(crate) fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Constant-time check of `tag` against HMAC-SHA256 of `message` under `key`.
pub fn verify(key: &[u8], message: &[u8], tag: &[u8]) -> bool {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

/// The purpose-bound keys.
#[derive(Clone)]
pub struct Keys {
    /// Signs moderation links.
    pub moderation: [u8; 32],
    /// Hashes source IPs for rate limits and storage.
    pub ip: [u8; 32],
    /// Signs list cursors.
    pub cursor: [u8; 32],
    /// Signs reply-notification links (confirm, unsubscribe).
    pub notify: [u8; 32],
    /// Hashes email addresses where only "the same address" must be told
    /// (the once-a-day confirmation limit), so the address is not stored.
    pub address: [u8; 32],
    /// Signs the owner console's sign-in links and its CSRF tokens.
    pub console: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    /// Derives every key from the root secret (HMAC as a PRF over a label).
    pub fn derive(secret: &[u8]) -> Self {
        Self {
            moderation: hmac(secret, b"rust-aws/v1/moderation-links"),
            ip: hmac(secret, b"rust-aws/v1/ip-hash"),
            cursor: hmac(secret, b"rust-aws/v1/list-cursor"),
            notify: hmac(secret, b"rust-aws/v1/notify-links"),
            address: hmac(secret, b"rust-aws/v1/address-hash"),
            console: hmac(secret, b"rust-aws/v1/owner-console"),
        }
    }

    /// Fresh random keys: local runs without `SECRET_KEY`.
    pub fn random() -> Self {
        Self::derive(&crate::domain::ids::random_bytes::<32>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_by_purpose_and_are_stable() {
        let a = Keys::derive(b"0123456789abcdef0123456789abcdef");
        let b = Keys::derive(b"0123456789abcdef0123456789abcdef");
        assert_eq!(a.moderation, b.moderation);
        assert_ne!(a.moderation, a.ip);
        assert_ne!(a.ip, a.cursor);
        assert_ne!(a.notify, a.moderation);
        assert_ne!(a.address, a.ip);
        assert_ne!(a.console, a.moderation);
    }

    #[test]
    fn verify_accepts_only_the_right_tag() {
        let tag = hmac(b"k", b"m");
        assert!(verify(b"k", b"m", &tag));
        assert!(!verify(b"k", b"m2", &tag));
        assert!(!verify(b"k", b"m", &tag[..31]));
    }
}
