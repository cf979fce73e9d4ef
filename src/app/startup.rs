//! Start-up: telemetry, the adapters the configuration asks for, and
//! reporting a bad configuration where the operator will see it.

use std::sync::Arc;

use crate::app::App;
use crate::config::state::State;
use crate::config::{Config, ConfigError, StoreKind};
use crate::mail::Mailer;
use crate::mail::log::LogMailer;
use crate::store::Store;
use crate::store::memory::MemoryStore;

/// Logs as Lambda expects (its JSON format when the function's log format is
/// JSON, honouring `AWS_LAMBDA_LOG_LEVEL`), plain text locally.
pub fn init_telemetry() {
    lambda_http::tracing::init_default_subscriber();
}

/// Builds the app from a validated configuration: the store and mailer it
/// names. On Lambda they are readied here, in init, for the first request
/// (`prepare` says why).
pub async fn build_app(config: Config) -> App {
    let needs_aws =
        matches!(config.store, StoreKind::DynamoDb { .. }) || config.owner_email.is_some();
    #[cfg(not(feature = "aws"))]
    assert!(
        !needs_aws
            && config.captcha.is_none()
            && config.spam.akismet.is_none()
            && config.alerts.channels().is_empty(),
        "this build has no AWS adapters nor HTTPS client (feature `aws`)"
    );
    #[cfg(feature = "aws")]
    let adapters = Adapters::new(
        needs_aws.then(crate::config::aws::Sdk::new).as_ref(),
        &config.store,
        config.owner_email.is_some(),
    );
    #[cfg(feature = "aws")]
    if config.on_lambda {
        prepare(
            adapters.dynamo.as_deref(),
            adapters.ses.as_deref(),
            config.sender(),
        )
        .await;
    }
    #[cfg(not(feature = "aws"))]
    let adapters = Adapters::default();
    assemble(config, adapters)
}

/// Reads the configuration from `env` and builds the app. With `SECRETS_ARN`
/// set, the secrets come from that Secrets Manager secret, read by one
/// `GetSecretValue` while the store and mailer warm up (on Lambda), so the
/// read costs init no time of its own when the warm-ups take longer; without
/// it, from `env` (src/config/secrets.rs says which is allowed where).
pub async fn start(env: impl Fn(&str) -> Option<String>) -> Result<Started, ConfigError> {
    let on_lambda = env("AWS_LAMBDA_RUNTIME_API").is_some_and(|v| !v.trim().is_empty());
    let Some(arn) = crate::config::secrets::arn(&env)? else {
        let config = Config::from_lookup(env)?;
        return Ok(Started::of(&config, build_app(config.clone()).await));
    };
    crate::config::secrets::check_environment(&env, on_lambda)?;
    #[cfg(not(feature = "aws"))]
    {
        let _ = arn;
        Err(ConfigError {
            variable: crate::config::secrets::SECRETS_ARN,
            message: "this build has no AWS SDK (feature `aws`)".into(),
        })
    }
    #[cfg(feature = "aws")]
    {
        // What the adapters need is no secret: the store and the mail
        // settings, read as the configuration reads them; the configuration
        // is validated whole once the secrets are in.
        let store = crate::config::store_kind(&env)?;
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let (owner, sender) = (get("OWNER_EMAIL"), get("SENDER_EMAIL"));
        let sdk = crate::config::aws::Sdk::new();
        let adapters = Adapters::new(Some(&sdk), &store, owner.is_some());
        let warm = async {
            if on_lambda {
                let sender = sender.as_deref().unwrap_or("rust-aws@localhost");
                prepare(adapters.dynamo.as_deref(), adapters.ses.as_deref(), sender).await;
            }
        };
        let (secrets, ()) = tokio::join!(crate::config::secrets::fetch(&sdk, &arn), warm);
        let secrets = secrets?;
        tracing::info!(?secrets, "secrets read from Secrets Manager");
        let config =
            Config::from_lookup(crate::config::secrets::lookup(&env, &secrets, on_lambda))?;
        Ok(Started::of(&config, assemble(config.clone(), adapters)))
    }
}

/// What `bootstrap` runs: the app, and where.
#[derive(Debug)]
pub struct Started {
    /// The service.
    pub app: App,
    /// Under a Lambda Runtime API (else the local server).
    pub on_lambda: bool,
    /// The local server's port.
    pub port: u16,
}

impl Started {
    fn of(config: &Config, app: App) -> Self {
        Self {
            app,
            on_lambda: config.on_lambda,
            port: config.port,
        }
    }
}

/// The AWS adapters a configuration names, built (not yet used).
#[derive(Default)]
struct Adapters {
    #[cfg(feature = "aws")]
    dynamo: Option<Arc<crate::store::dynamodb::DynamoStore>>,
    #[cfg(feature = "aws")]
    ses: Option<Arc<crate::mail::ses::SesMailer>>,
}

#[cfg(feature = "aws")]
impl Adapters {
    fn new(sdk: Option<&crate::config::aws::Sdk>, store: &StoreKind, mail: bool) -> Self {
        let dynamo = match store {
            StoreKind::DynamoDb { table } => {
                Some(Arc::new(crate::store::dynamodb::DynamoStore::new(
                    sdk.expect("an SDK for a DynamoDB store"),
                    table.clone(),
                )))
            }
            StoreKind::Memory => None,
        };
        let ses = mail.then(|| {
            Arc::new(crate::mail::ses::SesMailer::new(
                sdk.expect("an SDK for the SES mailer"),
            ))
        });
        Self { dynamo, ses }
    }
}

/// The app over `config` with `adapters` (their clients shared, so what
/// init warmed is what the requests use).
fn assemble(config: Config, adapters: Adapters) -> App {
    #[cfg(feature = "aws")]
    let Adapters { dynamo, ses } = adapters;
    #[cfg(not(feature = "aws"))]
    let _ = adapters;
    let store: Arc<dyn Store> = match &config.store {
        StoreKind::Memory => Arc::new(MemoryStore::new()),
        #[cfg(feature = "aws")]
        StoreKind::DynamoDb { .. } => dynamo.expect("built for this configuration"),
        #[cfg(not(feature = "aws"))]
        StoreKind::DynamoDb { .. } => unreachable!("checked above"),
    };
    let mailer: Arc<dyn Mailer> = match &config.owner_email {
        None => Arc::new(LogMailer),
        #[cfg(feature = "aws")]
        Some(_) => ses.expect("built for this configuration"),
        #[cfg(not(feature = "aws"))]
        Some(_) => unreachable!("checked above"),
    };
    tracing::info!(?config, "configuration loaded");
    App::new(State {
        config,
        store,
        mailer,
    })
}

/// Does in init what the first request would otherwise do: load the SDK's
/// configuration, build the clients, and open a TLS connection to each
/// endpoint, both at once.
///
/// Lambda runs init at full CPU speed, then gives an invocation its memory's
/// share of a vCPU (128 MB: 7%). Work moved out of the first request costs a
/// fraction of the time here (BENCHMARKS.md measures both placements): a
/// listing that never sends mail still gets an SES client and connection it
/// may not use, which costs less at init than the first `POST` would pay
/// for them throttled. Bounded, so a slow endpoint delays init by at most
/// [`PREPARE_BUDGET`]; anything not done by then the first request does.
#[cfg(feature = "aws")]
async fn prepare(
    store: Option<&crate::store::dynamodb::DynamoStore>,
    mailer: Option<&crate::mail::ses::SesMailer>,
    sender: &str,
) {
    let store = async {
        if let Some(store) = store {
            store.warm().await;
        }
    };
    let mailer = async {
        if let Some(mailer) = mailer {
            mailer.warm(sender).await;
        }
    };
    let both = async { tokio::join!(store, mailer) };
    if tokio::time::timeout(PREPARE_BUDGET, both).await.is_err() {
        tracing::warn!("the AWS endpoints did not answer during init; the first request connects");
    }
}

/// How long init waits for the endpoints (Lambda allows init 10 s).
#[cfg(feature = "aws")]
const PREPARE_BUDGET: std::time::Duration = std::time::Duration::from_millis(1500);

/// Reports a configuration error: on Lambda to the Runtime API's init-error
/// endpoint (so it shows in the console and the init fails fast), always to stderr.
pub async fn report_config_error(error: &ConfigError) {
    eprintln!("configuration error: {error}");
    tracing::error!(variable = error.variable, "configuration error: {error}");
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return;
    }
    let body = serde_json::json!({
        "errorType": "Runtime.ConfigError",
        "errorMessage": error.to_string(),
        "stackTrace": [],
    });
    let client = lambda_runtime_api_client::PooledClient::builder().build();
    let req = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.ConfigError")
        .body(lambda_runtime_api_client::body::Body::from(
            body.to_string(),
        ));
    match req {
        Ok(req) => {
            if let Err(e) = client.call(req).await {
                eprintln!("could not post the init error to the Runtime API: {e}");
            }
        }
        Err(e) => eprintln!("could not build the init error request: {e}"),
    }
}
