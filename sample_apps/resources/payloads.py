"""The JSON bodies of the sample resources, in the transcript's shapes and key order.

Written once and used by the Starlette, Flask and Django resources, so all three
answer byte for byte alike.
"""

from __future__ import annotations

from typing import Any

from aauth_core.context import VerifiedRequest

__all__ = ["data", "data_auth", "data_jwks"]


def data(ctx: VerifiedRequest, method: str) -> dict[str, Any]:
    """``/data``: any valid signature (flow 1, ``hwk``)."""
    return {"message": "Access granted", "data": "This is protected data", "scheme": ctx.scheme,
            "method": method}


def data_jwks(ctx: VerifiedRequest, method: str) -> dict[str, Any]:
    """``/data-jwks``: an identified agent (flow 2, and agent tokens in flow 6)."""
    body: dict[str, Any] = {"message": "Access granted", "data": "This is protected data (identified)",
                            "scheme": ctx.scheme, "method": method, "agent_id": ctx.agent}
    if ctx.token_type is not None:
        body.update(token_type=ctx.token_type, agent=ctx.agent, agent_delegate=ctx.agent_delegate)
    return body


def data_auth(ctx: VerifiedRequest, method: str) -> dict[str, Any]:
    """``/data-auth``: an auth token (flows 3-5); exactly the transcript's 212-byte shape."""
    return {"message": "Access granted", "data": "This is protected data (authorized)", "scheme": ctx.scheme,
            "token_type": ctx.token_type, "method": method, "agent": ctx.agent,
            "agent_delegate": ctx.agent_delegate, "scope": ctx.scope_text}
