#!/usr/bin/env bash
# Dependency hygiene: `make audit`. cargo-deny's four checks (deny.toml):
# advisories against the pinned RustSec snapshot, licenses, bans, sources.
#
# Offline by design: the advisory database is a snapshot of rustsec/advisory-db
# at the commit flake.lock pins as `advisory-db`, found beside the checkout in
# ../shared/advisory-db/ (advisory-db.tar.gz, or a git checkout) or named by
# ADVISORY_DB, so the verdict only changes when the snapshot or the lock file
# does. The snapshot may be read-only: it is unpacked into a scratch directory.
# How to make one on a fresh machine: docs/fuzzing.md ("Dependency checks"). Online, against the live database: docs/fuzzing.md
# ("Dependency checks"), in short `cargo deny check` with deny.toml as it is.
#
#   ADVISORY_DB  a different snapshot (directory or .tar.gz) to check against
#
# Before the real check, a self-test plants a made-up advisory against a crate
# the function ships (url) in a copy of the snapshot and expects cargo-deny to
# fail: a check that cannot fail proves nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT"
PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin

# The pinned version lives in one place, the CI install step.
command -v cargo-deny >/dev/null || bash ci/install.d/50-hygiene.sh
cargo deny --version

snapshot=${ADVISORY_DB:-}
if [ -z "$snapshot" ]; then
  for candidate in "$ROOT/../shared/advisory-db/advisory-db.tar.gz" "$ROOT/../shared/advisory-db"; do
    if [ -e "$candidate" ]; then snapshot=$candidate; break; fi
  done
fi
if [ -z "$snapshot" ] || ! [ -e "$snapshot" ]; then
  echo "audit: no advisory snapshot at ../shared/advisory-db (set ADVISORY_DB, or see docs/fuzzing.md to check online)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/advisory-db
if [ -f "$snapshot" ]; then
  mkdir -p "$work/unpack"
  tar xzf "$snapshot" -C "$work/unpack"
  mv "$work/unpack"/*/ "$src"
elif [ -d "$snapshot/crates" ]; then
  cp -r "$snapshot" "$src"
else
  cp -r "$snapshot/advisory-db" "$src"
fi
[ -d "$src/crates" ] || { echo "audit: $snapshot holds no advisory database" >&2; exit 1; }

# cargo-deny runs `cargo metadata` for every target and feature (deny.toml),
# which needs the sources of crates no host build downloads (Windows-only
# ones, cfg-gated ones): fetch the locked graph first, then stay offline.
cargo fetch --locked --quiet

# cargo-deny reads the database from db-path/<name derived from db-urls>;
# ask it which name it expects by running once against an empty db-path.
config() { sed "s|^db-path = .*|db-path = \"$1\"|" deny.toml >"$2"; }
config "$work/probe" "$work/probe.toml"
expected=$(cargo deny --offline --locked --config "$work/probe.toml" check advisories 2>&1 \
  | grep -o "$work/probe/[^' \"]*" | head -1 || true)
[ -n "$expected" ] || { echo "audit: could not learn where cargo-deny looks for the database" >&2; exit 1; }
name=$(basename "$expected")

# A git repository, as cargo-deny expects; its commit date is the snapshot's
# newest advisory, so `cargo deny` reports the database's real age.
place() {
  local dest=$1/$name
  mkdir -p "$1"
  cp -r "$src" "$dest"
  local newest
  newest=$(grep -rhoE '^date = "[0-9]{4}-[0-9]{2}-[0-9]{2}"' "$dest/crates" | sort | tail -1 | grep -oE '[0-9-]{10}')
  (cd "$dest" && git init -q && git add -A \
    && GIT_AUTHOR_DATE="${newest}T00:00:00Z" GIT_COMMITTER_DATE="${newest}T00:00:00Z" \
       git -c user.name=snapshot -c user.email=snapshot@localhost commit -qm "advisory-db snapshot")
}

# --- self-test: a planted advisory must fail the check ----------------------
place "$work/planted" && config "$work/planted" "$work/planted.toml"
mkdir -p "$work/planted/$name/crates/url"
cat >"$work/planted/$name/crates/url/RUSTSEC-2099-0001.md" <<'ADV'
```toml
[advisory]
id = "RUSTSEC-2099-0001"
package = "url"
date = "2099-01-01"

[versions]
patched = []
```

# Planted by ci/audit.sh to prove the advisory check can fail
ADV
(cd "$work/planted/$name" && git add -A && git -c user.name=t -c user.email=t@localhost commit -qm planted)
if cargo deny --offline --locked --config "$work/planted.toml" check advisories >"$work/planted.out" 2>&1; then
  echo "audit: FAIL: a planted advisory against url was not reported" >&2
  exit 1
fi
grep -q "RUSTSEC-2099-0001" "$work/planted.out" || {
  echo "audit: FAIL: the planted-advisory run failed for another reason:" >&2
  tail -20 "$work/planted.out" >&2
  exit 1
}
echo "audit: self-test ok (a planted advisory against url fails the check)"

# --- the check ----------------------------------------------------------------
place "$work/db" && config "$work/db" "$work/deny.toml"
echo "audit: advisories from $(basename "$snapshot"), newest advisory $(git -C "$work/db/$name" log -1 --format=%cs)"
cargo deny --offline --locked --config "$work/deny.toml" check --show-stats --hide-inclusion-graph
echo "audit: OK"
