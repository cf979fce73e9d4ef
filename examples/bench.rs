//! The cold-start benchmark's driver (`make bench` → bench/run.sh, which
//! builds the programs, lists them in a JSON file and renders this driver's
//! results with bench/report.py).
//!
//! It runs every program the way the black-box tests run `bootstrap`, with the
//! same pieces (tests/support/runtime.rs): a child process with the
//! environment Lambda gives a function, its own Runtime API emulator on
//! loopback, and one moto (tests/support/moto_server.py, each call timed) with
//! the table created from the contract. Programs are measured in interleaved
//! rounds, each in a new random order, so a load spike from another build on a
//! shared machine hits all of them alike.
//!
//! Measured per program:
//! - init: spawn → its first `GET /next` reaches the emulator;
//! - cold: spawn → the answer to the first event (a `POST /contact`, HTTP API
//!   payload v2, which writes to DynamoDB and sends through SES), and how much
//!   of it moto spent answering;
//! - warm: event queued → answer, over many requests in one process;
//! - peak RSS: `VmHWM` after 100 requests;
//! - instructions (callgrind) from exec to the first `GET /next`, to the first
//!   answer and to the 11th.
//!
//! `cargo run --example bench -- --programs FILE --out FILE [--cold-reps 20]
//! [--qemu-reps 10] [--warm 200] [--callgrind-reps 3]`

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../tests/support/runtime.rs"]
mod runtime;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use runtime::{Function, Outcome};
use serde::Deserialize;
use serde_json::{Value, json};

/// One program to measure, as bench/run.sh lists it.
#[derive(Debug, Clone, Deserialize)]
struct Program {
    name: String,
    cmd: Vec<String>,
    #[serde(default)]
    cwd: Option<PathBuf>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// Variables the program must not get (e.g. the credentials, to make the
    /// SDK walk its default chains).
    #[serde(default)]
    unset: Vec<String>,
    /// An emulator to run it under (qemu): cold starts only, fewer rounds.
    #[serde(default)]
    runner: Vec<String>,
    /// The product with one start-up setting changed: no warm run.
    #[serde(default)]
    variant: bool,
    /// The first event's kind: "contact" (default) or "listing".
    #[serde(default)]
    first: Option<String>,
    /// Also measured under the Lambda model (TLS endpoints, a memory size's
    /// CPU share after init).
    #[serde(default)]
    lambda_model: bool,
}

impl Program {
    fn first(&self) -> &str {
        self.first.as_deref().unwrap_or("contact")
    }
}

#[derive(Debug, Deserialize)]
struct Programs {
    programs: Vec<Program>,
}

#[derive(Debug)]
struct Args {
    programs: PathBuf,
    out: PathBuf,
    cold_reps: usize,
    qemu_reps: usize,
    warm: usize,
    callgrind_reps: usize,
    /// Memory sizes (MB) of the Lambda model; none turns it off.
    sizes: Vec<u32>,
    model_reps: usize,
}

fn args() -> Args {
    let mut a = Args {
        programs: PathBuf::new(),
        out: PathBuf::new(),
        cold_reps: 20,
        qemu_reps: 10,
        warm: 200,
        callgrind_reps: 3,
        sizes: vec![128, 512, 1769],
        model_reps: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let count = || value.parse::<usize>().expect("a count");
        match flag.as_str() {
            "--programs" => a.programs = value.clone().into(),
            "--out" => a.out = value.clone().into(),
            "--cold-reps" => a.cold_reps = count(),
            "--qemu-reps" => a.qemu_reps = count(),
            "--warm" => a.warm = count(),
            "--callgrind-reps" => a.callgrind_reps = count(),
            "--model-reps" => a.model_reps = count(),
            "--sizes" => {
                a.sizes = value
                    .split(',')
                    .filter(|v| !v.is_empty())
                    .map(|v| v.parse().expect("a memory size in MB"))
                    .collect();
            }
            _ => panic!("unknown argument {flag}"),
        }
    }
    assert!(
        !a.programs.as_os_str().is_empty() && !a.out.as_os_str().is_empty(),
        "--programs and --out are required"
    );
    a
}

/// The events: the HTTP API fixture from a new source IP each time.
struct Events {
    template: Value,
    seq: u32,
}

impl Events {
    fn new() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/apigw-v2-http-api.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        Self {
            template: serde_json::from_str(&text).unwrap(),
            seq: 0,
        }
    }

    fn fresh(&mut self) -> Value {
        self.seq += 1;
        let mut ev = self.template.clone();
        let ip = format!("198.51.{}.{}", (self.seq >> 8) & 255, self.seq & 255);
        ev["requestContext"]["http"]["sourceIp"] = json!(ip);
        ev["headers"]["x-forwarded-for"] = json!(ip);
        ev["requestContext"]["requestId"] = json!(rust_aws::domain::ids::new_id());
        ev
    }

    /// `POST /contact` with a new message; answered 202.
    fn contact(&mut self) -> String {
        let mut ev = self.fresh();
        let body = json!({
            "name": "Ann Example",
            "email": "ann@example.org",
            "subject": "Hello",
            "message": format!("I liked your post ({}).\nThanks!", self.seq),
        })
        .to_string();
        ev["headers"]["content-length"] = json!(body.len().to_string());
        ev["body"] = json!(body);
        ev.to_string()
    }

    /// `GET /comment?post=…`: the read a page view makes; answered 200.
    fn listing(&mut self) -> String {
        let mut ev = self.fresh();
        ev["routeKey"] = json!("GET /comment");
        ev["requestContext"]["routeKey"] = json!("GET /comment");
        ev["rawPath"] = json!("/comment");
        ev["requestContext"]["http"]["path"] = json!("/comment");
        ev["requestContext"]["http"]["method"] = json!("GET");
        ev["rawQueryString"] = json!("post=%2Fposts%2Fhello%2F");
        ev["queryStringParameters"] = json!({"post": "/posts/hello/"});
        let headers = ev["headers"].as_object_mut().unwrap();
        headers.remove("content-type");
        headers.remove("content-length");
        ev.as_object_mut().unwrap().remove("body");
        ev.to_string()
    }

    /// An event of `kind` and the status it must be answered with.
    fn make(&mut self, kind: &str) -> (String, u64) {
        match kind {
            "listing" => (self.listing(), 200),
            _ => (self.contact(), 202),
        }
    }
}

/// The CPU a Lambda function gets after its init: memory/1769 of one vCPU
/// (AWS documents 1,769 MB as one vCPU), enforced the way Lambda enforces
/// it, by a CFS bandwidth quota. The period is 20 ms, the throttling interval
/// observed on Lambda (pwrdrvr/lambda-dispatch issue 246: a function that
/// spends its share early in a 20 ms slice is paused to the slice's end).
/// Init runs at full speed (Lambda's burst during init): a process is moved
/// into its group once it first asks for an event.
///
/// cgroup v1 (`/sys/fs/cgroup/cpu`) or v2 (a `cpu` controller at
/// `/sys/fs/cgroup`), whichever the machine has; root only.
#[derive(Debug)]
struct CpuShare {
    /// The benchmark's parent group.
    parent: PathBuf,
    v2: bool,
}

const CFS_PERIOD_US: u64 = 20_000;
const ONE_VCPU_MB: u64 = 1769;

impl CpuShare {
    /// The machine's cgroup hierarchy for CPU bandwidth, or why there is none.
    fn new() -> Result<Self, String> {
        let v1 = PathBuf::from("/sys/fs/cgroup/cpu");
        let v2 = PathBuf::from("/sys/fs/cgroup");
        let (root, is_v2) = if v1.join("cpu.cfs_quota_us").exists() {
            (v1, false)
        } else if std::fs::read_to_string(v2.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "cpu"))
        {
            (v2, true)
        } else {
            return Err("no cgroup CPU controller (v1 or v2) on this machine".into());
        };
        let parent = root.join("rust-aws-bench");
        std::fs::create_dir_all(&parent)
            .map_err(|e| format!("cannot create {}: {e} (needs root)", parent.display()))?;
        if is_v2 {
            std::fs::write(parent.join("cgroup.subtree_control"), "+cpu")
                .map_err(|e| format!("cannot enable the cpu controller: {e}"))?;
        }
        Ok(Self { parent, v2: is_v2 })
    }

    /// Moves process `pid` (all its threads) into a group of its own with
    /// the CPU share of a function of `mb` megabytes.
    fn place(&self, pid: u32, mb: u32) -> Throttled {
        let dir = self.parent.join(format!("p{pid}"));
        let _ = std::fs::create_dir(&dir);
        let quota = (CFS_PERIOD_US * u64::from(mb) / ONE_VCPU_MB).max(1000);
        let write = |file: &str, value: String| {
            std::fs::write(dir.join(file), &value)
                .unwrap_or_else(|e| panic!("{}/{file} <- {value}: {e}", dir.display()));
        };
        if self.v2 {
            write("cpu.max", format!("{quota} {CFS_PERIOD_US}"));
        } else {
            write("cpu.cfs_period_us", CFS_PERIOD_US.to_string());
            write("cpu.cfs_quota_us", quota.to_string());
        }
        write("cgroup.procs", pid.to_string());
        Throttled { dir }
    }
}

impl Drop for CpuShare {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.parent);
    }
}

/// A process's group; removed when dropped (after the process has exited).
#[derive(Debug)]
struct Throttled {
    dir: PathBuf,
}

impl Throttled {
    /// Removes the group; its process must be gone (killed and reaped).
    fn remove(self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("bench: could not remove {}", self.dir.display());
    }
}

/// Fails the run unless the function answered with `expected`.
fn check(name: &str, what: &str, outcome: &Outcome, expected: u64) {
    match outcome {
        Outcome::Response(v) if v["statusCode"].as_u64() == Some(expected) => {}
        Outcome::Response(v) => panic!("{name}: {what} answered {}", v["statusCode"]),
        Outcome::Error(e) => panic!("{name}: {what} was an invocation error: {e}"),
    }
}

struct Bench {
    env: BTreeMap<String, String>,
    /// Tables made so far (each phase that writes starts on a new one).
    tables: u32,
    /// What the Lambda model changes in it: the endpoints behind TLS and the
    /// test CA each runtime trusts.
    tls_env: BTreeMap<String, String>,
    events: Events,
    rng: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap()
}

impl Bench {
    /// What Lambda sets for a function (provided, python and nodejs alike):
    /// the black-box tests' environment plus what they do not need.
    async fn new(table: &str) -> Self {
        let mut env: BTreeMap<String, String> = runtime::lambda_env(table).into_iter().collect();
        for (k, v) in [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("LANG", "en_US.UTF-8"),
            ("TZ", ":UTC"),
            ("AWS_DEFAULT_REGION", runtime::REGION),
            ("AWS_ACCESS_KEY_ID", "ASIABENCHBENCHBENCH0"),
            ("AWS_SESSION_TOKEN", "bench-session-token"),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/rust-aws"),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]0123456789abcdef",
            ),
            ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"),
            // Each event comes from a new source IP anyway; the mail budget
            // must not run out in the middle of the warm runs.
            ("RATE_LIMIT_PER_MINUTE", "1000"),
            ("MAIL_PER_HOUR", "1000000"),
        ] {
            env.insert(k.to_owned(), v.to_owned());
        }
        let tls = runtime::moto_tls();
        let ca = tls.ca_file.display().to_string();
        let tls_env = [
            ("AWS_ENDPOINT_URL_DYNAMODB", tls.dynamodb.clone()),
            ("AWS_ENDPOINT_URL_SESV2", tls.ses.clone()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", tls.secrets.clone()),
            ("SSL_CERT_FILE", ca.clone()),
            ("AWS_CA_BUNDLE", ca.clone()),
            ("NODE_EXTRA_CA_CERTS", ca),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let seed = nanos(std::time::UNIX_EPOCH.elapsed().unwrap()) | 1;
        Self {
            env,
            tables: 0,
            tls_env,
            events: Events::new(),
            rng: seed,
        }
    }

    /// Points every program started from now on at a new, empty table.
    /// moto answers a table's writes and index queries more slowly the more
    /// items it holds (real DynamoDB does not), so each measured phase
    /// starts empty instead of inheriting the earlier phases' thousand
    /// messages.
    async fn fresh_table(&mut self) {
        self.tables += 1;
        let name = format!(
            "{}-{}",
            self.env["TABLE_NAME"].split('-').next().unwrap(),
            self.tables
        );
        let name = format!("{name}-{}", &rust_aws::domain::ids::new_id()[..6]);
        runtime::create_table(&name).await;
        self.env.insert("TABLE_NAME".to_owned(), name);
    }

    /// A new random order of `items` (xorshift: fairness, not secrecy).
    fn shuffled<T: Clone>(&mut self, items: &[T]) -> Vec<T> {
        let mut v = items.to_vec();
        for i in (1..v.len()).rev() {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            v.swap(i, (self.rng % (i as u64 + 1)) as usize);
        }
        v
    }

    async fn spawn(&self, p: &Program, wrapper: &[String], tls: bool) -> Function {
        let mut env = self.env.clone();
        if tls {
            env.remove("AWS_ENDPOINT_URL");
            env.extend(self.tls_env.clone());
        }
        env.extend(p.env.clone());
        env.retain(|k, _| !p.unset.contains(k));
        let env: Vec<(String, String)> = env.into_iter().collect();
        let argv: Vec<String> = wrapper
            .iter()
            .chain(&p.runner)
            .chain(&p.cmd)
            .cloned()
            .collect();
        let f = Function::spawn(&argv, p.cwd.as_deref(), &env).await;
        f.runtime.set_budget(Duration::from_secs(30));
        f
    }

    /// One process: init, the first event, and moto's share of it. Under
    /// the Lambda model (`share`: the CPU share of a memory size) the
    /// endpoints are behind TLS and the process gets that share from its
    /// first `GET /next` on.
    async fn cold(&mut self, p: &Program, share: Option<(&CpuShare, u32)>) -> Value {
        runtime::moto_calls().await; // forget earlier calls
        let mut f = self.spawn(p, &[], share.is_some()).await;
        let ready = f.ready(Duration::from_secs(300)).await;
        let ready = ready.unwrap_or_else(|e| panic!("{}: {e}\n{}", p.name, f.logs()));
        let group = share.map(|(cpu, mb)| cpu.place(f.pid(), mb));
        let (event, expected) = self.events.make(p.first());
        let t = f
            .runtime
            .invoke_timed(&event, Duration::from_secs(120))
            .await;
        check(&p.name, "the cold event", &t.outcome, expected);
        let spawned = f.spawned;
        drop(f);
        if let Some(group) = group {
            group.remove();
        }
        let calls: Vec<_> = runtime::moto_calls()
            .await
            .into_iter()
            .filter(|c| spawned <= c.started && c.started <= t.answered)
            .collect();
        json!({
            "init_ns": nanos(ready - spawned),
            "cold_ns": nanos(t.answered - spawned),
            "moto_ns": calls.iter().map(|c| nanos(c.took)).sum::<u64>(),
            "moto_calls": calls.len(),
        })
    }

    /// `n` requests after the cold one, one process per program, interleaved:
    /// request i goes to every program (in a new random order) before request
    /// i+1 goes to any. Memory after 100 requests and at the end.
    async fn warm(
        &mut self,
        progs: &[Program],
        n: usize,
        share: Option<(&CpuShare, u32)>,
    ) -> BTreeMap<String, Value> {
        let mut runs = BTreeMap::new();
        let mut groups = Vec::new();
        for p in progs {
            let mut f = self.spawn(p, &[], share.is_some()).await;
            if let Err(e) = f.ready(Duration::from_secs(300)).await {
                panic!("{}: {e}\n{}", p.name, f.logs());
            }
            groups.extend(share.map(|(cpu, mb)| cpu.place(f.pid(), mb)));
            runs.insert(p.name.clone(), f);
        }
        runtime::moto_calls().await;
        let mut lat: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        let mut at100 = BTreeMap::new();
        for i in 0..=n {
            for p in self.shuffled(progs) {
                let f = &runs[&p.name];
                let event = self.events.contact();
                let t = f
                    .runtime
                    .invoke_timed(&event, Duration::from_secs(120))
                    .await;
                check(&p.name, "a warm POST /contact", &t.outcome, 202);
                if i > 0 {
                    lat.entry(p.name.clone())
                        .or_default()
                        .push(nanos(t.answered - t.queued));
                }
                if i + 1 == (n + 1).min(100) {
                    at100.insert(p.name.clone(), memory_kib(f.pid()));
                }
            }
        }
        let mut moto: Vec<u64> = runtime::moto_calls()
            .await
            .iter()
            .map(|c| nanos(c.took))
            .collect();
        let moto_median = median(&mut moto);
        let memory: BTreeMap<String, (u64, u64)> = runs
            .iter()
            .map(|(name, f)| (name.clone(), memory_kib(f.pid())))
            .collect();
        drop(runs);
        for group in groups {
            group.remove();
        }
        progs
            .iter()
            .map(|p| {
                let ((hwm100, rss100), (hwm_end, _)) = (at100[&p.name], memory[&p.name]);
                let w = json!({
                    "lat": summarize(lat.remove(&p.name).unwrap_or_default()),
                    "hwm100_kib": hwm100,
                    "rss100_kib": rss100,
                    "hwm_end_kib": hwm_end,
                    "requests": n + 1,
                    "moto_call_ns_median": moto_median,
                });
                (p.name.clone(), w)
            })
            .collect()
    }

    /// Instructions from exec to the first `GET /next` (`responses` 0) or to
    /// the n-th answer.
    async fn callgrind(&mut self, p: &Program, responses: usize) -> u64 {
        let out =
            std::env::temp_dir().join(format!("callgrind.{}", rust_aws::domain::ids::new_id()));
        let wrapper: Vec<String> = [
            "valgrind",
            "--tool=callgrind",
            &format!("--callgrind-out-file={}", out.display()),
            "--dump-line=no",
            "--trace-children=no",
        ]
        .map(str::to_owned)
        .to_vec();
        let mut f = self.spawn(p, &wrapper, false).await;
        if let Err(e) = f.ready(Duration::from_secs(600)).await {
            panic!("{} under callgrind: {e}\n{}", p.name, f.logs());
        }
        for i in 0..responses {
            let (event, expected) = self.events.make(if i == 0 { p.first() } else { "contact" });
            let t = f
                .runtime
                .invoke_timed(&event, Duration::from_secs(600))
                .await;
            check(&p.name, "an event under callgrind", &t.outcome, expected);
        }
        // valgrind stops the client and writes its totals on SIGTERM.
        f.terminate();
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let _ = std::fs::remove_file(&out);
        text.lines()
            .filter_map(|l| l.strip_prefix("summary:").or(l.strip_prefix("totals:")))
            .filter_map(|v| v.split_whitespace().next()?.parse().ok())
            .next_back()
            .unwrap_or_else(|| panic!("{}: callgrind wrote no totals", p.name))
    }
}

impl Bench {
    async fn callgrinds(&mut self, p: &Program, responses: usize, reps: usize) -> Vec<u64> {
        let mut v = Vec::with_capacity(reps);
        for _ in 0..reps {
            v.push(self.callgrind(p, responses).await);
        }
        v
    }
}

/// `VmHWM` and `VmRSS` of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The median as Python's statistics.median has it (the mean of the middle
/// two of an even count).
fn median(xs: &mut [u64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable();
    let m = xs.len() / 2;
    Some(if xs.len() % 2 == 1 {
        xs[m] as f64
    } else {
        (xs[m - 1] as f64 + xs[m] as f64) / 2.0
    })
}

/// Median, p99 (nearest rank), minimum and count of nanosecond samples, in ms.
fn summarize(mut ns: Vec<u64>) -> Value {
    let Some(med) = median(&mut ns) else {
        return Value::Null;
    };
    let rank = ((0.99 * ns.len() as f64).round() as usize).saturating_sub(1);
    let p99 = ns[rank.min(ns.len() - 1)];
    json!({
        "median_ms": med / 1e6,
        "p99_ms": p99 as f64 / 1e6,
        "min_ms": ns[0] as f64 / 1e6,
        "n": ns.len(),
    })
}

fn step(msg: &str) {
    eprintln!("bench: {msg}");
}

#[tokio::main]
async fn main() {
    let args = args();
    let text = std::fs::read_to_string(&args.programs).unwrap();
    let progs: Programs = serde_json::from_str(&text).unwrap();
    let progs = progs.programs;
    let native: Vec<Program> = progs
        .iter()
        .filter(|p| p.runner.is_empty())
        .cloned()
        .collect();
    let emulated: Vec<Program> = progs
        .iter()
        .filter(|p| !p.runner.is_empty())
        .cloned()
        .collect();

    let table = format!("bench-{}", &rust_aws::domain::ids::new_id()[..8]);
    runtime::create_table(&table).await;
    runtime::verify_identity(runtime::SENDER).await;
    runtime::verify_identity(runtime::OWNER).await;
    let mut bench = Bench::new(&table).await;

    let mut cold: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    // Page every binary and interpreter into the page cache first, so the
    // first measured round is not a disk read.
    for p in &progs {
        bench.cold(p, None).await;
    }
    for (group, reps, what) in [
        (&native, args.cold_reps, "cold starts"),
        (&emulated, args.qemu_reps, "cold starts under qemu"),
    ] {
        if group.is_empty() {
            continue;
        }
        step(&format!(
            "{what}: {reps} interleaved rounds of {} programs",
            group.len()
        ));
        for _ in 0..reps {
            for p in bench.shuffled(group) {
                let c = bench.cold(&p, None).await;
                cold.entry(p.name.clone()).or_default().push(c);
            }
        }
    }

    step(&format!(
        "warm: {} requests after the cold one, interleaved across programs",
        args.warm
    ));
    let warm_progs: Vec<Program> = native.iter().filter(|p| !p.variant).cloned().collect();
    bench.fresh_table().await;
    let mut warm = bench.warm(&warm_progs, args.warm, None).await;

    // The Lambda model: every size in every round, programs in a new order
    // each time, so a noisy neighbour hits all of them alike.
    let modelled: Vec<Program> = native.iter().filter(|p| p.lambda_model).cloned().collect();
    let share = if args.sizes.is_empty() || modelled.is_empty() {
        Err("not asked for (--sizes)".to_owned())
    } else {
        CpuShare::new()
    };
    let mut model: BTreeMap<String, BTreeMap<u32, Vec<Value>>> = BTreeMap::new();
    let mut model_warm = BTreeMap::new();
    let model_note = match &share {
        Ok(cpu) => {
            step(&format!(
                "Lambda model: {} rounds of {} programs at {:?} MB",
                args.model_reps,
                modelled.len(),
                args.sizes
            ));
            bench.fresh_table().await;
            let pairs: Vec<(Program, u32)> = modelled
                .iter()
                .flat_map(|p| args.sizes.iter().map(move |mb| (p.clone(), *mb)))
                .collect();
            for _ in 0..args.model_reps {
                for (p, mb) in bench.shuffled(&pairs) {
                    let c = bench.cold(&p, Some((cpu, mb))).await;
                    model
                        .entry(p.name)
                        .or_default()
                        .entry(mb)
                        .or_default()
                        .push(c);
                }
            }
            let mb = args.sizes[0];
            step(&format!(
                "Lambda model: {} warm requests at {mb} MB",
                args.warm
            ));
            let warm_modelled: Vec<Program> =
                modelled.iter().filter(|p| !p.variant).cloned().collect();
            bench.fresh_table().await;
            model_warm = bench.warm(&warm_modelled, args.warm, Some((cpu, mb))).await;
            Value::Null
        }
        Err(why) => {
            step(&format!("Lambda model skipped: {why}"));
            json!(why)
        }
    };

    step("callgrind: instructions to the first /next, the first and the 11th response");
    let mut grind: BTreeMap<String, Value> = BTreeMap::new();
    for p in &native {
        if p.name.starts_with("node") {
            continue; // V8 under valgrind takes minutes and proves nothing new
        }
        let reps = if p.name.starts_with("python") {
            1
        } else {
            args.callgrind_reps
        };
        let init = bench.callgrinds(p, 0, reps).await;
        let first = bench.callgrinds(p, 1, reps).await;
        let mut cg = json!({"init_ir": init, "cold_ir": first});
        if !p.variant {
            let eleven = bench.callgrinds(p, 11, reps).await;
            let per: Vec<f64> = eleven
                .iter()
                .zip(&first)
                .map(|(e, c)| (*e as f64 - *c as f64) / 10.0)
                .collect();
            cg["warm_ir_per_request"] = json!(per);
        }
        grind.insert(p.name.clone(), cg);
    }

    let mut results = serde_json::Map::new();
    for p in &progs {
        let runs = cold.remove(&p.name).unwrap_or_default();
        let col =
            |key: &str| -> Vec<u64> { runs.iter().map(|c| c[key].as_u64().unwrap()).collect() };
        let mut r = json!({
            "qemu": !p.runner.is_empty(),
            "init": summarize(col("init_ns")),
            "cold_start": summarize(col("cold_ns")),
            "moto": summarize(col("moto_ns")),
            "moto_calls": median(&mut col("moto_calls")),
        });
        if let Some(mut w) = warm.remove(&p.name) {
            r["warm_lat"] = w["lat"].take();
            w.as_object_mut().unwrap().remove("lat");
            r["warm"] = w;
        }
        if let Some(cg) = grind.remove(&p.name) {
            r["callgrind"] = cg;
        }
        r["cold"] = json!(runs);
        if let Some(sizes) = model.remove(&p.name) {
            let mut m = serde_json::Map::new();
            for (mb, runs) in sizes {
                let col = |key: &str| -> Vec<u64> {
                    runs.iter().map(|c| c[key].as_u64().unwrap()).collect()
                };
                m.insert(
                    mb.to_string(),
                    json!({
                        "init": summarize(col("init_ns")),
                        "cold_start": summarize(col("cold_ns")),
                        "moto": summarize(col("moto_ns")),
                        "moto_calls": median(&mut col("moto_calls")),
                        "cold": runs,
                    }),
                );
            }
            r["lambda"] = Value::Object(m);
        }
        if let Some(mut w) = model_warm.remove(&p.name) {
            r["lambda_warm_lat"] = w["lat"].take();
            w.as_object_mut().unwrap().remove("lat");
            r["lambda_warm"] = w;
        }
        results.insert(p.name.clone(), r);
    }
    let out = json!({
        "programs": results,
        "lambda_model": {
            "sizes": args.sizes,
            "warm_size": args.sizes.first(),
            "cfs_period_us": CFS_PERIOD_US,
            "skipped": model_note,
        },
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&out).unwrap()).unwrap();
}
