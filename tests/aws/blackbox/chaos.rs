//! Chaos: the release `bootstrap` (several instances, as Lambda runs several
//! execution environments) under concurrent load, with DynamoDB and SES
//! behind the fault-injecting proxy: throttling, transaction conflicts,
//! 500s, connections dropped before and after the request was applied, and
//! answers slower than the SDK's attempt timeout. Then the faults stop and
//! the scheduled redelivery runs until the outbox is empty; the owner
//! approves every accepted comment under faults again, and the redelivery
//! empties the outbox once more. (A moderation mail still queued when its
//! comment is decided is dropped by design, so the submissions' mail goes
//! out before the decisions.)
//!
//! It asserts invariants, not timings: every submission answered 2xx is
//! stored and its mail delivered at least once and at most twice; every
//! other answer is a 503 with `Retry-After` (the input is valid and the rate
//! limit high, so no 4xx is due); no approval of a comment is ever reported
//! as "already decided" while faults are what failed it; the post's count
//! equals its approved comments and paging reaches each once. It prints the
//! latency percentiles and counts it saw (`--nocapture`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::events::{Event, comment, contact, fixture};
use crate::support::proxy::{Chaos, FaultProxy};
use crate::support::runtime::{
    Function, HttpReply, OWNER, SECRET, SENDER, create_table, lambda_env, mail_text, moto_url, sdk,
    sent_mail, verify_identity,
};
use aws_sdk_dynamodb::types::AttributeValue;
use rust_aws::domain::Decision;
use rust_aws::security::keys::Keys;
use rust_aws::security::token::Token;
use serde_json::json;
use tokio::sync::Mutex;

/// Execution environments running at once.
const INSTANCES: usize = 4;
/// Submissions sent (half contact messages, half comments).
const SUBMISSIONS: usize = 120;

#[derive(Debug, Clone)]
struct Outcome {
    kind: &'static str,
    marker: String,
    status: u16,
    retry_after: bool,
    id: Option<String>,
    took: Duration,
}

/// Runs `jobs` on the instances, each instance one invocation at a time.
async fn run_all(fns: &[Arc<Function>], jobs: Vec<String>) -> Vec<(HttpReply, Duration)> {
    let queue = Arc::new(Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>()));
    let mut workers = Vec::new();
    for f in fns {
        let (f, queue) = (f.clone(), queue.clone());
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let Some((i, event)) = queue.lock().await.pop() else {
                    break;
                };
                let started = Instant::now();
                let reply = f.call(&event).await;
                done.push((i, reply, started.elapsed()));
            }
            done
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all.sort_by_key(|(i, _, _)| *i);
    all.into_iter().map(|(_, r, t)| (r, t)).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Runs the scheduled redelivery, round robin over the instances, until the
/// outbox is empty (at most 90 s); nothing may be parked. Returns the runs
/// it took and how long.
async fn drain(fns: &[Arc<Function>], table: &str, scheduled: &str) -> (usize, Duration) {
    let started = Instant::now();
    let mut runs = 0;
    while outbox_items(table).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the outbox did not drain: {} left",
            outbox_items(table).await
        );
        let r = fns[runs % fns.len()].call_event(scheduled).await;
        assert!(r.get("redelivery").is_some(), "{r}");
        assert_eq!(r["redelivery"]["parked"], 0, "{r}");
        runs += 1;
        // Claims taken by the load's requests lapse 2 s after their deadline.
        if outbox_items(table).await > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
    (runs, started.elapsed())
}

async fn outbox_items(table: &str) -> usize {
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    let mut n = 0;
    for partition in ["OUTBOX", "OUTBOX#visitor", "PARKED"] {
        let out = client
            .query()
            .table_name(table)
            .index_name("outbox")
            .key_condition_expression("outbox_pk = :p")
            .expression_attribute_values(":p", AttributeValue::S(partition.into()))
            .send()
            .await
            .unwrap();
        n += out.count() as usize;
    }
    n
}

async fn item(table: &str, pk: String, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_faults_every_accepted_submission_is_kept_and_mailed_at_least_once_and_at_most_twice()
{
    verify_identity(SENDER).await;
    verify_identity(OWNER).await;
    let table = format!("rust-aws-chaos-{}", rust_aws::domain::ids::new_id());
    create_table(&table).await;
    let proxy = FaultProxy::start(moto_url()).await;
    let mut env = lambda_env(&table);
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL" && k != "RATE_LIMIT_PER_MINUTE");
    env.push(("AWS_ENDPOINT_URL".into(), proxy.url.clone()));
    // The secret is read once at init, straight from moto: the faults are the store's and SES's.
    env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), moto_url().into()));
    env.push(("RATE_LIMIT_PER_MINUTE".into(), "100000".into()));
    env.push(("MAIL_PER_HOUR".into(), "100000".into()));
    let mut fns = Vec::new();
    for _ in 0..INSTANCES {
        fns.push(Arc::new(Function::start(&env).await));
    }

    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_u64);
    // DynamoDB: every fault kind. SES: faults after which the mail was not
    // taken, and answers slow but inside the attempt timeout (a send that SES
    // applied but never answered is a duplicate by nature; the bound of two
    // holds for one such loss per mail, so it is not drawn here).
    let unleash = |seed: u64| {
        proxy.chaos(
            "*",
            Chaos {
                throttle: 0.04,
                provisioned: 0.02,
                conflict: 0.15,
                server_error: 0.03,
                reset: 0.03,
                reset_after_apply: 0.03,
                delay: 0.03,
                delay_ms: 2_000,
            },
            seed,
        );
        proxy.chaos(
            "SendEmail",
            Chaos {
                throttle: 0.05,
                server_error: 0.05,
                reset: 0.05,
                delay: 0.05,
                delay_ms: 1_000,
                ..Chaos::default()
            },
            seed,
        );
    };
    unleash(seed);

    // ---- load: contact messages and comments, concurrently -------------------------
    let run = rust_aws::domain::ids::new_id();
    let post = format!("/chaos/{run}/");
    let mut kinds = Vec::new();
    let mut jobs = Vec::new();
    for i in 0..SUBMISSIONS {
        let marker = format!("chaos-{run}-{i}-end");
        let (kind, event) = if i % 2 == 0 {
            let mut body = contact();
            body["message"] = json!(format!("Message {marker}"));
            ("contact", Event::post_json("/contact", &body))
        } else {
            let mut body = comment(&post);
            body["body"] = json!(format!("Comment {marker}"));
            ("comment", Event::post_json("/comment", &body))
        };
        kinds.push((kind, marker));
        jobs.push(
            event
                .source_ip(&format!("198.51.100.{}", i % 200))
                .to_json(),
        );
    }
    let started = Instant::now();
    let replies = run_all(&fns, jobs).await;
    let load_time = started.elapsed();
    let outcomes: Vec<Outcome> = kinds
        .into_iter()
        .zip(replies)
        .map(|((kind, marker), (reply, took))| Outcome {
            kind,
            marker,
            status: reply.status,
            retry_after: reply.header("retry-after").is_some(),
            id: (reply.status / 100 == 2).then(|| reply.json()["id"].as_str().unwrap().to_owned()),
            took,
        })
        .collect();

    // ---- every accepted submission's mail goes out before the owner decides ----------
    // A moderation mail still queued when its comment is decided is dropped, not
    // sent saying something no longer true: drain it first, so that "every
    // accepted submission is mailed" stays the invariant checked below.
    let scheduled = fixture("eventbridge-scheduled.json").to_string();
    proxy.calm();
    let (first_runs, first_drain) = drain(&fns, &table, &scheduled).await;
    unleash(seed.rotate_left(17));

    // ---- approvals of the accepted comments, concurrently, under faults again ------
    let keys = Keys::derive(SECRET.as_bytes());
    let approve = |id: &str| {
        let token = Token {
            action: Decision::Approve,
            comment_id: id.to_owned(),
            expires_s: rust_aws::domain::ids::now_ms() / 1000 + 3600,
        }
        .sign(&keys.moderation);
        Event::v2("POST", "/comment/moderate")
            .without("origin")
            .body(
                "application/x-www-form-urlencoded",
                &format!("token={token}"),
            )
            .to_json()
    };
    let comment_ids: Vec<String> = outcomes
        .iter()
        .filter(|o| o.kind == "comment")
        .filter_map(|o| o.id.clone())
        .collect();
    let approvals = run_all(&fns, comment_ids.iter().map(|id| approve(id)).collect()).await;
    let approval_statuses: Vec<u16> = approvals.iter().map(|(r, _)| r.status).collect();

    // ---- the faults stop; retry the approvals that got 503, then redeliver ----------
    let injected = proxy.injected();
    proxy.calm();
    let mut approved = 0;
    for (id, status) in comment_ids.iter().zip(&approval_statuses) {
        assert!(
            *status == 200 || *status == 503,
            "an approval under faults answered {status}: conflicts and throttling are retried or a 503, never 'already decided'"
        );
        if *status == 503 {
            // It may have been applied before its answer was lost: then 409.
            let again = fns[0].call(&approve(id)).await.status;
            assert!(again == 200 || again == 409, "retried approval: {again}");
        }
        approved += 1;
    }

    let (runs, last_drain) = drain(&fns, &table, &scheduled).await;
    let (runs, drained) = (first_runs + runs, first_drain + last_drain);

    // ---- invariants ------------------------------------------------------------------
    let mails: Vec<String> = sent_mail().await.iter().map(|raw| mail_text(raw)).collect();
    let copies = |marker: &str| mails.iter().filter(|m| m.contains(marker)).count();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    let mut duplicates = 0;
    for o in &outcomes {
        *by_status.entry(o.status).or_default() += 1;
        let n = copies(&o.marker);
        assert!(n <= 2, "{} mailed {n} times", o.marker);
        if o.status / 100 == 2 {
            let id = o.id.as_deref().unwrap();
            let key = match o.kind {
                "contact" => (format!("CONTACT#{id}"), "CONTACT"),
                _ => (format!("COMMENT#{id}"), "COMMENT"),
            };
            assert!(
                item(&table, key.0, key.1).await.is_some(),
                "{} {id} answered {} but is not stored",
                o.kind,
                o.status
            );
            assert!(
                n >= 1,
                "{} {id} answered {} but was never mailed",
                o.kind,
                o.status
            );
            duplicates += usize::from(n == 2);
        } else {
            assert!(
                o.status == 503 && o.retry_after,
                "{} answered {} (retry-after: {}): only a 503 with Retry-After may fail valid input",
                o.kind,
                o.status,
                o.retry_after
            );
        }
    }

    // The count matches the approved comments, and paging reaches each once.
    let count = fns[0]
        .call(&Event::v2("GET", &format!("/comment/count?post={post}")).to_json())
        .await
        .json()["counts"][&post]
        .as_u64()
        .unwrap();
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/comment?post={post}&limit=7&cursor={c}"),
            None => format!("/comment?post={post}&limit=7"),
        };
        let page = fns[0].call(&Event::v2("GET", &q).to_json()).await.json();
        listed.extend(
            page["comments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "a comment listed twice");
    assert_eq!(count as usize, listed.len(), "count and pages agree");
    assert_eq!(
        listed.len(),
        approved,
        "every accepted comment was approved once"
    );

    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.took).collect();
    latencies.sort();
    let mut approval_latencies: Vec<Duration> = approvals.iter().map(|(_, t)| *t).collect();
    approval_latencies.sort();
    let mut faults: Vec<String> = injected.iter().map(|(f, n)| format!("{f:?}={n}")).collect();
    faults.sort();
    println!(
        "chaos (seed {seed:#x}): {SUBMISSIONS} submissions on {INSTANCES} instances in {load_time:?}; \
         statuses {by_status:?}; submission latency p50 {:?} p99 {:?} max {:?}; \
         approvals {} (p50 {:?} p99 {:?}, statuses {:?}); \
         redelivery runs {runs} in {:?}; mails {} ({duplicates} accepted submissions mailed twice); \
         faults injected: {}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().unwrap(),
        approvals.len(),
        percentile(&approval_latencies, 0.5),
        percentile(&approval_latencies, 0.99),
        approval_statuses
            .iter()
            .fold(BTreeMap::<u16, usize>::new(), |mut m, s| {
                *m.entry(*s).or_default() += 1;
                m
            }),
        drained,
        mails.iter().filter(|m| m.contains(&run)).count(),
        faults.join(", "),
    );
    for f in &fns {
        let logs = f.logs();
        assert!(!logs.contains("panicked"), "a function panicked");
        // Failures are logged by kind, never with what the visitor sent.
        for secret in [run.as_str(), "ann@example.org", "bob@example.org", OWNER] {
            assert!(
                !logs.to_lowercase().contains(&secret.to_lowercase()),
                "the logs hold {secret}"
            );
        }
    }
}

/// A store that answers, but slowly (each call 1.2 s, under the SDK's attempt
/// timeout): the binary answers 503 with `Retry-After` before the
/// invocation's deadline and writes nothing it cannot finish.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_store_gets_503_before_the_deadline_and_nothing_half_done() {
    let table = format!("rust-aws-slow-{}", rust_aws::domain::ids::new_id());
    create_table(&table).await;
    let proxy = FaultProxy::start(moto_url()).await;
    let mut env = lambda_env(&table);
    env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    env.push(("AWS_ENDPOINT_URL".into(), proxy.url.clone()));
    env.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER".into(), moto_url().into()));
    let f = Function::start(&env).await;
    // A 4 s invocation: after the rate-limit call (1.2 s) too little is left
    // to start the write (3.5 s), so the answer is a 503, in time.
    f.runtime.set_budget(Duration::from_secs(4));
    proxy.chaos(
        "*",
        Chaos {
            delay: 1.0,
            delay_ms: 1_200,
            ..Chaos::default()
        },
        1,
    );
    let started = Instant::now();
    let reply = f
        .call(&Event::post_json("/contact", &contact()).to_json())
        .await;
    let took = started.elapsed();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply.header("retry-after").is_some());
    assert!(took < Duration::from_secs(4), "answered after {took:?}");
    proxy.calm();
    assert_eq!(proxy.calls("PutItem"), 0, "no write was started");
}
