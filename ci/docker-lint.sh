#!/usr/bin/env bash
# hadolint on the Dockerfile, failing on any finding (its default threshold).
# The image rules hadolint does not know (every FROM pinned by digest, the
# final stage exactly the pinned provided.al2023 arm64 base + bootstrap + CMD,
# the pin in step with nix/base-image.json) are ci/template_check.py's
# check_dockerfile, run with its self-test by `make template-check`.
set -euo pipefail
cd "$(dirname "$0")/.."
hadolint --version
hadolint Dockerfile
# A lint that cannot fail proves nothing: a copy with an unpinned tag must be
# rejected (DL3007), so a stray config that silences hadolint is noticed.
if sed 's|nixos/nix@sha256:[0-9a-f]*|nixos/nix:latest|' Dockerfile | hadolint - >/dev/null; then
  echo "FAIL: hadolint accepted a Dockerfile using nixos/nix:latest" >&2
  exit 1
fi
echo "docker-lint: OK"
