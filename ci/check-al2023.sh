#!/usr/bin/env bash
# Does this aarch64 binary load on Amazon Linux 2023 (Lambda provided.al2023)?
# Usage: ci/check-al2023.sh BINARY    (`make check-al2023`; the Nix build runs it too)
#
# Read from the ELF header alone (readelf understands any architecture's ELF):
#   - an AArch64 ELF executable whose interpreter is /lib/ld-linux-aarch64.so.1
#     (a Nix-linked binary asks for /nix/store/...-glibc/..., which Lambda lacks);
#   - no RUNPATH/RPATH: nothing outside the system's library directories;
#   - DT_NEEDED only from the base system (see ALLOWED_NEEDED);
#   - no GLIBC_ symbol version above AL2023's glibc, 2.34: a newer one fails
#     at start with "GLIBC_2.3x not found" before our code runs.
# Why no string search for /nix/store: crane rewrites vendored source paths to
# /nix/store/eeee..., so such strings are harmless; what the loader reads is not.
#
# The bound is the `glibc` of nix/build-inputs.toml (the declared floor, shared
# with the Nix build, which runs this script on its binary too); GLIBC_MAX
# overrides it.
#
# Before checking, it proves it can fail: ci/test-check-al2023.sh (about a
# second) builds tiny C programs that each break one rule. Where that test is
# not beside this script (the Nix build copies only this script and the
# declaration, and has no Debian cross gcc) or CHECK_AL2023_SELFTEST=0, it is
# skipped, and says so.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
inputs=$here/../nix/build-inputs.toml
if [ -z "${GLIBC_MAX:-}" ] && [ -f "$inputs" ]; then
  GLIBC_MAX=$(sed -n -E 's/^[[:space:]]*glibc[[:space:]]*=[[:space:]]*"([0-9.]+)".*/\1/p' "$inputs" | head -1)
fi
# Without a declaration: Amazon Linux 2023's glibc.
GLIBC_MAX=${GLIBC_MAX:-2.34}
INTERP=/lib/ld-linux-aarch64.so.1
# The libraries of glibc itself, plus GCC's unwinder, which Rust's std links
# on gnu targets and glibc itself loads for thread cancellation (AL2023's base
# system has it; not verified against the image, see docs/arm64.md).
# libpthread, libdl, librt and libutil are empty stubs since glibc 2.34 but
# exist for old binaries. Anything else (libssl, libz, libstdc++) would have to
# be shipped beside bootstrap, and the shipped artifact is the one file.
ALLOWED_NEEDED=(ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libpthread.so.0
                libdl.so.2 librt.so.1 libutil.so.1 libgcc_s.so.1)

if [ $# -ne 1 ]; then
  echo "usage: $0 BINARY" >&2
  exit 2
fi
bin=$1

if [ "${CHECK_AL2023_SELFTEST:-1}" = 0 ]; then
  :
elif [ -f "$here/test-check-al2023.sh" ]; then
  CHECK_AL2023_SELFTEST=0 bash "$here/test-check-al2023.sh" >/dev/null \
    || { echo "check-al2023: its self-test failed (run: bash ci/test-check-al2023.sh)" >&2; exit 1; }
else
  echo "check-al2023: self-test not here, skipped (CI runs it)"
fi

if ! [ -f "$bin" ]; then
  echo "check-al2023: $bin: no such file (build it: make build-arm64)" >&2
  exit 1
fi
command -v readelf >/dev/null || { echo "check-al2023: readelf (binutils) is missing" >&2; exit 1; }

fails=()
fail() { fails+=("$*"); }

header=$(LC_ALL=C readelf --file-header --wide "$bin" 2>&1) \
  || { echo "check-al2023: $bin: not an ELF file" >&2; exit 1; }
grep -Eq '^ *Class: +ELF64$' <<<"$header" || fail "not a 64-bit ELF"
grep -Eq '^ *Machine: +AArch64$' <<<"$header" \
  || fail "machine is $(sed -n 's/^ *Machine: *//p' <<<"$header"), not AArch64"
grep -Eq '^ *Type: +(EXEC|DYN) ' <<<"$header" || fail "not an executable"

interp=$(LC_ALL=C readelf --program-headers --wide "$bin" \
           | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
[ "$interp" = "$INTERP" ] || fail "interpreter is '${interp:-none}', want $INTERP"

dynamic=$(LC_ALL=C readelf --dynamic --wide "$bin")
while read -r tag path; do
  fail "$tag $path: the loader would search there (nothing but system directories)"
done < <(sed -n -E 's/.*\((RUNPATH|RPATH)\).*: \[(.*)\]$/\1 \2/p' <<<"$dynamic")

needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' <<<"$dynamic")
for lib in $needed; do
  ok=0
  for a in "${ALLOWED_NEEDED[@]}"; do [ "$lib" = "$a" ] && ok=1; done
  [ $ok = 1 ] || fail "needs $lib, which is not part of AL2023's base system"
done

# Version needs (.gnu.version_r): what the loader checks against libc.so.6.
versions=$(LC_ALL=C readelf --version-info --wide "$bin" \
             | grep -oE 'Name: GLIBC_[^ ]+' | sed 's/^Name: GLIBC_//' | sort -uV)
max=none
for v in $versions; do
  if ! [[ $v =~ ^[0-9]+(\.[0-9]+)+$ ]]; then
    fail "needs GLIBC_$v, not a public glibc version"
    continue
  fi
  max=$v
  if [ "$(printf '%s\n%s\n' "$v" "$GLIBC_MAX" | sort -V | tail -1)" != "$GLIBC_MAX" ]; then
    syms=$(LC_ALL=C readelf --dyn-syms --wide "$bin" | grep -F "@GLIBC_$v" \
             | awk '{print $8}' | sed 's/@.*//' | sort -u | tr '\n' ' ')
    fail "needs GLIBC_$v > $GLIBC_MAX (AL2023) for: ${syms:-?}"
  fi
done

echo "check-al2023: $bin"
echo "  interpreter: ${interp:-none}"
echo "  needed:      ${needed//$'\n'/ }"
echo "  max glibc:   GLIBC_$max (bound: $GLIBC_MAX)"
if [ ${#fails[@]} -gt 0 ]; then
  printf '  FAIL: %s\n' "${fails[@]}" >&2
  echo "check-al2023: $bin would not load on Amazon Linux 2023" >&2
  exit 1
fi
echo "check-al2023: OK"
