#!/usr/bin/env bash
# Tests ci/refresh-base-image.sh offline, against recorded look-ups
# (nix/testdata/refresh/), on throwaway copies of nix/base-image.json and the Dockerfile.
# The checkout itself is never written to; the last test proves it.
# When nix-instantiate is on PATH, the results also go through nix/base-image.nix, the
# code that decides whether `nix build .#image` may use the pin.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
REFRESH=$ROOT/ci/refresh-base-image.sh
RECORDED=$ROOT/nix/testdata/refresh

OLD=sha256:a48275a6cb21dbd9cae6f8cc10ee8ccc416e1b48f9376d049c5b347985239456
NEW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Digest"])' "$RECORDED/skopeo-inspect.json")
NEW_HASH=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hash"])' "$RECORDED/nix-prefetch-docker.json")
# A sha256 in SRI form and in Nix's base32, as `nix hash to-base32` prints it (Nix 2.8).
SRI=sha256-6JNCbYbrWi2r0+kVgXtVi7Vu6gSuSjmyifCSWyZaS9o=
BASE32=1njbb8k5p4phi6r3jjmf0km6xdcbamxq25g9sfmjsnpbhrnl54z8

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fingerprint() { cat "$ROOT/nix/base-image.json" "$ROOT/Dockerfile" 2>/dev/null | sha256sum; }
before=$(fingerprint)
passed=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "ok - $*"; }

# A scratch checkout pinned at $OLD without a hash, with the project's Dockerfile (or, in
# a checkout that has none yet, a stand-in with the same pin line) plus a line that must
# survive untouched.
new_repo() {
  local r=$work/$1
  mkdir -p "$r/nix"
  cat >"$r/nix/base-image.json" <<EOF
{
  "imageName": "public.ecr.aws/lambda/provided",
  "imageTag": "al2023-arm64",
  "imageDigest": "$OLD",
  "hash": "",
  "hashForDigest": ""
}
EOF
  if [ -f "$ROOT/Dockerfile" ]; then
    sed -E "s#^(FROM public\.ecr\.aws/lambda/provided:al2023-arm64@)sha256:[0-9a-f]{64}#\\1$OLD#" \
      "$ROOT/Dockerfile" >"$r/Dockerfile"
  else
    printf 'FROM public.ecr.aws/lambda/provided:al2023-arm64@%s\nCMD ["bootstrap"]\n' "$OLD" >"$r/Dockerfile"
  fi
  echo "FROM public.ecr.aws/lambda/provided:al2023-x86_64@$OLD AS untouched" >>"$r/Dockerfile"
  echo "$r"
}

# A copy of the recorded look-ups, edited by a python expression on `d` (the JSON).
recorded_with() {
  local dir=$work/rec-$1 file=$2 edit=$3
  mkdir -p "$dir"
  cp "$RECORDED"/*.json "$dir/"
  python3 - "$dir/$file" "$edit" <<'PY'
import json, sys
path, edit = sys.argv[1:]
d = json.load(open(path))
exec(edit)
json.dump(d, open(path, "w"), indent=2)
PY
  echo "$dir"
}

get() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/nix/base-image.json" "$2"; }
refresh() { bash "$REFRESH" --repo "$@" 2>"$work/stderr"; }

# What nix/base-image.nix says about a pin: "ok", or its message.
nix_verdict() {
  nix-instantiate --eval --strict --json \
    -E "let p = (import $ROOT/nix/base-image.nix $1/nix/base-image.json).problem; in if p == null then \"ok\" else p" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin))'
}
have_nix=0
command -v nix-instantiate >/dev/null && have_nix=1

# --- moving to the newest digest, with its hash --------------------------------------
r=$(new_repo move)
cp "$r/Dockerfile" "$work/Dockerfile.before"
refresh "$r" --from-recorded "$RECORDED" || fail "refresh failed: $(cat "$work/stderr")"
[ "$(get "$r" imageDigest)" = "$NEW" ] || fail "digest not moved"
[ "$(get "$r" hash)" = "$NEW_HASH" ] || fail "hash not written"
[ "$(get "$r" hashForDigest)" = "$NEW" ] || fail "hashForDigest not the new digest"
changed=$(diff "$work/Dockerfile.before" "$r/Dockerfile" | grep -c '^[<>]' || true)
[ "$changed" = 2 ] || fail "expected exactly one Dockerfile line rewritten, diff has $changed lines"
grep -q "^FROM public.ecr.aws/lambda/provided:al2023-arm64@$NEW" "$r/Dockerfile" || fail "FROM line not rewritten"
grep -q "al2023-x86_64@$OLD AS untouched" "$r/Dockerfile" || fail "another image's FROM line was rewritten"
ok "moves nix/base-image.json and the Dockerfile's FROM line to the new digest and its hash"
if [ $have_nix = 1 ]; then
  [ "$(nix_verdict "$r")" = ok ] || fail "nix/base-image.nix rejects a refreshed pin: $(nix_verdict "$r")"
  ok "nix/base-image.nix accepts the refreshed pin"
fi

# --- running it again changes nothing ---------------------------------------------------
sum=$(cat "$r/nix/base-image.json" "$r/Dockerfile" | sha256sum)
refresh "$r" --from-recorded "$RECORDED" || fail "second refresh failed"
[ "$(cat "$r/nix/base-image.json" "$r/Dockerfile" | sha256sum)" = "$sum" ] || fail "second run changed files"
ok "is idempotent"

# --- a digest edited by hand makes the pin stale -----------------------------------------
if [ $have_nix = 1 ]; then
  python3 - "$r/nix/base-image.json" "$OLD" <<'PY'
import json, sys
path, old = sys.argv[1:]
d = json.load(open(path)); d["imageDigest"] = old
json.dump(d, open(path, "w"), indent=2)
PY
  verdict=$(nix_verdict "$r")
  [[ $verdict == *stale* && $verdict == *"nix run .#refresh-base-image"* ]] \
    || fail "a stale pin is not reported with the command to run: $verdict"
  ok "nix/base-image.nix calls a digest changed without its hash stale, naming the command"
fi

# --- --digest-only: new digest, no hash, and the flake says what to run -----------------
r=$(new_repo digest-only)
refresh "$r" --from-recorded "$RECORDED" --digest-only || fail "--digest-only failed"
[ "$(get "$r" imageDigest)" = "$NEW" ] || fail "--digest-only did not move the digest"
if [ -n "$(get "$r" hash)" ] || [ -n "$(get "$r" hashForDigest)" ]; then fail "--digest-only wrote a hash"; fi
grep -q "al2023-arm64@$NEW" "$r/Dockerfile" || fail "--digest-only did not rewrite the Dockerfile"
ok "--digest-only moves the digest and leaves the hash empty"
if [ $have_nix = 1 ]; then
  verdict=$(nix_verdict "$r")
  [[ $verdict == *"no Nix hash"* && $verdict == *"nix run .#refresh-base-image"* ]] \
    || fail "a missing hash is not reported with the command to run: $verdict"
  ok "nix/base-image.nix refuses a pin without a hash, naming the command"
fi

# --- --keep-digest: hash the digest pinned now -------------------------------------------
r=$(new_repo keep)
rec=$(recorded_with keep nix-prefetch-docker.json "d['imageDigest'] = '$OLD'")
refresh "$r" --from-recorded "$rec" --keep-digest || fail "--keep-digest failed: $(cat "$work/stderr")"
if [ "$(get "$r" imageDigest)" != "$OLD" ] || [ "$(get "$r" hashForDigest)" != "$OLD" ]; then fail "--keep-digest moved the digest"; fi
[ "$(get "$r" hash)" = "$NEW_HASH" ] || fail "--keep-digest wrote no hash"
ok "--keep-digest fills in the hash of the pinned digest"

# --- older nix-prefetch-docker: base32 under "sha256" ------------------------------------
r=$(new_repo base32)
rec=$(recorded_with base32 nix-prefetch-docker.json "del d['hash']; d['sha256'] = '$BASE32'")
refresh "$r" --from-recorded "$rec" || fail "base32 refresh failed: $(cat "$work/stderr")"
[ "$(get "$r" hash)" = "$SRI" ] || fail "base32 $BASE32 became $(get "$r" hash), not $SRI"
ok "converts nix-prefetch-docker's base32 sha256 to the SRI form"

# --- refusals: each fails and writes nothing ----------------------------------------------
refuses() {
  local what=$1 r=$2
  shift 2
  local sum
  sum=$(cat "$r/nix/base-image.json" "$r/Dockerfile" | sha256sum)
  if refresh "$r" "$@"; then fail "accepted: $what"; fi
  [ "$(cat "$r/nix/base-image.json" "$r/Dockerfile" | sha256sum)" = "$sum" ] || fail "wrote files despite: $what"
  ok "refuses, changing nothing: $what"
}
refuses "a malformed digest" "$(new_repo bad-digest)" \
  --from-recorded "$(recorded_with bad-digest skopeo-inspect.json "d['Digest'] = 'sha256:1234'")"
refuses "an image that is not arm64" "$(new_repo amd64)" \
  --from-recorded "$(recorded_with amd64 skopeo-inspect.json "d['Architecture'] = 'amd64'")"
refuses "a hash computed for another digest" "$(new_repo other)" \
  --from-recorded "$(recorded_with other nix-prefetch-docker.json "d['imageDigest'] = '$OLD'")"
refuses "a hash that is not a sha256" "$(new_repo short-hash)" \
  --from-recorded "$(recorded_with short-hash nix-prefetch-docker.json "d['hash'] = 'sha256-AAAA'")"
r=$(new_repo no-from)
sed -i -E 's#^FROM public\.ecr\.aws/lambda/provided:al2023-arm64@.*#FROM public.ecr.aws/lambda/provided:al2023-arm64#' "$r/Dockerfile"
refuses "a Dockerfile without the pinned FROM line" "$r" --from-recorded "$RECORDED"

# --- the checkout itself was never touched ------------------------------------------------
[ "$(fingerprint)" = "$before" ] || fail "the checkout's nix/base-image.json or Dockerfile changed"
ok "left the checkout's own files alone"

echo "test-refresh-base-image: $passed passed"
