//! A mailer that keeps what it sends, and can be told to fail: for service
//! tests and for embedding, where the caller inspects the outbox itself.

use async_trait::async_trait;
use std::sync::Mutex;
use std::time::Duration;

use super::{Mail, MailError, Mailer};

/// Keeps sent mail in memory.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Mail>>,
    failures: Mutex<u32>,
    poison: Mutex<Option<String>>,
    delay: Mutex<Duration>,
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

    /// Every send whose text contains `needle` fails, as a mail SES always
    /// refuses does.
    pub fn fail_containing(&self, needle: &str) {
        *self.poison.lock().unwrap_or_else(|p| p.into_inner()) = Some(needle.to_owned());
    }

    /// Each send takes `delay`, as a slow provider's does.
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap_or_else(|p| p.into_inner()) = delay;
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let delay = *self.delay.lock().unwrap_or_else(|p| p.into_inner());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let poisoned = self
            .poison
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_deref()
            .is_some_and(|needle| mail.text.contains(needle));
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if poisoned {
            return Err(MailError::new("simulated refusal"));
        }
        if *failures > 0 {
            *failures -= 1;
            return Err(MailError::new("simulated failure"));
        }
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mail.clone());
        Ok(())
    }
}
