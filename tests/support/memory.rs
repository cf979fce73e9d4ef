//! The app in memory: the in-memory store and a recording mailer.

use std::collections::HashMap;
use std::sync::Arc;

use http::HeaderMap;
use lambda_http::Body;
use rust_aws::app::App;
use rust_aws::config::Config;
use rust_aws::config::state::State;
use rust_aws::mail::memory::MemoryMailer;
use rust_aws::store::memory::MemoryStore;
use serde_json::Value;
use tower::ServiceExt;

use super::events::Event;

/// The root secret every test app uses, so tests can sign tokens themselves.
pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";

/// An app with its adapters, for assertions on what they recorded.
pub struct TestApp {
    pub app: App,
    pub store: Arc<MemoryStore>,
    pub mailer: Arc<MemoryMailer>,
    /// The same adapters and configuration, for calling library functions
    /// (the outbox's) directly.
    pub state: Arc<State>,
}

/// What the app answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Starts an app with the test defaults, overridden by `vars`.
pub fn spawn_app(vars: &[(&str, &str)]) -> TestApp {
    let mut env: HashMap<String, String> = HashMap::from([
        ("ALLOWED_ORIGINS".into(), "https://blog.example.com".into()),
        ("SECRET_KEY".into(), SECRET.into()),
        ("SITE_NAME".into(), "Example Blog".into()),
    ]);
    for (k, v) in vars {
        env.insert((*k).into(), (*v).into());
    }
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let store = Arc::new(MemoryStore::new());
    let mailer = Arc::new(MemoryMailer::new());
    let app = App::new(State {
        config: config.clone(),
        store: store.clone(),
        mailer: mailer.clone(),
    });
    let state = Arc::new(State {
        config,
        store: store.clone(),
        mailer: mailer.clone(),
    });
    TestApp {
        app,
        store,
        mailer,
        state,
    }
}

impl TestApp {
    /// Sends a raw Lambda event through lambda_http's own parsing.
    pub async fn invoke(&self, event_json: &str) -> Reply {
        let req = lambda_http::request::from_str(event_json).unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = match body {
            Body::Empty => String::new(),
            Body::Text(t) => t,
            Body::Binary(b) => String::from_utf8(b).unwrap(),
            _ => String::new(),
        };
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    pub async fn send(&self, event: Event) -> Reply {
        self.invoke(&event.to_json()).await
    }
}
