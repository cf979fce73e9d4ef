//! `rust-aws spam` and `rust-aws ham`: the spam folder from the owner's
//! machine. The listing is one Query on the table's sparse `spam` index,
//! newest first; condemning and releasing go through the function's own
//! operations ([`rust_aws::security::spam::condemn`], [`rust_aws::security::spam::release`]),
//! which record the correction for Akismet in the outbox: the function's
//! next redelivery run reports it (when the function has `AKISMET_KEY`).

use std::process::ExitCode;

use serde_json::json;

use super::cli::{Failure, age, first_line, out, print_json};
use rust_aws::domain::{Held, SpamItem};
use rust_aws::security::spam::Condemned;
use rust_aws::store::AdminStore;

/// The cursor a cut listing prints: `<marked ms>-<id>`.
fn cursor(item: &SpamItem) -> String {
    format!("{}-{}", item.marked_ms, item.held.id())
}

fn parse_cursor(text: &str) -> Result<(u64, String), Failure> {
    text.split_once('-')
        .and_then(|(ms, id)| Some((ms.parse().ok()?, id.to_owned())))
        .filter(|(_, id)| !id.is_empty())
        .ok_or_else(|| anyhow::anyhow!("--after {text:?} is not a cursor this command printed"))
}

pub(crate) fn item_json(item: &SpamItem, now: u64) -> serde_json::Value {
    let mut v = json!({
        "type": "spam",
        "id": item.held.id(),
        "held": item.held.kind(),
        "reason": item.reason,
        "marked_at": rust_aws::domain::ids::rfc3339(item.marked_ms),
        "expires_at": rust_aws::domain::ids::rfc3339(item.expires_ms()),
        "age_ms": now.saturating_sub(item.marked_ms),
        "name": item.held.author(),
    });
    let fields = match &item.held {
        Held::Comment(c) => json!({
            "post": c.post, "parent": c.parent, "email": c.email, "url": c.url,
            "body": c.body, "created_at": rust_aws::domain::ids::rfc3339(c.created_ms),
        }),
        Held::Contact(m) => json!({
            "email": m.email, "subject": m.subject, "message": m.message,
            "created_at": rust_aws::domain::ids::rfc3339(m.created_ms),
        }),
    };
    if let (Some(v), Some(f)) = (v.as_object_mut(), fields.as_object()) {
        v.extend(f.clone());
    }
    v
}

/// `rust-aws spam`: the folder, newest first.
pub(crate) async fn list(
    json: bool,
    store: &dyn AdminStore,
    limit: usize,
    after: Option<&str>,
    now: u64,
) -> Result<ExitCode, Failure> {
    let after = after.map(parse_cursor).transpose()?;
    // One more than shown, to know whether the listing is cut.
    let mut items = store.list_spam(after, limit + 1, now).await?;
    let more = items.len() > limit;
    items.truncate(limit);
    let next = more.then(|| items.last().map(cursor)).flatten();
    if json {
        let list: Vec<_> = items.iter().map(|i| item_json(i, now)).collect();
        return print_json(&json!({"spam": list, "next_cursor": next}));
    }
    if items.is_empty() {
        out("The spam folder is empty.")?;
    }
    for i in &items {
        out(&format!(
            "{}  {}  {}  {}  {}  {}  {}",
            i.held.id(),
            i.held.kind(),
            i.reason,
            age(now.saturating_sub(i.marked_ms)),
            i.held.about().unwrap_or("-"),
            i.held.author(),
            first_line(i.held.text(), 60)
        ))?;
    }
    if let Some(next) = next {
        eprintln!("rust-aws: more in the folder: --after {next}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `rust-aws spam ID…`: takes comments down into the folder.
pub(crate) async fn condemn(
    json: bool,
    store: &dyn AdminStore,
    ids: &[String],
    now: u64,
) -> Result<ExitCode, Failure> {
    let mut results = Vec::new();
    for id in ids {
        let (done, why) = match rust_aws::security::spam::condemn(store, id, now).await? {
            Condemned::Done(_) => (true, None),
            Condemned::Already => (false, Some("it is in the spam folder already")),
            Condemned::NotFound => (false, Some("no such comment")),
        };
        if !json {
            match why {
                None => out(&format!("{id}: marked as spam"))?,
                Some(why) => eprintln!("rust-aws: {id}: not marked as spam: {why}"),
            }
        }
        results.push(json!({"id": id, "action": "spam", "done": done, "reason": why}));
    }
    finish(json, &results)
}

/// `rust-aws ham ID…`: back into the normal flow.
pub(crate) async fn release(
    json: bool,
    store: &dyn AdminStore,
    ids: &[String],
    now: u64,
) -> Result<ExitCode, Failure> {
    let mut results = Vec::new();
    for id in ids {
        let released = rust_aws::security::spam::release(store, id, now).await?;
        let why = released.is_none().then_some("not in the spam folder");
        if !json {
            match &released {
                Some(item) => out(&format!(
                    "{id}: not spam: {}; the function's next redelivery run mails it to you",
                    match item.held {
                        Held::Comment(_) => "the comment is pending",
                        Held::Contact(_) => "the message is back in your mail's queue",
                    }
                ))?,
                None => eprintln!("rust-aws: {id}: not released: not in the spam folder"),
            }
        }
        results.push(json!({"id": id, "action": "ham", "done": released.is_some(), "reason": why}));
    }
    finish(json, &results)
}

fn finish(json: bool, results: &[serde_json::Value]) -> Result<ExitCode, Failure> {
    if json {
        print_json(&results)?;
    }
    let all = results.iter().all(|r| r["done"] == true);
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
