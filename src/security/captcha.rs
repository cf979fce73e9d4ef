//! The optional captcha check (`CAPTCHA=turnstile|hcaptcha`): the provider's
//! token is verified at its siteverify endpoint with our secret, the token and
//! the visitor's address.
//!
//! It fails closed: a verifier that cannot be reached, answers after
//! [`VERIFY_TIMEOUT`] or answers something that is not a verdict makes the
//! submission a 503, never a pass. Verdicts are read by [`interpret`], a pure
//! function; the HTTPS call is [`crate::config::outbound`], the AWS SDK's own client
//! stack, built on first use, so the check adds no second TLS stack to the
//! binary and nothing to a cold start that does not verify a token.

use std::fmt;
use std::time::Duration;

use crate::domain::FieldError;
use crate::web::intake::Fields;

/// The field a missing or refused token is reported on (README.md, "API", Captcha).
pub(crate) const FIELD: &str = "captcha";

/// The longest a verification may take before the answer is 503 (fail closed).
pub(crate) const VERIFY_TIMEOUT: Duration = Duration::from_secs(2);

/// Longer than any token either provider issues (Turnstile documents at most
/// 2048 characters): anything longer is refused without a call.
const MAX_TOKEN_CHARS: usize = 8192;

/// A captcha provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Cloudflare Turnstile.
    Turnstile,
    /// hCaptcha.
    Hcaptcha,
}

impl Provider {
    /// The form field the provider's widget puts its token in.
    pub(crate) fn token_field(self) -> &'static str {
        match self {
            Provider::Turnstile => "cf-turnstile-response",
            Provider::Hcaptcha => "h-captcha-response",
        }
    }

    /// The provider's siteverify endpoint.
    pub(crate) fn default_verify_url(self) -> &'static str {
        match self {
            Provider::Turnstile => "https://challenges.cloudflare.com/turnstile/v0/siteverify",
            Provider::Hcaptcha => "https://api.hcaptcha.com/siteverify",
        }
    }

    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Turnstile => "turnstile",
            Provider::Hcaptcha => "hcaptcha",
        }
    }
}

/// The captcha configuration: provider, secret and endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct Captcha {
    /// Which provider issued the tokens.
    pub provider: Provider,
    /// The site's secret at the provider.
    pub secret: String,
    /// Where tokens are verified (`CAPTCHA_VERIFY_URL`, else the provider's).
    pub(crate) verify_url: String,
}

impl fmt::Debug for Captcha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret is left out: configurations are logged.
        f.debug_struct("Captcha")
            .field("provider", &self.provider)
            .field("verify_url", &self.verify_url)
            .finish_non_exhaustive()
    }
}

/// What the provider said about a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A genuine, unspent token.
    Pass,
    /// Refused: forged, expired, spent, or issued for another site.
    Refused,
}

/// Why no verdict was reached: the submission is answered 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified(pub String);

impl fmt::Display for Unverified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "captcha not verified: {}", self.0)
    }
}

impl std::error::Error for Unverified {}

/// Why a submission does not pass the captcha check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The token is missing or refused: a 400 on [`FIELD`].
    Field(FieldError),
    /// No verdict: a 503.
    Unverified(Unverified),
}

/// Error codes that mean our side of the call is wrong (the secret, the
/// request), not the visitor's token: no verdict on the token, so fail closed
/// and say so in the log, where the owner can fix it.
const OUR_FAULT: &[&str] = &[
    "missing-input-secret",
    "invalid-input-secret",
    "sitekey-secret-mismatch",
    "not-using-dummy-passcode",
    "bad-request",
    "internal-error",
];

/// Reads a siteverify answer. Both providers answer 200 with a JSON object
/// whose boolean `success` is the verdict and whose `error-codes` say why not;
/// anything else is no verdict.
pub(crate) fn interpret(status: u16, body: &[u8]) -> Result<Verdict, Unverified> {
    if status != 200 {
        return Err(Unverified(format!("siteverify answered HTTP {status}")));
    }
    let answer: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| Unverified("siteverify answered something other than JSON".into()))?;
    let success = answer
        .get("success")
        .and_then(serde_json::Value::as_bool)
        .ok_or_else(|| Unverified("siteverify answered without a boolean success".into()))?;
    if success {
        return Ok(Verdict::Pass);
    }
    let codes: Vec<&str> = answer
        .get("error-codes")
        .and_then(serde_json::Value::as_array)
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    if let Some(code) = codes.iter().find(|c| OUR_FAULT.contains(c)) {
        return Err(Unverified(format!(
            "siteverify refused the call itself ({code}): check CAPTCHA_SECRET"
        )));
    }
    Ok(Verdict::Refused)
}

/// The form body siteverify takes: secret, token and (when known) the
/// visitor's address.
pub(crate) fn request_body(secret: &str, token: &str, remote_ip: Option<&str>) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("secret", secret)
        .append_pair("response", token);
    if let Some(ip) = remote_ip {
        form.append_pair("remoteip", ip);
    }
    form.finish()
}

impl Captcha {
    /// Checks the submission's token: `Ok` only when the provider accepted it.
    pub async fn check(&self, fields: &Fields, remote_ip: Option<&str>) -> Result<(), Failure> {
        let token = match fields.optional_nonblank(self.provider.token_field()) {
            Ok(Some(t)) => t.trim(),
            Ok(None) => return Err(Failure::Field(FieldError::required(FIELD))),
            Err(_) => {
                return Err(Failure::Field(FieldError::invalid(
                    FIELD,
                    "was given more than once",
                )));
            }
        };
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Err(Failure::Field(refused()));
        }
        let body = request_body(&self.secret, token, remote_ip);
        let accept = [("accept", "application/json".to_owned())];
        let call = crate::config::outbound::post(
            &self.verify_url,
            "application/x-www-form-urlencoded",
            &accept,
            body.into_bytes(),
        );
        let (status, answer) = match tokio::time::timeout(VERIFY_TIMEOUT, call).await {
            Ok(Ok(answer)) => (answer.status, answer.body),
            Ok(Err(e)) => {
                return Err(Failure::Unverified(Unverified(format!("siteverify {e}"))));
            }
            Err(_) => {
                return Err(Failure::Unverified(Unverified(format!(
                    "siteverify did not answer within {VERIFY_TIMEOUT:?}"
                ))));
            }
        };
        match interpret(status, &answer).map_err(Failure::Unverified)? {
            Verdict::Pass => Ok(()),
            Verdict::Refused => Err(Failure::Field(refused())),
        }
    }
}

fn refused() -> FieldError {
    FieldError::invalid(
        FIELD,
        "was not accepted: complete the challenge again, then resubmit",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_true_passes_and_false_refuses() {
        assert_eq!(
            interpret(200, br#"{"success":true,"error-codes":[]}"#),
            Ok(Verdict::Pass)
        );
        assert_eq!(
            interpret(
                200,
                br#"{"success":false,"error-codes":["invalid-input-response"]}"#
            ),
            Ok(Verdict::Refused)
        );
        assert_eq!(
            interpret(
                200,
                br#"{"success":false,"error-codes":["timeout-or-duplicate"]}"#
            ),
            Ok(Verdict::Refused)
        );
        assert_eq!(
            interpret(200, br#"{"success":false}"#),
            Ok(Verdict::Refused)
        );
    }

    #[test]
    fn anything_but_a_verdict_is_unverified() {
        for (status, body) in [
            (200, &b"<html>Just a moment...</html>"[..]),
            (200, br#"{"success":"true"}"#),
            (200, br#"{"ok":true}"#),
            (200, b"[]"),
            (200, b""),
            (502, br#"{"success":true}"#),
            (429, br#"{"success":false}"#),
        ] {
            assert!(interpret(status, body).is_err(), "{status} {body:?}");
        }
    }

    #[test]
    fn a_refusal_of_our_own_call_is_unverified_not_the_visitors_fault() {
        for code in [
            "invalid-input-secret",
            "missing-input-secret",
            "internal-error",
        ] {
            let body = format!(r#"{{"success":false,"error-codes":["{code}"]}}"#);
            let err = interpret(200, body.as_bytes()).unwrap_err();
            assert!(err.0.contains(code), "{err}");
        }
    }

    #[test]
    fn the_request_carries_secret_token_and_address_form_encoded() {
        assert_eq!(
            request_body("s&1", "tok en", Some("2001:db8::1")),
            "secret=s%261&response=tok+en&remoteip=2001%3Adb8%3A%3A1"
        );
        assert_eq!(request_body("s", "t", None), "secret=s&response=t");
    }

    #[tokio::test]
    async fn a_missing_or_blank_token_is_required_without_a_call() {
        let c = Captcha {
            provider: Provider::Turnstile,
            secret: "s".into(),
            // Nothing listens here: a call would be Unverified, not Required.
            verify_url: "http://127.0.0.1:9/".into(),
        };
        for fields in [
            Fields::default(),
            Fields::from_pairs([("cf-turnstile-response", "  ")]),
            Fields::from_pairs([("h-captcha-response", "token-of-the-other-provider")]),
        ] {
            match c.check(&fields, None).await {
                Err(Failure::Field(e)) => {
                    assert_eq!(
                        (e.field.as_str(), e.code),
                        (FIELD, crate::domain::FieldCode::Required)
                    );
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
