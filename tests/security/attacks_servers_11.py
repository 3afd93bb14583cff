"""The attack table of our aauth-11 person server and access server (issue 15), listed in
docs/security.md ("The -11 person server and access server") and run by
``test_server_attacks_11.py``.

| module | rows |
|---|---|
| :mod:`.attacks_servers_11_ps` | the person server's ``/person`` and ``/token``: signatures, agent tokens, bodies, resource and presented tokens, SSRF |
| :mod:`.attacks_servers_11_pages` | the person server's pending URLs, consent page and revocation |
| :mod:`.attacks_servers_11_as` | the access server's ``/token`` and its pending URLs |
"""

from __future__ import annotations

from .attacks_servers_11_as import AS_ROWS
from .attacks_servers_11_pages import PAGE_ROWS
from .attacks_servers_11_ps import PS_ROWS
from .servers11_env import ServerAttack

__all__ = ["SERVER_ATTACKS_11"]

SERVER_ATTACKS_11: list[ServerAttack] = [*PS_ROWS, *PAGE_ROWS, *AS_ROWS]
