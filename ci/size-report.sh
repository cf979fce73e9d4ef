#!/usr/bin/env bash
# Stripped size of the release bootstrap for both architectures, as a Markdown
# table (bench/run.sh puts it next to the cold-start numbers in BENCHMARKS.md).
# Usage: ci/size-report.sh [NATIVE_BIN [ARM64_BIN]]
#
# The release profile already strips symbols; each binary is stripped again
# (a copy) so the number stays "stripped" even if the profile changes. The
# deflate column is what a zip deployment uploads and Lambda fetches on a cold
# start. A binary not built yet is reported as such, not as an error.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
native=${1:-$ROOT/target/release/bootstrap}
arm64=${2:-$ROOT/target/aarch64-unknown-linux-gnu/release/bootstrap}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

row() { # row LABEL BINARY STRIP-TOOL HOW-TO-BUILD
  local label=$1 bin=$2 strip=$3 how=$4
  if ! [ -f "$bin" ]; then
    echo "| $label | not built ($how) | | |"
    return
  fi
  cp "$bin" "$tmp/b"
  if command -v "$strip" >/dev/null; then
    "$strip" --strip-all "$tmp/b"
  else
    echo "size-report: $strip missing, $label reported as built" >&2
  fi
  local bytes deflated
  bytes=$(stat -c %s "$tmp/b")
  deflated=$(gzip -9 -n -c "$tmp/b" | wc -c)
  printf '| %s | %s | %s | %s |\n' "$label" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')" \
    "$(awk -v b="$deflated" 'BEGIN { printf "%.2f", b / 1048576 }')"
}

echo "| bootstrap (release, stripped) | bytes | MiB | MiB deflated |"
echo "|---|---:|---:|---:|"
row "$(uname -m) (native)" "$native" strip "make build"
row "aarch64 (shipped)" "$arm64" aarch64-linux-gnu-strip "make build-arm64"
