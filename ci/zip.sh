#!/usr/bin/env bash
# bootstrap.zip for a `Runtime: provided.al2023` zip deployment: `make zip`.
# Usage: ci/zip.sh BINARY      (the checked aarch64 bootstrap)
# What nothing else proves: the zip Lambda would unpack holds that checked
# binary as an executable `bootstrap` at its root (checked below).
#
# The zip path (what `cargo lambda build --release --arm64 --output-format zip`
# makes; README.md, "Migrating from the 2019 setup"), made from the same binary
# the image ships and the tests ran: checked for AL2023 first, named
# `bootstrap` at the zip's root, executable, and with a fixed timestamp, so the
# same binary always gives the same zip. Written beside the binary; prints its path last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
  echo "usage: $0 BINARY" >&2
  exit 2
fi
bin=$1
out=$(cd "$(dirname "$bin")" && pwd)/bootstrap.zip

# Never zip a binary that Lambda would refuse to start (the self-test already
# ran in `make check-al2023`).
CHECK_AL2023_SELFTEST=${CHECK_AL2023_SELFTEST:-0} bash "$here/check-al2023.sh" "$bin" >&2

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/bootstrap"
# zip stores local time: pin both the clock and the zone. 2000-01-01 rather
# than the commit's time, so a commit that changes no code changes no zip.
TZ=UTC touch -d '2000-01-01 00:00:00' "$stage/bootstrap"
rm -f "$out"
# -X: no extra fields (uid/gid, extended times); unix permissions are kept.
(cd "$stage" && TZ=UTC zip -q -X -9 "$out" bootstrap)

listing=$(TZ=UTC unzip -Z "$out" bootstrap)
case $listing in
  -rwxr-xr-x*) ;;
  *) echo "zip: bootstrap lost its execute bit in $out: $listing" >&2; exit 1 ;;
esac
echo "zip: $(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1)" >&2
echo "$out"
