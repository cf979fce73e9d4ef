//! Signed moderation links: the token binds the comment, the action and an
//! expiry, under a key derived from `SECRET_KEY`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::keys;
use crate::store::Decision;

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

fn payload(action: Decision, id: &str, expires_s: u64) -> String {
    format!("{}.{id}.{expires_s}", action.as_str())
}

impl Token {
    /// The URL-safe text of the signed token.
    pub fn sign(&self, key: &[u8; 32]) -> String {
        let payload = payload(self.action, &self.comment_id, self.expires_s);
        let tag = keys::hmac(key, payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks the signature, then the expiry.
    pub fn verify(text: &str, key: &[u8; 32], now_s: u64) -> Result<Token, TokenError> {
        if text.len() > 200 {
            return Err(TokenError::Invalid);
        }
        let mut parts = text.split('.');
        let (Some(action), Some(id), Some(expires), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Invalid);
        };
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Invalid)?;
        let signed = &text[..text.len() - text.rsplit('.').next().map_or(0, |t| t.len() + 1)];
        if !keys::verify(key, signed.as_bytes(), &tag) {
            return Err(TokenError::Invalid);
        }
        let token = Token {
            action: Decision::parse(action).ok_or(TokenError::Invalid)?,
            comment_id: id.to_owned(),
            expires_s: expires.parse().map_err(|_| TokenError::Invalid)?,
        };
        if now_s >= token.expires_s {
            return Err(TokenError::Expired(token));
        }
        Ok(token)
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
}
