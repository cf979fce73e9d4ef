//! The owner's console through the shipped binary: the Lambda Runtime API
//! with API Gateway payload 2.0 (cookies in their own array, as HTTP API
//! sends them), DynamoDB and SES v2 on moto. The sign-in link is read back
//! from the mail moto's SES accepted; the table holds only the session's
//! hash; the logs hold no token, session id or CSRF token.

use crate::support::events::{Event, comment};
use crate::support::runtime::{
    Function, OWNER, SENDER, create_table, lambda_env, mail_text, sdk, sent_mail, verify_identity,
};
use serde_json::json;

const API: &str = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";

fn own_post(path: &str, body: &str, cookie: Option<&str>) -> Event {
    let mut e = Event::v2("POST", path)
        .header("origin", API)
        .header("sec-fetch-site", "same-origin")
        .body_base64("application/x-www-form-urlencoded", body.as_bytes());
    if let Some(c) = cookie {
        e.0["cookies"] = json!([c]);
    }
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_signs_in_by_mail_and_decides_through_the_binary() {
    verify_identity(SENDER).await;
    verify_identity(OWNER).await;
    let table = format!("rust-aws-{}", rust_aws::domain::ids::new_id());
    create_table(&table).await;
    let mut env = lambda_env(&table);
    env.retain(|(k, _)| k != "RATE_LIMIT_PER_MINUTE");
    env.push(("RATE_LIMIT_PER_MINUTE".into(), "100".into()));
    let f = Function::start(&env).await;
    let post = format!("/2026/11/{}/", rust_aws::domain::ids::new_id());
    let r = f
        .call(&Event::post_json("/comment", &comment(&post)).to_json())
        .await;
    let id = r.json()["id"].as_str().unwrap().to_owned();

    // The link arrives by SES, to the owner.
    let before = sent_mail().await.len();
    let asked = f.call(&own_post("/admin/link", "", None).to_json()).await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let mail = sent_mail()
        .await
        .into_iter()
        .skip(before)
        .find(|raw| mail_text(raw).contains("/admin/sign-in?token="))
        .expect("the sign-in mail");
    assert!(mail.contains(&format!("\r\nTo: <{OWNER}>\r\n")));
    let link = mail_text(&mail)
        .split_whitespace()
        .find(|w| w.contains("/admin/sign-in?token="))
        .unwrap()
        .to_owned();
    assert!(
        link.starts_with(&format!("{API}/admin/sign-in?token=")),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap().to_owned();

    let done = f
        .call(&own_post("/admin/sign-in", &format!("token={token}"), None).to_json())
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let set = done
        .header("set-cookie")
        .expect("the session cookie")
        .to_owned();
    assert!(
        set.starts_with("__Host-rust-aws=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let session_id = cookie.split_once('=').unwrap().1.to_owned();

    // The queue, from the by_status index on DynamoDB.
    let mut open = Event::v2("GET", "/admin");
    open.0["cookies"] = json!([cookie]);
    let page = f.call(&open.to_json()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&id) && page.body.contains("Great write-up."));
    let at = page.body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page.body[at..].split('"').next().unwrap().to_owned();

    let decided = f
        .call(
            &own_post(
                "/admin/decide",
                &format!("csrf={csrf}&one=approve%3A{id}"),
                Some(&cookie),
            )
            .to_json(),
        )
        .await;
    assert_eq!(decided.status, 303, "{}", decided.body);
    let listed = f
        .call(&Event::v2("GET", &format!("/comment?post={post}")).to_json())
        .await;
    assert_eq!(listed.json()["comments"][0]["id"], id.as_str());

    // The table keeps the session's hash only.
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    let sessions = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", AttributeValue::S("SESSIONS".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(sessions.items().len(), 1);
    let stored = format!("{:?}", sessions.items()[0]);
    assert!(!stored.contains(&session_id), "{stored}");

    // Sign out everywhere; the cookie no longer opens the console.
    let out = f
        .call(
            &own_post(
                "/admin/sign-out",
                &format!("csrf={csrf}&scope=all"),
                Some(&cookie),
            )
            .to_json(),
        )
        .await;
    assert_eq!(out.status, 303);
    let page = f.call(&open.to_json()).await;
    assert!(page.body.contains("Email me a sign-in link"));

    let logs = f.logs();
    assert!(logs.contains("console: signed in"), "{logs}");
    for secret in [token.as_str(), session_id.as_str(), csrf.as_str()] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
}
