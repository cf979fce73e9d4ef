//! The time a request has to answer.
//!
//! On Lambda it is the invocation's own deadline (`Lambda-Runtime-Deadline-Ms`,
//! in the request's Lambda context) less a margin to post the answer; locally
//! the same budget as the template's function timeout. Work that must finish
//! (a store write) starts only when it can; optional work (a mail) is left to
//! redelivery when time runs short; and a claim on an outbox entry never
//! outlives the invocation that took it.

use std::future::Future;
use std::time::Duration;

use lambda_http::{Request, RequestExt};
use tokio::time::Instant;

/// Kept back from the invocation's deadline to post the answer.
pub(crate) const MARGIN: Duration = Duration::from_millis(500);
/// The time a store write needs to be sure to finish: the SDK's operation
/// timeout (3 s, `aws::sdk_config`) and a margin. A route starts a write only
/// with this much left, so a slow store yields a 503 with nothing written
/// rather than a write the client never hears about (and repeats).
pub(crate) const STORE_WRITE: Duration = Duration::from_millis(3_500);
/// The function timeout `template.yaml` sets (template-check holds the two
/// equal).
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);
/// A request's budget when no Lambda deadline is known (the local server, the
/// tests): the deployed function's, [`FUNCTION_TIMEOUT`] less [`MARGIN`].
pub(crate) const LOCAL_BUDGET: Duration = FUNCTION_TIMEOUT.saturating_sub(MARGIN);

/// When the current request must have answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    epoch_ms: u64,
}

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
            epoch_ms: crate::domain::ids::now_ms() + budget.as_millis() as u64,
        }
    }

    /// From an invocation deadline in epoch milliseconds, less [`MARGIN`].
    pub(crate) fn from_epoch_ms(deadline_ms: u64) -> Self {
        let left = deadline_ms.saturating_sub(crate::domain::ids::now_ms());
        Self::after(Duration::from_millis(left).saturating_sub(MARGIN))
    }

    /// The request's deadline: its Lambda invocation's, else [`LOCAL_BUDGET`].
    pub fn of(req: &Request) -> Self {
        match req.lambda_context_ref().map(|c| c.deadline) {
            Some(ms) if ms > 0 => Self::from_epoch_ms(ms),
            _ => Self::after(LOCAL_BUDGET),
        }
    }

    /// Time left.
    pub(crate) fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether at least `need` is left.
    pub fn has(&self, need: Duration) -> bool {
        self.remaining() >= need
    }

    /// The deadline in epoch milliseconds (for claims stored in the table).
    pub(crate) fn epoch_ms(&self) -> u64 {
        self.epoch_ms
    }

    /// Runs `work` until the deadline: `None` when time ran out first.
    pub async fn run<F: Future>(&self, work: F) -> Option<F::Output> {
        tokio::time::timeout_at(self.at, work).await.ok()
    }

    /// Runs `work` for at most `limit`, and never past `reserve` before the
    /// deadline: `None` when either ran out first.
    pub(crate) async fn run_for<F: Future>(
        &self,
        limit: Duration,
        reserve: Duration,
        work: F,
    ) -> Option<F::Output> {
        let cap = self.remaining().saturating_sub(reserve).min(limit);
        tokio::time::timeout(cap, work).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lambda_deadline_keeps_a_margin() {
        let d = Deadline::from_epoch_ms(crate::domain::ids::now_ms() + 3_000);
        let left = d.remaining();
        assert!(left <= Duration::from_millis(2_500) && left > Duration::from_millis(2_300));
        assert!(d.epoch_ms() <= crate::domain::ids::now_ms() + 2_500);
    }

    #[tokio::test]
    async fn a_past_deadline_has_no_time_and_runs_nothing() {
        let d = Deadline::from_epoch_ms(crate::domain::ids::now_ms().saturating_sub(1_000));
        assert_eq!(d.remaining(), Duration::ZERO);
        assert!(!d.has(Duration::from_millis(1)));
        assert_eq!(d.run(std::future::pending::<()>()).await, None);
    }

    #[tokio::test]
    async fn run_for_stops_at_its_limit_or_before_the_reserve() {
        let d = Deadline::after(Duration::from_secs(5));
        let started = Instant::now();
        let out = d
            .run_for(
                Duration::from_millis(50),
                Duration::ZERO,
                std::future::pending::<()>(),
            )
            .await;
        assert_eq!(out, None);
        assert!(started.elapsed() < Duration::from_secs(1));
        let short = Deadline::after(Duration::from_millis(100));
        let out = short
            .run_for(
                Duration::from_secs(5),
                Duration::from_millis(80),
                std::future::pending::<()>(),
            )
            .await;
        assert_eq!(out, None);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
