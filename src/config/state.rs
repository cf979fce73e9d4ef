//! What every handler is given: the configuration and the adapters, built
//! once at start-up.

use std::sync::Arc;

use crate::config::Config;
use crate::mail::Mailer;
use crate::store::Store;

/// Everything a request needs, built once at start-up.
pub struct State {
    /// The validated configuration.
    pub config: Config,
    /// Where data lives.
    pub store: Arc<dyn Store>,
    /// Where mail goes.
    pub mailer: Arc<dyn Mailer>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
