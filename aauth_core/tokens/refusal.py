"""How the token modules refuse: one way to build the error, one way to quote a value.

Every failure is a :class:`~aauth_core.errors.TokenError` with a stable ``code``;
descriptions quote attacker-supplied values only shortened, never token text.
"""

from __future__ import annotations

from typing import Final

from ..errors import TokenError

__all__ = ["show", "token_error"]

_SHOW_LIMIT: Final = 40


def show(value: object) -> str:
    """A short, safe rendering of an attacker-supplied public value for descriptions."""
    text = repr(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


def token_error(code: str, description: str) -> TokenError:
    """The error for ``code`` (callers ``raise`` it, so tracebacks point at the check)."""
    return TokenError(description, code=code)
