#!/usr/bin/env bash
# Runs the main demo end to end: the five-party token exchange of the seed transcript
# (Agent 1, Resource 1 in Django, Resource 2 in Flask, two Starlette auth servers) on real
# loopback servers. Options alone run it with them (bash scripts/demo.sh --quiet, --json).
# Other flows: bash scripts/demo.sh hwk|jwks|authorization|consent|delegation|chain|mcp|three-party|four-party|call-chaining [--quiet|--json]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# No flow named (nothing, or options only): python -m sample_apps runs token-exchange.
exec .venv/bin/python -m sample_apps "$@"
