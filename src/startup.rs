//! Start-up: telemetry, the adapters the configuration asks for, and
//! reporting a bad configuration where the operator will see it.

use std::sync::Arc;

use crate::app::App;
use crate::config::{Config, ConfigError, StoreKind};
use crate::mail::Mailer;
use crate::mail::log::LogMailer;
use crate::state::State;
use crate::store::Store;
use crate::store::memory::MemoryStore;

/// Logs as Lambda expects (its JSON format when the function's log format is
/// JSON, honouring `AWS_LAMBDA_LOG_LEVEL`), plain text locally.
pub fn init_telemetry() {
    lambda_http::tracing::init_default_subscriber();
}

/// Builds the app from a validated configuration: the store and mailer it names.
pub fn build_app(config: Config) -> App {
    let needs_aws =
        matches!(config.store, StoreKind::DynamoDb { .. }) || config.owner_email.is_some();
    #[cfg(not(feature = "aws"))]
    assert!(
        !needs_aws && config.captcha.is_none(),
        "this build has no AWS adapters nor HTTPS client (feature `aws`)"
    );
    // Nothing of the SDK is built here: the clients are built by the first
    // request that uses them (crate::aws says why).
    #[cfg(feature = "aws")]
    let sdk = needs_aws.then(crate::aws::Sdk::new);

    let store: Arc<dyn Store> = match &config.store {
        StoreKind::Memory => Arc::new(MemoryStore::new()),
        #[cfg(feature = "aws")]
        StoreKind::DynamoDb { table } => Arc::new(crate::store::dynamodb::DynamoStore::new(
            sdk.as_ref().expect("made above"),
            table.clone(),
        )),
        #[cfg(not(feature = "aws"))]
        StoreKind::DynamoDb { .. } => unreachable!("checked above"),
    };
    let mailer: Arc<dyn Mailer> = match &config.owner_email {
        None => Arc::new(LogMailer),
        #[cfg(feature = "aws")]
        Some(_) => Arc::new(crate::mail::ses::SesMailer::new(
            sdk.as_ref().expect("made above"),
        )),
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
