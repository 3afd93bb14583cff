#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest. Extra arguments go to pytest.
# Run as root on Debian (CI) it installs Debian's chromium for the browser tests first;
# elsewhere those tests skip, saying so (scripts/system-deps.sh). pytest's summary lists
# every skip with its reason (-rs, in pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/test-assets.sh  # axe-core from npm for the accessibility audit, under .cache/npm
bash scripts/bootstrap.sh
bash scripts/interop-peers.sh  # the interop peers, each in its own environment under .interop/
.venv/bin/ruff check .
.venv/bin/mypy
bash scripts/test-mcp1.sh -q  # mcp 1.x cannot share .venv with 2.x: its tests run in .venv-mcp1
.venv/bin/python -m pytest -q "$@"  # last, so the summary line is the whole suite's
