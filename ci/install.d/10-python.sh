#!/usr/bin/env bash
# moto (local DynamoDB + SES v2 over HTTP) for the black-box tests.
set -euo pipefail
python3 -c 'import moto.server' 2>/dev/null || pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
