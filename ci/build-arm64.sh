#!/usr/bin/env bash
# Cross-compile the shipped bootstrap for aarch64-unknown-linux-gnu (Lambda arm64,
# provided.al2023), reproducibly: `make build-arm64`.
# The one non-Nix route to the shipped binary: check-al2023.sh, zip.sh and the
# aarch64 black-box tier test what it builds; repro.sh builds through it twice.
#
# What to build is declared once, in nix/build-inputs.toml (rustc release, target,
# profile, package and bin, RUSTFLAGS, CFLAGS, glibc floor); the Nix build reads the
# same file. This script adds only how to build it without Nix:
#   - Debian's rustc-web with its arm64 std (rustup cannot add a target offline),
#     with whichever `cargo` is on PATH; Debian's aarch64 gcc links and compiles
#     the C code (aws-lc-sys). ci/install.d/40-arm64.sh installs them.
#   - Debian 12's cross gcc links against glibc 2.36, above AL2023's 2.34. Rust's
#     std and aws-lc only use older symbols today; ci/check-al2023.sh proves it on
#     every build and fails the day a dependency needs more.
#   - The declared build environment ([env]; e.g. aws-lc without jitter entropy).
#   - The declared path remappings, with this build's paths: checkout, target dir
#     and CARGO_HOME become fixed placeholders, so builds in different places give
#     the same bytes (ci/repro.sh proves it). The paths of one checkout never
#     change, so repeated builds reuse target/ instead of rebuilding everything.
#
# Usage: ci/build-arm64.sh        builds into <checkout>/target
#   CARGO_TARGET_DIR, CARGO_HOME  honoured (ci/repro.sh sets CARGO_HOME)
#   RUSTC_ARM64                   the rustc to use (default /usr/bin/rustc, Debian's)
# Prints the path of the binary on its last line.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT"
die() { echo "build-arm64: $*" >&2; exit 1; }

inputs=nix/build-inputs.toml
[ -f "$inputs" ] || die "$inputs is missing: it declares what to build"
# Python's tomllib (3.11+) reads the declaration: lists included, no hand parser.
decl_rustc='' decl_target='' decl_profile='' decl_package='' decl_bin='' decl_glibc=''
decl_rustflags=() decl_cflags=()
eval "$(python3 - "$inputs" <<'PY'
import shlex, sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
for k in ("rustc", "target", "profile", "package", "bin", "glibc"):
    print(f"decl_{k}={shlex.quote(d[k])}")
for k in ("rustflags", "cflags"):
    print(f"decl_{k}=(" + " ".join(shlex.quote(x) for x in d[k]) + ")")
for k, v in d["env"].items():
    print(f"export {k}={shlex.quote(v)}")
PY
)" || die "cannot read $inputs"

RUSTC=${RUSTC_ARM64:-/usr/bin/rustc}
[ -x "$RUSTC" ] || die "$RUSTC missing: run 'bash ci/install.d/40-arm64.sh'"
have=$("$RUSTC" -vV | sed -n 's/^release: //p')
if [ "$have" != "$decl_rustc" ]; then
  die "$RUSTC is rustc $have, $inputs declares $decl_rustc. Another compiler gives
  another binary: change the declaration deliberately, in its own commit."
fi
SYSROOT=$("$RUSTC" --print sysroot)
[ -d "$SYSROOT/lib/rustlib/$decl_target/lib" ] \
  || die "no $decl_target std under $SYSROOT: run 'bash ci/install.d/40-arm64.sh'"

CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
CARGO_HOME=$(mkdir -p "$CARGO_HOME" && cd "$CARGO_HOME" && pwd -P)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TARGET_DIR=$(mkdir -p "$TARGET_DIR" && cd "$TARGET_DIR" && pwd -P)

render() { # the declared flags with this build's paths in place of the placeholders
  local f
  for f in "$@"; do
    f=${f//\{checkout\}/$ROOT}
    f=${f//\{target_dir\}/$TARGET_DIR}
    printf '%s\n' "${f//\{cargo_home\}/$CARGO_HOME}"
  done
}
mapfile -t rustflags < <(render "${decl_rustflags[@]}")
mapfile -t cflags < <(render "${decl_cflags[@]}")

# CARGO_ENCODED_RUSTFLAGS (0x1f-separated) keeps each flag whole. With --target
# set, cargo gives them to target code only, never to build scripts or
# proc-macros. RUSTFLAGS would override it: unset.
CARGO_ENCODED_RUSTFLAGS=$(IFS=$'\x1f'; printf '%s' "${rustflags[*]}")
export CARGO_ENCODED_RUSTFLAGS
unset RUSTFLAGS
u=${decl_target//-/_}
U=${u^^}
export "CARGO_TARGET_${U}_LINKER=aarch64-linux-gnu-gcc"
export "CC_$u=aarch64-linux-gnu-gcc" "AR_$u=aarch64-linux-gnu-ar"
# cc splits CFLAGS on whitespace: the paths in them must have none.
export "CFLAGS_$u=${cflags[*]}"
export RUSTC CARGO_HOME CARGO_TARGET_DIR=$TARGET_DIR

args=(build --locked --profile "$decl_profile" --target "$decl_target" --package "$decl_package" --bin "$decl_bin")
start=$(date +%s)
cargo "${args[@]}"
echo "build-arm64: $decl_target $decl_profile built in $(( $(date +%s) - start ))s" \
     "(rustc $have, glibc floor $decl_glibc checked by ci/check-al2023.sh)" >&2
echo "$TARGET_DIR/$decl_target/$decl_profile/$decl_bin"
