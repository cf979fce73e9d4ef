#!/usr/bin/env bash
# cargo-deny (`make audit`, ci/audit.sh) and cargo-fuzz (`make fuzz`,
# ci/fuzz.sh), from crates.io at pinned versions, each only when missing.
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
