#!/usr/bin/env bash
# The browser tests (`make test-browser`, tests/browser): Debian's Chromium,
# driven by playwright-core from npm (it never downloads a browser of its own,
# which could not work offline), and axe-core for the accessibility check.
# Node.js and npm come from Debian when the machine has none.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Other install steps may hold the apt/dpkg locks: wait for them, do not fail.
  apt=(apt-get -qq -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
fi

# Exactly the versions in package-lock.json.
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ]; then
  echo "installing: playwright-core, axe-core (npm ci)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
