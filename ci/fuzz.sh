#!/usr/bin/env bash
# Every fuzz target under fuzz/ for a bounded time: `make fuzz`.
#
# Stable Rust only: cargo-fuzz passes nightly flags to rustc, which
# RUSTC_BOOTSTRAP=1 lets the stable compiler accept. The fuzz crate depends on
# the library without the AWS SDK, so the build is the parsers, the domain and
# the app with the in-memory store. Each target starts from its committed seed
# corpus (fuzz/corpus/<target>/, read-only here) and writes what it discovers
# to a scratch directory, so a run never dirties the checkout; a crash is saved
# under fuzz/artifacts/<target>/ (git-ignored) with the command to reproduce it.
#
#   FUZZ_SECONDS    seconds per target (default 20: 8 targets, under 3 min)
#   FUZZ_TARGETS    space-separated subset (default: every target)
#   FUZZ_SANITIZER  none (default) or address. Our code forbids `unsafe`, so
#                   the default spends the time on executions rather than on
#                   AddressSanitizer's 2x slowdown and longer build; use
#                   `address` for a deeper run of the dependencies' unsafe code.
# Prints, per target, the executions and the corpus size; fails if any target
# crashed (panic, assertion, 5xx), hung past 10 s on one input, or ran out of memory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT/fuzz"
PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin

seconds=${FUZZ_SECONDS:-20}
sanitizer=${FUZZ_SANITIZER:-none}
# The pinned version lives in one place, the CI install step.
command -v cargo-fuzz >/dev/null || bash "$ROOT/ci/install.d/50-hygiene.sh"

# The property tests state what must hold for every input; the fuzz targets
# then search for inputs that break anything else. Both are quick to run.
echo "fuzz: property tests (tests/api/properties.rs)"
(cd "$ROOT" && cargo test --quiet --test api properties::)

export RUSTC_BOOTSTRAP=1
flags=(--sanitizer "$sanitizer" --debug-assertions)

start=$(date +%s)
cargo fuzz build "${flags[@]}"
built=$(date +%s)
echo "fuzz: built in $((built - start))s (sanitizer: $sanitizer, debug assertions on)"

targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
printf '%-16s %10s %8s %8s  %s\n' target executions exec/s corpus result
for t in $targets; do
  mkdir -p "$work/$t"
  log=$work/$t.log
  # -timeout: one input running 10 s is a hang (no input may hang the function).
  # -rss_limit_mb: a run that needs 2 GiB is a memory blow-up.
  if cargo fuzz run "${flags[@]}" "$t" "$work/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  corpus=$(find "$work/$t" "corpus/$t" -type f | wc -l)
  printf '%-16s %10s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$result"
  if [ "$result" = FAILED ]; then
    # The panic message and the reproduction command, without the input dump.
    grep -E "panicked at|^[^ ].*(assert|failed|Error)|ERROR: libFuzzer|Test unit written|cargo fuzz run" "$log" \
      | cut -c1-400 | head -20 >&2
  fi
done
echo "fuzz: ran $(echo "$targets" | wc -w) targets for ${seconds}s each in $(( $(date +%s) - built ))s (total $(( $(date +%s) - start ))s)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: OK"
