//! `bootstrap`: the Lambda function, or the same service on 127.0.0.1 when no
//! Lambda Runtime API is around.

use std::process::ExitCode;

use rust_aws::app::{local, startup};
use rust_aws::web::request;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    startup::init_telemetry();
    let startup::Started {
        app,
        on_lambda,
        port,
    } = match startup::start(|name| std::env::var(name).ok()).await {
        Ok(started) => started,
        Err(e) => {
            startup::report_config_error(&e).await;
            return ExitCode::FAILURE;
        }
    };
    let result = if on_lambda {
        // lambda_http::run, with request::defuse before lambda_http's own
        // event conversion (which panics on what only a direct Invoke sends).
        let handler = request::Defused(lambda_http::Adapter::from(app));
        lambda_http::lambda_runtime::run(handler)
            .await
            .map_err(|e| e.to_string())
    } else {
        local::serve(app, port).await.map_err(|e| e.to_string())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bootstrap: {e}");
            ExitCode::FAILURE
        }
    }
}
