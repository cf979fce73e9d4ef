//! Opaque, signed list cursors: the client cannot forge a position or move a
//! cursor from one post to another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::ListPosition;
use crate::security::keys;

fn message(post: &str, created_ms: u64, id: &str) -> Vec<u8> {
    format!("{created_ms}.{id}\n{post}").into_bytes()
}

/// Encodes the position after the last comment shown.
pub fn encode(key: &[u8; 32], post: &str, position: &ListPosition) -> String {
    let (created_ms, id) = position;
    let tag = keys::hmac(key, &message(post, *created_ms, id));
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(format!("{created_ms}.{id}")),
        URL_SAFE_NO_PAD.encode(&tag[..16])
    )
}

/// Decodes a cursor for `post`; `None` for anything not issued for it.
pub fn decode(key: &[u8; 32], post: &str, cursor: &str) -> Option<ListPosition> {
    if cursor.len() > 256 {
        return None;
    }
    let (position, tag) = cursor.split_once('.')?;
    let position = String::from_utf8(URL_SAFE_NO_PAD.decode(position).ok()?).ok()?;
    let (created_ms, id) = position.split_once('.')?;
    let created_ms: u64 = created_ms.parse().ok()?;
    let expected = keys::hmac(key, &message(post, created_ms, id));
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    // 128-bit truncated tag, compared in constant time.
    let mut diff = (tag.len() != 16) as u8;
    for (a, b) in tag.iter().zip(&expected[..16]) {
        diff |= a ^ b;
    }
    (diff == 0).then(|| (created_ms, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [3; 32];

    #[test]
    fn round_trips_for_its_post() {
        let p = (1_700_000_000_000, "ab12".to_owned());
        assert_eq!(decode(&KEY, "/a/", &encode(&KEY, "/a/", &p)), Some(p));
    }

    #[test]
    fn refuses_other_posts_tampering_and_garbage() {
        let c = encode(&KEY, "/a/", &(5, "ab".into()));
        assert_eq!(decode(&KEY, "/b/", &c), None);
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("6.ab"),
            c.split_once('.').unwrap().1
        );
        assert_eq!(decode(&KEY, "/a/", &forged), None);
        for junk in ["", ".", "x.y", "%%%", &"A".repeat(300)] {
            assert_eq!(decode(&KEY, "/a/", junk), None);
        }
    }
}
