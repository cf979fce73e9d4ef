#!/usr/bin/env bash
# hadolint on the Dockerfile, failing on any finding (its default threshold),
# then the image rules hadolint does not know: every FROM pinned by digest,
# the final stage exactly the pinned provided.al2023 arm64 base + bootstrap +
# CMD, the pin in step with nix/base-image.json (ci/template_check.py).
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
python3 - <<'PY'
import json, sys
from pathlib import Path
sys.path.insert(0, "ci")
import template_check as tc
base = Path("nix/base-image.json")
errors = []
tc.check_dockerfile(Path("Dockerfile").read_text(), json.loads(base.read_text()) if base.exists() else None, errors)
for e in errors:
    print(f"  - {e}")
sys.exit(1 if errors else 0)
PY
echo "docker-lint: OK"
