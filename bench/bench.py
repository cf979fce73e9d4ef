#!/usr/bin/env python3
"""The cold-start benchmark's driver: a Lambda Runtime API emulator, moto, and
the measurements. `bench/run.sh` builds the programs and calls this; it writes
a JSON file of results that `bench/report.py` turns into BENCHMARKS.md.

Every program runs as a child process with the environment a Lambda function
gets, talking to its own Runtime API emulator on loopback, and, for the
programs that make AWS calls, to one moto server on loopback. Programs are
measured in interleaved rounds (A, B, C, A, B, C, ...) so a load spike from
another build on this shared machine hits all of them alike.

Measured per program:
  init        spawn -> the first GET /next reaches the emulator
  cold        spawn -> the emulator receives the response to the first event,
              a POST /contact (HTTP API payload v2) that writes to DynamoDB and
              sends through SES
  warm        event queued -> its response received, over many requests in one process
  peak RSS    VmHWM from /proc/<pid>/status after 100 requests
  Ir          instructions executed (callgrind), from exec until the first
              GET /next (the emulator signals the process when /next arrives)
              and until the first response
"""

import argparse
import copy
import http.server
import json
import os
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "apigw-v2-http-api.json")
REGION = "eu-west-1"
OWNER = "owner@example.com"
SENDER = "noreply@example.com"
SECRET = "bench-secret-0123456789abcdef-0123456789abcdef"
NEXT = "/2018-06-01/runtime/invocation/next"


def now():
    """CLOCK_MONOTONIC in ns: the clock moto_timed.py stamps its calls with."""
    return time.monotonic_ns()


# --------------------------------------------------------------------------
# The Lambda Runtime API emulator: one per function process.

class Runtime:
    """A minimal Runtime API: hands out queued events on /next, collects answers."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = {}
        self.lock = threading.Lock()
        self.first_next = threading.Event()
        self.first_next_ns = None
        self.init_error = None
        runtime = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):
                pass

            def send(self, status, body, headers=()):
                head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}",
                        "Content-Type: application/json", *headers]
                # One write: headers and body in one segment.
                self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)

            def do_GET(self):
                if self.path != NEXT:
                    return self.send(404, b"{}")
                t = now()
                with runtime.lock:
                    if runtime.first_next_ns is None:
                        runtime.first_next_ns = t
                runtime.first_next.set()
                item = runtime.events.get()
                if item is None:
                    self.close_connection = True
                    return self.send(410, b"{}")
                req_id, body = item
                deadline = int(time.time() * 1000) + 30_000
                self.send(200, body, [
                    f"Lambda-Runtime-Aws-Request-Id: {req_id}",
                    f"Lambda-Runtime-Deadline-Ms: {deadline}",
                    "Lambda-Runtime-Invoked-Function-Arn: "
                    "arn:aws:lambda:eu-west-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0",
                ])

            def do_POST(self):
                t = now()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = self.path.split("/")
                if self.path.endswith("/init/error"):
                    runtime.init_error = body
                    runtime.first_next.set()
                elif len(parts) == 6 and parts[5] in ("response", "error"):
                    with runtime.lock:
                        waiter = runtime.answers.get(parts[4])
                    if waiter is not None:
                        waiter.put((t, parts[5], body))
                self.send(202, b"{}")

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a killed function drops its connection: expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, event, timeout=120):
        """Queues one event; returns (queued_ns, answered_ns, kind, body)."""
        req_id = os.urandom(8).hex()
        waiter = queue.Queue()
        with self.lock:
            self.answers[req_id] = waiter
        queued = now()
        self.events.put((req_id, event))
        t, kind, body = waiter.get(timeout=timeout)
        with self.lock:
            del self.answers[req_id]
        return queued, t, kind, body

    def close(self):
        self.events.put(None)
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------
# Events.

_template = None
_seq = 0


def _fresh_event():
    """A copy of the fixture from a new source IP with a new request id, and its sequence number."""
    global _template, _seq
    if _template is None:
        with open(FIXTURE) as f:
            _template = json.load(f)
    _seq += 1
    ev = copy.deepcopy(_template)
    ip = f"198.51.{(_seq >> 8) & 255}.{_seq & 255}"
    ev["requestContext"]["http"]["sourceIp"] = ip
    ev["headers"]["x-forwarded-for"] = ip
    ev["requestContext"]["requestId"] = os.urandom(8).hex()
    return ev, _seq


def contact_event():
    """POST /contact from the fixture, with a fresh source IP and message each time."""
    ev, seq = _fresh_event()
    body = json.dumps({"name": "Ann Example", "email": "ann@example.org",
                       "subject": "Hello",
                       "message": f"I liked your post ({seq}).\nThanks!"})
    ev["body"] = body
    ev["headers"]["content-length"] = str(len(body))
    return json.dumps(ev).encode()


def listing_event():
    """GET /comment?post=... from the same fixture: the read a page view makes."""
    ev, _ = _fresh_event()
    ev["routeKey"] = ev["requestContext"]["routeKey"] = "GET /comment"
    ev["rawPath"] = ev["requestContext"]["http"]["path"] = "/comment"
    ev["requestContext"]["http"]["method"] = "GET"
    ev["rawQueryString"] = "post=%2Fposts%2Fhello%2F"
    ev["queryStringParameters"] = {"post": "/posts/hello/"}
    for h in ("content-type", "content-length"):
        ev["headers"].pop(h, None)
    ev.pop("body", None)
    return json.dumps(ev).encode()


# The first event a process gets, and the status it must answer with.
EVENTS = {"contact": (contact_event, 202), "listing": (listing_event, 200)}


def status_of(kind, body):
    if kind != "response":
        return f"invocation error {body[:200]!r}"
    try:
        return json.loads(body).get("statusCode")
    except ValueError:
        return f"not JSON {body[:200]!r}"


# --------------------------------------------------------------------------
# moto.

class Moto:
    def __init__(self, python):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [python, os.path.join(ROOT, "bench", "moto_timed.py"), str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise SystemExit("moto did not start (pip install 'moto[server]')")
                time.sleep(0.1)

    def calls(self):
        """moto's calls since the last look: [[start_ns, end_ns, target], ...]."""
        with urllib.request.urlopen(self.url + "/__bench/calls") as r:
            return json.load(r)

    def setup(self, table):
        """The table as template.yaml declares it, and the SES identities."""
        import boto3
        kw = dict(region_name=REGION, endpoint_url=self.url,
                  aws_access_key_id="bench", aws_secret_access_key="bench")
        ddb = boto3.client("dynamodb", **kw)
        attrs = ["pk", "sk", "list_pk", "list_sk", "outbox_pk", "outbox_sk"]
        gsi = [("by_post", "list_pk", "list_sk"), ("outbox", "outbox_pk", "outbox_sk")]
        ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attrs],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                       {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": n,
                "KeySchema": [{"AttributeName": h, "KeyType": "HASH"},
                              {"AttributeName": r, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}} for n, h, r in gsi])
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires_at"})
        ses = boto3.client("sesv2", **kw)
        for identity in (SENDER, OWNER):
            ses.create_email_identity(EmailIdentity=identity)
        self.calls()

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


# --------------------------------------------------------------------------
# Programs.

class Program:
    def __init__(self, name, cmd, cwd=None, env=None, runner=None, aws=True,
                 unset=(), variant=False, first="contact"):
        self.name, self.cmd, self.cwd = name, cmd, cwd
        # first: the first event's kind (EVENTS); later ones are POST /contact.
        self.first = first
        self.extra_env = env or {}
        self.unset = unset
        # variant: the product with one start-up setting changed (no warm run).
        self.variant = variant
        self.runner = runner or []
        self.aws = aws


def lambda_env(moto, table, runtime_address):
    """What Lambda sets for a function (provided/python/nodejs alike), pointed at moto."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": runtime_address,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "ASIABENCHBENCHBENCH0",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench-session-token",
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        # The product's configuration (the peers read the same names).
        "TABLE_NAME": table,
        "ALLOWED_ORIGINS": "https://blog.example.com",
        "SECRET_KEY": SECRET,
        "OWNER_EMAIL": OWNER,
        "SENDER_EMAIL": SENDER,
        "SITE_NAME": "Example Blog",
        # Each event comes from a new source IP anyway; the mail budget must
        # not run out in the middle of the warm runs.
        "RATE_LIMIT_PER_MINUTE": "1000",
        "MAIL_PER_HOUR": "1000000",
    }


class Run:
    """One process of a program with its own Runtime API."""

    def __init__(self, prog, moto, table, log, wrapper=()):
        self.rt = Runtime()
        env = lambda_env(moto, table, self.rt.address)
        env.update(prog.extra_env)
        for k in prog.unset:
            env.pop(k, None)
        self.t0 = now()
        self.proc = subprocess.Popen(
            [*wrapper, *prog.runner, *prog.cmd], cwd=prog.cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def wait_next(self, timeout=300):
        deadline = time.monotonic() + timeout
        while not self.rt.first_next.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                break
        if self.rt.first_next_ns is None or self.rt.init_error is not None:
            self.stop()
            raise RuntimeError(f"no /next (exit {self.proc.returncode}, "
                               f"init error {self.rt.init_error!r}): see the log")
        return self.rt.first_next_ns - self.t0

    def rss_kib(self):
        fields = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        return int(fields["VmHWM"].split()[0]), int(fields["VmRSS"].split()[0])

    def stop(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait()
        self.rt.close()


def cold(prog, moto, table, log):
    run = Run(prog, moto, table, log)
    try:
        init = run.wait_next()
        make, expected = EVENTS[prog.first]
        _, answered, kind, body = run.rt.invoke(make())
    finally:
        run.stop()
    status = status_of(kind, body)
    if status not in (expected, str(expected)):
        raise RuntimeError(f"{prog.name}: cold {prog.first} event answered {status}")
    calls = [c for c in moto.calls() if run.t0 <= c[0] <= answered]
    return {"init_ns": init, "cold_ns": answered - run.t0,
            "moto_ns": sum(e - s for s, e, _ in calls), "moto_calls": len(calls)}


def warm(progs, moto, table, log, n):
    """n requests after the cold one, one process per program, interleaved:
    request i goes to every program (in a new random order) before request
    i+1 goes to any. RSS after 100 requests."""
    runs = {p.name: Run(p, moto, table, log) for p in progs}
    lat = {p.name: [] for p in progs}
    rss100, out = {}, {}
    try:
        for run in runs.values():
            run.wait_next()
        for i in range(n + 1):
            order = progs[:]
            random.shuffle(order)
            for p in order:
                queued, answered, kind, body = runs[p.name].rt.invoke(contact_event())
                status = status_of(kind, body)
                if status not in (202, "202"):
                    raise RuntimeError(f"{p.name}: warm POST /contact answered {status}")
                if i > 0:
                    lat[p.name].append(answered - queued)
                if i + 1 == min(100, n + 1):
                    rss100[p.name] = runs[p.name].rss_kib()
        for p in progs:
            end = runs[p.name].rss_kib()
            out[p.name] = {"lat_ns": lat[p.name], "hwm100_kib": rss100[p.name][0],
                           "rss100_kib": rss100[p.name][1], "hwm_end_kib": end[0],
                           "requests": n + 1}
    finally:
        for run in runs.values():
            run.stop()
    moto_ns = [e - s for s, e, _ in moto.calls()]
    for o in out.values():
        o["moto_call_ns_median"] = statistics.median(moto_ns) if moto_ns else None
    return out


def callgrind(prog, moto, table, log, responses):
    """Instructions from exec to the first /next (responses=0) or to the n-th response."""
    out = tempfile.NamedTemporaryFile(prefix="callgrind.", delete=False).name
    wrapper = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
               "--dump-line=no", "--trace-children=no"]
    run = Run(prog, moto, table, log, wrapper)
    try:
        run.wait_next(timeout=600)
        for i in range(responses):
            make, expected = EVENTS[prog.first if i == 0 else "contact"]
            _, _, kind, body = run.rt.invoke(make(), timeout=600)
            status = status_of(kind, body)
            if status not in (expected, str(expected)):
                raise RuntimeError(f"{prog.name}: under callgrind, event {i + 1} answered {status}")
    finally:
        # SIGTERM: valgrind stops the client and callgrind writes its totals.
        run.stop(signal.SIGTERM)
    moto.calls()
    ir = None
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                ir = int(line.split()[1])
    os.unlink(out)
    if ir is None:
        raise RuntimeError(f"{prog.name}: callgrind wrote no totals")
    return ir


# --------------------------------------------------------------------------

def summarize(ns):
    ns = sorted(ns)
    p99 = ns[min(len(ns) - 1, max(0, round(0.99 * len(ns)) - 1))]
    return {"median_ms": statistics.median(ns) / 1e6, "p99_ms": p99 / 1e6,
            "min_ms": ns[0] / 1e6, "n": len(ns)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--programs", required=True, help="JSON file describing the programs")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cold-reps", type=int, default=20)
    ap.add_argument("--qemu-reps", type=int, default=10)
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--callgrind-reps", type=int, default=3)
    ap.add_argument("--log", default=os.devnull)
    args = ap.parse_args()

    with open(args.programs) as f:
        spec = json.load(f)
    progs = [Program(**p) for p in spec["programs"]]
    native = [p for p in progs if not p.runner]
    emulated = [p for p in progs if p.runner]
    log = open(args.log, "ab")

    moto = Moto(spec["moto_python"])
    table = "bench-" + os.urandom(4).hex()
    moto.setup(table)
    results = {"programs": {p.name: {"cold": [], "qemu": p.runner != []} for p in progs}}
    try:
        def step(msg):
            print(f"bench: {msg}", file=sys.stderr, flush=True)

        # Warm-up: page every binary and interpreter into the page cache so
        # the first measured round is not a disk read.
        for p in progs:
            cold(p, moto, table, log)

        def rounds(group, reps):
            """reps rounds over the group, each in a new random order."""
            for _ in range(reps):
                order = group[:]
                random.shuffle(order)
                for p in order:
                    results["programs"][p.name]["cold"].append(cold(p, moto, table, log))

        step(f"cold starts: {args.cold_reps} interleaved rounds of {len(native)} programs")
        rounds(native, args.cold_reps)
        if emulated:
            step(f"cold starts under qemu: {args.qemu_reps} rounds of {len(emulated)} programs")
            rounds(emulated, args.qemu_reps)

        step(f"warm: {args.warm} requests after the cold one, interleaved across programs")
        warm_progs = [p for p in native if not p.variant]
        for name, w in warm(warm_progs, moto, table, log, args.warm).items():
            results["programs"][name]["warm"] = w

        step("callgrind: instructions to the first /next, the first and the 11th response")
        for p in native:
            if p.name.startswith("node"):
                continue  # V8 under valgrind takes minutes and proves nothing new
            reps = 1 if p.name.startswith("python") else args.callgrind_reps
            cg = results["programs"][p.name]["callgrind"] = {}
            cg["init_ir"] = [callgrind(p, moto, table, log, 0) for _ in range(reps)]
            cg["cold_ir"] = [callgrind(p, moto, table, log, 1) for _ in range(reps)]
            if p.variant:
                continue
            eleven = [callgrind(p, moto, table, log, 11) for _ in range(reps)]
            cg["warm_ir_per_request"] = [(e - c) / 10 for e, c in zip(eleven, cg["cold_ir"])]
    finally:
        moto.stop()

    for name, r in results["programs"].items():
        r["init"] = summarize([c["init_ns"] for c in r["cold"]])
        if "cold_ns" in r["cold"][0]:
            r["cold_start"] = summarize([c["cold_ns"] for c in r["cold"]])
            r["moto"] = summarize([c["moto_ns"] for c in r["cold"]])
            r["moto_calls"] = statistics.median([c["moto_calls"] for c in r["cold"]])
        if "warm" in r:
            r["warm_lat"] = summarize(r["warm"].pop("lat_ns"))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
