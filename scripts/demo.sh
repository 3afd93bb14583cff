#!/usr/bin/env bash
# Runs the main demo end to end: the five-party token exchange of the seed transcript
# (Agent 1, Resource 1 in Django, Resource 2 in Flask, two Starlette auth servers) on real
# loopback servers. Other flows: bash scripts/demo.sh hwk|jwks|authorization|consent|delegation|chain
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
if [ $# -eq 0 ]; then
  set -- token-exchange
fi
exec .venv/bin/python -m sample_apps "$@"
