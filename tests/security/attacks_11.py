"""The aauth-11 rows of the attack table (issue 14), one module per concern; ``attacks.py``
appends them to ``ATTACKS`` so every runner and docs/security.md see one table.

| module | rows |
|---|---|
| :mod:`.attacks_11_agent` | agent tokens: typ, ``dwk``, the agent provider's ``issuer``, JWS and ``cnf`` algorithms |
| :mod:`.attacks_11_tokens` | person and auth tokens: typ confusion, ``dwk``, issuers and trust, claims, ``cnf``, JWS, revocation |
| :mod:`.attacks_11_requests` | the request: headers, coverage, ``created``, Content-Digest, replay, schemes |
| :mod:`.attacks_11_discovery` | a token's ``iss`` as an SSRF target: identifiers, the SSRF guard, redirects, slow and huge documents |
"""

from __future__ import annotations

from .attacks_11_agent import AGENT_ROWS
from .attacks_11_discovery import DISCOVERY_ROWS
from .attacks_11_requests import REQUEST_ROWS
from .attacks_11_tokens import TOKEN_ROWS
from .table import Attack

__all__ = ["ATTACKS_11"]

ATTACKS_11: list[Attack] = [*AGENT_ROWS, *TOKEN_ROWS, *REQUEST_ROWS, *DISCOVERY_ROWS]
