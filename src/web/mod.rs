//! The HTTP side: what a request says ([`request`]) and carries
//! ([`intake`]), the route table and its handlers, the submission pipeline,
//! the time a request has ([`deadline`]), and the answers ([`respond`], the
//! error type).

pub mod deadline;
pub(crate) mod error;
pub mod intake;
pub mod request;
pub mod respond;
pub(crate) mod routes;
mod submit;
