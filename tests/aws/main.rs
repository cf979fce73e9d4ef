//! The tiers against AWS's APIs on moto (DynamoDB and SES v2 on loopback,
//! started once per run by tests/support/runtime.rs), through the real SDK:
//!
//! - `store`, `store_faults`: the stores and DynamoDB's own failure modes
//!   behind the fault proxy; `cargo test --test aws -- --skip blackbox::`.
//!   (The owner's command has its own, in its package: admin/tests/admin.rs.)
//! - `blackbox`: the release `bootstrap` through the Lambda Runtime API
//!   emulator (`BOOTSTRAP_BIN`, `BOOTSTRAP_RUNNER`); `ci/test.sh blackbox`.
//!
//! One binary for both: they share the harness (moto, the Runtime API
//! emulator, the fault proxy) and the link of the AWS SDK, which dominates
//! building the tests.
#![allow(clippy::unwrap_used)]

/// The shared harness (tests/support): the parts these tiers use.
#[path = "../support"]
mod support {
    // The event builders serve the in-process tier's every request shape
    // (forms, base64 bodies, multipart); these tiers send JSON only.
    #[allow(dead_code)]
    pub mod events;
    pub mod proxy;
    pub mod runtime;
    // The Akismet and alert-channel stubs; the in-process tier reads their
    // answers in more ways than the black-box tier does.
    #[allow(dead_code)]
    pub mod stubs;
}

mod blackbox;
mod store;
mod store_faults;
