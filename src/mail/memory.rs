//! A mailer that keeps what it sends, and can be told to fail: for service
//! tests and for embedding, where the caller inspects the outbox itself.

use std::sync::Mutex;

use super::{Mail, MailError, Mailer};
use crate::store::BoxFuture;

/// Keeps sent mail in memory.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
    failures: Mutex<u32>,
}

impl MemoryMailer {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mail sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The next `n` sends fail, as SES does when it throttles or is down.
    pub fn fail_next(&self, n: u32) {
        *self.failures.lock().unwrap_or_else(|p| p.into_inner()) = n;
    }
}

impl Mailer for MemoryMailer {
    fn send<'a>(&'a self, mail: &'a Mail) -> BoxFuture<'a, Result<(), MailError>> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let result = if *failures > 0 {
            *failures -= 1;
            Err(MailError("simulated failure".into()))
        } else {
            self.sent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(mail.clone());
            Ok(())
        };
        Box::pin(std::future::ready(result))
    }
}
