"""The reference pages cannot drift from the code.

* ``docs/settings.md`` has one row per :class:`AAuthSettings` field, with its three
  spellings and its real default; and the three spellings really do map onto it.
* ``docs/errors.md`` lists every error code the engine (``aauth_core``) can produce,
  and lists no code the engine does not have.
"""

from __future__ import annotations

import json
import re
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest

from aauth_core.settings import AAuthSettings

from .snippets import DOCS, ROOT

SETTINGS_PAGE = DOCS / "settings.md"
ERRORS_PAGE = DOCS / "errors.md"
CORE = ROOT / "aauth_core"


def render_default(value: Any) -> str:
    """A default as a user writes it in any of the three spellings."""
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    if isinstance(value, str):
        return json.dumps(value)
    if hasattr(value, "items"):
        return json.dumps(dict(value))
    return repr(value)


def _table_rows(page: Path) -> list[list[str]]:
    rows = []
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows


def _defaults() -> dict[str, Any]:
    built = AAuthSettings()
    return {f.name: getattr(built, f.name) for f in fields(AAuthSettings)}


# ----------------------------------------------------------------------------- settings


def _settings_rows() -> dict[str, list[str]]:
    rows = {}
    for row in _table_rows(SETTINGS_PAGE):
        match = re.fullmatch(r"`([a-z0-9_]+)`", row[0])
        if match and len(row) == 5:
            rows[match.group(1)] = row
    return rows


def test_every_setting_has_a_row() -> None:
    rows = _settings_rows()
    names = [f.name for f in fields(AAuthSettings)]
    missing = [n for n in names if n not in rows]
    assert not missing, f"docs/settings.md lacks rows for: {missing}"
    stale = sorted(set(rows) - set(names))
    assert not stale, f"docs/settings.md documents settings that do not exist: {stale}"


@pytest.mark.parametrize("name", [f.name for f in fields(AAuthSettings)])
def test_setting_row_spellings_and_default(name: str) -> None:
    row = _settings_rows().get(name)
    assert row is not None, f"docs/settings.md has no row for {name}"
    _, flask_key, django_key, default, meaning = row
    assert flask_key == f"`AAUTH_{name.upper()}`"
    assert django_key == f'`"{name}"`'
    assert default == f"`{render_default(_defaults()[name])}`", f"{name}: the documented default is stale"
    assert len(meaning) > 20, f"{name}: say what it means"


@pytest.mark.parametrize("field", [f for f in fields(AAuthSettings)], ids=lambda f: f.name)
def test_three_spellings_map_onto_the_field(field: Any) -> None:
    """Starlette keyword, Flask ``AAUTH_*`` key and Django dict key all set the same field."""
    value = _defaults()[field.name] if field.default is not MISSING or field.default_factory is not MISSING else None
    if field.name == "resource_id":
        value = "https://api.example"
    starlette = AAuthSettings(**{field.name: value})
    flask = AAuthSettings.from_mapping({f"AAUTH_{field.name.upper()}": value, "SECRET_KEY": "x"}, prefix="AAUTH_")
    django = AAuthSettings.from_mapping({field.name.upper(): value})
    assert getattr(starlette, field.name) == getattr(flask, field.name) == getattr(django, field.name)


# ----------------------------------------------------------------------------- errors


_LITERAL = [
    re.compile(r"""\bcode\s*=\s*["']([a-z][a-z0-9_]*)["']"""),          # code="x" (also `code = "x"`)
    re.compile(r"""\bdefault_code\s*=\s*["']([a-z][a-z0-9_]*)["']"""),  # class attribute
    re.compile(r"""\b(?:_error|token_error)\(\s*["']([a-z][a-z0-9_]*)["']"""),  # helpers taking the code first
    re.compile(r"""\bcode\s*=\s*["']([a-z][a-z0-9_]*)["']\s+if\b"""),  # code = "x" if ... else ...
    re.compile(r"""\belse\s+["']([a-z][a-z0-9_]*)["']"""),             # ... else "y" (on a `code =` line)
]
_CONSTANT_USE = re.compile(r"\bcode\s*=\s*(_?[A-Z][A-Z0-9_]*)\b")


def engine_codes() -> dict[str, set[str]]:
    """Every error code written in ``aauth_core`` → the files using it."""
    found: dict[str, set[str]] = {}
    texts = {path: path.read_text(encoding="utf-8") for path in sorted(CORE.rglob("*.py"))}
    everything = "\n".join(texts.values())  # a code constant may be defined in the module it is imported from
    for path, text in texts.items():
        rel = str(path.relative_to(ROOT))
        for line in text.splitlines():
            patterns = _LITERAL if re.search(r"\bcode\s*=", line) else _LITERAL[1:3]
            for pattern in patterns:
                for code in pattern.findall(line):
                    found.setdefault(code, set()).add(rel)
        for constant in set(_CONSTANT_USE.findall(text)):
            value = re.search(rf"^{constant}\s*=\s*[\"']([a-z][a-z0-9_]*)[\"']", text, re.M) or re.search(
                rf"^{constant}\s*=\s*[\"']([a-z][a-z0-9_]*)[\"']", everything, re.M)
            assert value, f"{rel}: code constant {constant} not found"
            found.setdefault(value.group(1), set()).add(rel)
    return found


def documented_codes() -> set[str]:
    """First cells of the error tables (those whose header reads ``code | HTTP | challenge | when``)."""
    codes = set()
    in_table = False
    for row in _table_rows(ERRORS_PAGE):
        if row[0] == "code":
            in_table = row == ["code", "HTTP", "challenge", "when"]
            continue
        match = re.fullmatch(r"`([a-z][a-z0-9_]*)`", row[0])
        if in_table and match:
            codes.add(match.group(1))
    return codes


def test_the_collector_sees_known_codes() -> None:
    codes = engine_codes()
    for code in ("invalid_signature", "digest_mismatch", "blocked_url", "token_expired", "insufficient_scope",
                 "invalid_resource_token", "cache_unavailable", "invalid_signature_key"):
        assert code in codes


def test_every_engine_error_code_is_documented() -> None:
    missing = sorted(set(engine_codes()) - documented_codes())
    assert not missing, f"docs/errors.md lacks rows for: {missing}"


def test_every_documented_code_exists() -> None:
    stale = sorted(documented_codes() - set(engine_codes()))
    assert not stale, f"docs/errors.md documents codes aauth_core never produces: {stale}"
