//! The site owner's `rust-aws` command (never in the Lambda function):
//! moderation, export, import and erasure on the deployed table, through the
//! same store code as the function (the `rust_aws` library).

// What is not the crate's interface (for the `rust-aws` binary and the tests)
// is `pub(crate)`, so the compiler reports dead code.
#![warn(unreachable_pub)]

pub mod cli;
pub mod import;
pub mod ops;
pub mod records;
mod spam;
mod xml;
