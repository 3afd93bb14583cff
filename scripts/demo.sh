#!/usr/bin/env bash
# Runs the main demo end to end. Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m sample_apps "$@"
