//! The SES v2 adapter: raw MIME, so every header is ours (and moto keeps Reply-To).

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use super::{Mail, MailError, Mailer};
use crate::config::aws::{LazyClient, Sdk};

/// Sends through SES v2 `SendEmail` with raw content.
#[derive(Debug)]
pub struct SesMailer {
    client: LazyClient<Client>,
}

impl SesMailer {
    /// A mailer on the shared SDK configuration; its client is built when the
    /// first mail is sent.
    pub fn new(sdk: &Sdk) -> Self {
        Self {
            client: LazyClient::new(sdk, Client::new),
        }
    }
}

impl SesMailer {
    /// Readies everything the first send needs, during a Lambda init (where
    /// the CPU is fast; see `DynamoStore::warm`): the client and an open TLS
    /// connection to the SES endpoint, by looking up the sender's identity
    /// (`ses:GetEmailIdentity`, read-only). Any answer, a "not found" for an
    /// address whose domain is the verified identity included, leaves the
    /// connection open. One attempt, no retries; a failure only means the
    /// first send connects itself.
    pub async fn warm(&self, sender: &str) {
        use aws_sdk_sesv2::config::{Builder, retry::RetryConfig};
        let result = self
            .client
            .get()
            .await
            .get_email_identity()
            .email_identity(sender)
            .customize()
            .config_override(Builder::default().retry_config(RetryConfig::disabled()))
            .send()
            .await;
        if let Err(e) = result {
            tracing::debug!(error = %error_class(&e), "warming the SES connection answered an error");
        }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(mail.to_mime()))
            .build()
            .map_err(|e| MailError::caused_by("SES request not built", e))?;
        self.client
            .get()
            .await
            .send_email()
            .from_email_address(&mail.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| MailError::caused_by(error_class(&e), e))?;
        Ok(())
    }
}

/// A short class of a failed send for logs and the outbox: the error code
/// and HTTP status SES answered, or the kind of transport failure. Never
/// SES's message text: in the sandbox it names the unverified addresses.
fn error_class<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("unknown error");
            // Codes are identifiers; anything else is not repeated.
            let code = if code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
                && code.len() <= 64
            {
                code
            } else {
                "unrecognised error code"
            };
            format!("SES {code}")
        }
        SdkError::TimeoutError(_) => "SES timeout".to_owned(),
        SdkError::DispatchFailure(_) => "SES unreachable".to_owned(),
        SdkError::ResponseError(_) => "SES answer unreadable".to_owned(),
        SdkError::ConstructionFailure(_) => "SES request not built".to_owned(),
        _ => "SES error".to_owned(),
    }
}
