"""``test_mcp1.py`` needs ``mcp`` 1.x, which cannot share an environment with 2.x: it is collected
only where 1.x is installed (``.venv-mcp1``, by ``bash scripts/test-mcp1.sh``, which
``scripts/test.sh`` runs), never skipped in the main suite."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _mcp_major() -> int | None:
    try:
        return int(version("mcp").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return None


collect_ignore = [] if _mcp_major() == 1 else ["test_mcp1.py"]
