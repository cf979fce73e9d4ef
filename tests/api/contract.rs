//! The contract module is the one list of names the template is checked
//! against (ci/template_check.py); here it is held to the code itself.

use rust_aws::app::served_routes;
use rust_aws::config::contract::ENV_VARS;
use rust_aws::security::keys::Keys;

use crate::support::events::Event;
use crate::support::memory::spawn_app;

#[tokio::test]
async fn every_contract_route_is_served_and_nothing_else() {
    let app = spawn_app(&[]);
    let contract: Vec<_> = served_routes().collect();
    for (method, path) in &contract {
        let reply = app.send(Event::v2(method, path)).await;
        assert!(
            ![404, 405].contains(&reply.status),
            "{method} {path} answered {}",
            reply.status
        );
    }
    // The other direction: on every path, a method outside the contract is
    // refused (HEAD rides on GET, OPTIONS is the preflight).
    for (_, path) in &contract {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if contract.contains(&(method, path)) {
                continue;
            }
            let reply = app.send(Event::v2(method, path)).await;
            assert_eq!(reply.status, 405, "{method} {path}");
        }
    }
    for path in [
        "/",
        "/comments",
        "/comment/",
        "/contact/x",
        "/comment/moderate/x",
    ] {
        assert_eq!(app.send(Event::v2("GET", path)).await.status, 404, "{path}");
    }
}

#[test]
fn every_variable_required_on_lambda_is_enforced_there() {
    let base = [
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("TABLE_NAME", "t"),
        ("OWNER_EMAIL", "owner@example.com"),
        ("SENDER_EMAIL", "noreply@example.com"),
        ("ALLOWED_ORIGINS", "*"),
        ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        (
            "SECRETS_ARN",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rust-aws-AbCdEf",
        ),
    ];
    let lookup = |skip: &str| {
        let vars: Vec<_> = base
            .iter()
            .filter(|(k, _)| *k != skip)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        rust_aws::config::Config::from_lookup(move |k| {
            vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    };
    assert!(lookup("").is_ok());
    for var in ENV_VARS.iter().filter(|v| v.required_on_lambda) {
        assert_eq!(lookup(var.name).unwrap_err().variable, var.name);
    }
    // SECRET_KEY, a key of the secret, is required there too.
    assert_eq!(lookup("SECRET_KEY").unwrap_err().variable, "SECRET_KEY");
    let _ = Keys::derive(b"unused");
}
