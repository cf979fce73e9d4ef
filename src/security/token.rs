//! Signed links: a token binds a comment, an action and an expiry, under a
//! key derived from `SECRET_KEY` for that kind of link alone (moderation
//! links, reply-notification links).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::Decision;
use crate::security::keys;

/// What a moderation link authorises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The action.
    pub action: Decision,
    /// The comment.
    pub comment_id: String,
    /// Epoch seconds after which the link is refused (410).
    pub expires_s: u64,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Tampered, truncated or not a token at all: 403.
    Invalid,
    /// Genuine but past its expiry: 410.
    Expired(Token),
}

impl Token {
    /// The URL-safe text of the signed token.
    pub fn sign(&self, key: &[u8; 32]) -> String {
        seal(self.action.as_str(), &self.comment_id, self.expires_s, key)
    }

    /// Checks the signature, then the expiry.
    pub fn verify(text: &str, key: &[u8; 32], now_s: u64) -> Result<Token, TokenError> {
        let (action, id, expires_s) = open(text, key).ok_or(TokenError::Invalid)?;
        let token = Token {
            action: Decision::parse(action).ok_or(TokenError::Invalid)?,
            comment_id: id.to_owned(),
            expires_s,
        };
        if now_s >= token.expires_s {
            return Err(TokenError::Expired(token));
        }
        Ok(token)
    }
}

/// Signs `action.id.expires` with `key`.
fn seal(action: &str, id: &str, expires_s: u64, key: &[u8; 32]) -> String {
    let payload = format!("{action}.{id}.{expires_s}");
    let tag = keys::hmac(key, payload.as_bytes());
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The action, id and expiry of a token signed with `key`; `None` when the
/// text is not one (malformed, tampered, or signed with another key).
fn open<'t>(text: &'t str, key: &[u8; 32]) -> Option<(&'t str, &'t str, u64)> {
    if text.len() > 200 {
        return None;
    }
    let mut parts = text.split('.');
    let (Some(action), Some(id), Some(expires), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let signed = &text[..text.len() - tag_len(text)];
    if !keys::verify(key, signed.as_bytes(), &tag) {
        return None;
    }
    Some((action, id, expires.parse().ok()?))
}

fn tag_len(text: &str) -> usize {
    text.rsplit('.').next().map_or(0, |t| t.len() + 1)
}

/// What a reply-notification link authorises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyAction {
    /// Confirm the subscription (the double opt-in).
    Confirm,
    /// End it (the mails' unsubscribe link and RFC 8058 one-click POST).
    Unsubscribe,
}

impl NotifyAction {
    /// The token and page name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyAction::Confirm => "confirm",
            NotifyAction::Unsubscribe => "unsubscribe",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "confirm" => Some(NotifyAction::Confirm),
            "unsubscribe" => Some(NotifyAction::Unsubscribe),
            _ => None,
        }
    }
}

/// A signed reply-notification link: the subscription (by the id of the
/// subscriber's comment), the action and an expiry, under the key derived
/// for these links only, so no moderation token opens it and no
/// notification token moderates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyToken {
    /// The action.
    pub action: NotifyAction,
    /// The subscriber's comment.
    pub comment_id: String,
    /// Epoch seconds after which the link is refused (410).
    pub expires_s: u64,
}

/// Why a notification token is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyTokenError {
    /// Tampered, malformed, or not a notification token: 403.
    Invalid,
    /// Genuine but past its expiry: 410.
    Expired,
}

impl NotifyToken {
    /// The URL-safe text of the signed token.
    pub fn sign(&self, key: &[u8; 32]) -> String {
        seal(self.action.as_str(), &self.comment_id, self.expires_s, key)
    }

    /// Checks the signature, then the expiry.
    pub fn verify(text: &str, key: &[u8; 32], now_s: u64) -> Result<Self, NotifyTokenError> {
        let (action, id, expires_s) = open(text, key).ok_or(NotifyTokenError::Invalid)?;
        let action = NotifyAction::parse(action).ok_or(NotifyTokenError::Invalid)?;
        if now_s >= expires_s {
            return Err(NotifyTokenError::Expired);
        }
        Ok(Self {
            action,
            comment_id: id.to_owned(),
            expires_s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn token() -> Token {
        Token {
            action: Decision::Approve,
            comment_id: "abc123".into(),
            expires_s: 2_000,
        }
    }

    #[test]
    fn a_signed_token_verifies_before_expiry() {
        assert_eq!(Token::verify(&token().sign(&KEY), &KEY, 1_999), Ok(token()));
    }

    #[test]
    fn an_expired_token_is_expired_not_invalid() {
        assert_eq!(
            Token::verify(&token().sign(&KEY), &KEY, 2_000),
            Err(TokenError::Expired(token()))
        );
    }

    #[test]
    fn tampering_with_any_part_invalidates() {
        let good = token().sign(&KEY);
        let tampered = [
            good.replacen("approve", "delete", 1),
            good.replacen("abc123", "abc124", 1),
            good.replacen("2000", "9000", 1),
            format!("{good}x"),
            good[..good.len() - 2].to_owned(),
            format!("{good}.extra"),
            String::new(),
            "....".into(),
        ];
        for t in tampered {
            assert_eq!(Token::verify(&t, &KEY, 0), Err(TokenError::Invalid), "{t}");
        }
        assert_eq!(Token::verify(&good, &[8; 32], 0), Err(TokenError::Invalid));
    }

    #[test]
    fn a_notification_token_verifies_until_expiry_and_not_after() {
        let t = NotifyToken {
            action: NotifyAction::Unsubscribe,
            comment_id: "abc123".into(),
            expires_s: 2_000,
        };
        let text = t.sign(&KEY);
        assert_eq!(NotifyToken::verify(&text, &KEY, 1_999), Ok(t));
        assert_eq!(
            NotifyToken::verify(&text, &KEY, 2_000),
            Err(NotifyTokenError::Expired)
        );
        let flipped = text.replacen("unsubscribe", "confirm", 1);
        assert_eq!(
            NotifyToken::verify(&flipped, &KEY, 0),
            Err(NotifyTokenError::Invalid)
        );
    }

    #[test]
    fn tokens_of_one_purpose_are_refused_as_the_other() {
        let moderation = token().sign(&KEY);
        assert_eq!(
            NotifyToken::verify(&moderation, &KEY, 0),
            Err(NotifyTokenError::Invalid),
            "an action of another purpose is refused even under the same key"
        );
        let notify = NotifyToken {
            action: NotifyAction::Confirm,
            comment_id: "abc123".into(),
            expires_s: 2_000,
        }
        .sign(&KEY);
        assert_eq!(Token::verify(&notify, &KEY, 0), Err(TokenError::Invalid));
    }
}
