#!/usr/bin/env bash
# `make bench`: the cold-start benchmark. Builds the programs, installs the
# peers' runtimes, measures them side by side in one run and writes
# BENCHMARKS.md and docs/benchmarks.md (the README's section).
#
#   product  target/release/bootstrap                     (the shipped profile)
#   floor    target/release/examples/floor                (a bare handler: the floor)
#   python   bench/peer_python on awslambdaric + boto3    (how users otherwise deploy)
#   node     bench/peer_node on AWS SDK v3                (when node and npm are here)
#   *-arm64  the aarch64 builds of product and floor under qemu (ratios only)
#
# Environment: BENCH_COLD_REPS (20), BENCH_QEMU_REPS (10), BENCH_WARM (200),
# BENCH_CALLGRIND_REPS (3), BENCH_SKIP_ARM64=1 to leave out the aarch64 part,
# BENCH_SIZES (128,512,1769: the Lambda model's memory sizes, the first one
# also for its warm runs; empty to skip the model), BENCH_MODEL_REPS (20).
# The Lambda model (TLS in front of moto, a cgroup CPU share after init) needs
# root for the cgroup; without it the report says it was skipped.
# The programs run the way the black-box tests run `bootstrap`, through the
# same Runtime API emulator and moto launcher (tests/support/runtime.rs,
# driven by examples/bench.rs). Not part of the test suite, and CI does not run it. About 3 minutes when the
# builds are current; after a profile change everything rebuilds, the aarch64
# pair included, and the first run takes ~18 minutes on two cores.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT"
start=$(date +%s)
B=$ROOT/target/bench
mkdir -p "$B"
log() { echo "bench: $*" >&2; }

# --- Tools this run needs that a fresh machine may lack ----------------------
python3 -c 'import moto.server, waitress' 2>/dev/null || bash ci/install.d/10-python.sh
export RUST_AWS_REQUIRE_MOTO=1  # the driver's moto must run, never be skipped
command -v valgrind >/dev/null || {
  log "installing valgrind (callgrind counts start-up instructions)"
  apt-get -qq -o DPkg::Lock::Timeout=600 update
  DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=600 install -y valgrind >/dev/null
}

# --- The Rust programs: the release profile and features, as shipped ---------
# Separate invocations: built together, the examples' dev-dependencies (tokio
# "full", hyper's client) would unify into bootstrap's features.
log "building bootstrap and the floor (release profile, default features)"
cargo build --release --bin bootstrap
cargo build --release --example floor
log "building the driver (examples/bench.rs, the tests' harness)"
cargo build --example bench

# --- aarch64: the shipped binary and the floor by the same cross route -------
arm64_note=""
ARM=target/aarch64-unknown-linux-gnu/release
if [ "${BENCH_SKIP_ARM64:-0}" = 1 ]; then
  arm64_note="skipped (BENCH_SKIP_ARM64=1)"
elif ! [ -x /usr/bin/rustc ] || ! command -v aarch64-linux-gnu-gcc >/dev/null \
     || ! command -v qemu-aarch64-static >/dev/null; then
  arm64_note="skipped: no aarch64 cross toolchain or qemu (bash ci/install.d/40-arm64.sh installs them)"
else
  log "building the aarch64 bootstrap (make build-arm64) and floor"
  # The floor goes through ci/build-arm64.sh itself, so its flags (remaps,
  # linker, compiler) are the shipped binary's by construction: a cargo shim
  # on PATH turns the script's `--bin bootstrap` into `--example floor`.
  shim=$B/floor-cargo-shim
  mkdir -p "$shim"
  printf '%s\n' '#!/usr/bin/env bash' 'args=()' 'for a in "$@"; do' \
    '  case "$a" in --bin) args+=(--example) ;; bootstrap) args+=(floor) ;; *) args+=("$a") ;; esac' \
    'done' "exec $(command -v cargo) \"\${args[@]}\"" > "$shim/cargo"
  chmod +x "$shim/cargo"
  if make --no-print-directory build-arm64 >&2 && PATH="$shim:$PATH" bash ci/build-arm64.sh >&2; then
    :
  else
    arm64_note="skipped: the aarch64 build failed (see above)"
  fi
fi

# --- The peers -----------------------------------------------------------------
log "installing the Python peer (venv with awslambdaric + boto3)"
PY=$B/py
[ -x "$PY/bin/python" ] || python3 -m venv "$PY"
"$PY/bin/python" -m pip install --quiet --disable-pip-version-check -r bench/peer_python/requirements.txt
mkdir -p "$B/python-task"
cp bench/peer_python/handler.py "$B/python-task/"

node_ok=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  log "installing the Node.js peer (AWS SDK v3)"
  mkdir -p "$B/node"
  cp bench/peer_node/package.json bench/peer_node/package-lock.json \
     bench/peer_node/handler.mjs bench/peer_node/runtime.mjs "$B/node/"
  if (cd "$B/node" && npm ci --no-audit --no-fund --loglevel=error >&2); then node_ok=1; fi
fi

# --- What to measure -----------------------------------------------------------
export B PY node_ok arm64_note ROOT ARM
python3 - > "$B/programs.json" <<'EOF'
import json, os, shutil
B, ROOT, ARM = os.environ["B"], os.environ["ROOT"], os.environ["ARM"]
# The venv's own path (a symlink): resolved, Python would not find the venv.
py = os.path.join(os.environ["PY"], "bin", "python")
# lambda_model: also measured with TLS endpoints and a memory size's CPU share.
# The peers take their key from the environment, as the product did before
# it read its secrets from Secrets Manager at init (SECRETS_ARN; one more
# call, measured in the product's init).
peer_key = {"SECRET_KEY": "bench-peer-key-0123456789abcdef-0123456789"}
progs = [
    {"name": "product", "cmd": [f"{ROOT}/target/release/bootstrap"], "lambda_model": True},
    {"name": "floor", "cmd": [f"{ROOT}/target/release/examples/floor"], "lambda_model": True},
    {"name": "python", "cmd": [py, "-m", "awslambdaric", "handler.handler"], "lambda_model": True,
     "cwd": f"{B}/python-task",
     "env": {"LAMBDA_TASK_ROOT": f"{B}/python-task", "PYTHONPATH": f"{B}/python-task",
             "_HANDLER": "handler.handler", **peer_key}},
]
# Start-up variants: the shipped binary with one setting as it was before
# the start-up work of bench/startup.md (the platform's trust store; aws-config's default chains, which it
# uses when the environment has no credentials: here they find a profile
# file, and IMDS is off so nothing leaves loopback), and with a comment
# listing as its first event (a page view: no SES client is ever built).
bootstrap = f"{ROOT}/target/release/bootstrap"
profile = os.path.join(B, "aws-profile")
os.makedirs(profile, exist_ok=True)
with open(os.path.join(profile, "credentials"), "w") as f:
    f.write("[default]\naws_access_key_id = ASIABENCHBENCHBENCH0\n"
            "aws_secret_access_key = bench\naws_session_token = bench-session-token\n")
open(os.path.join(profile, "config"), "w").close()
progs += [
    {"name": "product-platform-roots", "cmd": [bootstrap], "variant": True,
     "env": {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_DIR": "/etc/ssl/certs"}},
    {"name": "product-default-chains", "cmd": [bootstrap], "variant": True,
     "unset": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
     "env": {"AWS_SHARED_CREDENTIALS_FILE": os.path.join(profile, "credentials"),
             "AWS_CONFIG_FILE": os.path.join(profile, "config"),
             "AWS_EC2_METADATA_DISABLED": "true"}},
    {"name": "product-first-listing", "cmd": [bootstrap], "variant": True, "first": "listing",
     "lambda_model": True},
]
if os.environ["node_ok"] == "1":
    progs.append({"name": "node", "cmd": [shutil.which("node"), f"{B}/node/runtime.mjs"],
                  "lambda_model": True,
                  "cwd": f"{B}/node", "env": {"LAMBDA_TASK_ROOT": f"{B}/node",
                                              "_HANDLER": "handler.handler", **peer_key}})
if not os.environ["arm64_note"]:
    for name, path in (("product-arm64", f"{ROOT}/{ARM}/bootstrap"),
                       ("floor-arm64", f"{ROOT}/{ARM}/examples/floor")):
        progs.append({"name": name, "cmd": [path], "runner": ["qemu-aarch64-static"]})
print(json.dumps({"programs": progs}, indent=1))
EOF

# --- Measure, then write the report -------------------------------------------
log "measuring (about 2 minutes)"
target/debug/examples/bench --programs "$B/programs.json" --out "$B/results.json" \
  --cold-reps "${BENCH_COLD_REPS:-20}" --qemu-reps "${BENCH_QEMU_REPS:-10}" \
  --warm "${BENCH_WARM:-200}" --callgrind-reps "${BENCH_CALLGRIND_REPS:-3}" \
  --sizes "${BENCH_SIZES-128,512,1769}" --model-reps "${BENCH_MODEL_REPS:-20}"
python3 bench/report.py --programs "$B/programs.json" --results "$B/results.json" \
  --python "$PY/bin/python" --arm64-note "$arm64_note" --seconds $(( $(date +%s) - start ))
log "done in $(( $(date +%s) - start ))s: BENCHMARKS.md, docs/benchmarks.md"
