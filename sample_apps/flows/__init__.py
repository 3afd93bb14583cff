"""The flows ``python -m sample_apps`` can run, by command name."""

from __future__ import annotations

from types import ModuleType

from . import token_exchange

FLOWS: dict[str, ModuleType] = {
    "token-exchange": token_exchange,
}
