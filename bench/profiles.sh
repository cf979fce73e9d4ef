#!/usr/bin/env bash
# The release-profile experiments behind Cargo.toml's [profile.release]:
# builds bootstrap once per variant (a separate target dir, so the shared one
# and the shipped binary are untouched), measures every variant side by side
# with the shipped build (the bench's driver, examples/bench.rs), and writes bench/profiles.md, which
# BENCHMARKS.md includes. Not part of `make bench` (each variant rebuilds every
# dependency: ~5 minutes apiece on two cores); run it when the profile or the
# dependency set changes:  bash bench/profiles.sh [VARIANT...]
#
# One variant changes a dependency feature instead of the profile: `ring`
# builds a patched export of HEAD whose TLS crypto is ring instead of aws-lc
# (aws-smithy-http-client's rustls-ring; the SDK crates' default-https-client
# off, since sdk_config supplies the HTTP client).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT"
V=$ROOT/target/bench-variants
mkdir -p "$V/bin"

# name: the CARGO_PROFILE_RELEASE_* overrides, each one step from the shipped profile.
declare -A VARIANTS=(
  [opt-s]="OPT_LEVEL=s"
  [opt-z]="OPT_LEVEL=z"
  [thin-lto]="LTO=thin CODEGEN_UNITS=16"
  [abort]="PANIC=abort"
  [ring]=""
)
ORDER=(abort opt-s opt-z thin-lto ring)
[ $# -gt 0 ] && ORDER=("$@")

# Two invocations, as bench/run.sh does: built together, the example's
# dev-dependencies (tokio "full", hyper's client) would unify into the
# shipped binary's features and make it larger and slower than what ships.
cargo build --release --bin bootstrap
cargo build --release --example floor
cargo build --example bench
cp target/release/bootstrap "$V/bin/shipped"
touch "$V/build-times"
for name in "${ORDER[@]}"; do
  if [ -x "$V/bin/$name" ] && [ "$V/bin/$name" -nt Cargo.lock ] && [ "${REBUILD:-0}" != 1 ]; then
    echo "profiles: $name is built (REBUILD=1 to build again)" >&2
    continue
  fi
  env_args=()
  for kv in ${VARIANTS[$name]}; do env_args+=("CARGO_PROFILE_RELEASE_$kv"); done
  echo "profiles: building $name (${VARIANTS[$name]})" >&2
  start=$(date +%s)
  manifest=Cargo.toml
  if [ "$name" = ring ]; then
    src=$V/src-ring
    rm -rf "$src" && mkdir -p "$src" && git archive HEAD | tar -x -C "$src"
    cp Cargo.lock "$src/"
    sed -i -E -e '/^aws-(config|sdk-dynamodb|sdk-sesv2) = /s/"default-https-client", //' \
      -e '/^aws-smithy-http-client = /s/rustls-aws-lc/rustls-ring/' "$src/Cargo.toml"
    grep -q 'CryptoMode::AwsLc' "$src/src/config/aws.rs" \
      || { echo "profiles: src/config/aws.rs no longer names CryptoMode::AwsLc; fix the ring variant" >&2; exit 1; }
    sed -i 's/CryptoMode::AwsLc/CryptoMode::Ring/' "$src/src/config/aws.rs"
    manifest=$src/Cargo.toml
    if cargo tree --manifest-path "$manifest" -e normal -i aws-lc-rs >/dev/null 2>&1; then
      echo "profiles: ring variant still links aws-lc-rs" >&2
    fi
  fi
  env "${env_args[@]}" CARGO_TARGET_DIR="$V/target" \
    cargo build --release --bin bootstrap --manifest-path "$manifest"
  echo "$name $(( $(date +%s) - start ))" >> "$V/build-times"
  cp "$V/target/release/bootstrap" "$V/bin/$name"
done

export V ROOT
python3 - > "$V/programs.json" <<'EOF'
import json, os
V, ROOT = os.environ["V"], os.environ["ROOT"]
names = ["shipped"] + sorted(n for n in os.listdir(f"{V}/bin") if n != "shipped")
progs = [{"name": n, "cmd": [f"{V}/bin/{n}"]} for n in names]
progs.append({"name": "floor", "cmd": [f"{ROOT}/target/release/examples/floor"]})
print(json.dumps({"programs": progs}))
EOF
target/debug/examples/bench --programs "$V/programs.json" --out "$V/results.json" \
  --cold-reps "${BENCH_COLD_REPS:-15}" --warm "${BENCH_WARM:-100}" --callgrind-reps 1
python3 bench/report_profiles.py "$V" > bench/profiles.md
echo "profiles: wrote bench/profiles.md" >&2
