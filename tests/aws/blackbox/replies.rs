//! Reply notifications through the shipped binary: the Lambda Runtime API
//! with API Gateway payloads, DynamoDB and SES v2 on moto. Every mail is read
//! back as moto's SES recorded it (raw MIME, headers included).

use crate::support::events::Event;
use crate::support::runtime::{
    Function, HttpReply, OWNER, SECRET, SENDER, create_table, lambda_env, mail_text, sdk,
    sent_mail, verify_identity,
};
use rust_aws::domain::Decision;
use rust_aws::security::keys::Keys;
use rust_aws::security::token::{NotifyAction, NotifyToken, Token};
use serde_json::{Value, json};

const SITE_URL: &str = "https://blog.example.com";

async fn function(extra: &[(&str, &str)]) -> (Function, String) {
    verify_identity(SENDER).await;
    verify_identity(OWNER).await;
    let table = format!("rust-aws-{}", rust_aws::domain::ids::new_id());
    create_table(&table).await;
    let mut env = lambda_env(&table);
    for (k, v) in [("SITE_URL", SITE_URL), ("RATE_LIMIT_PER_MINUTE", "100")]
        .iter()
        .chain(extra)
    {
        env.retain(|(key, _)| key != k);
        env.push(((*k).to_owned(), (*v).to_owned()));
    }
    (Function::start(&env).await, table)
}

/// Raw messages moto's SES accepted for `to`.
async fn mails_to(to: &str) -> Vec<String> {
    sent_mail()
        .await
        .into_iter()
        .filter(|raw| raw.contains(&format!("\r\nTo: <{to}>\r\n")))
        .collect()
}

fn header<'r>(raw: &'r str, name: &str) -> Option<&'r str> {
    let head = raw.split("\r\n\r\n").next().unwrap();
    head.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

fn link_after(text: &str, label: &str) -> String {
    let start = text
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {text}"))
        + label.len();
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn path_of(link: &str) -> String {
    let rest = link.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn comment(f: &Function, body: &Value) -> String {
    let reply = f.call(&Event::post_json("/comment", body).to_json()).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

/// Approves a comment with the approve link of its moderation mail.
async fn approve(f: &Function, id: &str) {
    let owner_mail = sent_mail()
        .await
        .into_iter()
        .find(|raw| raw.contains(&format!("To: <{OWNER}>")) && mail_text(raw).contains(id))
        .unwrap_or_else(|| panic!("moderation mail of {id}"));
    let token = token_of(&link_after(&mail_text(&owner_mail), "Approve: "));
    let reply = f
        .call(
            &Event::v2("POST", "/comment/moderate")
                .body(
                    "application/x-www-form-urlencoded",
                    &format!("token={token}"),
                )
                .to_json(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn get(f: &Function, path: &str) -> HttpReply {
    f.call(&Event::v2("GET", path).to_json()).await
}

async fn post_form(f: &Function, path: &str, body: &str) -> HttpReply {
    f.call(
        &Event::v2("POST", path)
            .without("origin")
            .body("application/x-www-form-urlencoded", body)
            .to_json(),
    )
    .await
}

async fn subscription_item(
    table: &str,
    comment_id: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    aws_sdk_dynamodb::Client::new(&sdk().await)
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("SUB#{comment_id}")))
        .key("sk", AttributeValue::S("SUB".to_owned()))
        .send()
        .await
        .unwrap()
        .item
}

/// Prints a mail as moto recorded it, for the record (`--nocapture`).
fn show(title: &str, raw: &str) {
    let head = raw.split("\r\n\r\n").next().unwrap();
    println!("----- {title}\n{head}\n\n{}\n", mail_text(raw));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_notification_story_through_the_binary_with_rfc_8058_headers() {
    let (f, table) = function(&[]).await;
    let run = rust_aws::domain::ids::new_id();
    let ann = format!("ann-{}@example.org", &run[..8]);
    let post = format!("/2026/11/{}/", &run[..8]);
    let body = |name: &str, email: &str, text: &str| json!({"post": post, "name": name, "email": email, "body": text});

    // Subscribe: nothing goes to Ann before the owner approves.
    let mut first = body("Ann", &ann, "Tell me when someone answers.");
    first["notify"] = json!("on");
    let ann_comment = comment(&f, &first).await;
    assert!(mails_to(&ann).await.is_empty(), "nothing before approval");
    assert!(subscription_item(&table, &ann_comment).await.is_none());
    approve(&f, &ann_comment).await;

    // One confirmation mail; its page confirms nothing, its button does.
    let mails = mails_to(&ann).await;
    assert_eq!(mails.len(), 1);
    show("confirmation", &mails[0]);
    assert_eq!(header(&mails[0], "List-Unsubscribe"), None);
    let confirm = link_after(&mail_text(&mails[0]), "this page:");
    let page = get(&f, &path_of(&confirm)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    let item = subscription_item(&table, &ann_comment).await.unwrap();
    assert_eq!(item["confirmed"].as_bool().unwrap(), &false);
    assert!(item.contains_key("expires_at"), "unconfirmed: lives 7 days");
    let done = post_form(
        &f,
        "/comment/notify",
        &format!("token={}", token_of(&confirm)),
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let item = subscription_item(&table, &ann_comment).await.unwrap();
    assert_eq!(item["confirmed"].as_bool().unwrap(), &true);
    assert!(
        !item.contains_key("expires_at"),
        "confirmed: lives until ended"
    );

    // A reply is published: Ann gets it with the RFC 8058 headers.
    let mut reply = body("Bob", "bob@example.net", "Here is an answer.");
    reply["parent"] = json!(ann_comment);
    let bob_reply = comment(&f, &reply).await;
    assert_eq!(
        mails_to(&ann).await.len(),
        1,
        "nothing before the reply is approved"
    );
    approve(&f, &bob_reply).await;
    let mails = mails_to(&ann).await;
    assert_eq!(mails.len(), 2);
    let notice = &mails[1];
    show("reply notification", notice);
    let text = mail_text(notice);
    assert!(text.contains("Bob replied to your comment"), "{text}");
    assert!(text.contains("Here is an answer."));
    assert!(text.contains(&format!("{SITE_URL}{post}")));
    let unsubscribe = header(notice, "List-Unsubscribe").unwrap();
    assert!(unsubscribe.starts_with('<') && unsubscribe.ends_with('>'));
    let unsubscribe = &unsubscribe[1..unsubscribe.len() - 1];
    assert!(
        unsubscribe.contains("/comment/notify?token="),
        "{unsubscribe}"
    );
    assert_eq!(
        header(notice, "List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(text.contains(unsubscribe), "the same link in the text");

    // One click (a mail client's POST to the header's URL) ends it at once.
    let gone = post_form(&f, &path_of(unsubscribe), "List-Unsubscribe=One-Click").await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert!(
        subscription_item(&table, &ann_comment).await.is_none(),
        "the address is gone with the subscription"
    );

    // The next reply sends nothing.
    let mut next = body("Cy", "cy@example.net", "Another answer.");
    next["parent"] = json!(ann_comment);
    let cy_reply = comment(&f, &next).await;
    approve(&f, &cy_reply).await;
    assert_eq!(mails_to(&ann).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_notification_tokens_get_403_or_410_through_the_binary() {
    let (f, _) = function(&[]).await;
    let keys = Keys::derive(SECRET.as_bytes());
    let now_s = rust_aws::domain::ids::now_ms() / 1000;
    let id = rust_aws::domain::ids::new_id();
    let sign = |action, expires_s, key: &[u8; 32]| {
        NotifyToken {
            action,
            comment_id: id.clone(),
            expires_s,
        }
        .sign(key)
    };
    let good = sign(NotifyAction::Unsubscribe, now_s + 600, &keys.notify);
    let moderation = Token {
        action: Decision::Approve,
        comment_id: id.clone(),
        expires_s: now_s + 600,
    }
    .sign(&keys.moderation);
    for (token, status) in [
        (good.replacen("unsubscribe", "confirm", 1), 403),
        (format!("{good}x"), 403),
        (sign(NotifyAction::Confirm, now_s - 1, &keys.notify), 410),
        (
            sign(NotifyAction::Unsubscribe, now_s + 600, &keys.moderation),
            403,
        ),
        (moderation.clone(), 403),
    ] {
        let page = get(&f, &format!("/comment/notify?token={token}")).await;
        assert_eq!(page.status, status, "GET {token}");
        let act = post_form(&f, "/comment/notify", &format!("token={token}")).await;
        assert_eq!(act.status, status, "POST {token}");
    }
    let page = get(&f, &format!("/comment/moderate?token={good}")).await;
    assert_eq!(page.status, 403, "a notification token moderates nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_notify_submissions_for_one_address_sends_one_confirmation_a_day() {
    let (f, _) = function(&[("MODERATION", "off")]).await;
    let run = rust_aws::domain::ids::new_id();
    let victim = format!("victim-{}@example.org", &run[..8]);
    for i in 0..8 {
        let body = json!({
            "post": format!("/flood/{i}/"), "name": "Mallory", "email": victim.to_uppercase(),
            "body": format!("Flood {i}"), "notify": "on",
        });
        comment(&f, &body).await;
    }
    let mails = mails_to(&victim.to_uppercase())
        .await
        .into_iter()
        .chain(mails_to(&victim).await)
        .collect::<Vec<_>>();
    assert_eq!(
        mails.len(),
        1,
        "at most one confirmation per address per day"
    );
}
