"""The access server's refusals, in aauth-11's shape (-11 §11.9.2, reference §4.4).

A body or policy problem is ``application/problem+json`` ``{"error", "detail"}`` with its
status (400 for the body and its tokens, 403 ``denied``, 404 for a pending URL that is not
the caller's, 500 ``server_error``); a signature failure is 401 with ``Signature-Error``
(:func:`aauth_core.resource.profile11.as_11`).  Descriptions name the failed check, never a
token's contents.
"""

from __future__ import annotations

from ..errors import AAuthError
from ..profile.aauth_11 import AAUTH_11

__all__ = ["body_token_problem", "problem"]


def problem(detail: str, *, code: str, status: int = 400) -> AAuthError:
    """A refusal rendered as -11's problem+json (never with a ``Signature-*`` header)."""
    exc = AAuthError(detail, code=code, status_code=status)
    exc.profile = AAUTH_11.name
    return exc


def body_token_problem(param: str, detail: str, *, expired: bool = False) -> AAuthError:
    """``invalid_<param>`` or ``expired_<param>`` (400) for a token sent in the body."""
    if param == "resource_token":
        code = "expired_resource_token" if expired else "invalid_resource_token"
    elif param == "agent_token":  # open point 7: -11 names no code for a bad agent token here
        code = "expired_agent_token" if expired else "invalid_agent_token"
    elif param == "presented_token":
        code = "expired_presented_token" if expired else "invalid_presented_token"
    elif param == "upstream_token":
        code = "expired_upstream_token" if expired else "invalid_upstream_token"
    else:
        raise ValueError(f"not a body token: {param!r}")
    return problem(detail, code=code)
