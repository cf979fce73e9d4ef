#!/usr/bin/env bash
# Proves ci/check-al2023.sh can fail: one tiny aarch64 C program per rule it
# enforces, each built to break exactly that rule, plus one that must pass.
# A check that cannot fail is a defect. About a second; ci/check-al2023.sh
# runs it first. Needs aarch64-linux-gnu-gcc (ci/install.d/40-arm64.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cc=aarch64-linux-gnu-gcc
command -v "$cc" >/dev/null || { echo "test-check-al2023: $cc missing: run ci/install.d/40-arm64.sh" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

cat > ok.c <<'EOF'
#include <stdio.h>
int main(void) { puts("ok"); return 0; }
EOF
# arc4random is GLIBC_2.36 and _dl_find_object GLIBC_2.35: both in Debian 12's
# glibc, neither in AL2023's 2.34. 2.35 is the first version over the bound.
cat > glibc236.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("%u\n", arc4random()); return 0; }
EOF
cat > glibc235.c <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
int main(void) { struct dl_find_object r; return _dl_find_object((void *)main, &r); }
EOF
cat > foreign.c <<'EOF'
int foreign(void) { return 1; }
EOF
cat > needs-foreign.c <<'EOF'
int foreign(void);
int main(void) { return foreign(); }
EOF

$cc -O2 ok.c -o ok
$cc -O2 glibc236.c -o glibc236
$cc -O2 glibc235.c -o glibc235
$cc -O2 ok.c -o runpath -Wl,--enable-new-dtags -Wl,-rpath,/nix/store/0000-glibc-2.40/lib
$cc -O2 ok.c -o rpath -Wl,--disable-new-dtags -Wl,-rpath,/opt/lib
$cc -O2 ok.c -o interp -Wl,--dynamic-linker=/nix/store/0000-glibc-2.40/lib/ld-linux-aarch64.so.1
$cc -O2 -shared -fPIC foreign.c -o libforeign.so
$cc -O2 needs-foreign.c -o needs-foreign -L. -lforeign
# The right glibc, the wrong machine: the x86_64 build of the same program.
gcc -O2 ok.c -o x86_64 2>/dev/null || cp /bin/true x86_64
printf 'not an ELF\n' > text

check() { env -u GLIBC_MAX CHECK_AL2023_SELFTEST=0 bash "$here/check-al2023.sh" "$1" >out 2>&1; }
passed=0 failed=0
expect() { # expect pass|fail BINARY 'message the check must print'
  local want=$1 bin=$2 why=${3:-} got=pass
  check "$bin" || got=fail
  if [ "$got" = "$want" ] && { [ -z "$why" ] || grep -qF -- "$why" out; }; then
    passed=$((passed + 1)); echo "ok   $want: $bin"
  else
    failed=$((failed + 1)); echo "FAIL $bin: wanted $want${why:+ saying \"$why\"}, got $got:"; sed 's/^/     /' out
  fi
}

expect pass ok
expect fail glibc236      'needs GLIBC_2.36 > 2.34 (AL2023) for: arc4random'
expect fail glibc235      'needs GLIBC_2.35 > 2.34'
expect fail runpath       'RUNPATH /nix/store/0000-glibc-2.40/lib'
expect fail rpath         'RPATH /opt/lib'
expect fail interp        "interpreter is '/nix/store/0000-glibc-2.40/lib/ld-linux-aarch64.so.1'"
expect fail needs-foreign 'needs libforeign.so'
expect fail x86_64        'not AArch64'
expect fail text          'not an ELF'
expect fail missing       'no such file'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
