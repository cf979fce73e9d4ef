//! rust-aws
pub mod contract;
