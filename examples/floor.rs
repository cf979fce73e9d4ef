//! The floor of the cold-start benchmark (`bench/`): the minimal
//! `lambda_http` handler of the 2019 article this project grew from (README.md,
//! "Migrating from the 2019 setup"), built as an example of this crate so it links the same
//! crate versions with the same release profile as `bootstrap`.
//!
//! One `service_fn` dispatching on (method, path), 404 otherwise, and
//! `tracing_subscriber` without time and target (what `init_default_subscriber`
//! sets up). No configuration, no AWS clients: whatever `bootstrap` spends on
//! start-up beyond this program's is the product's own.
//!
//! `cargo build --release --example floor`

use lambda_http::{Body, Error, Request, Response, service_fn};

async fn handler(req: Request) -> Result<Response<Body>, Error> {
    let response = match (req.method().as_str(), req.uri().path()) {
        ("POST", "/contact") => Response::builder()
            .status(202)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"status":"received"}"#))?,
        _ => Response::builder()
            .status(404)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"error":"not_found"}"#))?,
    };
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(service_fn(handler)).await
}
