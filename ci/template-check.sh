#!/usr/bin/env bash
# Offline proofs that template.yaml deploys what the code expects:
#   1. cfn-lint on the SAM template (errors, warnings and informational)
#   2. the SAM translator turns it into CloudFormation (managed-policy lookup
#      stubbed, no AWS), and cfn-lint passes on that output too
#   3. template and code agree: routes, environment, table, metrics, IAM,
#      alarms, the Dockerfile's pins, and README.md's table design lists every
#      item kind the store writes (ci/template_check.py)
#   4. the checker's self-test: each break it claims to catch is caught
# Needs: cfn-lint, aws-sam-translator (ci/install.d/20-deploy-tools.sh), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== cfn-lint template.yaml"
cfn-lint --include-checks I -- template.yaml

echo "== contract: cargo run --example contract"
# The code's side is read from the code, never from a copy.
cargo run --quiet --example contract >"$tmp/contract.json"

echo "== SAM translation + template/code agreement"
python3 ci/template_check.py --contract "$tmp/contract.json" --translated-out "$tmp/translated.json"

echo "== cfn-lint on the translated CloudFormation"
cfn-lint --include-checks I -- "$tmp/translated.json"

echo "== checker self-test (each mutation must be reported)"
python3 ci/template_check.py --contract "$tmp/contract.json" --self-test

echo "template-check: OK"
