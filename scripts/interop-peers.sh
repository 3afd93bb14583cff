#!/usr/bin/env bash
# The interop peers of tests/interop/test_peers_*.py, each in its OWN environment:
#
#   .interop/py    a venv: aauth-signing 0.2.0, regent-httpsig 0.7.3, aauth 0.5.0,
#                  introspection-aauth[fastapi] 0.1.0 and uvicorn 0.55.0 (PyPI; `pip check` is clean)
#   .interop/node  @hellocoop/httpsig 2.2.0 (npm)
#
# Nothing of a peer is imported into .venv or copied into our code: the tests run small drivers
# (tests/interop/peers/) under the peer's own interpreter, as subprocesses; the server drivers
# (ps_server.py, rs_server.py) serve introspection-aauth's person and access servers and aauth's
# resource with uvicorn on 127.0.0.1 (tests/interop/peer_servers.py starts them).
# Idempotent: each environment has a stamp naming what it holds; a rerun with the same pins
# costs a file read. Quiet on success; the installer's whole output when it fails.
# A refusal (registry down, version gone, no npm) fails this script in CI (CI set), because CI
# must run the peer tests; elsewhere it warns and exits 0, and the peer tests skip, saying why.
set -euo pipefail
set -f  # no pathname expansion: the pins are words, and 'introspection-aauth[fastapi]' is no glob
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PY_PINS="aauth-signing==0.2.0 regent-httpsig==0.7.3 aauth==0.5.0 introspection-aauth[fastapi]==0.1.0 uvicorn==0.55.0"
NODE_PINS="@hellocoop/httpsig@2.2.0"
mkdir -p .interop
failed=""

fail() {  # fail NAME LOG: print the installer's output and remember the failure
  echo "interop-peers: ERROR: could not install $1 (output below, also in $2)" >&2
  cat "$2" >&2 || true
  failed="$failed $1"
}

if [ "$(cat .interop/py/.stamp 2>/dev/null || true)" != "$PY_PINS" ] || [ ! -x .interop/py/bin/python ]; then
  rm -rf .interop/py
  log=.interop/py-install.log
  # shellcheck disable=SC2086  # the pins are words on purpose
  if "$PY" -m venv .interop/py >"$log" 2>&1 \
    && .interop/py/bin/python -m pip install --quiet --disable-pip-version-check $PY_PINS >>"$log" 2>&1 \
    && .interop/py/bin/python -m pip check >>"$log" 2>&1; then
    echo "$PY_PINS" >.interop/py/.stamp
  else
    fail "the Python peers ($PY_PINS)" "$log"
  fi
fi

if [ "$(cat .interop/node/.stamp 2>/dev/null || true)" != "$NODE_PINS" ] \
  || [ ! -f .interop/node/node_modules/@hellocoop/httpsig/package.json ]; then
  rm -rf .interop/node
  mkdir -p .interop/node
  log=.interop/node-install.log
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "node and npm are not on PATH (Debian: apt-get install nodejs npm)" >"$log"
    fail "the Node peer ($NODE_PINS)" "$log"
  elif npm install --prefix .interop/node --no-audit --no-fund --silent "$NODE_PINS" >"$log" 2>&1; then
    echo "$NODE_PINS" >.interop/node/.stamp
  else
    fail "the Node peer ($NODE_PINS)" "$log"
  fi
fi

if [ -n "$failed" ]; then
  if [ -n "${CI:-}" ]; then
    echo "interop-peers: ERROR: CI must run the peer interop tests; the install failed for:$failed" >&2
    exit 1
  fi
  echo "interop-peers: WARNING: the peer interop tests will be SKIPPED (install failed for:$failed)" >&2
fi
