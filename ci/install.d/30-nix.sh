#!/usr/bin/env bash
# Tools for `make nix-check` (ci/nix-check.sh), which checks the flake without building:
#   nix-bin   Debian's Nix 2.8: parses .nix files, evaluates the builtins-only parts,
#             loads flake.lock, hashes trees (`nix hash path`). Too old to evaluate
#             nixpkgs 26.05, and no binary cache is reachable anyway: no `nix build` here.
#   skopeo    for nix/test-push-image.sh, which runs the push app's script offline.
#   deadnix   the Nix linter, from crates.io (Debian 12 has no package), version pinned.
# Idempotent: does nothing when all are installed.
set -euo pipefail

missing=()
command -v nix-instantiate >/dev/null || missing+=(nix-bin)
command -v skopeo >/dev/null || missing+=(skopeo)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Other install steps may hold the apt/dpkg locks: wait for them, do not fail.
  apt=(apt-get -qq -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
if ! command -v deadnix >/dev/null; then
  echo "installing: deadnix"
  cargo install --locked --quiet deadnix --version 1.3.1
fi
