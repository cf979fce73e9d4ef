#!/usr/bin/env bash
# moto (local DynamoDB + SES v2 over HTTP) for the black-box tests and the
# benchmark, served by waitress (tests/support/moto_server.py says why).
set -euo pipefail
python3 -c 'import moto.server' 2>/dev/null || pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
python3 -c 'import waitress' 2>/dev/null || pip install --quiet --disable-pip-version-check 'waitress==3.0.2'
