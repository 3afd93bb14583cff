#!/usr/bin/env bash
# The mcp 1.x tests (tests/mcp/test_mcp1.py) in their OWN environment, .venv-mcp1: mcp 1.x and
# 2.x cannot be installed side by side, and .venv holds 2.x (the `mcp` extra). This venv holds the
# project with its `mcp1` extra (the pinned 1.x, see pyproject.toml) and pytest; it installs in
# seconds. Idempotent: a stamp records what was installed; a rerun with the same pyproject.toml
# costs a file read. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv-mcp1
stamp=$VENV/.aauth-installed
if [ ! -x $VENV/bin/python ]; then
  "$PY" -m venv $VENV
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  $VENV/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  PYTHONWARNINGS="${PYTHONWARNINGS:+$PYTHONWARNINGS,}ignore:Editable installation" \
    $VENV/bin/python -m pip install --quiet --disable-pip-version-check -e '.[mcp1]' \
    "pytest>=8" "pytest-asyncio>=0.23" "anyio>=4"
  touch "$stamp"
fi
$VENV/bin/python -m pytest -q -p no:cacheprovider tests/mcp/test_mcp1.py tests/mcp/test_helpers.py "$@"
