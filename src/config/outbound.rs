//! The function's one outbound HTTPS path: the captcha's siteverify, Akismet
//! and the owner's alert channels all POST through [`post`], on the client
//! stack the AWS SDK already brings (aws-smithy-http-client: hyper, rustls
//! on aws-lc), so there is no second TLS stack in the binary.
//!
//! The client is built by the first call that needs it (the platform's trust
//! store is read then: these services' certificates do not chain to the AWS
//! roots the SDK's own client trusts), never at start-up: a function with
//! none of these features configured never builds it. Callers bound each
//! call by their request's deadline ([`crate::web::deadline::Deadline::run_for`]).

use std::fmt;

/// The largest answer read; every answer these services give is small.
#[cfg(feature = "aws")]
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What the far side answered.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers.
    pub headers: http::HeaderMap,
    /// The answer's body, at most 64 KiB of it.
    pub body: Vec<u8>,
}

/// Why no answer came. Its text names the stage (the request could not be
/// built, the service could not be reached, the answer could not be read)
/// and the client's own error, never the URL it was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failed {
    /// A short class: `request`, `unreachable` or `unreadable`.
    pub class: &'static str,
    /// The client's explanation; may name the host, so callers that must
    /// keep the endpoint secret (alert webhooks) log only [`Failed::class`].
    pub detail: String,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.detail)
    }
}

/// POSTs `body` with `content_type` (and `headers`) to `url`.
pub(crate) async fn post(
    url: &str,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
) -> Result<Answer, Failed> {
    transport::post(url, content_type, headers, body).await
}

#[cfg(feature = "aws")]
mod transport {
    use std::sync::OnceLock;

    use aws_smithy_http_client::Connector;
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
    use aws_smithy_runtime_api::client::http::HttpConnector;
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;
    use http_body_util::BodyExt;

    use super::{Answer, Failed, MAX_ANSWER_BYTES};

    /// One client per process, built by the first call.
    fn connector() -> &'static Connector {
        static CONNECTOR: OnceLock<Connector> = OnceLock::new();
        CONNECTOR.get_or_init(|| {
            let context = TlsContext::builder()
                .with_trust_store(TrustStore::default())
                .build()
                .expect("the platform trust store alone is a valid TLS context");
            Connector::builder()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(context)
                .build()
        })
    }

    fn failed(class: &'static str, e: impl std::fmt::Display) -> Failed {
        Failed {
            class,
            detail: e.to_string(),
        }
    }

    pub(super) async fn post(
        url: &str,
        content_type: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, Failed> {
        let mut request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, content_type)
            .header(
                http::header::USER_AGENT,
                concat!("rust-aws/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        let request = request
            .body(SdkBody::from(body))
            .map_err(|e| failed("request", e))?;
        let request = HttpRequest::try_from(request).map_err(|e| failed("request", e))?;
        let response = connector()
            .call(request)
            .await
            .map_err(|e| failed("unreachable", e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut map = http::HeaderMap::new();
        for (name, value) in headers.iter() {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(value),
            ) {
                map.append(n, v);
            }
        }
        let limited = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES);
        let bytes = limited
            .collect()
            .await
            .map_err(|e| failed("unreadable", e))?
            .to_bytes();
        Ok(Answer {
            status,
            headers: map,
            body: bytes.to_vec(),
        })
    }
}

/// Builds without the AWS adapters have no HTTPS client: every call fails.
/// Start-up refuses the features that need one in such a build.
#[cfg(not(feature = "aws"))]
mod transport {
    use super::{Answer, Failed};

    pub(super) async fn post(
        _: &str,
        _: &str,
        _: &[(&'static str, String)],
        _: Vec<u8>,
    ) -> Result<Answer, Failed> {
        Err(Failed {
            class: "unreachable",
            detail: "this build has no HTTPS client".into(),
        })
    }
}
