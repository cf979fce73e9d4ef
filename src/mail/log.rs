//! The local stand-in for SES: mail is written to the log. It is the one place
//! where message text may appear in logs, and it never runs on Lambda.

use super::{Mail, MailError, Mailer};
use async_trait::async_trait;

/// Writes each mail to the log instead of sending it.
#[derive(Debug, Default)]
pub(crate) struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let reply_to = mail
            .reply_to
            .as_ref()
            .map(|(_, a)| a.as_str())
            .unwrap_or("-");
        tracing::info!(
            to = %mail.to,
            reply_to,
            subject = %mail.subject,
            "local mail (OWNER_EMAIL unset, not sent):\n{}",
            mail.text
        );
        Ok(())
    }
}
