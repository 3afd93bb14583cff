#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest. Extra arguments go to pytest.
# Run as root on Debian (CI) it installs Debian's chromium for the browser tests first;
# elsewhere those tests skip, saying so (scripts/system-deps.sh). pytest's summary lists
# every skip with its reason (-rs, in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
