//! Property tests: the parsers and encoders that meet untrusted input, checked
//! against generated input rather than chosen examples. The fuzz targets
//! (fuzz/) search for crashes; these state what must hold for every input.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use rust_aws::domain::Decision;
use rust_aws::domain::{Email, FieldCode, MultiLine, SingleLine};
use rust_aws::mail::Mail;
use rust_aws::security::cursor;
use rust_aws::security::token::{Token, TokenError};
use rust_aws::web::intake::{Fields, MediaType};
use rust_aws::web::respond::escape_html;

const KEY: [u8; 32] = [7; 32];

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Text with a good share of the characters the rules are about.
fn nasty_text() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '\0', '\r', '\n', '\t', '\u{1b}', '\u{7f}', '\u{85}', '\u{202A}', '\u{202E}', '\u{2066}',
        '\u{2069}', '\u{200B}', '\u{200D}', '\u{FEFF}', ' ', '<', '>', '"', '\'', '&', '@', 'é',
        '🦀',
    ]);
    let c = prop_oneof![3 => any::<char>(), 2 => special, 5 => prop::char::range('a', 'z')];
    prop::collection::vec(c, 0..40).prop_map(|v| v.into_iter().collect())
}

fn action() -> impl Strategy<Value = Decision> {
    prop::sample::select(vec![Decision::Approve, Decision::Reject, Decision::Delete])
}

proptest! {
    // ---- text rules (src/domain/text.rs) ------------------------------------

    #[test]
    fn single_line_accepts_exactly_trimmed_text_without_controls_or_bidi(raw in nasty_text()) {
        let trimmed = raw.trim();
        let clean = !trimmed.chars().any(|c| c.is_control() || is_bidi_control(c));
        let len = trimmed.chars().count();
        match SingleLine::parse("name", &raw, 1, 20) {
            Ok(v) => {
                prop_assert!(clean && (1..=20).contains(&len));
                prop_assert_eq!(v.as_str(), trimmed);
            }
            Err(e) => {
                prop_assert_eq!(e.field.as_str(), "name");
                let expected = if !clean {
                    FieldCode::Invalid
                } else if len == 0 {
                    FieldCode::Required
                } else {
                    FieldCode::TooLong
                };
                prop_assert_eq!(e.code, expected);
            }
        }
    }

    #[test]
    fn multi_line_allows_only_newline_and_tab_among_controls(raw in nasty_text()) {
        match MultiLine::parse("body", &raw, 1, 100) {
            Ok(v) => {
                let s = v.as_str();
                prop_assert!(!s.contains('\r'), "line ends are normalised to \\n");
                prop_assert!(!s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
                prop_assert_eq!(s, s.trim());
                let normalised = raw.replace("\r\n", "\n").replace('\r', "\n");
                prop_assert_eq!(s, normalised.trim());
            }
            Err(e) => prop_assert_eq!(e.field.as_str(), "body"),
        }
    }

    // ---- email ---------------------------------------------------------------

    #[test]
    fn generated_valid_addresses_are_accepted_as_given(
        local in "[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}",
        labels in prop::collection::vec("[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?", 1..4),
    ) {
        let address = format!("{local}@{}", labels.join("."));
        prop_assume!(address.len() <= 254);
        let parsed = Email::parse("email", &format!(" {address} ")).unwrap();
        prop_assert_eq!(parsed.as_str(), address.as_str());
    }

    #[test]
    fn accepted_addresses_cannot_carry_a_header_or_markup(raw in nasty_text()) {
        if let Ok(e) = Email::parse("email", &raw) {
            let s = e.as_str();
            prop_assert!(s.is_ascii() && s.len() <= 254);
            prop_assert_eq!(s.matches('@').count(), 1);
            prop_assert!(!s.bytes().any(|b| b.is_ascii_control() || b" <>\"\\,;:".contains(&b)), "{:?}", s);
        }
    }

    // ---- request bodies --------------------------------------------------------

    #[test]
    fn urlencoded_fields_round_trip(
        pairs in prop::collection::btree_map("[a-z_]{1,12}", any::<String>(), 0..8),
    ) {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let fields = Fields::parse(&MediaType::UrlEncoded, body.as_bytes()).unwrap();
        for (name, value) in &pairs {
            prop_assert_eq!(fields.required(name).unwrap(), value.as_str());
        }
    }

    #[test]
    fn multipart_fields_round_trip(
        boundary in "[A-Za-z0-9'()+_,./:=?-]{1,69}[A-Za-z0-9]",
        pairs in prop::collection::btree_map("[a-z_]{1,12}", any::<String>(), 0..8),
    ) {
        let mut body = String::from("preamble\r\n");
        for (name, value) in &pairs {
            prop_assume!(!value.contains(&format!("\r\n--{boundary}")));
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let media = rust_aws::web::intake::media_type(Some(&format!(
            "multipart/form-data; boundary=\"{boundary}\""
        )))
        .unwrap();
        let fields = Fields::parse(&media, body.as_bytes()).unwrap();
        for (name, value) in &pairs {
            prop_assert_eq!(fields.required(name).unwrap(), value.as_str());
        }
    }

    #[test]
    fn json_string_fields_round_trip(
        pairs in prop::collection::btree_map("[a-z_]{1,12}", any::<String>(), 0..8),
    ) {
        let body = serde_json::to_vec(&pairs).unwrap();
        let fields = Fields::parse(&MediaType::Json, &body).unwrap();
        for (name, value) in &pairs {
            prop_assert_eq!(fields.required(name).unwrap(), value.as_str());
        }
    }

    // ---- moderation tokens -------------------------------------------------------

    #[test]
    fn tokens_verify_until_they_expire(
        action in action(),
        id in "[0-9a-f]{32}",
        expires_s in 1u64..u64::MAX / 2,
        now_s in 0u64..u64::MAX / 2,
    ) {
        let token = Token { action, comment_id: id, expires_s };
        let signed = token.sign(&KEY);
        let expected = if now_s < expires_s { Ok(token.clone()) } else { Err(TokenError::Expired(token)) };
        prop_assert_eq!(Token::verify(&signed, &KEY, now_s), expected);
        prop_assert_eq!(Token::verify(&signed, &[8; 32], now_s), Err(TokenError::Invalid));
    }

    #[test]
    fn any_change_to_a_token_invalidates_it(
        action in action(),
        id in "[0-9a-f]{32}",
        at in any::<prop::sample::Index>(),
        replacement in prop::char::range('!', '~'),
    ) {
        let signed = Token { action, comment_id: id, expires_s: 4_000_000_000 }.sign(&KEY);
        let i = at.index(signed.len());
        prop_assume!(signed.as_bytes()[i] != replacement as u8);
        let mut tampered = signed.clone().into_bytes();
        tampered[i] = replacement as u8;
        let tampered = String::from_utf8(tampered).unwrap();
        prop_assert_eq!(Token::verify(&tampered, &KEY, 0), Err(TokenError::Invalid), "{}", tampered);
        // Truncated or extended: invalid too.
        prop_assert_eq!(Token::verify(&signed[..i], &KEY, 0), Err(TokenError::Invalid));
        prop_assert_eq!(Token::verify(&format!("{signed}{replacement}"), &KEY, 0), Err(TokenError::Invalid));
    }

    // ---- list cursors --------------------------------------------------------------

    #[test]
    fn cursors_round_trip_for_their_post_only(
        post in "\\PC{1,40}",
        other in "\\PC{1,40}",
        ms in any::<u64>(),
        id in "[0-9a-f]{32}",
    ) {
        let c = cursor::encode(&KEY, &post, &(ms, id.clone()));
        prop_assert_eq!(cursor::decode(&KEY, &post, &c), Some((ms, id)));
        if other != post {
            prop_assert_eq!(cursor::decode(&KEY, &other, &c), None);
        }
        prop_assert_eq!(cursor::decode(&[8; 32], &post, &c), None);
    }

    #[test]
    fn any_change_to_a_cursor_invalidates_it(
        ms in any::<u64>(),
        id in "[0-9a-f]{32}",
        at in any::<prop::sample::Index>(),
        replacement in prop::char::range('!', '~'),
    ) {
        let c = cursor::encode(&KEY, "/p/", &(ms, id.clone()));
        let i = at.index(c.len());
        prop_assume!(c.as_bytes()[i] != replacement as u8);
        let mut tampered = c.clone().into_bytes();
        tampered[i] = replacement as u8;
        let tampered = String::from_utf8(tampered).unwrap();
        // A changed byte either fails, or (a leading zero, a `+` before the
        // time) spells the very same position: never another one.
        if let Some(position) = cursor::decode(&KEY, "/p/", &tampered) {
            prop_assert_eq!(position, (ms, id));
        }
    }

    // ---- mail headers ---------------------------------------------------------------

    #[test]
    fn no_subject_or_name_can_add_a_mail_header(
        subject in nasty_text(),
        name in nasty_text(),
        text in nasty_text(),
        local in "[a-z0-9.+-]{1,20}",
    ) {
        let mail = Mail {
            from_name: name.clone(),
            from: "noreply@example.com".into(),
            to: "owner@example.com".into(),
            reply_to: Some((name, format!("{local}@example.org"))),
            subject: subject.clone(),
            text: text.clone(),
            list_unsubscribe: None,
        };
        let mime = String::from_utf8(mail.to_mime()).unwrap();
        prop_assert!(mime.is_ascii());
        let (head, body) = mime.split_once("\r\n\r\n").unwrap();
        let mut names = Vec::new();
        let mut decoded_subject = Vec::new();
        let mut in_subject = false;
        for line in head.split("\r\n") {
            prop_assert!(!line.contains(['\r', '\n']));
            let word = if let Some(rest) = line.strip_prefix(' ') {
                rest.split(' ').next().unwrap()
            } else {
                let (header, value) = line.split_once(": ").unwrap();
                names.push(header.to_owned());
                in_subject = header == "Subject";
                value.split(' ').next().unwrap()
            };
            if in_subject {
                let b64 = word.strip_prefix("=?utf-8?B?").and_then(|w| w.strip_suffix("?=")).unwrap();
                decoded_subject.extend(STANDARD.decode(b64).unwrap());
            }
        }
        prop_assert_eq!(
            names,
            ["From", "To", "Reply-To", "Subject", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"]
        );
        // The subject arrives whole, as the visitor typed it.
        prop_assert_eq!(String::from_utf8(decoded_subject).unwrap(), subject);
        let joined: String = body.split("\r\n").collect();
        prop_assert_eq!(String::from_utf8(STANDARD.decode(joined).unwrap()).unwrap(), text.replace('\n', "\r\n"));
    }

    // ---- HTML and JSON ---------------------------------------------------------------

    #[test]
    fn escaped_html_is_inert_and_loses_nothing(text in nasty_text()) {
        let escaped = escape_html(&text);
        prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
        // Every `&` starts one of the five entities escape_html writes.
        let unescaped = escaped
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        prop_assert_eq!(unescaped, text);
    }

    #[test]
    fn json_answers_carry_text_exactly_as_given(text in nasty_text()) {
        let res = rust_aws::web::respond::json(http::StatusCode::OK, &serde_json::json!({"body": text}));
        prop_assert_eq!(&res.headers()["content-type"], "application/json");
        let lambda_http::Body::Text(body) = res.body() else { panic!("text body") };
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        prop_assert_eq!(v["body"].as_str().unwrap(), text.as_str());
    }
}
