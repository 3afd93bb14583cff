#!/usr/bin/env sh
# Build the peer virtual environment for the benchmarks (never committed, never imported by us):
# the transcript-era `aauth` 0.1.0 from PyPI, with its own dependencies, apart from .venv.
#   benchmarks/peers/setup.sh [VENV]     (default: /work/peer-venv, or $AAUTH_PEER_VENV)
set -eu
VENV="${1:-${AAUTH_PEER_VENV:-/work/peer-venv}}"
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("aauth") != "0.1.0")' 2>/dev/null; then
    exit 0  # already there
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aauth==0.1.0"
