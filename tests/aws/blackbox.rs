//! Black-box tests: the compiled `bootstrap` (the release build, or the
//! aarch64 one under qemu via BOOTSTRAP_BIN/BOOTSTRAP_RUNNER) driven through
//! the Lambda Runtime API with real API Gateway payloads, against moto's
//! DynamoDB and SES v2 over HTTP. Its two suites of their own: `replies`
//! (reply notifications read back from moto's SES) and `chaos` (several
//! binaries under load behind the fault proxy; a minute long, so CI runs it
//! on its own and on the native binary only).

mod chaos;
mod console;
mod replies;
mod secrets;
mod spam;

use std::time::{Duration, Instant};

use crate::support::events::{Event, comment, contact, fixture};
use crate::support::runtime::{
    Function, OWNER, SECRET, SENDER, create_secret, create_table, lambda_env, mail_text, moto_url,
    sdk, sent_mail, verify_identity,
};
use rust_aws::domain::Decision;
use rust_aws::security::keys::Keys;
use rust_aws::security::token::Token;
use serde_json::json;

async fn table() -> String {
    let name = format!("rust-aws-{}", rust_aws::domain::ids::new_id());
    create_table(&name).await;
    name
}

/// The function as deployed with `extra` settings: a secret variable among
/// them (`AKISMET_KEY`, a webhook URL…) goes, with `SECRET_KEY`, into a new
/// secret that `SECRETS_ARN` names, as the template puts it; never into the
/// environment, which a deployed function refuses.
async fn function_with(table: &str, extra: &[(&str, &str)]) -> Function {
    let mut env = lambda_env(table);
    let mut secrets = serde_json::Map::new();
    for (k, v) in extra {
        if rust_aws::config::contract::SECRET_VARS.contains(k) {
            secrets.insert((*k).to_owned(), json!(v));
            continue;
        }
        env.retain(|(key, _)| key != k);
        env.push(((*k).to_owned(), (*v).to_owned()));
    }
    if !secrets.is_empty() {
        secrets.insert("SECRET_KEY".into(), json!(SECRET));
        let arn = create_secret(&serde_json::Value::Object(secrets).to_string()).await;
        env.retain(|(key, _)| key != "SECRETS_ARN");
        env.push(("SECRETS_ARN".into(), arn));
    }
    Function::start(&env).await
}

async fn ready_mail() {
    verify_identity(SENDER).await;
    verify_identity(OWNER).await;
}

/// The raw messages that mention `needle` in their decoded body.
async fn mails_containing(needle: &str) -> Vec<String> {
    sent_mail()
        .await
        .into_iter()
        .filter(|raw| mail_text(raw).contains(needle))
        .collect()
}

async fn get_item(
    table: &str,
    pk: &str,
    sk: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test(flavor = "multi_thread")]
async fn contact_is_stored_in_dynamodb_then_sent_through_ses_with_reply_to() {
    ready_mail().await;
    let table = table().await;
    let f = function_with(&table, &[]).await;
    let mut body = contact();
    body["message"] = json!(format!(
        "Black-box hello {}",
        rust_aws::domain::ids::new_id()
    ));
    let reply = f.call(&Event::post_json("/contact", &body).to_json()).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_owned();

    let item = get_item(&table, &format!("CONTACT#{id}"), "CONTACT")
        .await
        .expect("stored");
    assert_eq!(item["email"].as_s().unwrap(), "ann@example.org");
    assert_eq!(item["delivered"].as_bool().unwrap(), &true);
    assert!(
        item.contains_key("expires_at"),
        "retention starts at delivery"
    );
    assert!(!item.contains_key("outbox_pk"));
    let ip_hash = item["ip_hash"].as_s().unwrap();
    assert!(!ip_hash.contains("198.51.100.23") && ip_hash.len() == 32);

    let mails = mails_containing(body["message"].as_str().unwrap()).await;
    assert_eq!(mails.len(), 1);
    let raw = &mails[0];
    assert!(
        raw.contains("Reply-To: ") && raw.contains("<ann@example.org>"),
        "{raw}"
    );
    assert!(raw.contains(&format!("To: <{OWNER}>")));
    assert!(raw.contains(&format!("<{SENDER}>")));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_front_door_fixture_is_served_by_the_binary() {
    ready_mail().await;
    let table = table().await;
    let f = function_with(&table, &[("RATE_LIMIT_PER_MINUTE", "100")]).await;
    for (name, status) in [
        ("apigw-v2-http-api.json", 202),
        ("apigw-v1-rest-staged.json", 202),
        ("function-url.json", 202),
        ("apigw-v2-form-base64.json", 303),
    ] {
        let reply = f.call(&fixture(name).to_string()).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_4xx_naming_the_problem_through_the_binary() {
    let table = table().await;
    let f = function_with(&table, &[("RATE_LIMIT_PER_MINUTE", "100")]).await;
    let cases: Vec<(Event, u16, &str)> = vec![
        (
            Event::v2("POST", "/contact").body("text/plain", "hi"),
            415,
            "unsupported_media_type",
        ),
        (
            Event::post_json(
                "/contact",
                &json!({"name": "A", "email": "a@b.c", "message": "x".repeat(140_000)}),
            ),
            413,
            "payload_too_large",
        ),
        (
            Event::v2("POST", "/contact").body("application/json", "{not json"),
            400,
            "validation_failed",
        ),
        (
            Event::post_json(
                "/contact",
                &json!({"name": "A", "email": "bad", "message": "hi"}),
            ),
            400,
            "validation_failed",
        ),
        (
            Event::post_json("/contact", &contact()).header("origin", "https://evil.example"),
            403,
            "forbidden_origin",
        ),
        (Event::v2("GET", "/nowhere"), 404, "not_found"),
        (Event::v2("PUT", "/contact"), 405, "method_not_allowed"),
        (
            Event::v2("GET", "/comment?post=/p/&limit=500"),
            400,
            "validation_failed",
        ),
    ];
    for (event, status, code) in cases {
        let reply = f.call(&event.to_json()).await;
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(reply.json()["error"], code);
        assert!(!reply.json()["request_id"].as_str().unwrap().is_empty());
    }
    let reply = f
        .call(
            &Event::post_json(
                "/contact",
                &json!({"name": "A", "email": "bad", "message": "hi"}),
            )
            .to_json(),
        )
        .await;
    assert_eq!(reply.json()["fields"][0]["field"], "email");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_holds_in_dynamodb() {
    let table = table().await;
    let f = function_with(&table, &[("RATE_LIMIT_PER_MINUTE", "3")]).await;
    let bad = Event::post_json("/contact", &json!({"name": ""}));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(f.call(&bad.to_json()).await.status);
    }
    // Retry-After is checked on the last answer only if it was a 429.
    assert_eq!(statuses, vec![400, 400, 400, 429]);
    let again = f.call(&bad.to_json()).await;
    assert!(again.header("retry-after").unwrap().parse::<u64>().unwrap() <= 60);
}

fn links_in(raw: &str) -> Vec<String> {
    mail_text(raw)
        .split_whitespace()
        .filter(|w| w.contains("/comment/moderate?token="))
        .map(str::to_owned)
        .collect()
}

fn path_of(link: &str) -> String {
    link.split_once("://")
        .map(|(_, r)| &r[r.find('/').unwrap()..])
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_comment_story_from_submission_to_listing() {
    ready_mail().await;
    let table = table().await;
    let f = function_with(&table, &[("RATE_LIMIT_PER_MINUTE", "100")]).await;
    let post = format!("/2026/11/{}/", rust_aws::domain::ids::new_id());

    // Submit: pending, not listed.
    let reply = f
        .call(&Event::post_json("/comment", &comment(&post)).to_json())
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["status"], "pending");
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let list = |q: String| Event::v2("GET", &format!("/comment?{q}")).to_json();
    assert_eq!(
        f.call(&list(format!("post={post}"))).await.json()["comments"],
        json!([])
    );

    // The approval mail arrived in SES with signed links.
    let mails = mails_containing(&id).await;
    assert_eq!(mails.len(), 1);
    let links = links_in(&mails[0]);
    assert_eq!(links.len(), 3);
    let pending = get_item(&table, &format!("COMMENT#{id}"), "COMMENT")
        .await
        .unwrap();
    assert!(
        pending.contains_key("expires_at"),
        "pending expires 30 days after its mail was delivered"
    );

    // The link's page changes nothing; its POST approves.
    let page = f
        .call(&Event::v2("GET", &path_of(&links[0])).to_json())
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Great write-up."));
    assert_eq!(
        f.call(&list(format!("post={post}"))).await.json()["comments"],
        json!([])
    );
    let token = links[0].split("token=").nth(1).unwrap();
    let approve = Event::v2("POST", "/comment/moderate")
        .header(
            "origin",
            "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
        )
        .body(
            "application/x-www-form-urlencoded",
            &format!("token={token}"),
        );
    assert_eq!(f.call(&approve.to_json()).await.status, 200);
    assert_eq!(f.call(&approve.to_json()).await.status, 409, "reused link");
    let approved = get_item(&table, &format!("COMMENT#{id}"), "COMMENT")
        .await
        .unwrap();
    assert!(
        !approved.contains_key("expires_at"),
        "approval removes the expiry"
    );
    let listed = f.call(&list(format!("post={post}"))).await;
    assert_eq!(listed.json()["comments"][0]["id"], id.as_str());
    assert!(listed.json()["comments"][0].get("email").is_none());

    // A reply to it, more comments, pages across them.
    let keys = Keys::derive(SECRET.as_bytes());
    let mut all = vec![id.clone()];
    for i in 0..4 {
        let mut c = comment(&post);
        c["body"] = json!(format!("reply number {i}"));
        c["parent"] = json!(id);
        let r = f.call(&Event::post_json("/comment", &c).to_json()).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let rid = r.json()["id"].as_str().unwrap().to_owned();
        let t = Token {
            action: Decision::Approve,
            comment_id: rid.clone(),
            expires_s: u64::MAX / 2,
        }
        .sign(&keys.moderation);
        let ev = Event::v2("POST", "/comment/moderate")
            .body("application/x-www-form-urlencoded", &format!("token={t}"));
        assert_eq!(f.call(&ev.to_json()).await.status, 200);
        all.push(rid);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = String::new();
    loop {
        let q = if cursor.is_empty() {
            format!("post={post}&limit=2")
        } else {
            format!("post={post}&limit=2&cursor={cursor}")
        };
        let page = f.call(&list(q)).await.json();
        let comments = page["comments"].as_array().unwrap().clone();
        sizes.push(comments.len());
        seen.extend(
            comments
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen, all);
    let count = f
        .call(&Event::v2("GET", &format!("/comment/count?post={post}&post=/none/")).to_json())
        .await;
    assert_eq!(count.json()["counts"][post.as_str()], 5);
    assert_eq!(count.json()["counts"]["/none/"], 0);

    // Delete the first one with its mailed delete link: gone from list and count.
    let del = links[2].split("token=").nth(1).unwrap();
    let ev = Event::v2("POST", "/comment/moderate")
        .body("application/x-www-form-urlencoded", &format!("token={del}"));
    assert_eq!(f.call(&ev.to_json()).await.status, 200);
    let count = f
        .call(&Event::v2("GET", &format!("/comment/count?post={post}")).to_json())
        .await;
    assert_eq!(count.json()["counts"][post.as_str()], 4);
    assert!(
        get_item(&table, &format!("COMMENT#{id}"), "COMMENT")
            .await
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_tampered_and_expired_links_through_the_binary() {
    ready_mail().await;
    let table = table().await;
    let f = function_with(&table, &[]).await;
    let post = format!("/{}/", rust_aws::domain::ids::new_id());
    let id = f
        .call(&Event::post_json("/comment", &comment(&post)).to_json())
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let links = links_in(&mails_containing(&id).await[0]);
    let reject = links[1].split("token=").nth(1).unwrap().to_owned();
    let post_token = |t: &str| {
        Event::v2("POST", "/comment/moderate")
            .body("application/x-www-form-urlencoded", &format!("token={t}"))
            .to_json()
    };
    assert_eq!(
        f.call(&post_token(&reject.replacen("reject", "approve", 1)))
            .await
            .status,
        403
    );
    let keys = Keys::derive(SECRET.as_bytes());
    let expired = Token {
        action: Decision::Approve,
        comment_id: id.clone(),
        expires_s: 1,
    }
    .sign(&keys.moderation);
    assert_eq!(f.call(&post_token(&expired)).await.status, 410);
    assert_eq!(f.call(&post_token(&reject)).await.status, 200);
    let rejected = get_item(&table, &format!("COMMENT#{id}"), "COMMENT")
        .await
        .unwrap();
    assert_eq!(rejected["status"].as_s().unwrap(), "rejected");
    let now_s = rust_aws::domain::ids::now_ms() / 1000;
    let exp: u64 = rejected["expires_at"].as_n().unwrap().parse().unwrap();
    assert!(
        (now_s + 6 * 86_400..=now_s + 7 * 86_400 + 60).contains(&exp),
        "rejected comments go after 7 days"
    );
    assert_eq!(
        f.call(&Event::v2("GET", &format!("/comment?post={post}")).to_json())
            .await
            .json()["comments"],
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ses_failure_still_answers_202_and_the_scheduled_run_delivers_it_once() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let table = table().await;
    // An unverified sender: moto's SES refuses the send.
    let sender = format!("unverified-{}@example.net", rust_aws::domain::ids::new_id());
    let f = function_with(&table, &[("SENDER_EMAIL", sender.as_str())]).await;
    let mut body = contact();
    let marker = format!("Redelivered {}", rust_aws::domain::ids::new_id());
    body["message"] = json!(marker);
    let reply = f.call(&Event::post_json("/contact", &body).to_json()).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let item = get_item(&table, &format!("CONTACT#{id}"), "CONTACT")
        .await
        .unwrap();
    assert_eq!(item["delivered"].as_bool().unwrap(), &false);
    assert!(
        !item.contains_key("expires_at"),
        "undelivered messages never expire"
    );
    assert!(mails_containing(&marker).await.is_empty());
    assert!(
        f.logs().contains("MailUndelivered"),
        "the undelivered-mail metric is emitted"
    );

    // SES recovers; the request's claim lapses (as after its lease).
    verify_identity(&sender).await;
    verify_identity(OWNER).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S(format!("CONTACT#{id}")))
        .key("sk", AttributeValue::S("CONTACT".into()))
        .update_expression("SET claim_until = :z")
        .expression_attribute_values(":z", AttributeValue::N("0".into()))
        .send()
        .await
        .unwrap();

    let scheduled = fixture("eventbridge-scheduled.json").to_string();
    let run = f.call_event(&scheduled).await;
    assert_eq!(run["redelivery"]["sent"], 1, "{run}");
    let again = f.call_event(&scheduled).await;
    assert_eq!(again["redelivery"]["found"], 0, "{again}");
    assert_eq!(
        mails_containing(&marker).await.len(),
        1,
        "delivered exactly once"
    );
    let item = get_item(&table, &format!("CONTACT#{id}"), "CONTACT")
        .await
        .unwrap();
    assert_eq!(item["delivered"].as_bool().unwrap(), &true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_variable_stops_start_up_and_is_posted_as_an_init_error() {
    let mut env = lambda_env("unused");
    env.retain(|(k, _)| k != "SECRETS_ARN");
    let mut f = Function::start(&env).await;
    let status = f.wait_exit(Duration::from_secs(20)).expect("exits");
    assert!(!status.success());
    let posted = f
        .runtime
        .init_error()
        .expect("init error posted to the Runtime API");
    assert!(
        posted["errorMessage"]
            .as_str()
            .unwrap()
            .contains("SECRETS_ARN"),
        "{posted}"
    );
    assert!(f.logs().contains("SECRETS_ARN"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_never_answers_gets_503_with_retry_after_in_time() {
    // A loopback port that accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    // The secret is read at init from moto; the store is what never answers.
    let f = function_with(
        "black-hole",
        &[
            ("AWS_ENDPOINT_URL", format!("http://{addr}").as_str()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url()),
        ],
    )
    .await;
    let started = Instant::now();
    let reply = f
        .call(&Event::post_json("/contact", &contact()).to_json())
        .await;
    let took = started.elapsed();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["error"], "unavailable");
    assert!(reply.header("retry-after").is_some());
    // Well inside the template's 10 s function timeout (qemu included).
    assert!(took < Duration::from_secs(9), "took {took:?}");
}

// ---- load, logs, malformed events, a stopped store ------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_api_path_under_load_loses_nothing() {
    // Arrange: 120 submissions from 60 source addresses (2 per address and
    // route: the limiter is not what is measured), sent by 6 concurrent
    // callers into the Runtime API queue of one function instance.
    ready_mail().await;
    let table = table().await;
    let f = std::sync::Arc::new(function_with(&table, &[("MAIL_PER_HOUR", "1000")]).await);
    let run = rust_aws::domain::ids::new_id();
    let started = Instant::now();
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..6usize {
        let (f, run) = (f.clone(), run.clone());
        callers.spawn(async move {
            let mut out = Vec::new();
            for i in 0..20usize {
                let n = caller * 20 + i;
                let ip = format!("203.0.113.{}", n / 2 + 1);
                let event = if n % 2 == 0 {
                    let mut body = contact();
                    body["message"] = json!(format!("load {run} {n}"));
                    Event::post_json("/contact", &body)
                } else {
                    let mut body = comment(&format!("/load/{run}/"));
                    body["body"] = json!(format!("load {run} {n}"));
                    Event::post_json("/comment", &body)
                };
                let t = Instant::now();
                let reply = f.call(&event.source_ip(&ip).to_json()).await;
                out.push((n % 2 == 0, reply.status, reply.json(), t.elapsed()));
            }
            out
        });
    }
    let mut results = Vec::new();
    while let Some(r) = callers.join_next().await {
        results.extend(r.unwrap());
    }
    let elapsed = started.elapsed();

    // Assert: no errors, and every 201/202 is an item in DynamoDB.
    assert_eq!(results.len(), 120);
    for (is_contact, status, body, _) in &results {
        let (expected, pk, sk) = if *is_contact {
            (202, "CONTACT", "CONTACT")
        } else {
            (201, "COMMENT", "COMMENT")
        };
        assert_eq!(*status, expected, "{body}");
        let id = body["id"].as_str().unwrap();
        assert!(
            get_item(&table, &format!("{pk}#{id}"), sk).await.is_some(),
            "{pk} {id} answered {status} but is not stored"
        );
    }
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.3).collect();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).max(1) - 1];
    println!(
        "Runtime API path: {} invocations in {elapsed:?} ({:.0}/s, one instance, moto); \
         end-to-end latency with queueing p50 {:?}, p99 {:?}; 0 errors, 0 lost",
        results.len(),
        results.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_of_a_realistic_story_hold_no_address_message_body_or_secret() {
    // Arrange: markers that would show in the captured logs if anything leaked.
    ready_mail().await;
    let table = table().await;
    let f = function_with(&table, &[("RATE_LIMIT_PER_MINUTE", "100")]).await;
    let marker = rust_aws::domain::ids::new_id();
    let contact_email = format!("Visitor.{marker}@Example.org");
    let commenter_email = format!("reader.{marker}@example.net");
    let message = format!("Private message {marker}: my phone is 555-0100");
    let subject = format!("Subject {marker}");
    let comment_body = format!("Comment body {marker}, with <b>markup</b>");
    let post = format!("/2026/11/{marker}/");

    // Act: contact, a contact with a bad address, comment, moderation page,
    // approval, listing, a scheduled redelivery run.
    let contact_body =
        json!({"name": "Zed", "email": contact_email, "subject": subject, "message": message});
    let r = f
        .call(&Event::post_json("/contact", &contact_body).to_json())
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let bad = json!({"name": "Zed", "email": format!("{contact_email}>"), "message": message});
    assert_eq!(
        f.call(&Event::post_json("/contact", &bad).to_json())
            .await
            .status,
        400
    );
    let mut c = comment(&post);
    c["email"] = json!(commenter_email);
    c["body"] = json!(comment_body);
    let r = f.call(&Event::post_json("/comment", &c).to_json()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let links = links_in(&mails_containing(&id).await[0]);
    assert_eq!(
        f.call(&Event::v2("GET", &path_of(&links[0])).to_json())
            .await
            .status,
        200
    );
    let token = links[0].split("token=").nth(1).unwrap();
    let approve = Event::v2("POST", "/comment/moderate").body(
        "application/x-www-form-urlencoded",
        &format!("token={token}"),
    );
    assert_eq!(f.call(&approve.to_json()).await.status, 200);
    let listed = f
        .call(&Event::v2("GET", &format!("/comment?post={post}")).to_json())
        .await;
    assert_eq!(listed.json()["comments"][0]["body"], comment_body.as_str());
    f.call_event(&fixture("eventbridge-scheduled.json").to_string())
        .await;

    // Assert: the logs say what happened, and none of the private text.
    let logs = f.logs();
    assert!(
        logs.matches("answered").count() >= 6,
        "the run was logged at all:\n{logs}"
    );
    let lower = logs.to_lowercase();
    for secret in [
        contact_email.as_str(),
        commenter_email.as_str(),
        message.as_str(),
        subject.as_str(),
        comment_body.as_str(),
        SECRET,
        OWNER,
        token,
    ] {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "the logs contain {secret:?}:\n{logs}"
        );
    }
    // Nor any fragment long enough to identify them.
    for fragment in [&marker[..12], "555-0100"] {
        let hits: Vec<&str> = logs.lines().filter(|l| l.contains(fragment)).collect();
        assert!(hits.is_empty(), "{fragment:?} in the logs: {hits:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_direct_invoke_with_a_malformed_event_is_answered_and_the_function_lives() {
    // What API Gateway never sends, but lambda:InvokeFunction can: before
    // request::defuse, lambda_http's event conversion aborted the process.
    let table = table().await;
    let f = function_with(&table, &[]).await;
    let mut not_base64 = Event::post_json("/contact", &contact());
    not_base64.0["body"] = json!("name=Ann&x=%");
    not_base64.0["isBase64Encoded"] = json!(true);
    let bad_host = Event::post_json("/contact", &json!({"name": ""}))
        .header("host", "a1b2c3d4e5.execut[e-api.eu-west-1.amazonaws.com");
    for event in [not_base64, bad_host] {
        let reply = f.call(&event.to_json()).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.json()["error"], "validation_failed");
    }
    let reply = f
        .call(&Event::post_json("/contact", &json!({"name": ""})).to_json())
        .await;
    assert_eq!(reply.status, 400, "the same process still answers");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_store_gets_503_with_retry_after_at_once() {
    // A loopback port nobody listens on: moto (or DynamoDB's endpoint) down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // The secret is read at init from moto; the store is what is down.
    let f = function_with(
        "stopped",
        &[
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{port}").as_str(),
            ),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url()),
        ],
    )
    .await;
    let started = Instant::now();
    let reply = f
        .call(&Event::post_json("/contact", &contact()).to_json())
        .await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.json()["error"], "unavailable");
    assert!(reply.header("retry-after").is_some());
    let list = f
        .call(&Event::v2("GET", "/comment?post=/p/").to_json())
        .await;
    assert_eq!(list.status, 503, "{}", list.body);
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn moderation_links_come_from_the_api_domain_never_from_the_host_header() {
    // A client-chosen Host (or X-Forwarded-Host) must not steer the links
    // mailed to the owner to another site ("link poisoning").
    ready_mail().await;
    let table = table().await;
    let f = function_with(&table, &[]).await;
    let post = format!("/{}/", rust_aws::domain::ids::new_id());
    let reply = f
        .call(
            &Event::post_json("/comment", &comment(&post))
                .header("host", "evil.example")
                .header("x-forwarded-host", "evil.example")
                .to_json(),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let links = links_in(&mails_containing(&id).await[0]);
    assert_eq!(links.len(), 3);
    for link in links {
        assert!(
            link.starts_with(
                "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/comment/moderate?token="
            ),
            "{link}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn events_other_than_the_schedule_are_refused_by_the_binary_and_change_nothing() {
    let table = table().await;
    let f = function_with(&table, &[]).await;
    for name in [
        "alb-request.json",
        "alb-health-check.json",
        "apigw-websocket-connect.json",
        "sqs-message.json",
        "eventbridge-custom.json",
    ] {
        let answer = f.call_event(&fixture(name).to_string()).await;
        assert!(answer.get("redelivery").is_none(), "{name}: {answer}");
        assert_eq!(answer["error"], "unsupported_event", "{name}: {answer}");
    }
    assert!(
        f.logs()
            .contains("neither an API Gateway request nor the EventBridge schedule")
    );
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    let items = client.scan().table_name(&table).send().await.unwrap();
    assert_eq!(items.count(), 0, "nothing was written");
    let run = f
        .call_event(&fixture("eventbridge-scheduled.json").to_string())
        .await;
    assert_eq!(run["redelivery"]["found"], 0, "{run}");
}
