//! The AWS SDK's configuration and clients, shared, each built once.
//!
//! Clients are built on first use ([`LazyClient`]), and on Lambda that first
//! use is the function's init (`startup::build_app` warms the store and the
//! mailer): Lambda runs init at full CPU speed and an invocation at its
//! memory's share of a vCPU, so the configuration, the clients, the TLS
//! context and the connections are cheapest made before the first event
//! (BENCHMARKS.md, the Lambda model). Locally (`cargo run` with a table) the
//! same clients are built by the first request that needs them.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use tokio::sync::OnceCell;

/// The SDK configuration the clients share, loaded by the first client built.
#[derive(Debug, Clone, Default)]
pub struct Sdk(Arc<OnceCell<SdkConfig>>);

impl Sdk {
    /// A configuration not loaded yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A configuration loaded already: for embedding next to other SDK clients,
    /// and for tests.
    pub fn with_config(config: SdkConfig) -> Self {
        Self(Arc::new(OnceCell::new_with(Some(config))))
    }

    /// The configuration, loaded on the first call.
    pub async fn config(&self) -> &SdkConfig {
        self.0.get_or_init(sdk_config).await
    }
}

/// An SDK client built on its first use, from the shared [`Sdk`]. Concurrent
/// first uses wait for one construction.
#[derive(Debug)]
pub(crate) struct LazyClient<C> {
    sdk: Sdk,
    make: fn(&SdkConfig) -> C,
    client: OnceCell<C>,
}

impl<C> LazyClient<C> {
    /// A client that `make` builds from the shared configuration when first used.
    pub(crate) fn new(sdk: &Sdk, make: fn(&SdkConfig) -> C) -> Self {
        Self {
            sdk: sdk.clone(),
            make,
            client: OnceCell::new(),
        }
    }

    /// The client, built on the first call.
    pub(crate) async fn get(&self) -> &C {
        self.client
            .get_or_init(|| async { (self.make)(self.sdk.config().await) })
            .await
    }
}

/// The SDK configuration both clients share: bounded timeouts and retries so
/// an outage answers 503 well inside the function's timeout.
///
/// Built for start-up time (BENCHMARKS.md measures it): the HTTP client trusts
/// the Amazon Trust Services roots that every AWS endpoint chains to instead of
/// reading and parsing the platform's whole trust store, and when the region
/// and credentials are in the environment (always, on Lambda) they are taken
/// from there directly, where the default chains would find them first anyway,
/// without building those chains' other providers (an STS client among them).
async fn sdk_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1000))
        .operation_attempt_timeout(Duration::from_millis(1500))
        .operation_timeout(Duration::from_millis(3000))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(2));
    let env_set = |k| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if let Ok(region) = std::env::var("AWS_REGION")
        && !region.is_empty()
        && env_set("AWS_ACCESS_KEY_ID")
        && env_set("AWS_SECRET_ACCESS_KEY")
    {
        loader = loader
            .region(aws_config::Region::new(region))
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
    }
    loader.load().await
}

/// Roots of Amazon Trust Services: Amazon Root CA 1-4 and the Starfield root
/// that cross-signs them (see the file's header).
const AWS_ROOTS_PEM: &str = include_str!("amazon-trust-services.pem");

/// The SDK's default HTTPS client (hyper, rustls on aws-lc, proxy settings
/// from the environment) with a trust store of the AWS roots only. The
/// platform's store is kept where a non-AWS certificate may be met: an https
/// `AWS_ENDPOINT_URL` (a local emulator behind TLS), or `SSL_CERT_FILE` /
/// `SSL_CERT_DIR` naming a private CA.
fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider};
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig};

    let custom_endpoint = std::env::var("AWS_ENDPOINT_URL")
        .is_ok_and(|url| url.to_ascii_lowercase().starts_with("https:"));
    let platform_roots = custom_endpoint
        || std::env::var_os("SSL_CERT_FILE").is_some()
        || std::env::var_os("SSL_CERT_DIR").is_some();
    let trust = if platform_roots {
        TrustStore::default()
    } else {
        TrustStore::empty().with_pem_certificate(AWS_ROOTS_PEM.as_bytes())
    };
    let context = |trust| {
        TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .expect("a trust store alone is a valid TLS context")
    };
    let (tls, probe_tls) = (context(trust), context(TrustStore::empty()));
    Builder::new().build_with_connector_fn(move |settings, components| {
        // Each client's construction builds and drops one connector with
        // neither settings nor components, only to load the platform's roots
        // early (aws-smithy-http-client, validate_base_client_config). Ours
        // are parsed per connector, so that probe gets an empty trust store:
        // it never carries a request, and if it did, TLS would fail closed.
        let probe = settings.is_none() && components.is_none();
        let mut connector = ConnectorBuilder::default()
            .tls_provider(Provider::Rustls(rustls_provider::CryptoMode::AwsLc))
            .tls_context(if probe { &probe_tls } else { &tls }.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static BUILT: AtomicUsize = AtomicUsize::new(0);

    fn make(config: &SdkConfig) -> (usize, Option<String>) {
        let n = BUILT.fetch_add(1, Ordering::SeqCst) + 1;
        (n, config.region().map(ToString::to_string))
    }

    #[tokio::test]
    async fn a_client_is_built_once_on_first_use_from_the_shared_config() {
        let sdk = Sdk::with_config(
            SdkConfig::builder()
                .region(aws_config::Region::new("eu-west-1"))
                .build(),
        );
        let lazy = LazyClient::new(&sdk, make);
        let other = LazyClient::new(&sdk, make);
        assert_eq!(
            BUILT.load(Ordering::SeqCst),
            0,
            "nothing is built before use"
        );

        let (a, b) = tokio::join!(lazy.get(), lazy.get());
        assert_eq!(a, b, "concurrent first uses share one client");
        assert_eq!(BUILT.load(Ordering::SeqCst), 1);
        assert_eq!(a.1.as_deref(), Some("eu-west-1"));

        assert_eq!(
            other.get().await.0,
            2,
            "each client is built on its own first use"
        );
        assert_eq!(lazy.get().await.0, 1, "and kept");
    }
}
