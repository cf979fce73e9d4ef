//! One module per resource.

pub mod comment;
pub mod contact;
pub mod moderate;
