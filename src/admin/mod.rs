//! The site owner's `rust-aws` command (feature `admin`, never in the Lambda
//! binary): moderation, export, import and erasure on the deployed table,
//! through the same store code as the function.

pub mod cli;
pub mod import;
pub mod ops;
pub mod records;
mod xml;
