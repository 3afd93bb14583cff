#!/usr/bin/env bash
# Creates .venv (if missing) and installs the project with its dev extras.
# Needs only Python 3.11+ on PATH as python3 (or $PYTHON).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.aauth-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # setuptools' "Editable installation" notice (folders named like the package) is informational only.
  PYTHONWARNINGS="${PYTHONWARNINGS:+$PYTHONWARNINGS,}ignore:Editable installation" \
    .venv/bin/python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi
