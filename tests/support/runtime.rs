//! Black-box support: moto on loopback, a Lambda Runtime API emulator, and the
//! compiled `bootstrap` (native, or aarch64 under qemu) as a child process.
//! The cold-start benchmark (`examples/bench.rs`) runs its programs through
//! the same pieces, with the timings they record.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// The secret every black-box function runs with, so tests can sign tokens.
pub const SECRET: &str = "blackbox-secret-0123456789abcdef-0123456789";
pub const OWNER: &str = "owner@example.com";
pub const SENDER: &str = "noreply@example.com";
pub const REGION: &str = "eu-west-1";

/// The repository root, where the workspace's `target/` and these support
/// files are: the root package's directory, or the one above the package
/// that includes this file from elsewhere (the admin command's tests, in `admin/`).
fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("tests/support/moto_server.py").is_file())
        .expect("tests/support/moto_server.py in or above the package's directory")
}

/// The binary under test: `BOOTSTRAP_BIN`, else the release build.
pub fn bootstrap_bin() -> PathBuf {
    match std::env::var_os("BOOTSTRAP_BIN") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("target/release/bootstrap"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// moto server, one per test binary: `MOTO_URL` if set, else started here
/// (tests/support/moto_server.py: moto on waitress, each call timed).
pub fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("MOTO_URL") {
            return url;
        }
        if !moto_installed() {
            skip_moto_tier();
        }
        let port = free_port();
        let server = repo_root().join("tests/support/moto_server.py");
        watched(&format!("python3 '{}' {port}", server.display()));
        wait_for_port(
            port,
            "moto did not start (bash ci/install.d/10-python.sh installs moto and waitress)",
        );
        format!("http://127.0.0.1:{port}")
    })
}

/// Whether moto and waitress can be imported (tests/support/moto_server.py).
fn moto_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import moto.server, waitress"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A fresh clone's `cargo test` has no moto: the moto-backed tests of this
/// binary end with one line saying how to run them, instead of a panic in
/// each.
fn skip_moto_tier() -> ! {
    skip_tier(
        "moto is not installed (bash ci/install.d/10-python.sh installs moto and waitress)",
        "moto (the local AWS) is not installed: this test binary's moto-backed tests are \
         skipped. `make test` installs it and runs every tier.",
    )
}

/// Ends this test binary successfully with one line (`skipped`), or, where
/// the tier must run (`make test`, i.e. ci/test.sh, and the bench set
/// `RUST_AWS_REQUIRE_MOTO=1`), fails with `required`.
fn skip_tier(required: &str, skipped: &str) -> ! {
    assert!(
        std::env::var_os("RUST_AWS_REQUIRE_MOTO").is_none(),
        "{required}"
    );
    // Written to the stream itself: the test harness captures `eprintln!`,
    // and the exit would drop what it captured.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\n{skipped}\n").as_bytes());
    std::process::exit(0)
}

/// Runs `command` in the background with a watchdog that stops it when this
/// process exits (a test binary or the bench may end by a panic).
fn watched(command: &str) {
    let script = format!(
        "{command} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $m",
        parent = std::process::id()
    );
    // The watchdog outlives this call; a thread reaps it when its server stops.
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .spawn()
        .expect("sh");
    std::thread::spawn(move || watchdog.wait());
}

fn wait_for_port(port: u16, failure: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{failure}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// moto behind TLS, as AWS endpoints are: one HTTPS endpoint for DynamoDB
/// and another for SES (two hosts, as on AWS, so a function pays for a
/// handshake to each), and the file of the test CA that signed them.
#[allow(
    dead_code,
    reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
)]
#[derive(Debug, Clone)]
pub struct TlsEndpoints {
    pub dynamodb: String,
    pub ses: String,
    pub secrets: String,
    pub ca_file: PathBuf,
}

/// The TLS front (tests/support/tls_front.py) over [`moto_url`], started once.
#[allow(
    dead_code,
    reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
)]
pub fn moto_tls() -> &'static TlsEndpoints {
    static TLS: OnceLock<TlsEndpoints> = OnceLock::new();
    TLS.get_or_init(|| {
        let upstream: u16 = moto_url()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("moto's URL ends in its port");
        let (dynamodb, ses, secrets) = (free_port(), free_port(), free_port());
        let ca_file =
            std::env::temp_dir().join(format!("rust-aws-test-ca-{}.pem", std::process::id()));
        let _ = std::fs::remove_file(&ca_file);
        let front = repo_root().join("tests/support/tls_front.py");
        watched(&format!(
            "python3 '{}' '{}' {upstream} {dynamodb} {ses} {secrets}",
            front.display(),
            ca_file.display()
        ));
        for port in [dynamodb, ses, secrets] {
            wait_for_port(
                port,
                "the TLS front did not start (it needs python3-cryptography, which moto brings)",
            );
        }
        assert!(ca_file.exists(), "the TLS front wrote no CA file");
        TlsEndpoints {
            dynamodb: format!("https://127.0.0.1:{dynamodb}"),
            ses: format!("https://127.0.0.1:{ses}"),
            secrets: format!("https://127.0.0.1:{secrets}"),
            ca_file,
        }
    })
}

/// One AWS call moto served (see tests/support/moto_server.py).
#[allow(
    dead_code,
    reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
)]
#[derive(Debug, Clone)]
pub struct MotoCall {
    /// When moto's app was called, on this process's clock (to within the
    /// round trip of the request that fetched it).
    pub started: Instant,
    /// moto's own time for the call, without HTTP parsing and socket writes.
    pub took: Duration,
    /// The operation: `X-Amz-Target` (DynamoDB), else the path (SES v2).
    pub target: String,
}

/// The calls moto served since the last look (each is reported once).
#[allow(
    dead_code,
    reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
)]
pub async fn moto_calls() -> Vec<MotoCall> {
    let asked = Instant::now();
    let text = http_get(&format!("{}/__calls", moto_url())).await;
    let calls: Vec<(u64, u64, String)> = serde_json::from_str(&text).unwrap();
    calls
        .into_iter()
        .map(|(ago, took, target)| MotoCall {
            started: asked
                .checked_sub(Duration::from_nanos(ago))
                .unwrap_or(asked),
            took: Duration::from_nanos(took),
            target,
        })
        .collect()
}

/// SDK config pointing at moto, with dummy credentials.
pub async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_url())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

/// Creates a table exactly as template.yaml declares it (from the contract).
pub async fn create_table(name: &str) {
    use aws_sdk_dynamodb::types::*;
    use rust_aws::config::contract::table;
    let client = aws_sdk_dynamodb::Client::new(&sdk().await);
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(table::PK))
        .attribute_definitions(attr(table::SK))
        .key_schema(key(table::PK, KeyType::Hash))
        .key_schema(key(table::SK, KeyType::Range));
    for (index, hash, range) in table::INDEXES {
        req = req
            .attribute_definitions(attr(hash))
            .attribute_definitions(attr(range))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(*index)
                    .key_schema(key(hash, KeyType::Hash))
                    .key_schema(key(range, KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            );
    }
    req.send().await.unwrap();
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(table::TTL)
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// Verifies an SES identity in moto (sending needs one).
pub async fn verify_identity(address: &str) {
    let ses = aws_sdk_sesv2::Client::new(&sdk().await);
    ses.create_email_identity()
        .email_identity(address)
        .send()
        .await
        .unwrap();
}

/// Raw MIME of every message moto's SES has accepted so far.
pub async fn sent_mail() -> Vec<String> {
    let url = format!("{}/moto-api/data.json", moto_url());
    let text = http_get(&url).await;
    let data: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    collect_raw(&data, &mut out);
    out
}

fn collect_raw(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(raw)) = m.get("raw_data") {
                out.push(raw.clone());
            }
            m.values().for_each(|x| collect_raw(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_raw(x, out)),
        _ => {}
    }
}

/// Decoded text/plain body of a raw MIME message built by the function.
pub fn mail_text(raw: &str) -> String {
    use base64::Engine;
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or("");
    let joined: String = body.split_whitespace().collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(joined)
            .unwrap(),
    )
    .unwrap()
}

async fn http_get(url: &str) -> String {
    let uri: http::Uri = url.parse().unwrap();
    let stream = tokio::net::TcpStream::connect((uri.host().unwrap(), uri.port_u16().unwrap()))
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(uri.path())
        .header("host", "localhost")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// What the function posted back for one invocation.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

/// An invocation's outcome with the emulator's clock readings.
#[allow(
    dead_code,
    reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
)]
#[derive(Debug, Clone)]
pub struct Timed {
    pub outcome: Outcome,
    /// The event was queued for the function's next `GET /next`.
    pub queued: Instant,
    /// The function's answer (response or error) reached the emulator.
    pub answered: Instant,
}

#[derive(Default)]
struct Shared {
    waiting: Mutex<HashMap<String, oneshot::Sender<(Outcome, Instant)>>>,
    init_error: Mutex<Option<Value>>,
    /// When the first `GET /next` arrived: the function finished its init.
    first_next: OnceLock<Instant>,
    /// Woken by the first `GET /next` and by an init error.
    ready: tokio::sync::Notify,
    /// Milliseconds each invocation gets (0: the function timeout, 10 s).
    budget_ms: std::sync::atomic::AtomicU64,
}

/// A minimal Lambda Runtime API on loopback.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    events: mpsc::UnboundedSender<(String, String)>,
    shared: Arc<Shared>,
}

fn reply(status: u16, body: &str) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
    // As Lambda's does; awslambdaric's runtime client crashes without it.
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel::<(String, String)>();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                // Each answer is one small write: no Nagle delay in the timings.
                let _ = stream.set_nodelay(true);
                let (rx, s) = (rx.clone(), s.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (rx, s) = (rx.clone(), s.clone());
                        async move { Ok::<_, Infallible>(Self::serve(req, rx, s).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            addr,
            events: tx,
            shared,
        }
    }

    async fn serve(
        req: hyper::Request<hyper::body::Incoming>,
        rx: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, String)>>>,
        s: Arc<Shared>,
    ) -> hyper::Response<Full<Bytes>> {
        let arrived = Instant::now();
        let path = req.uri().path().to_owned();
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let json = || serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
        if path == "/2018-06-01/runtime/invocation/next" {
            if s.first_next.set(arrived).is_ok() {
                s.ready.notify_one();
            }
            let Some((id, event)) = rx.lock().await.recv().await else {
                return reply(500, "closed");
            };
            let budget = match s.budget_ms.load(std::sync::atomic::Ordering::SeqCst) {
                0 => 10_000,
                ms => ms,
            };
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + u128::from(budget);
            let mut r = reply(200, &event);
            let h = r.headers_mut();
            h.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            h.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().unwrap(),
            );
            h.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:eu-west-1:123456789012:function:rust-aws"
                    .parse()
                    .unwrap(),
            );
            h.insert(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0"
                    .parse()
                    .unwrap(),
            );
            return r;
        }
        if path == "/2018-06-01/runtime/init/error" {
            *s.init_error.lock().unwrap() = Some(json());
            s.ready.notify_one();
            return reply(202, "{}");
        }
        let parts: Vec<&str> = path
            .trim_start_matches("/2018-06-01/runtime/invocation/")
            .split('/')
            .collect();
        if let [id, kind] = parts.as_slice() {
            let outcome = match *kind {
                "response" => Outcome::Response(json()),
                "error" => Outcome::Error(json()),
                _ => return reply(404, "{}"),
            };
            if let Some(tx) = s.waiting.lock().unwrap().remove(*id) {
                let _ = tx.send((outcome, arrived));
            }
            return reply(202, "{}");
        }
        reply(404, "{}")
    }

    /// Queues an event and waits for the function's answer.
    pub async fn invoke(&self, event: &str) -> Outcome {
        // Generous: the aarch64 binary runs under qemu.
        self.invoke_timed(event, Duration::from_secs(30))
            .await
            .outcome
    }

    /// Queues an event and waits up to `within` for the function's answer,
    /// noting when the event was queued and when the answer arrived.
    pub async fn invoke_timed(&self, event: &str, within: Duration) -> Timed {
        let id = rust_aws::domain::ids::new_id();
        let (tx, rx) = oneshot::channel();
        self.shared.waiting.lock().unwrap().insert(id.clone(), tx);
        let queued = Instant::now();
        self.events.send((id, event.to_owned())).unwrap();
        let (outcome, answered) = tokio::time::timeout(within, rx)
            .await
            .expect("function answered in time")
            .unwrap();
        Timed {
            outcome,
            queued,
            answered,
        }
    }

    /// When the function first asked for an event, if it has.
    #[allow(
        dead_code,
        reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
    )]
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.first_next.get().copied()
    }

    /// Gives each later invocation `budget` until its deadline
    /// (`Lambda-Runtime-Deadline-Ms`), as a shorter function timeout would.
    pub fn set_budget(&self, budget: Duration) {
        self.shared.budget_ms.store(
            budget.as_millis() as u64,
            std::sync::atomic::Ordering::SeqCst,
        );
    }

    /// The init error the function posted, if any.
    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }
}

/// The HTTP response inside an invocation outcome.
#[derive(Debug, Clone)]
pub struct HttpReply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl HttpReply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A running `bootstrap` (or any Lambda runtime process) connected to its
/// own Runtime API.
pub struct Function {
    pub runtime: RuntimeApi,
    child: Child,
    pub log_path: PathBuf,
    /// Just before the process was spawned.
    #[allow(
        dead_code,
        reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
    )]
    pub spawned: Instant,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the log of a failing test for reading; drop the others.
        if std::thread::panicking() {
            eprintln!("function log kept at {}", self.log_path.display());
        } else {
            let _ = std::fs::remove_file(&self.log_path);
        }
    }
}

/// Creates a Secrets Manager secret in moto holding `value`; returns its ARN.
pub async fn create_secret(value: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&sdk().await);
    client
        .create_secret()
        .name(format!("rust-aws-{}", rust_aws::domain::ids::new_id()))
        .secret_string(value)
        .send()
        .await
        .unwrap()
        .arn
        .expect("moto answers the new secret's ARN")
}

/// The secret a deployed function reads its secrets from (`SECRETS_ARN`),
/// holding `{"SECRET_KEY": SECRET}`: made in moto once per test process.
pub fn secrets_arn() -> &'static str {
    static ARN: OnceLock<String> = OnceLock::new();
    ARN.get_or_init(|| {
        moto_url(); // here, so a missing moto skips the tier as everywhere else
        // Its own thread and runtime: callers may be inside a runtime already.
        std::thread::spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(create_secret(
                    &serde_json::json!({ "SECRET_KEY": SECRET }).to_string(),
                ))
        })
        .join()
        .expect("the secret is made")
    })
}

/// The environment a deployed function gets, pointed at moto: its secrets
/// in Secrets Manager ([`secrets_arn`]), none in the environment.
pub fn lambda_env(table: &str) -> Vec<(String, String)> {
    [
        ("TABLE_NAME", table),
        ("ALLOWED_ORIGINS", "https://blog.example.com"),
        ("SECRETS_ARN", secrets_arn()),
        ("OWNER_EMAIL", OWNER),
        ("SENDER_EMAIL", SENDER),
        ("SITE_NAME", "Example Blog"),
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_LAMBDA_FUNCTION_NAME", "rust-aws"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .chain([("AWS_ENDPOINT_URL".to_owned(), moto_url().to_owned())])
    .collect()
}

impl Function {
    /// Starts the binary (under `BOOTSTRAP_RUNNER`, e.g. qemu, when set) with `env`.
    pub async fn start(env: &[(String, String)]) -> Self {
        let bin = bootstrap_bin();
        if !bin.exists() {
            skip_tier(
                &format!(
                    "{} is missing: build it first (`make test` does)",
                    bin.display()
                ),
                "the release bootstrap is not built: this test binary's black-box tests are \
                 skipped. `make test` builds it and runs every tier.",
            );
        }
        let mut argv = Vec::new();
        if let Ok(runner) = std::env::var("BOOTSTRAP_RUNNER")
            && !runner.is_empty()
        {
            argv.push(runner);
        }
        argv.push(bin.display().to_string());
        Self::spawn(&argv, None, env).await
    }

    /// Starts `argv` (a program and its arguments) in `cwd` with only `env`,
    /// `PATH` (unless `env` sets it) and its own Runtime API.
    pub async fn spawn(argv: &[String], cwd: Option<&Path>, env: &[(String, String)]) -> Self {
        let runtime = RuntimeApi::start().await;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        let log_path = std::env::temp_dir().join(format!(
            "rust-aws-blackbox-{}.log",
            rust_aws::domain::ids::new_id()
        ));
        let log = std::fs::File::create(&log_path).unwrap();
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let spawned = Instant::now();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", argv[0]));
        Self {
            runtime,
            child,
            log_path,
            spawned,
        }
    }

    /// Invokes with an event and returns the HTTP response it produced.
    pub async fn call(&self, event: &str) -> HttpReply {
        match self.runtime.invoke(event).await {
            Outcome::Response(v) => {
                let mut headers: HashMap<String, String> = HashMap::new();
                if let Some(h) = v["headers"].as_object() {
                    for (k, val) in h {
                        headers.insert(
                            k.to_ascii_lowercase(),
                            val.as_str().unwrap_or_default().to_owned(),
                        );
                    }
                }
                if let Some(h) = v["multiValueHeaders"].as_object() {
                    for (k, vals) in h {
                        let joined: Vec<&str> = vals
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect();
                        headers
                            .entry(k.to_ascii_lowercase())
                            .or_insert_with(|| joined.join(", "));
                    }
                }
                // Payload 2.0 answers carry `Set-Cookie` in `cookies`.
                let cookies: Vec<&str> = v["cookies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if !cookies.is_empty() {
                    headers.insert("set-cookie".into(), cookies.join(", "));
                }
                let body = v["body"].as_str().unwrap_or_default();
                let body = if v["isBase64Encoded"].as_bool() == Some(true) {
                    use base64::Engine;
                    String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(body)
                            .unwrap(),
                    )
                    .unwrap()
                } else {
                    body.to_owned()
                };
                HttpReply {
                    status: v["statusCode"].as_u64().unwrap_or(0) as u16,
                    headers,
                    body,
                }
            }
            Outcome::Error(e) => panic!("invocation error: {e}"),
        }
    }

    /// Invokes with a non-HTTP event and returns the JSON it answered.
    pub async fn call_event(&self, event: &str) -> Value {
        match self.runtime.invoke(event).await {
            Outcome::Response(v) => v,
            Outcome::Error(e) => panic!("invocation error: {e}"),
        }
    }

    /// Waits for the process to exit (for start-up failures).
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Everything the function wrote to stdout and stderr.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

/// What the benchmark measures a process by.
#[allow(
    dead_code,
    reason = "the benchmark's driver (examples/bench.rs) uses it; the tests do not"
)]
impl Function {
    /// Waits up to `within` for the end of the function's init (its first
    /// `GET /next`) and returns when it came; an init error, an exit or the
    /// timeout is an `Err` naming it.
    pub async fn ready(&mut self, within: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(error) = self.runtime.init_error() {
                return Err(format!("init error {error}"));
            }
            if let Some(at) = self.runtime.first_next() {
                return Ok(at);
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status}) before its first /next"));
            }
            if Instant::now() > deadline {
                return Err(format!("no /next within {within:?}"));
            }
            // Woken at once by /next or an init error; the tick notices an exit.
            let _ = tokio::time::timeout(
                Duration::from_millis(50),
                self.runtime.shared.ready.notified(),
            )
            .await;
        }
    }

    /// The process id (for /proc/<pid>/status).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks the process to stop with SIGTERM and waits for it (a tool such
    /// as valgrind writes its results then; SIGKILL, on drop, would lose them).
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
