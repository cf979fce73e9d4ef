#!/usr/bin/env bash
# Refresh the pin of the Lambda base image (public.ecr.aws/lambda/provided:al2023-arm64)
# that flake.nix and the Dockerfile share, in one step so the two never drift apart:
#   1. resolve the tag's current digest (skopeo inspect, linux/arm64);
#   2. compute the Nix hash that dockerTools.pullImage checks (nix-prefetch-docker: it
#      pulls the image, so this needs network and Nix);
#   3. write nix/base-image.json and rewrite the digest in the Dockerfile's
#      `FROM <imageName>:<imageTag>@sha256:...` line.
#
# Usage: nix run .#refresh-base-image [-- OPTIONS]      (pinned skopeo and nix-prefetch-docker)
#        bash ci/refresh-base-image.sh [OPTIONS]        (tools from PATH)
#   --keep-digest        keep the pinned digest, only (re)compute its hash
#   --digest-only        move the digest, skip the hash (writes "" : `nix build .#image`
#                        then stops and says to run this again where Nix can pull)
#   --from-recorded DIR  no network: read DIR/skopeo-inspect.json (output of `skopeo inspect`)
#                        and DIR/nix-prefetch-docker.json (output of `nix-prefetch-docker
#                        --json`) instead of running them; for tests
#                        (ci/test-refresh-base-image.sh). Also $REFRESH_BASE_IMAGE_RECORDED.
#   --repo DIR           the checkout to update (default: the git checkout around $PWD)
#
# Prefer the flake app: the hash is of skopeo's archive, so it must come from the skopeo
# in the flake's nixpkgs, the one pullImage runs.
set -euo pipefail

die() { echo "refresh-base-image: $*" >&2; exit 1; }

repo="" recorded=${REFRESH_BASE_IMAGE_RECORDED:-} keep_digest=0 digest_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --repo) [ $# -ge 2 ] || die "--repo needs a directory"; repo=$2; shift 2 ;;
    --from-recorded) [ $# -ge 2 ] || die "--from-recorded needs a directory"; recorded=$2; shift 2 ;;
    --keep-digest) keep_digest=1; shift ;;
    --digest-only) digest_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ $keep_digest = 1 ] && [ $digest_only = 1 ] && die "--keep-digest and --digest-only together would change nothing"

if [ -z "$repo" ]; then
  repo=$(git rev-parse --show-toplevel 2>/dev/null) || die "not inside a git checkout: pass --repo DIR"
fi
pin=$repo/nix/base-image.json
dockerfile=$repo/Dockerfile
[ -f "$pin" ] || die "$pin not found"

# The one place this script parses or writes JSON (python3: in the flake app's inputs
# and on every CI machine; jq is on neither for sure).
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]) or "")' "$1" "$2"; }
name=$(field "$pin" imageName)
tag=$(field "$pin" imageTag)
old_digest=$(field "$pin" imageDigest)
if [ -z "$name" ] || [ -z "$tag" ]; then die "$pin lacks imageName or imageTag"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The digest.
if [ $keep_digest = 1 ]; then
  digest=$old_digest
else
  if [ -n "$recorded" ]; then
    cp "$recorded/skopeo-inspect.json" "$work/inspect.json"
  else
    # --override-*: the tag may name a multi-arch index; this checks that it has a
    # linux/arm64 image (pullImage and `docker build --platform linux/arm64` pick that one).
    skopeo --override-os linux --override-arch arm64 inspect --no-tags \
      "docker://$name:$tag" >"$work/inspect.json"
  fi
  digest=$(python3 - "$work/inspect.json" <<'PY'
import json, re, sys
data = json.load(open(sys.argv[1]))
digest = data.get("Digest", "")
if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
    sys.exit(f"skopeo inspect gave no usable Digest: {digest!r}")
for key, want in (("Os", "linux"), ("Architecture", "arm64")):
    if data.get(key, want) != want:
        sys.exit(f"skopeo inspect resolved a {key} of {data[key]!r}, not {want!r}")
print(digest)
PY
  ) || die "could not resolve the digest of $name:$tag"
fi
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "pinned digest '$digest' is malformed"

# 2. The Nix hash of that digest's linux/arm64 image, as pullImage will fetch it: same
# name, tag, os and arch as nix/image.nix passes.
hash=""
if [ $digest_only = 0 ]; then
  if [ -n "$recorded" ]; then
    cp "$recorded/nix-prefetch-docker.json" "$work/prefetch.json"
  else
    nix-prefetch-docker --quiet --json --os linux --arch arm64 \
      --image-name "$name" --image-digest "$digest" \
      --final-image-name "$name" --final-image-tag "$tag" >"$work/prefetch.json"
  fi
  hash=$(python3 - "$work/prefetch.json" "$digest" <<'PY'
import base64, json, re, sys
data = json.load(open(sys.argv[1]))
if data.get("imageDigest") != sys.argv[2]:
    sys.exit(f"nix-prefetch-docker hashed {data.get('imageDigest')!r}, not {sys.argv[2]!r}")
value = data.get("hash") or data.get("sha256") or ""
if value.startswith("sha256-"):
    raw = base64.b64decode(value[len("sha256-"):], validate=True)
elif re.fullmatch(r"[0-9a-f]{64}", value):
    raw = bytes.fromhex(value)
elif re.fullmatch(r"[0-9abcdfghijklmnpqrsvwxyz]{52}", value):
    # Older nix-prefetch-docker prints Nix's base32 under "sha256".
    alphabet = "0123456789abcdfghijklmnpqrsvwxyz"
    n = 0
    for i, c in enumerate(value):
        n |= alphabet.index(c) << (5 * (len(value) - 1 - i))
    if n >> 256:
        sys.exit(f"not a sha256 in Nix base32: {value!r}")
    raw = n.to_bytes(32, "little")
else:
    sys.exit(f"nix-prefetch-docker gave no usable hash: {value!r}")
if len(raw) != 32:
    sys.exit(f"not a sha256: {value!r}")
print("sha256-" + base64.b64encode(raw).decode())
PY
  ) || die "could not get the Nix hash of $name@$digest"
fi

# 3. Check the Dockerfile's pin line before writing anything, so a failure changes nothing.
from_re="^FROM[[:space:]]+${name//./\\.}:${tag//./\\.}@sha256:[0-9a-f]{64}([[:space:]].*)?$"
if [ -f "$dockerfile" ]; then
  n=$(grep -Ec "$from_re" "$dockerfile" || true)
  [ "$n" -ge 1 ] || die "$dockerfile has no 'FROM $name:$tag@sha256:<digest>' line to update; restore that line"
fi

python3 - "$pin" "$name" "$tag" "$digest" "$hash" <<'PY'
import json, os, sys
path, name, tag, digest, hash_ = sys.argv[1:]
pin = {
    "imageName": name,
    "imageTag": tag,
    "imageDigest": digest,
    "hash": hash_,
    # Which digest `hash` belongs to: nix/base-image.nix calls the pin stale when they differ.
    "hashForDigest": digest if hash_ else "",
}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(pin, f, indent=2)
    f.write("\n")
os.replace(tmp, path)
PY

if [ -f "$dockerfile" ]; then
  sed -E -i "s#^(FROM[[:space:]]+${name//./\\.}:${tag//./\\.}@)sha256:[0-9a-f]{64}#\\1${digest}#" "$dockerfile"
else
  echo "refresh-base-image: no Dockerfile in $repo, only nix/base-image.json updated" >&2
fi

if [ "$digest" = "$old_digest" ]; then
  echo "refresh-base-image: $name:$tag still at $digest" >&2
else
  echo "refresh-base-image: $name:$tag moved $old_digest -> $digest" >&2
fi
if [ -n "$hash" ]; then
  echo "refresh-base-image: Nix hash $hash" >&2
else
  echo "refresh-base-image: no Nix hash written: run 'nix run .#refresh-base-image -- --keep-digest' where Nix can pull" >&2
fi
echo "refresh-base-image: review and commit nix/base-image.json and Dockerfile" >&2
