#!/usr/bin/env bash
# Tests nix/push-image.sh (the `nix run .#push` app) offline, with the skopeo on PATH
# and a hand-made image archive shaped like dockerTools' (gzip, one layer):
#   - it copies a linux/arm64 archive as one v2s2 manifest and prints its digest;
#   - it refuses another architecture, a non-ECR name and a bad tag before any network;
#   - every ECR host form it pushes to (ECR, FIPS, China) prints a URI that template.yaml's
#     ImageUri pattern accepts;
#   - for an ECR repository it logs in through a private auth file with the token from
#     `aws ecr get-login-password` for the URI's region, pushes REPOSITORY:TAG and
#     prints REPOSITORY@sha256:... (aws and the registry side of skopeo are stand-ins).
# ci/nix-check.sh runs it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
PUSH=$ROOT/nix/push-image.sh
real_skopeo=$(command -v skopeo) || { echo "test-push-image: skopeo missing (ci/install.d/30-nix.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "ok - $*"; }

# A docker-archive with one layer holding var/runtime/bootstrap, gzipped like dockerTools'.
make_archive() {
  python3 - "$1" "$2" <<'PY'
import gzip, hashlib, io, json, sys, tarfile
out, arch = sys.argv[1:]
def tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o755; ti.mtime = 1
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()
layer = tar_bytes([("var/runtime/bootstrap", b"\x7fELF stand-in")])
layer_id = hashlib.sha256(layer).hexdigest()
config = json.dumps({
    "architecture": arch, "os": "linux", "created": "1970-01-01T00:00:01Z",
    "config": {"Entrypoint": ["/lambda-entrypoint.sh"], "Cmd": ["bootstrap"], "WorkingDir": "/var/task"},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_id]},
}).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": config_name, "RepoTags": ["rust-aws:test"],
                        "Layers": [layer_id + "/layer.tar"]}]).encode()
outer = tar_bytes([("manifest.json", manifest), (config_name, config), (layer_id + "/layer.tar", layer)])
with open(out, "wb") as f:
    f.write(gzip.compress(outer, mtime=0))
PY
}
make_archive "$work/arm64.tar.gz" arm64
make_archive "$work/amd64.tar.gz" amd64

# Stand-ins for the network side: `aws` hands out a token, `skopeo login` writes the auth
# file it is given, `skopeo copy ... docker://...` lands in a dir: instead. Each records
# what it was asked.
mkdir "$work/bin"
cat >"$work/bin/aws" <<EOF
#!/usr/bin/env bash
echo "\$*" >>"$work/aws.log"
case "\$*" in "ecr get-login-password --region "*) echo ecr-token ;; esac
EOF
cat >"$work/bin/skopeo" <<EOF
#!/usr/bin/env bash
global=()
if [ "\$1" = --policy ]; then echo "\$2" >"$work/policy.arg"; global=(--policy "\$2"); shift 2; fi
case "\$1" in
  login)
    echo "\$*" >"$work/login.args"; cat >"$work/login.stdin"
    while [ \$# -gt 0 ]; do [ "\$1" = --authfile ] && echo '{"auths":{}}' >"\$2"; shift; done ;;
  copy)
    args=("\$@"); last=\${args[-1]}
    if [[ \$last == docker://* ]]; then
      echo "\${last#docker://}" >"$work/pushed.ref"
      args[-1]=dir:$work/ecr
    fi
    exec "$real_skopeo" "\${global[@]}" "\${args[@]}" ;;
  *) exec "$real_skopeo" "\${global[@]}" "\$@" ;;
esac
EOF
chmod +x "$work/bin/aws" "$work/bin/skopeo"

# As the flake app runs it: with the policy file skopeo ships (here, Debian's).
policy=/etc/containers/policy.json
run() { PATH=$work/bin:$PATH SKOPEO_POLICY=$policy bash "$PUSH" "$@" >"$work/out" 2>"$work/err"; }

# --- a plain copy: one v2s2 manifest, its digest printed ----------------------------------
run "$work/arm64.tar.gz" deftag "dir:$work/copy" || fail "copy failed: $(cat "$work/err")"
digest=$(cat "$work/out")
want=sha256:$(sha256sum "$work/copy/manifest.json" | cut -d' ' -f1)
[ "$digest" = "$want" ] || fail "printed '$digest', the manifest's digest is $want"
media=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mediaType"])' "$work/copy/manifest.json")
[ "$media" = application/vnd.docker.distribution.manifest.v2+json ] || fail "pushed a $media, not one v2s2 manifest"
[ "$(cat "$work/policy.arg" 2>/dev/null)" = "$policy" ] || fail "skopeo copy did not get --policy \$SKOPEO_POLICY"
ok "copies a gzipped linux/arm64 archive as one v2s2 manifest and prints its digest"

# --- ECR: login through a private auth file, push REPO:TAG, print REPO@digest -------------
repo=123456789012.dkr.ecr.eu-west-1.amazonaws.com/rust-aws
run "$work/arm64.tar.gz" deftag "$repo" || fail "ECR push failed: $(cat "$work/err")"
[ "$(cat "$work/aws.log")" = "ecr get-login-password --region eu-west-1" ] || fail "asked aws: $(cat "$work/aws.log")"
grep -q -- "--password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com" "$work/login.args" || fail "login: $(cat "$work/login.args")"
grep -Eq -- "--authfile ${TMPDIR:-/tmp}/[^ ]+/auth\.json" "$work/login.args" || fail "login did not use a private auth file: $(cat "$work/login.args")"
[ "$(cat "$work/login.stdin")" = ecr-token ] || fail "the token did not go through stdin"
[ "$(cat "$work/pushed.ref")" = "$repo:deftag" ] || fail "pushed $(cat "$work/pushed.ref"), not $repo:deftag"
want=$repo@sha256:$(sha256sum "$work/ecr/manifest.json" | cut -d' ' -f1)
[ "$(cat "$work/out")" = "$want" ] || fail "printed '$(cat "$work/out")', expected $want"
ok "logs in to ECR via stdin and a private auth file, pushes REPO:TAG, prints REPO@digest"

run "$work/arm64.tar.gz" deftag "$repo" v1.2.3 || fail "ECR push with a tag failed"
[ "$(cat "$work/pushed.ref")" = "$repo:v1.2.3" ] || fail "pushed $(cat "$work/pushed.ref"), not $repo:v1.2.3"
ok "takes an explicit tag"

# --- every ECR host form the app pushes to prints an ImageUri that template.yaml accepts ---
# (the template's ImageUri AllowedPattern, as CloudFormation will apply it to the printed URI)
image_uri_pattern=$(python3 - "$ROOT/template.yaml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
block = re.search(r"^  ImageUri:\n((?:    .*\n)+)", text, re.M)
m = block and re.search(r"^    AllowedPattern: '(.*)'$", block.group(1), re.M)
print(m.group(1) if m else "")
PY
)
[ -n "$image_uri_pattern" ] || fail "template.yaml: no AllowedPattern on the ImageUri parameter"
for host in 123456789012.dkr.ecr.eu-west-1.amazonaws.com \
            123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com \
            123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn; do
  region=$(echo "$host" | cut -d. -f4)
  rm -f "$work/aws.log"
  run "$work/arm64.tar.gz" deftag "$host/team/rust-aws" || fail "push to $host failed: $(cat "$work/err")"
  [ "$(cat "$work/aws.log")" = "ecr get-login-password --region $region" ] || fail "$host: asked aws: $(cat "$work/aws.log")"
  uri=$(cat "$work/out")
  python3 -c 'import re, sys; sys.exit(0 if re.fullmatch(sys.argv[1], sys.argv[2]) else 1)' "$image_uri_pattern" "$uri" \
    || fail "template.yaml's ImageUri pattern refuses $uri, which the push app printed"
  python3 -c 'import re, sys; sys.exit(0 if re.fullmatch(sys.argv[1], sys.argv[2]) else 1)' "$image_uri_pattern" "$host/team/rust-aws:v1" \
    || fail "template.yaml's ImageUri pattern refuses the tag form $host/team/rust-aws:v1"
done
ok "prints an ImageUri that template.yaml accepts for ECR, ECR FIPS and ECR in China"

# --- refusals, before anything reaches the network ------------------------------------
refuses() {
  local what=$1 expect=$2
  shift 2
  rm -f "$work/aws.log" "$work/pushed.ref"
  if run "$@"; then fail "accepted: $what"; fi
  grep -q "$expect" "$work/err" || fail "$what: unexpected message: $(cat "$work/err")"
  if [ -e "$work/aws.log" ] || [ -e "$work/pushed.ref" ]; then fail "$what: reached the network side"; fi
  ok "refuses $what"
}
refuses "an amd64 image" "not linux/arm64" "$work/amd64.tar.gz" deftag "$repo"
refuses "a repository that is not ECR's" "not an ECR repository" "$work/arm64.tar.gz" deftag example.com/rust-aws
refuses "an invalid tag" "not a valid image tag" "$work/arm64.tar.gz" deftag "$repo" "bad tag"
refuses "a missing repository" "usage" "$work/arm64.tar.gz" deftag

echo "test-push-image: $passed passed"
