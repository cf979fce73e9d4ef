#!/usr/bin/env bash
# The Nix side of the project, checked without building anything: `make nix-check`.
#
# CI (and the machine this project is developed on) has no Nix binary cache and no
# network beyond the package registries, so `nix build` and `nix flake check` cannot run
# here; docs/nix.md lists what is verified here, how, and what needs a machine with Nix.
# What runs instead, with Debian's Nix 2.8 and deadnix (ci/install.d/30-nix.sh):
#   1. every .nix file parses (nix-instantiate --parse) and has no dead code (deadnix);
#   2. every path a .nix file names exists and is tracked by git (a flake sees nothing else);
#   3. Nix loads flake.lock with flake.nix and finds nothing to re-lock (this also
#      refuses malformed revisions and hashes, and inputs that differ from flake.nix's);
#   4. ci/flake-lock-check.py: what Nix accepts but should not (see its docstring), and
#      the narHashes recomputed by `nix hash path` from real trees where copies are on
#      this machine (/work/.mirror, the shared advisory-db snapshot); on a fresh clone
#      that part is skipped, not failed;
#   5. ci/build-inputs-check.py: the Nix build and ci/build-arm64.sh agree on their inputs;
#   6. ci/test-refresh-base-image.sh and nix/test-push-image.sh: the two apps' scripts,
#      offline.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT"

# cargo install puts deadnix here, which a fresh CI shell may not have on PATH.
PATH=$PATH:${CARGO_HOME:-$HOME/.cargo}/bin
for tool in nix nix-instantiate deadnix skopeo python3 git; do
  command -v "$tool" >/dev/null || { echo "nix-check: $tool missing: run 'bash ci/install.d/30-nix.sh'" >&2; exit 1; }
done

work=$(mktemp -d)
# Nix makes store paths read-only: give them back before removing them.
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
# A private store: no /nix needed, no daemon, works for any user, leaves nothing behind.
export NIX_REMOTE="local?root=$work/nix-root"
export NIX_CONFIG="experimental-features = nix-command flakes"
start=$(date +%s)
step() { echo "== nix-check: $*"; }

mapfile -t nix_files < <(git ls-files --cached --others --exclude-standard -- '*.nix' | sort)
[ ${#nix_files[@]} -gt 0 ] || { echo "nix-check: no .nix files found" >&2; exit 1; }

step "parse ${#nix_files[@]} files"
for f in "${nix_files[@]}"; do
  nix-instantiate --parse "$f" >/dev/null || { echo "nix-check: $f does not parse" >&2; exit 1; }
done

step "deadnix"
deadnix --fail "${nix_files[@]}"

step "paths named by .nix files exist and are tracked"
python3 - "${nix_files[@]}" <<'PY'
import re, subprocess, sys
from pathlib import Path
tracked = set(subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout.split("\n"))
bad = []
for name in sys.argv[1:]:
    text = Path(name).read_text()
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for m in re.finditer(r"(maybeMissing\s+)?(?<![\w.])(\./[A-Za-z0-9_.+/-]*[A-Za-z0-9_+-])", code):
        optional, literal = m.group(1), m.group(2)
        path = (Path(name).parent / literal).resolve().relative_to(Path.cwd())
        if not path.exists():
            if not optional:
                bad.append(f"{name}: {literal} does not exist")
        elif path.is_file() and str(path) not in tracked:
            bad.append(f"{name}: {literal} is not tracked by git, so the flake cannot see it")
for b in bad:
    print(f"  FAIL {b}")
sys.exit(1 if bad else 0)
PY

step "Nix loads flake.lock with flake.nix, nothing to re-lock"
# A copy with only what the flake's top level reads: `path:.` would copy target/ too.
mkdir "$work/flake"
cp flake.nix flake.lock "$work/flake/"
cp -r nix "$work/flake/"
if ! nix flake metadata --offline --no-update-lock-file "path:$work/flake" >"$work/metadata" 2>&1; then
  cat "$work/metadata" >&2
  echo "nix-check: flake.lock does not match flake.nix's inputs (a network error above means Nix tried to re-lock)" >&2
  exit 1
fi
# (Nix 2.8 colours this even into a file.)
sed -e 's/\x1b\[[0-9;]*m//g' "$work/metadata" | sed -n '/Inputs:/,$p'

step "flake.lock"
lock_args=()
mirrors=${FLAKE_LOCK_MIRRORS:-/work/.mirror}
[ -d "$mirrors" ] && lock_args+=(--mirrors "$mirrors")
advisory_tar=/work/shared/advisory-db/advisory-db.tar.gz
[ -f "$advisory_tar" ] && lock_args+=(--tarball "rustsec/advisory-db=$advisory_tar")
python3 ci/flake-lock-check.py "${lock_args[@]}"

step "build inputs agree"
python3 ci/build-inputs-check.py

step "app: refresh-base-image"
bash ci/test-refresh-base-image.sh

step "app: push"
bash nix/test-push-image.sh

echo "nix-check: ok in $(( $(date +%s) - start ))s"
