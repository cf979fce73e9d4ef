//! A fault-injecting HTTP proxy in front of moto: what moto cannot produce
//! (throttling, transaction conflicts, slow answers, dropped connections,
//! 500s), answered in the shapes the real services use, while every other
//! request reaches moto unchanged. Point `AWS_ENDPOINT_URL` (or an SDK
//! config's endpoint) at [`FaultProxy::url`].
//!
//! One thing moto lacks is emulated rather than injected: DynamoDB's
//! `ClientRequestToken`. DynamoDB answers a `TransactWriteItems` whose token
//! it has already applied with that first answer (the SDK fills the token and
//! keeps it across its retries), so a transaction retried after a lost answer
//! is not applied twice; and one whose token is still being processed gets
//! `TransactionInProgressException`. moto ignores the token; the proxy keeps
//! the tokens it has sent on and not yet seen answered (a delayed request is
//! in progress while it waits), answers those, and replays the first answer
//! of an applied one. A request that reached the service is finished even if
//! the client hangs up meanwhile, as a service would. And moto applies
//! writes without a lock, so two transactions adding to one counter at once
//! can lose an update, which DynamoDB never does: the proxy passes DynamoDB
//! writes to moto one at a time.
//!
//! Faults are either scripted (`inject`: the next n calls of an operation
//! get this fault, for tests that prove one behaviour) or random (`chaos`:
//! each call draws from a seeded generator, for the chaos test).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

/// One injected behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// DynamoDB `ThrottlingException` (400) / SES `TooManyRequestsException` (429).
    Throttle,
    /// DynamoDB `ProvisionedThroughputExceededException` (400).
    ProvisionedThroughput,
    /// `TransactionCanceledException` whose reasons say `TransactionConflict`
    /// (DynamoDB `TransactWriteItems` only; other calls pass).
    TransactionConflict,
    /// A 500 `InternalServerError` / `InternalFailure`.
    ServerError,
    /// The connection is closed before the request reaches the service.
    Reset,
    /// The request is applied by the service, then the connection is closed
    /// before the answer: the client cannot know it was applied.
    ResetAfterApply,
    /// The answer comes after this many milliseconds (past the SDK's
    /// attempt timeout when long enough).
    Delay(u64),
    /// SES `MessageRejected` (400) with a message that names addresses, as
    /// the SES sandbox's does.
    MessageRejected,
    /// A `BatchGetItem` answered 200 with every key it asked for left in
    /// `UnprocessedKeys`, as DynamoDB answers at a table's throughput limit
    /// (other calls pass).
    Unprocessed,
}

/// Probabilities (0.0–1.0) of each random fault per call, for `chaos`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chaos {
    pub throttle: f64,
    pub provisioned: f64,
    pub conflict: f64,
    pub server_error: f64,
    pub reset: f64,
    pub reset_after_apply: f64,
    pub delay: f64,
    /// How long a delayed answer waits.
    pub delay_ms: u64,
}

#[derive(Default)]
struct Rules {
    scripted: HashMap<String, Vec<Fault>>,
    chaos: HashMap<String, Chaos>,
    seed: u64,
    injected: HashMap<Fault, usize>,
    calls: HashMap<String, usize>,
    /// Answers of applied transactions by their `ClientRequestToken`.
    applied: HashMap<String, (http::response::Parts, Bytes)>,
    /// Tokens of transactions sent on whose answer has not come back yet.
    in_progress: std::collections::HashSet<String>,
}

/// The proxy, listening on loopback until the test process ends.
#[derive(Clone)]
pub struct FaultProxy {
    pub url: String,
    upstream: String,
    rules: Arc<Mutex<Rules>>,
    /// Held while a DynamoDB write is at moto.
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let proxy = Self {
            url,
            upstream: upstream.trim_start_matches("http://").to_owned(),
            rules: Arc::default(),
            writes: Arc::default(),
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let p = p.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let p = p.clone();
                        async move { p.handle(req).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        proxy
    }

    /// The next `times` calls of `operation` (a DynamoDB operation such as
    /// `TransactWriteItems`, or `SendEmail`; `*` for any) get `fault`.
    pub fn inject(&self, operation: &str, fault: Fault, times: usize) {
        let mut rules = self.rules.lock().unwrap();
        let list = rules.scripted.entry(operation.to_owned()).or_default();
        list.extend(std::iter::repeat_n(fault, times));
    }

    /// Random faults from now on for `operation` (`*`: every operation
    /// without its own), drawn from `seed` (the last one given wins).
    pub fn chaos(&self, operation: &str, chaos: Chaos, seed: u64) {
        let mut rules = self.rules.lock().unwrap();
        rules.chaos.insert(operation.to_owned(), chaos);
        rules.seed = seed.max(1);
    }

    /// No more faults: scripted ones left over and chaos are dropped.
    pub fn calm(&self) {
        let mut rules = self.rules.lock().unwrap();
        rules.scripted.clear();
        rules.chaos.clear();
    }

    /// How many times each fault was injected.
    pub fn injected(&self) -> HashMap<Fault, usize> {
        self.rules.lock().unwrap().injected.clone()
    }

    /// How many calls of `operation` passed through (faulted or not).
    pub fn calls(&self, operation: &str) -> usize {
        self.rules
            .lock()
            .unwrap()
            .calls
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn pick(&self, operation: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        *rules.calls.entry(operation.to_owned()).or_default() += 1;
        let mut fault = None;
        for key in [operation, "*"] {
            if let Some(list) = rules.scripted.get_mut(key)
                && !list.is_empty()
            {
                fault = Some(list.remove(0));
                break;
            }
        }
        let chaos = rules
            .chaos
            .get(operation)
            .or_else(|| rules.chaos.get("*"))
            .copied();
        if fault.is_none()
            && let Some(c) = chaos
        {
            // xorshift64*: deterministic for a seed, good enough to draw faults.
            let state = &mut rules.seed;
            *state ^= *state >> 12;
            *state ^= *state << 25;
            *state ^= *state >> 27;
            let r = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
            let table = [
                (c.throttle, Fault::Throttle),
                (c.provisioned, Fault::ProvisionedThroughput),
                (c.conflict, Fault::TransactionConflict),
                (c.server_error, Fault::ServerError),
                (c.reset, Fault::Reset),
                (c.reset_after_apply, Fault::ResetAfterApply),
                (c.delay, Fault::Delay(c.delay_ms)),
            ];
            let mut edge = 0.0;
            for (p, f) in table {
                edge += p;
                if r < edge {
                    fault = Some(f);
                    break;
                }
            }
        }
        // A conflict only exists for transactions; SES has no throughput faults.
        let fault = match fault {
            Some(Fault::TransactionConflict) if operation != "TransactWriteItems" => None,
            Some(Fault::ProvisionedThroughput) if operation == "SendEmail" => Some(Fault::Throttle),
            Some(Fault::MessageRejected) if operation != "SendEmail" => None,
            Some(Fault::Unprocessed) if operation != "BatchGetItem" => None,
            other => other,
        };
        if let Some(f) = fault {
            *rules.injected.entry(f).or_default() += 1;
        }
        fault
    }

    async fn handle(
        &self,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let operation = match parts.headers.get("x-amz-target") {
            Some(t) => t
                .to_str()
                .unwrap_or("")
                .rsplit('.')
                .next()
                .unwrap_or("")
                .to_owned(),
            None if parts.uri.path().starts_with("/v2/email/outbound-emails") => {
                "SendEmail".to_owned()
            }
            None => parts.uri.path().to_owned(),
        };
        let ses = operation == "SendEmail";
        let token = (operation == "TransactWriteItems")
            .then(|| serde_json::from_slice::<Value>(&body).ok())
            .flatten()
            .and_then(|v| v["ClientRequestToken"].as_str().map(str::to_owned));
        // Faults first: DynamoDB throttles or drops a repeated request like any
        // other. A conflict with another transaction cannot be what a token
        // already applied or in progress meets; its own answer comes instead.
        let mut fault = self.pick(&operation);
        if let Some(t) = &token {
            let rules = self.rules.lock().unwrap();
            let known = rules.applied.contains_key(t) || rules.in_progress.contains(t);
            if known && fault == Some(Fault::TransactionConflict) {
                fault = None;
            }
            if fault.is_none() {
                if let Some((parts, bytes)) = rules.applied.get(t).cloned() {
                    return Ok(hyper::Response::from_parts(parts, Full::new(bytes)));
                }
                if rules.in_progress.contains(t) {
                    return Ok(in_progress_answer());
                }
            }
        }
        let closed = || std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected");
        let delay = match fault {
            Some(Fault::Reset) => return Err(closed()),
            Some(Fault::Delay(ms)) => Duration::from_millis(ms),
            Some(Fault::ResetAfterApply) | None => Duration::ZERO,
            Some(Fault::Unprocessed) => return Ok(unprocessed_answer(&body)),
            Some(f) => return Ok(error_answer(f, ses, &body)),
        };
        // From here the request is the service's: it runs to its end in a
        // task of its own, whether or not the client is still listening.
        if let Some(t) = &token {
            self.rules.lock().unwrap().in_progress.insert(t.clone());
        }
        let this = self.clone();
        let write = matches!(
            operation.as_str(),
            "TransactWriteItems" | "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem"
        );
        let work = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let one_at_a_time = match write {
                true => Some(this.writes.lock().await),
                false => None,
            };
            let answer = this.forward(&parts, body).await;
            drop(one_at_a_time);
            let answer = match answer {
                Ok(answer) => this.remember(token.as_deref(), answer).await,
                Err(e) => {
                    let mut r = hyper::Response::new(Full::new(Bytes::from(e.to_string())));
                    *r.status_mut() = http::StatusCode::BAD_GATEWAY;
                    r
                }
            };
            if let Some(t) = &token {
                this.rules.lock().unwrap().in_progress.remove(t);
            }
            answer
        });
        let answer = work.await.expect("the proxy's forwarding task panicked");
        if fault == Some(Fault::ResetAfterApply) {
            return Err(closed());
        }
        Ok(answer)
    }

    /// Keeps a successful transaction's answer under its token, for replay.
    async fn remember(
        &self,
        token: Option<&str>,
        answer: hyper::Response<Full<Bytes>>,
    ) -> hyper::Response<Full<Bytes>> {
        let (parts, body) = answer.into_parts();
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if let Some(t) = token
            && parts.status.is_success()
        {
            self.rules
                .lock()
                .unwrap()
                .applied
                .insert(t.to_owned(), (parts.clone(), bytes.clone()));
        }
        hyper::Response::from_parts(parts, Full::new(bytes))
    }

    async fn forward(
        &self,
        parts: &http::request::Parts,
        body: Bytes,
    ) -> Result<hyper::Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
        let stream = TcpStream::connect(&self.upstream).await?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let mut req = http::Request::builder()
            .method(parts.method.clone())
            .uri(parts.uri.path_and_query().map_or("/", |p| p.as_str()));
        for (k, v) in &parts.headers {
            req = req.header(k, v);
        }
        let res = sender.send_request(req.body(Full::new(body))?).await?;
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(hyper::Response::from_parts(parts, Full::new(bytes)))
    }
}

/// DynamoDB's answer to a transaction whose token is still being processed.
fn in_progress_answer() -> hyper::Response<Full<Bytes>> {
    let body = json!({
        "__type": "com.amazonaws.dynamodb.v20120810#TransactionInProgressException",
        "Message": "The transaction with the given request token is already in progress.",
    });
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = http::StatusCode::BAD_REQUEST;
    let h = r.headers_mut();
    h.insert(
        "x-amzn-errortype",
        "TransactionInProgressException".parse().unwrap(),
    );
    h.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().unwrap(),
    );
    r
}

/// DynamoDB's answer to a `BatchGetItem` that read none of its keys: no
/// items, every key of the request back in `UnprocessedKeys`.
fn unprocessed_answer(request: &[u8]) -> hyper::Response<Full<Bytes>> {
    let asked = serde_json::from_slice::<Value>(request)
        .ok()
        .and_then(|v| v.get("RequestItems").cloned())
        .unwrap_or_else(|| json!({}));
    let responses: serde_json::Map<String, Value> = asked
        .as_object()
        .map(|tables| tables.keys().map(|t| (t.clone(), json!([]))).collect())
        .unwrap_or_default();
    let body = json!({"Responses": responses, "UnprocessedKeys": asked});
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    r.headers_mut().insert(
        "content-type",
        "application/x-amz-json-1.0".parse().unwrap(),
    );
    r
}

/// The error a real service answers for `fault`.
fn error_answer(fault: Fault, ses: bool, request: &[u8]) -> hyper::Response<Full<Bytes>> {
    let (status, kind, body) = if ses {
        match fault {
            Fault::MessageRejected => (
                400,
                "MessageRejected",
                json!({"message": "Email address is not verified. The following identities failed the check in region EU-WEST-1: owner@example.com, noreply@example.com"}),
            ),
            Fault::ServerError => (
                500,
                "InternalFailure",
                json!({"message": "Internal failure"}),
            ),
            _ => (
                429,
                "TooManyRequestsException",
                json!({"message": "Maximum sending rate exceeded."}),
            ),
        }
    } else {
        let t = |name: &str| format!("com.amazonaws.dynamodb.v20120810#{name}");
        match fault {
            Fault::ProvisionedThroughput => (
                400,
                "ProvisionedThroughputExceededException",
                json!({"__type": t("ProvisionedThroughputExceededException"), "message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}),
            ),
            Fault::TransactionConflict => {
                let items = serde_json::from_slice::<Value>(request)
                    .ok()
                    .and_then(|v| v["TransactItems"].as_array().map(Vec::len))
                    .unwrap_or(1)
                    .max(1);
                let mut reasons = vec![json!({"Code": "None"}); items];
                reasons[0] = json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"});
                let codes: Vec<&str> = (0..items)
                    .map(|i| {
                        if i == 0 {
                            "TransactionConflict"
                        } else {
                            "None"
                        }
                    })
                    .collect();
                (
                    400,
                    "TransactionCanceledException",
                    json!({
                        "__type": t("TransactionCanceledException"),
                        "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", ")),
                        "CancellationReasons": reasons,
                    }),
                )
            }
            Fault::ServerError => (
                500,
                "InternalServerError",
                json!({"__type": t("InternalServerError"), "message": "Internal server error"}),
            ),
            _ => (
                400,
                "ThrottlingException",
                json!({"__type": t("ThrottlingException"), "message": "Rate of requests exceeds the allowed throughput."}),
            ),
        }
    };
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
    let h = r.headers_mut();
    h.insert("x-amzn-errortype", kind.parse().unwrap());
    h.insert(
        "content-type",
        if ses {
            "application/json"
        } else {
            "application/x-amz-json-1.0"
        }
        .parse()
        .unwrap(),
    );
    h.insert(
        "x-amzn-requestid",
        "injected-by-fault-proxy".parse().unwrap(),
    );
    r
}
