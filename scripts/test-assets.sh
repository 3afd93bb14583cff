#!/usr/bin/env bash
# Test assets that come from npm, installed into .cache/npm (git-ignored), checked before the suite runs.
#
# axe-core (the accessibility audit of the auth server's pages in tests/authserver/test_browser.py):
# `npm install axe-core@4`. Without npm this prints one loud line and the audit tests skip
# (their reason is in pytest's summary); under CI a missing axe-core is an error.
# The tests call this script themselves when axe-core is missing, so running pytest alone works too.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=.cache/npm
AXE="$PREFIX/node_modules/axe-core/axe.min.js"
if [ -f "$AXE" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then
    echo "test-assets: ERROR: npm is missing, so axe-core cannot be installed; CI must run the accessibility audit" >&2
    exit 1
  fi
  echo "test-assets: WARNING: npm is missing, so axe-core cannot be installed and the accessibility audit" \
    "of the auth server's pages will be SKIPPED; install Node.js and npm (apt-get install npm) to run it" >&2
  exit 0
fi
mkdir -p "$PREFIX"
echo "test-assets: installing axe-core for the accessibility audit (npm install axe-core@4 into $PREFIX)" >&2
if npm install --prefix "$PREFIX" --no-audit --no-fund --no-save --loglevel=error axe-core@4 >/dev/null \
    && [ -f "$AXE" ]; then
  exit 0
fi
if [ -n "${CI:-}" ]; then
  echo "test-assets: ERROR: npm install axe-core@4 failed; CI must run the accessibility audit" >&2
  exit 1
fi
echo "test-assets: WARNING: npm install axe-core@4 failed: the accessibility audit will be SKIPPED" >&2
