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

/// An error and every cause under it (`what: cause: its cause`), for the one
/// log line that reports a failure: the `Display` of an error says only its
/// own part, so a line written with `%e` would lose the chain.
#[derive(Debug)]
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Chain;
    use crate::store::StoreError;

    #[test]
    fn a_chain_names_the_failure_and_every_cause_under_it() {
        let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 1.5 s");
        let e = StoreError::caused_by("PutItem(comment)", timeout);
        assert_eq!(e.to_string(), "store unavailable: PutItem(comment)");
        assert_eq!(
            Chain(&e).to_string(),
            "store unavailable: PutItem(comment): no answer in 1.5 s"
        );
        assert_eq!(
            Chain(&StoreError::new("BatchGetItem left keys unprocessed")).to_string(),
            "store unavailable: BatchGetItem left keys unprocessed"
        );
    }
}
