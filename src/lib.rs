//! rust-aws: a comment and contact-form backend for static websites, as one
//! small binary on AWS Lambda.
//!
//! The crate is the whole service; `main.rs` only wires it up. Layers point
//! inward: [`domain`] and [`intake`] are pure, [`store`] and [`mail`] are
//! adapters behind small traits, [`routes`] and [`app`] speak HTTP.

// What is not the crate's interface (for `bootstrap`, the `rust-aws` command
// in admin/, the tests and the fuzz targets) is `pub(crate)`, so the compiler reports dead code.
#![warn(unreachable_pub)]

pub mod alerts;
pub mod app;
#[cfg(feature = "aws")]
pub mod aws;
mod captcha;
pub mod config;
pub mod contract;
pub mod cursor;
pub mod deadline;
pub mod domain;
mod error;
pub mod ids;
pub mod intake;
pub mod keys;
pub mod local;
pub mod mail;
pub mod notify;
mod outbound;
pub mod replies;
pub mod request;
pub mod respond;
mod routes;
pub mod spam;
pub mod startup;
pub mod state;
pub mod store;
mod submit;
pub mod token;

/// A boxed future, so the adapter traits stay object-safe (`Arc<dyn Store>`,
/// `Arc<dyn Mailer>`) and the route table holds plain function pointers.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
