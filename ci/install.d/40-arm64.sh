#!/usr/bin/env bash
# The aarch64 cross toolchain, from Debian's archive only: rustup
# cannot add a target offline, but Debian ships rustc with an arm64 std.
#   rustc-web, libstd-rust-web-dev:arm64  rustc 1.9x and the aarch64 std (+ arm64 libc6,
#                                         which qemu-user loads from /lib/aarch64-linux-gnu)
#   gcc-aarch64-linux-gnu                 linker driver and C compiler (aws-lc-sys)
#   libc6-dev-arm64-cross                 crt files and glibc headers/stubs to link against
#                                         (only a Recommends of the gcc package)
#   binutils-aarch64-linux-gnu            readelf/objdump for the AL2023 check
#   qemu-user-static                      runs the aarch64 binary under the black-box tests
#   zip                                   the provided.al2023 zip artifact
# Idempotent: does nothing when every package is already installed.
set -euo pipefail

pkgs=(rustc-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross
      binutils-aarch64-linux-gnu qemu-user-static zip)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Other install steps may hold the apt/dpkg locks: wait for them, do not fail.
apt=(apt-get -qq -o DPkg::Lock::Timeout=600)
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
"${apt[@]}" update
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
