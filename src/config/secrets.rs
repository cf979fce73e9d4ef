//! The function's secrets: read once at start-up from one Secrets Manager
//! secret, never from the function's configuration.
//!
//! A Lambda function's environment is readable by anyone allowed
//! `lambda:GetFunctionConfiguration`, which read-only roles commonly are: a
//! `SECRET_KEY` there lets them sign moderation links. So a deployed function
//! gets only `SECRETS_ARN`, the ARN of a secret whose value is a JSON object
//! whose keys are the variables of [`SECRET_VARS`]; init reads it with one
//! `GetSecretValue` (while the store and mailer warm up) and the
//! configuration reads each secret variable from it. Locally and in tests the
//! environment still serves (`SECRETS_ARN` unset), and off Lambda a variable
//! the secret lacks falls back to the environment.
//!
//! On Lambda a secret variable in the environment is refused when
//! `SECRETS_ARN` is set (it would be readable there, and two sources of one
//! value are one too many); `SECRETS_ARN` itself is required with
//! `STORE=dynamodb` ([`crate::config::Config::from_lookup`]).

use std::collections::HashMap;
use std::fmt;

use crate::config::ConfigError;
pub use crate::config::contract::SECRET_VARS;

/// The variable naming the secret.
pub const SECRETS_ARN: &str = "SECRETS_ARN";

/// The secret's values, by variable name. `Debug` shows the names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(HashMap<&'static str, String>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.0.keys().collect();
        names.sort();
        f.debug_struct("Secrets")
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

fn err(message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: SECRETS_ARN,
        message: message.into(),
    }
}

impl Secrets {
    /// Reads the secret's value: a JSON object of strings. Keys that are not
    /// secret variables are ignored with a warning naming them (a typo shows
    /// in the log, never a value). Messages never quote the value.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
            .map_err(|_| {
                err(format!(
                    "the secret's value is not a JSON object of strings (keys: {})",
                    SECRET_VARS.join(", ")
                ))
            })?;
        let mut found = HashMap::new();
        for (key, value) in object {
            let Some(name) = SECRET_VARS.iter().copied().find(|n| *n == key) else {
                tracing::warn!(key = %key, "the secret holds a key that is not a secret variable; ignored");
                continue;
            };
            match value {
                serde_json::Value::String(s) => {
                    found.insert(name, s);
                }
                _ => {
                    return Err(err(format!("the secret's {name} is not a JSON string")));
                }
            }
        }
        Ok(Self(found))
    }

    /// The value of secret variable `name`, when the secret holds one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// `SECRETS_ARN` from `env`, checked to be a Secrets Manager ARN.
pub fn arn(env: &impl Fn(&str) -> Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(arn) = env(SECRETS_ARN)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let plausible = arn.starts_with("arn:")
        && arn.split(':').nth(2) == Some("secretsmanager")
        && arn.split(':').count() >= 7;
    if plausible {
        Ok(Some(arn))
    } else {
        Err(err(format!(
            "must be the ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), got {arn:?}"
        )))
    }
}

/// Refuses, on Lambda, a secret variable set in the environment beside
/// `SECRETS_ARN`: it would be readable with the function's configuration.
pub fn check_environment(
    env: &impl Fn(&str) -> Option<String>,
    on_lambda: bool,
) -> Result<(), ConfigError> {
    if !on_lambda {
        return Ok(());
    }
    for name in SECRET_VARS {
        if env(name).is_some_and(|v| !v.trim().is_empty()) {
            return Err(ConfigError {
                variable: name,
                message: format!(
                    "is set in the function's environment, which anyone allowed \
                     lambda:GetFunctionConfiguration can read: put it in the secret \
                     {SECRETS_ARN} names (a JSON object with the key {name}) and remove it here"
                ),
            });
        }
    }
    Ok(())
}

/// The configuration's lookup: a secret variable from `secrets` (off Lambda,
/// from `env` when the secret lacks it), every other variable from `env`.
pub fn lookup<'a>(
    env: impl Fn(&str) -> Option<String> + 'a,
    secrets: &'a Secrets,
    on_lambda: bool,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        if SECRET_VARS.contains(&name) {
            match secrets.get(name) {
                Some(v) => Some(v.to_owned()),
                None if on_lambda => None,
                None => env(name),
            }
        } else {
            env(name)
        }
    }
}

/// Reads the secret `arn` names: one `GetSecretValue`, bounded by the SDK's
/// timeouts and retries. A failure is a configuration error naming
/// `SECRETS_ARN` and the service's error code, never a value.
#[cfg(feature = "aws")]
pub async fn fetch(sdk: &crate::config::aws::Sdk, arn: &str) -> Result<Secrets, ConfigError> {
    use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata};
    let client = aws_sdk_secretsmanager::Client::new(sdk.config().await);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            let why = match e.code() {
                Some(code) => format!("{code}: {}", e.message().unwrap_or("")),
                None => DisplayErrorContext(&e).to_string(),
            };
            err(format!(
                "could not read the secret {arn}: {}",
                why.trim_end_matches(": ")
            ))
        })?;
    let text = out.secret_string().ok_or_else(|| {
        err(format!(
            "the secret {arn} holds binary data, not a JSON object"
        ))
    })?;
    Secrets::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_secret_is_a_json_object_of_strings_keyed_by_variable() {
        let s =
            Secrets::parse(r#"{"SECRET_KEY": "k", "CAPTCHA_SECRET": "c", "OTHER": 1}"#).unwrap();
        assert_eq!(s.get("SECRET_KEY"), Some("k"));
        assert_eq!(s.get("CAPTCHA_SECRET"), Some("c"));
        assert_eq!(s.get("OTHER"), None, "not a secret variable: ignored");
        for bad in ["not json", "[]", r#""SECRET_KEY""#, r#"{"SECRET_KEY": 7}"#] {
            let e = Secrets::parse(bad).unwrap_err();
            assert_eq!(e.variable, "SECRETS_ARN", "{bad}");
        }
        let e = Secrets::parse(r#"{"SECRET_KEY": ["value-never-shown"]}"#).unwrap_err();
        assert!(e.message.contains("SECRET_KEY"), "{e}");
        assert!(!e.message.contains("value-never-shown"), "{e}");
    }

    #[test]
    fn debug_shows_the_names_never_the_values() {
        let s = Secrets::parse(r#"{"SECRET_KEY": "hush-0123456789", "AKISMET_KEY": "hush-2"}"#)
            .unwrap();
        let shown = format!("{s:?}");
        assert!(
            shown.contains("SECRET_KEY") && shown.contains("AKISMET_KEY"),
            "{shown}"
        );
        assert!(!shown.contains("hush"), "{shown}");
    }

    #[test]
    fn on_lambda_secrets_come_from_the_secret_only() {
        let s = Secrets::parse(r#"{"SECRET_KEY": "from-secret"}"#).unwrap();
        let e = env(&[("CAPTCHA_SECRET", "from-env"), ("SITE_NAME", "Blog")]);
        let on = lookup(&e, &s, true);
        assert_eq!(on("SECRET_KEY").as_deref(), Some("from-secret"));
        assert_eq!(on("CAPTCHA_SECRET"), None);
        assert_eq!(on("SITE_NAME").as_deref(), Some("Blog"));
        let off = lookup(&e, &s, false);
        assert_eq!(off("CAPTCHA_SECRET").as_deref(), Some("from-env"));
    }

    #[test]
    fn on_lambda_a_secret_variable_in_the_environment_is_refused_by_name() {
        let e = env(&[("TRUSTED_PROXY_SECRET", "x"), ("SITE_NAME", "Blog")]);
        let refused = check_environment(&e, true).unwrap_err();
        assert_eq!(refused.variable, "TRUSTED_PROXY_SECRET");
        assert!(check_environment(&e, false).is_ok());
        assert!(check_environment(&env(&[("SITE_NAME", "Blog")]), true).is_ok());
    }

    #[test]
    fn secrets_arn_must_be_a_secrets_manager_arn() {
        let ok = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rust-aws-AbCdEf";
        assert_eq!(
            arn(&env(&[(SECRETS_ARN, ok)])).unwrap().as_deref(),
            Some(ok)
        );
        assert_eq!(arn(&env(&[])).unwrap(), None);
        assert_eq!(arn(&env(&[(SECRETS_ARN, " ")])).unwrap(), None);
        for bad in [
            "rust-aws",
            "arn:aws:s3:::bucket",
            "arn:aws:secretsmanager:eu-west-1",
        ] {
            assert_eq!(
                arn(&env(&[(SECRETS_ARN, bad)])).unwrap_err().variable,
                SECRETS_ARN
            );
        }
    }
}
