#!/usr/bin/env bash
# Push the Nix-built image to Amazon ECR without Docker: `nix run .#push -- REPOSITORY [TAG]`.
#
# The flake app calls this as: push-image.sh IMAGE_ARCHIVE DEFAULT_TAG DESTINATION [TAG]
#   DESTINATION  an ECR repository, ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME (or
#                $ECR_REPOSITORY): logs in with your AWS credentials, pushes
#                NAME:TAG and prints REPOSITORY@sha256:..., the form that
#                `sam deploy` (ImageUri) and Lambda take.
#                Or any skopeo destination with its transport spelled out
#                (docker://HOST/NAME:TAG, oci:DIR, dir:DIR, ...): copied there as is,
#                with skopeo's usual credentials; prints the manifest digest.
#   TAG          for ECR; defaults to the image's own tag, derived from its content.
# ECR needs ecr:GetAuthorizationToken and the push permissions on the repository.
#
# The push is one single-architecture manifest (Docker v2 schema 2): Lambda rejects
# image indexes, for example ones carrying attestations. nix/test-push-image.sh tests
# this script offline with dir: destinations.
set -euo pipefail

die() { echo "push: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "internal: expected IMAGE_ARCHIVE DEFAULT_TAG"
archive=$1 default_tag=$2
shift 2
destination=${1:-${ECR_REPOSITORY:-}}
tag=${2:-$default_tag}
[ -n "$destination" ] || die "usage: nix run .#push -- ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME [TAG]"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# dockerTools gzips the archive; not every skopeo reads a compressed docker-archive
# (1.9 fails with "unexpected EOF"), so give it the plain tar.
if gzip -t "$archive" 2>/dev/null; then
  gzip -dc "$archive" >"$work/image.tar"
  archive=$work/image.tar
fi

# Refuse anything but a linux/arm64 image: the function is declared arm64, and a wrong
# architecture only shows up later, as a failed invocation.
platform=$(skopeo inspect --format '{{.Os}}/{{.Architecture}}' "docker-archive:$archive") \
  || die "cannot read $archive as an image archive"
[ "$platform" = linux/arm64 ] || die "$archive is a $platform image, not linux/arm64"

# nixpkgs' skopeo reads its signature policy from /etc/containers/policy.json, which many
# systems lack; the flake app points $SKOPEO_POLICY at the default policy skopeo ships.
copy=(skopeo)
[ -n "${SKOPEO_POLICY:-}" ] && copy+=(--policy "$SKOPEO_POLICY")
copy+=(copy --format v2s2 --digestfile "$work/digest")
if [[ $destination =~ ^[a-z-]+: ]]; then
  "${copy[@]}" "docker-archive:$archive" "$destination" >&2
  echo "push: copied to $destination" >&2
  cat "$work/digest"
  echo
  exit 0
fi

registry=${destination%%/*}
if [[ $registry =~ ^[0-9]{12}\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$ ]] && [ "$registry" != "$destination" ]; then
  region=${BASH_REMATCH[2]}
else
  die "'$destination' is not an ECR repository URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME)"
fi
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$tag' is not a valid image tag"

# The ECR token goes through a pipe into a private auth file: never into argv, never
# into the user's default container credentials.
auth=$work/auth.json
aws ecr get-login-password --region "$region" \
  | skopeo login --authfile "$auth" --username AWS --password-stdin "$registry" >/dev/null

"${copy[@]}" --authfile "$auth" "docker-archive:$archive" "docker://$destination:$tag" >&2
echo "push: $destination:$tag" >&2
echo "$destination@$(cat "$work/digest")"
