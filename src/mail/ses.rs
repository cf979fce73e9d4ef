//! The SES v2 adapter: raw MIME, so every header is ours (and moto keeps Reply-To).

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

use super::{Mail, MailError, Mailer};
use crate::aws::{LazyClient, Sdk};
use crate::store::BoxFuture;

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

impl Mailer for SesMailer {
    fn send<'a>(&'a self, mail: &'a Mail) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let raw = RawMessage::builder()
                .data(Blob::new(mail.to_mime()))
                .build()
                .map_err(|e| MailError(e.to_string()))?;
            self.client
                .get()
                .await
                .send_email()
                .from_email_address(&mail.from)
                .destination(Destination::builder().to_addresses(&mail.to).build())
                .content(EmailContent::builder().raw(raw).build())
                .send()
                .await
                .map_err(|e| MailError(format!("SES SendEmail: {}", DisplayErrorContext(e))))?;
            Ok(())
        })
    }
}
