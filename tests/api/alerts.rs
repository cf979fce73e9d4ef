//! Owner alerts in the app in memory, each channel a stub on loopback
//! (tests/support/stubs.rs): what each channel receives, the webhook's
//! signature, spam never alerted, and a failing channel that holds back no
//! other channel and no mail, retried alone.

use crate::support::events::{Event, comment, contact, fixture};
use crate::support::memory::{TestApp, spawn_app};
use crate::support::stubs::{Behaviour, Stub, verify_webhook};
use rust_aws::domain::Channel;
use rust_aws::domain::MailKind;
use rust_aws::store::Outbox;
use serde_json::{Value, json};

const WEBHOOK_SECRET: &str = "whsec-0123456789abcdef";
const BOT_TOKEN: &str = "123456:AAH-test-token";

struct Channels {
    webhook: Stub,
    slack: Stub,
    discord: Stub,
    telegram: Stub,
}

impl Channels {
    async fn start(slack: Behaviour) -> Self {
        Self {
            webhook: Stub::start(Behaviour::Service).await,
            slack: Stub::start(slack).await,
            discord: Stub::start(Behaviour::Service).await,
            telegram: Stub::start(Behaviour::Service).await,
        }
    }

    fn app(&self, extra: &[(&str, &str)]) -> TestApp {
        let webhook = format!("{}/hooks/rust-aws", self.webhook.url);
        let slack = format!("{}/services/T000/B000/slacksecret", self.slack.url);
        let discord = format!("{}/api/webhooks/1/discordsecret", self.discord.url);
        let mut vars = vec![
            ("ALERT_WEBHOOK_URL", webhook.as_str()),
            ("ALERT_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("SLACK_WEBHOOK_URL", slack.as_str()),
            ("DISCORD_WEBHOOK_URL", discord.as_str()),
            ("TELEGRAM_BOT_TOKEN", BOT_TOKEN),
            ("TELEGRAM_CHAT_ID", "-1001234"),
            ("TELEGRAM_API_URL", self.telegram.url.as_str()),
            ("RATE_LIMIT_PER_MINUTE", "100"),
        ];
        vars.extend_from_slice(extra);
        spawn_app(&vars)
    }

    fn counts(&self) -> [usize; 4] {
        [
            self.webhook.calls().len(),
            self.slack.calls().len(),
            self.discord.calls().len(),
            self.telegram.calls().len(),
        ]
    }
}

async fn run_redelivery(app: &TestApp) -> Value {
    let reply = app
        .invoke(&fixture("eventbridge-scheduled.json").to_string())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["redelivery"].clone()
}

#[tokio::test]
async fn a_new_comment_is_alerted_once_on_every_channel_in_its_format() {
    let ch = Channels::start(Behaviour::Service).await;
    let app = ch.app(&[]);
    let mut c = comment("/2026/11/p/");
    c["body"] = json!("Great <b>write-up</b> & thanks\n\nsecond line");
    let id = app.send(Event::post_json("/comment", &c)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ch.counts(), [1, 1, 1, 1]);
    assert_eq!(app.mailer.sent().len(), 1, "mail as before");

    let hook = &ch.webhook.calls()[0];
    assert_eq!(hook.path, "/hooks/rust-aws");
    assert_eq!(hook.content_type.as_deref(), Some("application/json"));
    let event = verify_webhook(WEBHOOK_SECRET, hook).unwrap();
    assert_eq!(event["type"], "comment.created");
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["post"], "/2026/11/p/");
    assert_eq!(event["author"], "Bob");
    assert_eq!(
        event["excerpt"],
        "Great <b>write-up</b> & thanks second line"
    );
    assert_eq!(event["status"], "pending");
    assert!(event["console"].as_str().unwrap().ends_with("/admin/"));
    // The body is what was signed: another key does not verify it.
    assert!(verify_webhook("another-secret-0123", hook).is_err());

    let slack = ch.slack.calls()[0].json();
    let text = slack["text"].as_str().unwrap();
    assert!(text.contains("New comment on /2026/11/p/ by Bob"), "{text}");
    assert!(
        text.contains("&lt;b&gt;write-up&lt;/b&gt; &amp; thanks"),
        "{text}"
    );

    let discord = ch.discord.calls()[0].json();
    assert!(discord["content"].as_str().unwrap().contains("by Bob"));
    assert_eq!(discord["allowed_mentions"], json!({"parse": []}));

    let tg = &ch.telegram.calls()[0];
    assert_eq!(tg.path, format!("/bot{BOT_TOKEN}/sendMessage"));
    assert_eq!(tg.json()["chat_id"], "-1001234");
    assert!(
        tg.json()["text"]
            .as_str()
            .unwrap()
            .contains("awaiting approval")
    );

    // Delivered: nothing waits, and a run sends nothing again.
    assert!(app.store.list_outbox(10).await.unwrap().is_empty());
    assert_eq!(run_redelivery(&app).await["found"], 0);
    assert_eq!(ch.counts(), [1, 1, 1, 1]);
}

#[tokio::test]
async fn a_contact_message_is_alerted_with_its_subject() {
    let ch = Channels::start(Behaviour::Service).await;
    let app = ch.app(&[]);
    assert_eq!(
        app.send(Event::post_json("/contact", &contact()))
            .await
            .status,
        202
    );
    let event = verify_webhook(WEBHOOK_SECRET, &ch.webhook.calls()[0]).unwrap();
    assert_eq!(event["type"], "contact.received");
    assert_eq!(event["subject"], "Hello");
    assert_eq!(event["author"], "Ann Example");
    assert!(
        ch.telegram.calls()[0].json()["text"]
            .as_str()
            .unwrap()
            .contains("Message from Ann Example: Hello")
    );
    assert_eq!(ch.counts(), [1, 1, 1, 1]);
}

#[tokio::test]
async fn spam_is_alerted_nowhere() {
    let ch = Channels::start(Behaviour::Service).await;
    let app = ch.app(&[("SPAM_BLOCKLIST", "casino")]);
    let mut c = comment("/p/");
    c["body"] = json!("casino");
    assert_eq!(app.send(Event::post_json("/comment", &c)).await.status, 201);
    let mut m = contact();
    m["message"] = json!("casino");
    assert_eq!(app.send(Event::post_json("/contact", &m)).await.status, 202);
    assert_eq!(ch.counts(), [0, 0, 0, 0]);
    assert!(app.mailer.sent().is_empty());
    assert_eq!(run_redelivery(&app).await["found"], 0);
}

#[tokio::test]
async fn a_failing_channel_holds_back_no_other_and_is_retried_alone_until_parked() {
    let ch = Channels::start(Behaviour::Status(500)).await;
    let app = ch.app(&[]);
    assert_eq!(
        app.send(Event::post_json("/comment", &comment("/p/")))
            .await
            .status,
        201
    );
    assert_eq!(ch.counts(), [1, 1, 1, 1]);
    assert_eq!(app.mailer.sent().len(), 1);
    let waiting = app.store.list_outbox(10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].entry.kind, MailKind::Alert(Channel::Slack));
    assert_eq!(waiting[0].last_error.as_deref(), Some("HTTP 500"));
    // The next run retries Slack alone: no other channel, no mail, twice.
    let run = run_redelivery(&app).await;
    assert_eq!(
        (run["found"].as_u64(), run["deferred"].as_u64()),
        (Some(1), Some(1)),
        "{run}"
    );
    assert_eq!(ch.counts(), [1, 2, 1, 1]);
    assert_eq!(app.mailer.sent().len(), 1);
    // Backing off now: not due at the next run.
    assert_eq!(run_redelivery(&app).await["found"], 0);
    // Parked after the last attempt allowed; the rest of the outbox is empty.
    let entry = waiting[0].entry.clone();
    for _ in 0..rust_aws::outbox::MAX_ATTEMPTS {
        let state = &app.state;
        let deadline = rust_aws::web::deadline::Deadline::after(std::time::Duration::from_secs(8));
        if let Ok(Some(attempts)) = app
            .store
            .claim(&entry, rust_aws::domain::ids::now_ms(), deadline_ms())
            .await
        {
            rust_aws::outbox::deliver(
                state,
                &entry,
                rust_aws::outbox::Loaded::No,
                &deadline,
                attempts,
            )
            .await;
        }
    }
    let listed = app.store.list_outbox(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].parked);
}

fn deadline_ms() -> u64 {
    rust_aws::domain::ids::now_ms() + 10_000
}

#[tokio::test]
async fn alerts_have_their_own_hourly_cap_and_wait_for_the_next_hour() {
    let ch = Channels::start(Behaviour::Service).await;
    let app = ch.app(&[("ALERTS_PER_HOUR", "2")]);
    assert_eq!(
        app.send(Event::post_json("/comment", &comment("/p/")))
            .await
            .status,
        201
    );
    // Four channels, two slots: two sent, two wait.
    assert_eq!(ch.counts().iter().sum::<usize>(), 2);
    let waiting = app.store.list_outbox(10).await.unwrap();
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting
            .iter()
            .all(|w| w.last_error.as_deref() == Some("hourly cap reached"))
    );
    assert!(waiting.iter().all(|w| w.attempts == 0));
    // Mail has its own cap: it went.
    assert_eq!(app.mailer.sent().len(), 1);
}

#[tokio::test]
async fn a_slow_channel_costs_the_visitor_at_most_the_send_timeout_and_the_others_go() {
    let webhook = Stub::start(Behaviour::Slow(std::time::Duration::from_secs(30))).await;
    let slack = Stub::start(Behaviour::Service).await;
    let url = format!("{}/hook", webhook.url);
    let slack_url = format!("{}/slack", slack.url);
    let app = spawn_app(&[
        ("ALERT_WEBHOOK_URL", &url),
        ("ALERT_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("SLACK_WEBHOOK_URL", &slack_url),
    ]);
    let started = std::time::Instant::now();
    assert_eq!(
        app.send(Event::post_json("/comment", &comment("/p/")))
            .await
            .status,
        201
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slack.calls().len(), 1);
    let waiting = app.store.list_outbox(10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].entry.kind, MailKind::Alert(Channel::Webhook));
    assert_eq!(waiting[0].last_error.as_deref(), Some("timed out"));
}
