#!/usr/bin/env bash
# Reproducibility check for the shipped aarch64 bootstrap: `make repro`.
#
# Build 1 is the normal `ci/build-arm64.sh` output in this checkout (already
# built earlier in CI, so this is a no-op there). Build 2 compiles the same
# sources again in a different directory, with a different CARGO_HOME and a
# different target dir, from an empty build cache: the one extra build CI pays.
# Passes when both binaries are bit-identical and neither embeds a host path.
#
# Build 2's CARGO_HOME gets the registry cache and index of the first one
# (hard links), so it runs offline and fetches nothing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$ROOT"

say() { echo "repro: $*" >&2; }

CARGO_HOME1=${CARGO_HOME:-$HOME/.cargo}
CARGO_HOME1=$(cd "$CARGO_HOME1" && pwd -P)
bin1=$(bash ci/build-arm64.sh | tail -1)
# <target dir>/<triple>/<profile>/bootstrap: the target directory is two levels up
# (it is not always inside the checkout: CARGO_TARGET_DIR may put it anywhere).
TARGET_DIR1=$(cd "$(dirname "$bin1")/../.." && pwd -P)

work=$(mktemp -d "${TMPDIR:-/tmp}/rust-aws-repro.XXXXXX")
src2=$work/checkout   # deliberately a different path, depth and length
home2=$work/cargo-home
mkdir -p "$src2" "$home2/registry"

# The files cargo saw in build 1: tracked plus untracked-but-not-ignored, so a
# local edit in progress does not make the two builds differ. In CI the
# checkout is clean and this is exactly the commit.
rev=$(git rev-parse --short HEAD)
dirty=$(git status --porcelain --untracked-files=normal | head -1)
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$src2"

for d in cache index; do
  [ -d "$CARGO_HOME1/registry/$d" ] || continue
  cp -al "$CARGO_HOME1/registry/$d" "$home2/registry/" 2>/dev/null \
    || cp -a "$CARGO_HOME1/registry/$d" "$home2/registry/"
done
# Source replacement or a registry mirror must stay the same for both builds.
for f in config.toml config; do
  [ -f "$CARGO_HOME1/$f" ] && cp "$CARGO_HOME1/$f" "$home2/"
done

say "build 2 of ${rev}${dirty:+ (with uncommitted changes)} in $src2 (CARGO_HOME=$home2)"
bin2=$(cd "$src2" && env -u CARGO_TARGET_DIR CARGO_HOME="$home2" CARGO_NET_OFFLINE=true \
         bash ci/build-arm64.sh | tail -1)

TARGET_DIR2=$(cd "$(dirname "$bin2")/../.." && pwd -P)

sum1=$(sha256sum "$bin1" | cut -d' ' -f1)
sum2=$(sha256sum "$bin2" | cut -d' ' -f1)
echo "sha256 $sum1  build 1: $bin1"
echo "sha256 $sum2  build 2: $bin2"

fail=0
if [ "$sum1" != "$sum2" ]; then
  say "FAIL: the two builds differ ($(cmp "$bin1" "$bin2" 2>&1 | head -1))"
  fail=1
fi

# Host paths that must not reach the binary. Debian's prebuilt std names its
# sources /usr/src/rustc-<version>: a fixed path, the same on every machine
# with this toolchain, so it is not in this list.
sysroot=$("${RUSTC_ARM64:-/usr/bin/rustc}" --print sysroot)
host_paths=("$ROOT" "$src2" "$work" "$CARGO_HOME1" "$home2" "$TARGET_DIR1" "$TARGET_DIR2"
            "${RUSTUP_HOME:-$HOME/.rustup}" "$sysroot/lib/rustlib")
[ "${#HOME}" -gt 1 ] && host_paths+=("$HOME/")
pat=()
for p in "${host_paths[@]}"; do pat+=(-e "$p"); done
for b in "$bin1" "$bin2"; do
  mapfile -t leak_lines < <(strings -a -n 6 "$b" | grep -F "${pat[@]}" | sort -u | head -5)
  if [ ${#leak_lines[@]} -gt 0 ]; then
    say "FAIL: $b embeds host paths, e.g.:"
    printf '  %s\n' "${leak_lines[@]}" >&2
    fail=1
  fi
done

if [ "$fail" -ne 0 ]; then
  say "build 2 kept in $work for inspection"
  exit 1
fi
rm -rf "$work"
say "OK: bit-identical, no host paths (checked: ${host_paths[*]})"
