//! The names that the code, the SAM template and the docs must agree on.
//!
//! Environment variables, the table schema and the metric names appear here once, with the
//! routes from the route table ([`crate::app::served_routes`]); `tests/api/contract.rs` and
//! `ci/template_check.py` hold `template.yaml` to them. Constants only: the store (table
//! keys) and notify (metric names) read them, so this module depends on nothing.

/// How the function treats one environment variable.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// Start-up fails on Lambda without it (for a DynamoDB deployment).
    pub required_on_lambda: bool,
    /// Never set in a deployed stack (local runs and emulators only).
    pub local_only: bool,
}

const fn var(name: &'static str, required_on_lambda: bool, local_only: bool) -> EnvVar {
    EnvVar {
        name,
        required_on_lambda,
        local_only,
    }
}

/// Every variable the configuration reads from the function's environment
/// (the secrets are [`SECRET_VARS`]).
pub const ENV_VARS: &[EnvVar] = &[
    var("STORE", false, true),
    var("TABLE_NAME", true, false),
    var("OWNER_EMAIL", true, false),
    var("SENDER_EMAIL", true, false),
    var("SITE_NAME", false, false),
    var("ALLOWED_ORIGINS", true, false),
    var("MODERATION", false, false),
    var("MODERATION_LINK_DAYS", false, false),
    var("SECRETS_ARN", true, false),
    var("PUBLIC_URL", false, false),
    var("RATE_LIMIT_PER_MINUTE", false, false),
    var("TRUSTED_PROXY_HOPS", false, false),
    var("HONEYPOT_FIELD", false, false),
    var("MAIL_PER_HOUR", false, false),
    var("AVATARS", false, false),
    var("CAPTCHA", false, false),
    var("CAPTCHA_VERIFY_URL", false, false),
    var("SITE_URL", false, false),
    var("VISITOR_MAIL_PER_HOUR", false, false),
    var("SPAM_MAX_LINKS", false, false),
    var("SPAM_BLOCKLIST", false, false),
    var("AKISMET_URL", false, false),
    var("TELEGRAM_CHAT_ID", false, false),
    var("TELEGRAM_API_URL", false, false),
    var("ALERTS_PER_HOUR", false, false),
    var("AWS_ENDPOINT_URL", false, true),
    var("PORT", false, true),
];

/// The variables that hold secrets. A deployed function reads them from the
/// JSON object of the Secrets Manager secret `SECRETS_ARN` names, never from
/// its environment (`src/config/secrets.rs`); locally the environment serves.
pub const SECRET_VARS: &[&str] = &[
    "SECRET_KEY",
    "TRUSTED_PROXY_SECRET",
    "CAPTCHA_SECRET",
    "AKISMET_KEY",
    "ALERT_WEBHOOK_URL",
    "ALERT_WEBHOOK_SECRET",
    "SLACK_WEBHOOK_URL",
    "DISCORD_WEBHOOK_URL",
    "TELEGRAM_BOT_TOKEN",
];

/// The DynamoDB single-table schema the store uses.
pub mod table {
    /// Partition key attribute (string).
    pub const PK: &str = "pk";
    /// Sort key attribute (string).
    pub const SK: &str = "sk";
    /// Epoch-seconds attribute the table's TTL is configured on.
    pub const TTL: &str = "expires_at";
    /// Sparse index holding only approved comments, keyed by post.
    pub(crate) const BY_POST: (&str, &str, &str) = ("by_post", "list_pk", "list_sk");
    /// Sparse index holding only items whose mail is still undelivered.
    pub const OUTBOX: (&str, &str, &str) = ("outbox", "outbox_pk", "outbox_sk");
    /// Sparse index holding only pending and approved comments, keyed by
    /// status: the owner console's queue and published list, and the
    /// site-wide feed.
    pub(crate) const BY_STATUS: (&str, &str, &str) = ("by_status", "status_pk", "status_sk");
    /// Sparse index holding only the spam folder, newest first by verdict time.
    pub const SPAM: (&str, &str, &str) = ("spam", "spam_pk", "spam_sk");
    /// Every global secondary index as `(name, hash key, range key)`.
    pub const INDEXES: &[(&str, &str, &str)] = &[BY_POST, OUTBOX, BY_STATUS, SPAM];
}

/// CloudWatch embedded-metric namespace and names the function emits.
pub mod metrics {
    /// Namespace of the embedded metrics.
    pub const NAMESPACE: &str = "RustAws";
    /// Count of mails that could not be delivered and wait for redelivery.
    pub const MAIL_UNDELIVERED: &str = "MailUndelivered";
    /// Count of mails given up on after too many attempts (parked in the outbox).
    pub const MAIL_PARKED: &str = "MailParked";
    /// Count of submissions Akismet called blatant spam, dropped unstored.
    pub const SPAM_DISCARDED: &str = "SpamDiscarded";
    /// The one dimension, set to `AWS_LAMBDA_FUNCTION_NAME`.
    pub const DIMENSION: &str = "FunctionName";
}
