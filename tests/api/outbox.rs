//! The outbox, in the app in memory: what starts a redelivery run, and how a
//! run treats mail that fails (backoff, parking, the hourly cap, the
//! invocation's deadline).

use std::time::Duration;

use crate::support::events::{Event, contact, fixture};
use crate::support::memory::{TestApp, spawn_app};
use rust_aws::domain::{Decided, Decision, MailKind, OutboxEntry};
use rust_aws::outbox::{self, Delivery, Loaded, MAX_ATTEMPTS};
use rust_aws::store::{Comments, Outbox};
use rust_aws::web::deadline::Deadline;
use serde_json::{Value, json};

fn scheduled() -> String {
    fixture("eventbridge-scheduled.json").to_string()
}

async fn run(app: &TestApp) -> Value {
    let reply = app.invoke(&scheduled()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["redelivery"].clone()
}

fn message(text: &str) -> Value {
    let mut body = contact();
    body["message"] = json!(text);
    body
}

async fn post_contact(app: &TestApp, text: &str) -> String {
    let reply = app.send(Event::post_json("/contact", &message(text))).await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

fn entry(id: &str) -> OutboxEntry {
    OutboxEntry {
        kind: MailKind::Contact,
        id: id.to_owned(),
    }
}

// ---- what starts a run ------------------------------------------------------------

#[tokio::test]
async fn only_the_eventbridge_schedule_starts_a_redelivery_run() {
    let app = spawn_app(&[]);
    app.mailer.fail_next(1);
    post_contact(&app, "waiting for redelivery").await;
    assert_eq!(app.store.list_outbox(10).await.unwrap()[0].attempts, 1);

    let direct_invokes = [
        json!({}),
        json!({"redeliver": true}),
        json!("run"),
        json!([]),
    ];
    let fixtures = [
        "alb-request.json",
        "alb-health-check.json",
        "apigw-websocket-connect.json",
        "apigw-websocket-message.json",
        "sqs-message.json",
        "eventbridge-custom.json",
    ];
    let events = fixtures
        .iter()
        .map(|name| (name.to_string(), fixture(name).to_string()))
        .chain(
            direct_invokes
                .iter()
                .map(|v| (v.to_string(), v.to_string())),
        );
    for (name, event) in events {
        let reply = app.invoke(&event).await;
        assert!(
            !reply.body.contains("redelivery"),
            "{name} started a redelivery run: {}",
            reply.body
        );
        assert!(
            reply.status >= 400,
            "{name} was answered {} {}",
            reply.status,
            reply.body
        );
        assert!(app.mailer.sent().is_empty(), "{name} sent mail");
        let outbox = app.store.list_outbox(10).await.unwrap();
        assert_eq!(outbox.len(), 1, "{name} changed the outbox");
        assert_eq!(outbox[0].attempts, 1, "{name} changed the outbox");
    }
    // Nothing was stored either (the ALB request carries a contact body).
    assert_eq!(app.store.contacts().len(), 1);

    let reply = app.invoke(&scheduled()).await;
    assert_eq!(reply.json()["redelivery"]["sent"], 1, "{}", reply.body);
}

#[tokio::test]
async fn an_unrecognised_event_is_answered_with_an_error_naming_what_it_is_for() {
    let app = spawn_app(&[]);
    let reply = app.invoke(&fixture("sqs-message.json").to_string()).await;
    assert_eq!(reply.json()["error"], "unsupported_event", "{}", reply.body);
    assert!(!reply.json()["request_id"].as_str().unwrap().is_empty());
}

// ---- failing mail -------------------------------------------------------------------

#[tokio::test]
async fn mail_that_keeps_failing_backs_off_and_does_not_block_newer_mail_or_the_cap() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "1000"), ("MAIL_PER_HOUR", "5")]);
    app.mailer.fail_containing("poison");
    // More failing entries than one run looks at, all older than the good one.
    for i in 0..60 {
        post_contact(&app, &format!("poison {i}")).await;
    }
    app.mailer.fail_next(1);
    let good = post_contact(&app, "a good message").await;
    assert!(app.mailer.sent().is_empty());

    let mut runs = 0;
    while !app
        .store
        .contacts()
        .iter()
        .any(|c| c.id == good && c.delivered)
    {
        runs += 1;
        assert!(runs <= 2, "the good mail waited {runs} runs");
        run(&app).await;
    }
    // Failed sends took no slot of the cap: four are still left this hour.
    for i in 0..4 {
        post_contact(&app, &format!("fine {i}")).await;
    }
    assert_eq!(app.mailer.sent().len(), 5);

    // Every failing entry now waits, each by its own backoff.
    let now = rust_aws::domain::ids::now_ms();
    let outbox = app.store.list_outbox(100).await.unwrap();
    assert_eq!(outbox.len(), 60);
    assert!(
        outbox
            .iter()
            .all(|i| i.attempts >= 2 && i.next_attempt_ms > now)
    );
    assert!(outbox.iter().all(|i| !i.parked));
    assert!(
        outbox
            .iter()
            .all(|i| i.last_error.as_deref() == Some("simulated refusal"))
    );
    assert_eq!(
        run(&app).await["found"],
        0,
        "nothing is due until the backoff passes"
    );
}

#[tokio::test]
async fn the_hourly_cap_counts_mails_sent_and_a_capped_mail_waits_for_the_next_hour() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "100"), ("MAIL_PER_HOUR", "2")]);
    app.mailer.fail_next(1);
    post_contact(&app, "fails once").await;
    post_contact(&app, "second").await;
    post_contact(&app, "third").await;
    assert_eq!(
        app.mailer.sent().len(),
        2,
        "the failed send gave its slot back"
    );

    let r = run(&app).await;
    assert_eq!(
        (r["found"].as_u64(), r["postponed"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    let outbox = app.store.list_outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        outbox[0].attempts, 1,
        "waiting for the cap is not a failed attempt"
    );
    let next_hour = (rust_aws::domain::ids::now_ms() / 3_600_000 + 1) * 3_600_000;
    assert_eq!(outbox[0].next_attempt_ms, next_hour);
}

#[tokio::test]
async fn owner_mail_held_by_its_cap_never_holds_back_visitor_mail_whatever_the_backlog() {
    let app = spawn_app(&[
        ("RATE_LIMIT_PER_MINUTE", "1000"),
        ("MAIL_PER_HOUR", "3"),
        ("SITE_URL", "https://blog.example.com"),
    ]);
    let body = json!({"post": "/p/", "name": "Ann", "email": "ann@example.org",
        "body": "Tell me about replies.", "notify": "on"});
    let reply = app.send(Event::post_json("/comment", &body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let moderation = app.mailer.sent().pop().unwrap();
    // An owner backlog larger than a run's batch, due now and older than
    // the visitor mail; then the owner's cap for this hour is used up.
    app.mailer.fail_containing("backlog");
    for i in 0..70 {
        post_contact(&app, &format!("backlog {i}")).await;
    }
    post_contact(&app, "fine 1").await;
    post_contact(&app, "fine 2").await;
    assert_eq!(app.mailer.sent().len(), 3, "the owner's cap is used up");
    // The approval's confirmation mail fails once and waits behind them all.
    app.mailer.fail_next(1);
    let approve = moderation.text.split("Approve: ").nth(1).unwrap();
    let token = approve
        .split_whitespace()
        .next()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap();
    let reply = app
        .send(Event::v2("POST", "/comment/moderate").body(
            "application/x-www-form-urlencoded",
            &format!("token={token}"),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(app.mailer.sent().len(), 3);

    let r = run(&app).await;
    let to_ann: Vec<_> = app
        .mailer
        .sent()
        .into_iter()
        .filter(|m| m.to == "ann@example.org")
        .collect();
    assert_eq!(
        to_ann.len(),
        1,
        "the confirmation waited for the owner's backlog: {r}"
    );
    assert_eq!(r["sent"], 1, "{r}");
    let waiting = app.store.list_outbox(1_000).await.unwrap();
    assert_eq!(waiting.len(), 70, "the owner's backlog still waits");
    assert!(waiting.iter().all(|i| i.attempts == 1 && !i.parked));
}

#[tokio::test]
async fn after_max_attempts_a_mail_is_parked_listed_and_only_requeued_by_hand() {
    let app = spawn_app(&[]);
    app.mailer.fail_next(1);
    let id = post_contact(&app, "about to be parked").await;
    let state = app.state.clone();
    let deadline = Deadline::after(Duration::from_secs(9));
    let now = rust_aws::domain::ids::now_ms();
    let attempts = app
        .store
        .claim(&entry(&id), now, now + 10_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attempts, 1);
    app.mailer.fail_next(1);
    let last = outbox::deliver(&state, &entry(&id), Loaded::No, &deadline, MAX_ATTEMPTS - 1).await;
    assert_eq!(last, Delivery::Parked);
    let outbox = app.store.list_outbox(10).await.unwrap();
    assert!(outbox[0].parked && outbox[0].attempts == MAX_ATTEMPTS);

    assert_eq!(run(&app).await["found"], 0, "parked mail is not retried");
    assert!(
        app.store
            .requeue(&entry(&id), rust_aws::domain::ids::now_ms())
            .await
            .unwrap()
    );
    assert_eq!(run(&app).await["sent"], 1);
    assert!(app.store.list_outbox(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_backoff_doubles_from_the_second_failure_and_is_bounded() {
    assert_eq!(outbox::retry_delay(1), Duration::ZERO);
    let minutes = |n| outbox::retry_delay(n).as_secs() / 60;
    assert!((5..=5).contains(&minutes(2)));
    assert!((10..=11).contains(&minutes(3)));
    assert!((20..=22).contains(&minutes(4)));
    assert!((360..=396).contains(&minutes(30)));
}

// ---- mail whose record changed meanwhile ------------------------------------------

async fn post_comment(app: &TestApp, text: &str) -> String {
    let body = json!({"post": "/2026/11/rust/", "name": "Ann", "body": text});
    let reply = app.send(Event::post_json("/comment", &body)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_queued_moderation_mail_for_a_comment_decided_meanwhile_is_dropped_unsent() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "100")]);
    app.mailer.fail_next(3);
    let rejected = post_comment(&app, "rejected before its mail went out").await;
    let approved = post_comment(&app, "approved before its mail went out").await;
    let pending = post_comment(&app, "still waiting for the owner").await;
    assert!(app.mailer.sent().is_empty());
    // The owner decides from the command while the mails wait.
    let now = rust_aws::domain::ids::now_ms();
    for (id, decision) in [
        (&rejected, Decision::Reject),
        (&approved, Decision::Approve),
    ] {
        let decided = app.store.decide(id, decision, now).await.unwrap();
        assert_eq!(decided, Decided::Done);
    }

    let r = run(&app).await;
    assert_eq!(
        (r["found"].as_u64(), r["sent"].as_u64()),
        (Some(3), Some(1)),
        "{r}"
    );
    let sent = app.mailer.sent();
    assert_eq!(
        sent.len(),
        1,
        "{:?}",
        sent.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(sent[0].text.contains("still waiting for the owner"));
    assert!(sent[0].subject.contains("awaits approval"));
    assert!(
        app.store.list_outbox(10).await.unwrap().is_empty(),
        "the dropped mails left the outbox: {pending}"
    );
}

#[tokio::test]
async fn an_entry_whose_record_expired_unswept_leaves_the_outbox_instead_of_being_claimed_every_run()
 {
    let app = spawn_app(&[]);
    app.mailer.fail_next(1);
    let id = post_comment(&app, "rejected long ago, its mail never sent").await;
    // Rejected eight days ago: past its seven days, not yet swept.
    let long_ago = rust_aws::domain::ids::now_ms() - 8 * rust_aws::domain::DAY_MS;
    let decided = app.store.decide(&id, Decision::Reject, long_ago).await;
    assert_eq!(decided.unwrap(), Decided::Done);

    assert_eq!(run(&app).await["found"], 1);
    assert_eq!(run(&app).await["found"], 0, "claimed again by a later run");
    assert!(app.mailer.sent().is_empty());
}

// ---- the deadline ---------------------------------------------------------------------

#[tokio::test]
async fn with_too_little_time_left_a_mail_is_left_to_redelivery_untouched() {
    let app = spawn_app(&[]);
    app.mailer.fail_next(1);
    let id = post_contact(&app, "later").await;
    let state = app.state.clone();
    let short = Deadline::after(Duration::from_millis(800));
    let outcome = outbox::deliver(&state, &entry(&id), Loaded::No, &short, 1).await;
    assert_eq!(outcome, Delivery::Unstarted);
    assert!(app.mailer.sent().is_empty());
    assert_eq!(app.store.list_outbox(10).await.unwrap()[0].attempts, 1);

    let r = outbox::redeliver(&state, &short).await.unwrap();
    assert_eq!((r.found, r.sent, r.unreached), (1, 0, 1));
}

#[tokio::test]
async fn a_redelivery_run_stops_taking_mail_when_its_time_runs_short() {
    let app = spawn_app(&[("RATE_LIMIT_PER_MINUTE", "100")]);
    app.mailer.fail_next(10);
    for i in 0..10 {
        post_contact(&app, &format!("slow {i}")).await;
    }
    app.mailer.set_delay(Duration::from_millis(1_000));
    let state = app.state.clone();
    let started = std::time::Instant::now();
    let r = outbox::redeliver(&state, &Deadline::after(Duration::from_secs(6)))
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.found, 10);
    assert!(r.sent >= 2 && r.sent < 10, "{r:?}");
    assert_eq!(r.sent + r.unreached, 10, "{r:?}");
    assert_eq!(app.mailer.sent().len(), r.sent);
}

/// Sends `event` as an invocation with `left` until its Lambda deadline.
async fn invoke_with_deadline(app: &TestApp, event: &Event, left: Duration) -> (u16, String) {
    use lambda_http::RequestExt;
    use tower::ServiceExt;
    let mut context = lambda_http::Context::default();
    context.deadline = rust_aws::domain::ids::now_ms() + left.as_millis() as u64;
    let req = lambda_http::request::from_str(&event.to_json())
        .unwrap()
        .with_lambda_context(context);
    let res = app.app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let body = match res.into_body() {
        lambda_http::Body::Text(t) => t,
        _ => String::new(),
    };
    (status, body)
}

#[tokio::test]
async fn with_too_little_time_left_a_submission_is_refused_with_503_and_nothing_stored() {
    let app = spawn_app(&[]);
    let event = Event::post_json("/contact", &contact());
    let (status, body) = invoke_with_deadline(&app, &event, Duration::from_secs(3)).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        app.store.contacts().is_empty(),
        "no write without time to finish it"
    );
    let (status, _) = invoke_with_deadline(&app, &event, Duration::from_secs(10)).await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn a_slow_mail_provider_never_holds_the_answer_past_the_deadline() {
    let app = spawn_app(&[]);
    app.mailer.set_delay(Duration::from_secs(30));
    let started = std::time::Instant::now();
    let event = Event::post_json("/contact", &contact());
    let (status, body) = invoke_with_deadline(&app, &event, Duration::from_secs(6)).await;
    assert_eq!(status, 202, "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(5_500),
        "{:?}",
        started.elapsed()
    );
    let outbox = app.store.list_outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 1, "stored, left to redelivery");
    assert_eq!(outbox[0].last_error.as_deref(), Some("send timed out"));
}
