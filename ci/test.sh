#!/usr/bin/env bash
# The three test tiers. With no argument: unit, service, then black-box
# (the release bootstrap through the Runtime API against moto).
# The one place that says which cargo test runs make up the full suite and
# the black-box tiers (`make test`, `make test-blackbox`, `make test-arm64`).
#   ci/test.sh blackbox        the black-box tier only (release build)
#   ci/test.sh blackbox-arm64  the black-box tier against the aarch64 binary under qemu
#
# Two test binaries in the root package (README.md, "Tests and CI"): `api` (the app
# in memory) and `aws` (moto through the real SDK), whose `blackbox::` tests need the
# release binary and run in the black-box tier; the rest of `aws` is the service tier.
# The owner's command (package rust-aws-admin, admin/) has its unit tests (run with
# the root's by --workspace) and `admin` (the command as a process against moto).
set -euo pipefail
cd "$(dirname "$0")/.."

# moto (DynamoDB + SES v2 over HTTP) is the one test dependency outside Cargo.
# Installed here, so its tests must run: a missing moto fails them instead of
# skipping them as a fresh clone's plain `cargo test` does (tests/support/runtime.rs).
export RUST_AWS_REQUIRE_MOTO=1
python3 -c 'import moto.server, waitress' 2>/dev/null || bash ci/install.d/10-python.sh

blackbox() {
  # The binary that ships is the binary that is tested: the plain release build.
  cargo build --release
  export BOOTSTRAP_BIN="${BOOTSTRAP_BIN:-$PWD/target/release/bootstrap}"
  cargo test --test aws -- blackbox:: --skip blackbox::chaos::
  # The chaos test (about a minute): the release binary under load behind
  # the fault proxy. Native only; under qemu it would take too long.
  cargo test --test aws -- blackbox::chaos:: --nocapture
}

case "${1:-all}" in
  all)
    cargo test --workspace --lib
    cargo test --test api
    cargo test --test aws -- --skip blackbox::
    cargo test -p rust-aws-admin --test admin
    blackbox
    ;;
  blackbox) blackbox ;;
  blackbox-arm64)
    bin=target/aarch64-unknown-linux-gnu/release/bootstrap
    [ -x "$bin" ] || { echo "missing $bin: run make build-arm64" >&2; exit 1; }
    BOOTSTRAP_BIN="$PWD/$bin" BOOTSTRAP_RUNNER=qemu-aarch64-static cargo test --test aws -- blackbox:: --skip blackbox::chaos::
    ;;
  *) echo "usage: $0 [all|blackbox|blackbox-arm64]" >&2; exit 2 ;;
esac
