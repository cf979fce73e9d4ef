//! rust-aws: a comment and contact-form backend for static websites, as one
//! small binary on AWS Lambda.
//!
//! The crate is the whole service; `main.rs` only wires it up. Layers point
//! inward:
//! - [`domain`]: validated values and the records they make (pure);
//! - [`web`]: HTTP in and out — the request, the body's fields ([`web::intake`],
//!   pure), the route table and its handlers, responses and errors;
//! - [`security`]: keys derived from `SECRET_KEY`, signed links and cursors,
//!   the captcha check;
//! - [`store`] and [`mail`]: the adapters behind small traits (DynamoDB and
//!   SES in production, memory and the log locally);
//! - [`outbox`]: delivery of every stored mail, at least once, under its caps;
//! - [`app`]: the configuration, start-up, and the one service that Lambda,
//!   the local server and the tests drive.

// What is not the crate's interface (for `bootstrap`, the `rust-aws` command
// in admin/, the tests and the fuzz targets) is `pub(crate)`, so the compiler reports dead code.
#![warn(unreachable_pub)]

pub mod app;
pub mod config;
pub mod domain;
pub mod mail;
pub mod outbox;
pub mod security;
pub mod store;
pub mod web;

/// A boxed future, so the adapter traits stay object-safe (`Arc<dyn Store>`,
/// `Arc<dyn Mailer>`) and the route table holds plain function pointers.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
