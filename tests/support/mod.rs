//! Helpers shared by the test tiers.
#![allow(dead_code, clippy::unwrap_used)]

pub mod events;
pub mod memory;
pub mod proxy;
pub mod runtime;
pub mod siteverify;
