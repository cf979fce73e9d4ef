//! Every variable of README.md's "Configuration", read and validated once at
//! start-up, and what is built from it: the AWS SDK's shared configuration
//! ([`aws`]) and the [`state::State`] every handler is given. [`contract`]
//! holds the names the code, the template and the docs share.

#[cfg(feature = "aws")]
pub mod aws;
pub mod contract;
pub(crate) mod outbound;
pub mod secrets;
pub mod state;

use std::fmt;

use crate::domain::Email;
use crate::security::captcha::{Captcha, Provider};
use crate::security::keys::Keys;

/// Where data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// The embedded in-memory store (local runs; Lambda only when set explicitly).
    Memory,
    /// A DynamoDB table.
    DynamoDb {
        /// The table's name.
        table: String,
    },
}

/// Which origins may submit (and read with CORS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AllowedOrigins {
    /// `*`: any origin.
    Any,
    /// Lowercase `scheme://host[:port]` entries.
    List(Vec<String>),
}

impl AllowedOrigins {
    /// True when `origin` (any case) may submit.
    pub(crate) fn allows(&self, origin: &str) -> bool {
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::List(list) => list.iter().any(|o| o.eq_ignore_ascii_case(origin)),
        }
    }
}

/// When comments are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    /// Held until the owner approves them.
    Pre,
    /// Published at once; the owner can still delete.
    Off,
}

/// A configuration problem, naming the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The validated configuration.
#[derive(Clone)]
pub struct Config {
    /// Where data lives.
    pub store: StoreKind,
    /// Receives contact messages and moderation mail; `None` writes mail to the log.
    pub(crate) owner_email: Option<Email>,
    /// The SES-verified From address (set whenever `owner_email` is).
    pub(crate) sender_email: Option<Email>,
    /// Used in subjects and pages.
    pub(crate) site_name: String,
    /// Origins that may submit.
    pub(crate) allowed_origins: AllowedOrigins,
    /// Pre-moderation or none.
    pub moderation: Moderation,
    /// Lifetime of approve/reject links, in days.
    pub(crate) moderation_link_days: u32,
    /// Keys derived from `SECRET_KEY`.
    pub keys: Keys,
    /// Base URL of the API for emailed links, without a trailing slash.
    pub(crate) public_url: Option<String>,
    /// Submissions per source IP per route per minute.
    pub(crate) rate_limit_per_minute: u32,
    /// Trusted proxies in front of API Gateway, and the secret they send.
    pub(crate) trusted_proxies: crate::web::request::TrustedProxies,
    /// Name of the honeypot field.
    pub(crate) honeypot_field: String,
    /// Cap on mails to the owner per hour.
    pub(crate) mail_per_hour: u32,
    /// Whether comments carry a Gravatar-compatible hash.
    pub(crate) avatars: bool,
    /// The captcha check, when configured.
    pub captcha: Option<Captcha>,
    /// The site's base URL for links to pages in visitor mail, without a
    /// trailing slash; reply notifications are on only when it is set.
    pub(crate) site_url: Option<String>,
    /// Cap on mails to visitors per hour.
    pub(crate) visitor_mail_per_hour: u32,
    /// The spam rules and Akismet.
    pub spam: crate::security::spam::SpamConfig,
    /// The owner's alert channels.
    pub alerts: crate::outbox::alerts::Alerts,
    /// Running under a Lambda Runtime API.
    pub on_lambda: bool,
    /// Local server port.
    pub port: u16,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Emails and keys are left out on purpose: this may be logged.
        f.debug_struct("Config")
            .field("store", &self.store)
            .field("mail_to_owner", &self.owner_email.is_some())
            .field("site_name", &self.site_name)
            .field("allowed_origins", &self.allowed_origins)
            .field("moderation", &self.moderation)
            .field("public_url", &self.public_url)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("mail_per_hour", &self.mail_per_hour)
            .field("captcha", &self.captcha)
            .field("site_url", &self.site_url)
            .field("visitor_mail_per_hour", &self.visitor_mail_per_hour)
            .field("spam", &self.spam)
            .field("alerts", &self.alerts)
            .field("on_lambda", &self.on_lambda)
            .finish_non_exhaustive()
    }
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    match get(variable) {
        None => Ok(default),
        Some(raw) => match raw.parse::<T>() {
            Ok(v) if v >= min && v <= max => Ok(v),
            _ => Err(err(
                variable,
                format!("must be a whole number from {min} to {max}, got {raw:?}"),
            )),
        },
    }
}

fn choice<T: Copy>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: T,
    options: &[(&str, T)],
) -> Result<T, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    options
        .iter()
        .find(|(name, _)| raw.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<_> = options.iter().map(|(n, _)| *n).collect();
            err(
                variable,
                format!("must be one of {}, got {raw:?}", names.join(", ")),
            )
        })
}

/// Validates one `ALLOWED_ORIGINS` entry: `scheme://host[:port]`, nothing more.
fn parse_origin(entry: &str) -> Result<String, ConfigError> {
    let lower = entry.to_ascii_lowercase();
    let ok = crate::web::intake::origin_of_url(&lower).is_some_and(|o| o == lower);
    if ok {
        Ok(lower)
    } else {
        Err(err(
            "ALLOWED_ORIGINS",
            format!(
                "{entry:?} is not an origin like https://example.com (no path, no trailing slash)"
            ),
        ))
    }
}

/// `CAPTCHA`, `CAPTCHA_SECRET`, `CAPTCHA_VERIFY_URL`: all or nothing, so a
/// secret without a provider (or the reverse) is a mistake reported at start.
fn captcha(get: &impl Fn(&str) -> Option<String>) -> Result<Option<Captcha>, ConfigError> {
    let provider = get("CAPTCHA")
        .map(|raw| match raw.to_ascii_lowercase().as_str() {
            "turnstile" => Ok(Provider::Turnstile),
            "hcaptcha" => Ok(Provider::Hcaptcha),
            _ => Err(err(
                "CAPTCHA",
                format!("must be turnstile or hcaptcha, got {raw:?}"),
            )),
        })
        .transpose()?;
    let (secret, url) = (get("CAPTCHA_SECRET"), get("CAPTCHA_VERIFY_URL"));
    let Some(provider) = provider else {
        for (name, value) in [("CAPTCHA_SECRET", &secret), ("CAPTCHA_VERIFY_URL", &url)] {
            if value.is_some() {
                return Err(err(
                    name,
                    "is set but CAPTCHA is not (turnstile or hcaptcha)",
                ));
            }
        }
        return Ok(None);
    };
    let secret = secret.ok_or_else(|| {
        err(
            "CAPTCHA_SECRET",
            format!("is required with CAPTCHA={}", provider.as_str()),
        )
    })?;
    if secret.len() > 1024 || secret.chars().any(char::is_control) {
        return Err(err("CAPTCHA_SECRET", "is not a plausible secret"));
    }
    let verify_url = match url {
        None => provider.default_verify_url().to_owned(),
        Some(u)
            if crate::web::intake::origin_of_url(&u).is_some()
                && u.parse::<http::Uri>().is_ok() =>
        {
            u
        }
        Some(_) => {
            return Err(err("CAPTCHA_VERIFY_URL", "must be an absolute http(s) URL"));
        }
    };
    Ok(Some(Captcha {
        provider,
        secret,
        verify_url,
    }))
}

/// `STORE` and `TABLE_NAME`: where data lives. Read before the rest when
/// the secrets are still on their way (`startup::start`), by the same rules.
pub(crate) fn store_kind(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<StoreKind, ConfigError> {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let on_lambda = get("AWS_LAMBDA_RUNTIME_API").is_some();
    Ok(
        match (
            get("STORE").map(|s| s.to_ascii_lowercase()).as_deref(),
            get("TABLE_NAME"),
        ) {
            (Some("memory"), _) => StoreKind::Memory,
            (Some("dynamodb") | None, Some(table)) => StoreKind::DynamoDb { table },
            (Some("dynamodb"), None) => {
                return Err(err("TABLE_NAME", "is required when STORE=dynamodb"));
            }
            (None, None) if on_lambda => {
                return Err(err(
                    "TABLE_NAME",
                    "is required on Lambda (set STORE=memory explicitly for an emulator)",
                ));
            }
            (None, None) => StoreKind::Memory,
            (Some(other), _) => {
                return Err(err(
                    "STORE",
                    format!("must be dynamodb or memory, got {other:?}"),
                ));
            }
        },
    )
}

impl Config {
    /// The address mail is sent from: `SENDER_EMAIL`, or a placeholder for
    /// the local mailers, which never send.
    pub(crate) fn sender(&self) -> &str {
        self.sender_email
            .as_ref()
            .map_or("rust-aws@localhost", |e| e.as_str())
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`; empty values count as unset, so a
    /// template can pass an empty parameter for "use the default".
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let on_lambda = get("AWS_LAMBDA_RUNTIME_API").is_some();
        let store = store_kind(&lookup)?;

        let owner_email = get("OWNER_EMAIL")
            .map(|v| {
                Email::parse("OWNER_EMAIL", &v)
                    .map_err(|_| err("OWNER_EMAIL", "is not a valid email address"))
            })
            .transpose()?;
        let sender_email = get("SENDER_EMAIL")
            .map(|v| {
                Email::parse("SENDER_EMAIL", &v)
                    .map_err(|_| err("SENDER_EMAIL", "is not a valid email address"))
            })
            .transpose()?;
        // The logging mailer writes addresses, message bodies and working
        // moderation links to the log: fine on a laptop, never in a deployed
        // function, whose logs others may read.
        if on_lambda && owner_email.is_none() && matches!(store, StoreKind::DynamoDb { .. }) {
            return Err(err(
                "OWNER_EMAIL",
                "is required on Lambda with STORE=dynamodb (without it mail, with visitors' addresses and live moderation links, would be written to the logs)",
            ));
        }
        // A deployed function's secrets come from Secrets Manager, never from
        // its environment, which `lambda:GetFunctionConfiguration` reveals
        // (src/config/secrets.rs); an emulator (STORE=memory) may use the environment.
        if on_lambda
            && matches!(store, StoreKind::DynamoDb { .. })
            && get(crate::config::secrets::SECRETS_ARN).is_none()
        {
            return Err(err(
                crate::config::secrets::SECRETS_ARN,
                "is required on Lambda with STORE=dynamodb: the ARN of the Secrets Manager secret whose JSON object holds SECRET_KEY and the other secrets (template.yaml makes it); the function's environment is readable by anyone allowed lambda:GetFunctionConfiguration",
            ));
        }
        if owner_email.is_some() && sender_email.is_none() {
            return Err(err(
                "SENDER_EMAIL",
                "is required when OWNER_EMAIL is set (an SES-verified From address)",
            ));
        }

        let allowed_origins = match get("ALLOWED_ORIGINS") {
            None if on_lambda => {
                return Err(err(
                    "ALLOWED_ORIGINS",
                    "is required on Lambda (comma-separated origins, or *)",
                ));
            }
            None => AllowedOrigins::Any,
            Some(v) if v == "*" => AllowedOrigins::Any,
            Some(v) => AllowedOrigins::List(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(parse_origin)
                    .collect::<Result<_, _>>()?,
            ),
        };

        let keys = match get("SECRET_KEY") {
            Some(secret) if secret.len() >= 32 => Keys::derive(secret.as_bytes()),
            Some(_) => return Err(err("SECRET_KEY", "must be at least 32 bytes")),
            None if on_lambda => {
                return Err(err(
                    "SECRET_KEY",
                    "is required on Lambda (at least 32 bytes): a key of the JSON secret SECRETS_ARN names",
                ));
            }
            None => Keys::random(),
        };

        let public_url = get("PUBLIC_URL")
            .map(|u| {
                let u = u.trim_end_matches('/').to_owned();
                if crate::web::intake::origin_of_url(&u).is_some() {
                    Ok(u)
                } else {
                    Err(err("PUBLIC_URL", "must be an absolute http(s) URL"))
                }
            })
            .transpose()?;

        let honeypot_field = get("HONEYPOT_FIELD").unwrap_or_else(|| "_gotcha".to_owned());
        if honeypot_field.len() > 100 || honeypot_field.chars().any(|c| c.is_control()) {
            return Err(err("HONEYPOT_FIELD", "must be a short field name"));
        }
        let site_name = get("SITE_NAME").unwrap_or_else(|| "rust-aws".to_owned());
        if site_name.chars().count() > 100 || site_name.chars().any(|c| c.is_control()) {
            return Err(err(
                "SITE_NAME",
                "must be one line of at most 100 characters",
            ));
        }

        let captcha = captcha(&get)?;
        let hops = number(&get, "TRUSTED_PROXY_HOPS", 0, 0, 10)?;
        let proxy_secret = get("TRUSTED_PROXY_SECRET");
        match (&proxy_secret, hops) {
            (None, 1..) => {
                return Err(err(
                    "TRUSTED_PROXY_SECRET",
                    "is required with TRUSTED_PROXY_HOPS: the value the proxy (CloudFront's origin custom header X-Origin-Verify) sends, so that clients calling API Gateway directly cannot choose their X-Forwarded-For",
                ));
            }
            (Some(s), _)
                if s.len() < 32 || s.len() > 256 || !s.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                return Err(err(
                    "TRUSTED_PROXY_SECRET",
                    "must be 32 to 256 printable ASCII characters without spaces",
                ));
            }
            _ => {}
        }
        let trusted_proxies = crate::web::request::TrustedProxies {
            hops,
            secret: proxy_secret.filter(|_| hops > 0),
        };
        let site_url = get("SITE_URL")
            .map(|u| {
                let u = u.trim_end_matches('/').to_owned();
                if crate::web::intake::origin_of_url(&u).is_some() && u.parse::<http::Uri>().is_ok()
                {
                    Ok(u)
                } else {
                    Err(err(
                        "SITE_URL",
                        "must be an absolute http(s) URL like https://blog.example.com",
                    ))
                }
            })
            .transpose()?;
        let spam = crate::security::spam::from_lookup(&get, site_url.as_deref())?;
        let alerts = crate::outbox::alerts::from_lookup(&get)?;

        Ok(Self {
            store,
            owner_email,
            sender_email,
            site_name,
            allowed_origins,
            moderation: choice(
                &get,
                "MODERATION",
                Moderation::Pre,
                &[("pre", Moderation::Pre), ("off", Moderation::Off)],
            )?,
            moderation_link_days: number(&get, "MODERATION_LINK_DAYS", 7, 1, 365)?,
            keys,
            public_url,
            rate_limit_per_minute: number(&get, "RATE_LIMIT_PER_MINUTE", 5, 1, 100_000)?,
            trusted_proxies,
            honeypot_field,
            mail_per_hour: number(&get, "MAIL_PER_HOUR", 100, 1, 1_000_000)?,
            avatars: choice(&get, "AVATARS", true, &[("on", true), ("off", false)])?,
            captcha,
            site_url,
            visitor_mail_per_hour: number(&get, "VISITOR_MAIL_PER_HOUR", 200, 1, 1_000_000)?,
            spam,
            alerts,
            on_lambda,
            port: number(&get, "PORT", 3000, 1, 65535)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(move |k| map.get(k).cloned())
    }

    const LAMBDA: &[(&str, &str)] = &[
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("TABLE_NAME", "t"),
        ("OWNER_EMAIL", "owner@example.com"),
        ("SENDER_EMAIL", "noreply@example.com"),
        ("ALLOWED_ORIGINS", "https://blog.example.com"),
        ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        (
            "SECRETS_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rust-aws-AbCdEf",
        ),
    ];

    fn lambda_without(name: &str) -> Vec<(&'static str, &'static str)> {
        LAMBDA.iter().copied().filter(|(k, _)| *k != name).collect()
    }

    #[test]
    fn local_defaults_need_nothing() {
        let c = config(&[]).unwrap();
        assert_eq!(c.store, StoreKind::Memory);
        assert_eq!(c.allowed_origins, AllowedOrigins::Any);
        assert_eq!(
            (
                c.rate_limit_per_minute,
                c.mail_per_hour,
                c.moderation_link_days
            ),
            (5, 100, 7)
        );
        assert_eq!(c.honeypot_field, "_gotcha");
    }

    #[test]
    fn lambda_requires_table_origins_secret_and_mail() {
        assert!(config(LAMBDA).is_ok());
        for name in [
            "TABLE_NAME",
            "ALLOWED_ORIGINS",
            "SECRET_KEY",
            "OWNER_EMAIL",
            "SENDER_EMAIL",
        ] {
            assert_eq!(config(&lambda_without(name)).unwrap_err().variable, name);
        }
    }

    #[test]
    fn a_lambda_on_the_memory_store_may_log_its_mail() {
        // An emulator (`cargo lambda watch`) with STORE=memory, no owner.
        let vars: Vec<_> = LAMBDA
            .iter()
            .copied()
            .filter(|(k, _)| !["TABLE_NAME", "OWNER_EMAIL", "SENDER_EMAIL"].contains(k))
            .chain([("STORE", "memory")])
            .collect();
        let c = config(&vars).unwrap();
        assert!(c.owner_email.is_none());
    }

    #[test]
    fn lambda_uses_memory_only_when_set_explicitly() {
        let mut vars = lambda_without("TABLE_NAME");
        vars.push(("STORE", "memory"));
        assert_eq!(config(&vars).unwrap().store, StoreKind::Memory);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("RATE_LIMIT_PER_MINUTE", "five"),
            ("RATE_LIMIT_PER_MINUTE", "0"),
            ("MODERATION", "post"),
            ("AVATARS", "yes"),
            ("ALLOWED_ORIGINS", "https://example.com/"),
            ("ALLOWED_ORIGINS", "example.com"),
            ("SECRET_KEY", "short"),
            ("OWNER_EMAIL", "not-an-address"),
            ("STORE", "redis"),
            ("PUBLIC_URL", "ftp://x"),
            ("TRUSTED_PROXY_HOPS", "-1"),
            ("CAPTCHA", "recaptcha"),
            ("SITE_URL", "blog.example.com"),
            ("VISITOR_MAIL_PER_HOUR", "0"),
            ("CAPTCHA_SECRET", "set-without-a-provider"),
            ("CAPTCHA_VERIFY_URL", "http://127.0.0.1:1/siteverify"),
            ("TRUSTED_PROXY_SECRET", "short"),
        ] {
            assert_eq!(
                config(&[(name, value)]).unwrap_err().variable,
                name,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn captcha_needs_its_secret_and_takes_an_endpoint_override() {
        assert_eq!(
            config(&[("CAPTCHA", "turnstile")]).unwrap_err().variable,
            "CAPTCHA_SECRET"
        );
        let c = config(&[("CAPTCHA", "hcaptcha"), ("CAPTCHA_SECRET", "0x00")]).unwrap();
        let captcha = c.captcha.unwrap();
        assert_eq!(captcha.provider, Provider::Hcaptcha);
        assert_eq!(captcha.verify_url, "https://api.hcaptcha.com/siteverify");
        let c = config(&[
            ("CAPTCHA", "Turnstile"),
            ("CAPTCHA_SECRET", "1x0000000000000000000000000000000AA"),
            ("CAPTCHA_VERIFY_URL", "http://127.0.0.1:8080/siteverify"),
        ])
        .unwrap();
        assert_eq!(
            c.captcha.as_ref().map(|c| c.verify_url.as_str()),
            Some("http://127.0.0.1:8080/siteverify")
        );
        assert!(
            !format!("{c:?}").contains("1x000"),
            "the secret is never in Debug"
        );
        assert_eq!(
            config(&[
                ("CAPTCHA", "turnstile"),
                ("CAPTCHA_SECRET", "s"),
                ("CAPTCHA_VERIFY_URL", "siteverify")
            ])
            .unwrap_err()
            .variable,
            "CAPTCHA_VERIFY_URL"
        );
        assert!(config(&[]).unwrap().captcha.is_none());
    }

    #[test]
    fn trusted_proxies_need_their_secret() {
        assert_eq!(
            config(&[("TRUSTED_PROXY_HOPS", "1")]).unwrap_err().variable,
            "TRUSTED_PROXY_SECRET"
        );
        let c = config(&[
            ("TRUSTED_PROXY_HOPS", "1"),
            ("TRUSTED_PROXY_SECRET", &"x".repeat(48)),
        ])
        .unwrap();
        assert_eq!(c.trusted_proxies.hops, 1);
        assert!(!format!("{c:?}").contains(&"x".repeat(48)), "never logged");
    }

    #[test]
    fn owner_email_needs_a_sender() {
        assert_eq!(
            config(&[("OWNER_EMAIL", "me@example.com")])
                .unwrap_err()
                .variable,
            "SENDER_EMAIL"
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("PUBLIC_URL", ""), ("MODERATION", ""), ("OWNER_EMAIL", " ")]).unwrap();
        assert_eq!(
            (c.public_url, c.moderation, c.owner_email.is_none()),
            (None, Moderation::Pre, true)
        );
    }

    #[test]
    fn origins_are_case_insensitive_and_comma_separated() {
        let c = config(&[(
            "ALLOWED_ORIGINS",
            "https://A.example.com, http://localhost:1313",
        )])
        .unwrap();
        assert!(c.allowed_origins.allows("https://a.EXAMPLE.com"));
        assert!(c.allowed_origins.allows("http://localhost:1313"));
        assert!(!c.allowed_origins.allows("https://evil.example.com"));
    }

    #[test]
    fn every_variable_read_is_in_the_contract() {
        let read = std::sync::Mutex::new(Vec::new());
        let _ = Config::from_lookup(|k| {
            read.lock().unwrap().push(k.to_owned());
            None
        });
        for name in read.into_inner().unwrap() {
            if name == "AWS_LAMBDA_RUNTIME_API" {
                continue;
            }
            assert!(
                crate::config::contract::ENV_VARS
                    .iter()
                    .any(|v| v.name == name)
                    || crate::config::contract::SECRET_VARS.contains(&name.as_str()),
                "{name} missing from contract::ENV_VARS and SECRET_VARS"
            );
        }
    }
}
