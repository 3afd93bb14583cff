"""docs/security.md lists exactly the attacks of attacks.py, with the same outcomes."""

from __future__ import annotations

import re
from pathlib import Path

from .attacks import ATTACKS, Attack, Target

PAGE = Path(__file__).resolve().parents[2] / "docs" / "security.md"
_ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (.+?) \| (.+?) \| (.+?) \|$")


def _rows() -> dict[str, tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}
    in_table = False
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| attack | what it tries |"):
            in_table = True
            continue
        match = _ROW.match(line)
        if in_table and match:
            assert match.group(1) not in rows, f"{match.group(1)} is listed twice"
            rows[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return rows


def _cell(attack: Attack, target: Target) -> str:
    if target not in attack.targets:
        return "—"
    status, code = attack.outcome(target)
    return f"{status} `{code}`"


def test_every_attack_is_documented_and_every_documented_attack_exists() -> None:
    rows = _rows()
    names = {a.name for a in ATTACKS}
    assert sorted(names - set(rows)) == [], "attacks missing from docs/security.md"
    assert sorted(set(rows) - names) == [], "docs/security.md lists attacks the suite does not run"


def test_documented_outcomes_match_the_table() -> None:
    rows = _rows()
    for attack in ATTACKS:
        _, resource, auth_server = rows[attack.name]
        assert (resource, auth_server) == (_cell(attack, "resource"), _cell(attack, "authserver")), attack.name
