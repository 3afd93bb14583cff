"""Find every fenced code block in the documentation, with its test directives.

A block may be preceded (on the line before its fence, blank lines allowed) by an
HTML comment that tells the documentation tests how to exercise it::

    <!-- doctest: file=app.py -->          write the block to app.py (and check it) instead of running it
    <!-- doctest: continue -->             run this python block in the same program as the previous one
    <!-- doctest: expect-exit=1 -->        a shell block whose last command must exit 1
    <!-- doctest: check=NAME -->           also (or, for shell, instead) run the paired check NAME
    <!-- doctest: output -->               a text block: exactly the standard output of the shell block before it

Several directives go in one comment separated by ``;``.  The comment is invisible
in rendered Markdown, so readers see only the snippet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Block", "ROOT", "PAGES", "blocks_of", "LANGUAGES"]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Every page whose code blocks are exercised: the docs and the README.
PAGES: tuple[Path, ...] = (*sorted(DOCS.glob("*.md")), ROOT / "README.md")
#: Fence languages the tests know how to exercise (``text`` only with ``output``); any other is an error.
LANGUAGES = frozenset({"python", "bash", "json", "toml", "http", "text"})

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<lang>[\w+-]*)\s*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*doctest:\s*(?P<body>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    directives: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def file(self) -> str | None:
        return self.directives.get("file")


def _parse_directives(body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in body.split(";"):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        out[name.strip()] = value.strip()
    return out


def blocks_of(page: Path) -> list[Block]:
    """Every fenced block of ``page`` in order (nested fences are not used in these docs)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
            i += 1
        i += 1
        directives: dict[str, str] = {}
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0:
            found = _DIRECTIVE.match(lines[j])
            if found:
                directives = _parse_directives(found["body"])
        blocks.append(Block(page, start + 1, match["lang"].lower(), "\n".join(body) + "\n", directives))
    return blocks
