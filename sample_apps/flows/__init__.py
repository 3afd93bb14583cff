"""The flows ``python -m sample_apps`` can run, by command name."""

from __future__ import annotations

from typing import Any

from . import call_chaining, chain, consent, delegation, four_party, mcp, three_party, token_exchange
from .simple import Authorization, Hwk, Jwks

FLOWS: dict[str, Any] = {
    "token-exchange": token_exchange,
    "hwk": Hwk,
    "jwks": Jwks,
    "authorization": Authorization,
    "consent": consent,
    "delegation": delegation,
    "chain": chain,
    "mcp": mcp,
    "three-party": three_party,  # aauth-11 (the current draft)
    "four-party": four_party,
    "call-chaining": call_chaining,
}
