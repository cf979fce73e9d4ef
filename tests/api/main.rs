//! The in-process tier: the app in memory (memory store, memory mailer),
//! driven with real API Gateway payloads, asserting on the answer and on what
//! the store and mailer recorded. No moto, no release binary: `cargo test
//! --test api` (`make test-service`) needs nothing outside Cargo.
//!
//! One module per resource of the route table (`src/web/routes/mod.rs`), one per
//! concern the routes share, then the suites that drive the same app
//! differently (the contract, property tests, load on loopback, the captcha
//! against a siteverify stub, reply notifications, the outbox).
#![allow(clippy::unwrap_used)]

/// The shared harness (tests/support): the parts this tier uses.
#[path = "../support"]
mod support {
    pub mod events;
    pub mod memory;
    pub mod siteverify;
    // The Akismet and alert-channel stubs; the black-box tier reads their
    // calls as text, this one as JSON and form fields.
    #[allow(dead_code)]
    pub mod stubs;
}

mod helpers;

// The route table's resources.
mod admin;
mod alerts;
mod comments;
mod contact;
mod embed;
mod feed;
mod moderation;
mod replies;
mod spam;

// What the routes share.
mod http;
mod rate_limit;
mod redirects;
mod submissions;

// The same app, driven otherwise.
mod captcha;
mod contract;
mod load;
mod outbox;
mod properties;
