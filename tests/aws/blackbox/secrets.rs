//! The function's secrets come from Secrets Manager (moto), read at init by
//! the release binary started the Lambda way; a secret it cannot use stops
//! start-up with an init error naming what is wrong, never a value.

use std::time::Duration;

use rust_aws::domain::Decision;
use rust_aws::security::keys::Keys;
use rust_aws::security::token::Token;

use super::{function_with, links_in, mails_containing, path_of, ready_mail, table};
use crate::support::events::{Event, comment};
use crate::support::runtime::{Function, SECRET, create_secret, lambda_env};

/// A key no other test uses, so only this test's secret can sign for it.
fn fresh_key() -> String {
    format!(
        "sm-{}-{}",
        rust_aws::domain::ids::new_id(),
        rust_aws::domain::ids::new_id()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_comes_from_secrets_manager_and_signs_working_moderation_links() {
    ready_mail().await;
    let table = table().await;
    let key = fresh_key();
    let arn = create_secret(&serde_json::json!({ "SECRET_KEY": key }).to_string()).await;
    let f = function_with(&table, &[("SECRETS_ARN", &arn)]).await;
    assert!(
        !lambda_env(&table).iter().any(|(k, _)| k == "SECRET_KEY"),
        "no secret in the function's environment"
    );

    let post = format!("/2026/12/{}/", rust_aws::domain::ids::new_id());
    let reply = f
        .call(&Event::post_json("/comment", &comment(&post)).to_json())
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_owned();

    // The mailed link verifies under the secret's key, and works.
    let links = links_in(&mails_containing(&id).await[0]);
    let token = links[0].split("token=").nth(1).unwrap().to_owned();
    let keys = Keys::derive(key.as_bytes());
    let now_s = rust_aws::domain::ids::now_ms() / 1000;
    assert!(Token::verify(&token, &keys.moderation, now_s).is_ok());
    assert!(
        Token::verify(&token, &Keys::derive(SECRET.as_bytes()).moderation, now_s).is_err(),
        "signed with the secret's key, not the other tests'"
    );
    let page = f
        .call(&Event::v2("GET", &path_of(&links[0])).to_json())
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let approve = |t: &str| {
        Event::v2("POST", "/comment/moderate")
            .body("application/x-www-form-urlencoded", &format!("token={t}"))
            .to_json()
    };
    assert_eq!(f.call(&approve(&token)).await.status, 200);

    // A token the test signs with the same key is honoured; one signed with
    // any other key is refused.
    // Another text: the same one again within a day is spam (the duplicate rule).
    let mut again = comment(&post);
    again["body"] = serde_json::json!(format!(
        "A second comment, {}",
        rust_aws::domain::ids::new_id()
    ));
    let second = f
        .call(&Event::post_json("/comment", &again).to_json())
        .await;
    let second = second.json()["id"].as_str().unwrap().to_owned();
    let signed = |k: &[u8; 32]| {
        Token {
            action: Decision::Approve,
            comment_id: second.clone(),
            expires_s: now_s + 3600,
        }
        .sign(k)
    };
    let other = Keys::derive(SECRET.as_bytes());
    assert_eq!(
        f.call(&approve(&signed(&other.moderation))).await.status,
        403
    );
    assert_eq!(
        f.call(&approve(&signed(&keys.moderation))).await.status,
        200
    );

    let logs = f.logs();
    assert!(logs.contains("secrets read from Secrets Manager"), "{logs}");
    assert!(logs.contains("SECRET_KEY"), "the names are logged: {logs}");
    assert!(!logs.contains(&key), "the value never is:\n{logs}");
}

/// Starts the binary with `env`, expects it to stop in init, and returns the
/// error message it posted to the Runtime API (checked to hold no `hidden`).
async fn init_error(env: Vec<(String, String)>, hidden: &str) -> String {
    let mut f = Function::start(&env).await;
    let status = f.wait_exit(Duration::from_secs(20)).expect("exits");
    assert!(!status.success());
    let posted = f
        .runtime
        .init_error()
        .expect("init error posted to the Runtime API");
    let message = posted["errorMessage"].as_str().unwrap().to_owned();
    assert_eq!(posted["errorType"], "Runtime.ConfigError", "{posted}");
    let logs = f.logs();
    assert!(!message.contains(hidden), "{message}");
    assert!(
        !logs.contains(hidden),
        "a secret value in the logs:\n{logs}"
    );
    message
}

fn env_with(arn: &str) -> Vec<(String, String)> {
    let mut env = lambda_env("unused");
    env.retain(|(k, _)| k != "SECRETS_ARN");
    env.push(("SECRETS_ARN".to_owned(), arn.to_owned()));
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_without_secret_key_stops_start_up_naming_the_key() {
    let hidden = fresh_key();
    let arn = create_secret(&serde_json::json!({ "CAPTCHA_SECRET": hidden }).to_string()).await;
    let message = init_error(env_with(&arn), &hidden).await;
    assert!(message.starts_with("SECRET_KEY:"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_that_cannot_be_read_or_is_not_a_json_object_stops_start_up() {
    let missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rust-aws-none-AbCdEf";
    let message = init_error(env_with(missing), "unused-marker").await;
    assert!(message.starts_with("SECRETS_ARN:"), "{message}");
    assert!(message.contains("ResourceNotFound"), "{message}");

    let hidden = fresh_key();
    let arn = create_secret(&hidden).await;
    let message = init_error(env_with(&arn), &hidden).await;
    assert!(message.starts_with("SECRETS_ARN:"), "{message}");
    assert!(message.contains("JSON object"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_lambda_a_secret_in_the_environment_is_refused_by_name() {
    let hidden = fresh_key();
    let mut env = lambda_env("unused");
    env.push(("TRUSTED_PROXY_SECRET".to_owned(), hidden.clone()));
    let message = init_error(env, &hidden).await;
    assert!(message.starts_with("TRUSTED_PROXY_SECRET:"), "{message}");
    assert!(message.contains("GetFunctionConfiguration"), "{message}");
}
