"""Public constructors for the agent's ``httpx.Auth`` (or ``httpx2.Auth``).

``agent_auth(signer)`` is the whole client story: pass the result as ``auth=`` (or
use its ``.client()`` / ``.async_client()`` for a client with the redirect guard)
and every request is signed, challenged requests are answered, and auth tokens
are cached and refreshed.  ``agent_auth(agent_token=..., key=..., profile="aauth-11")``
(or :func:`agent_auth_11`) is the same for an aauth-11 agent (docs/client-11.md).
"""

from __future__ import annotations

from typing import Any, Literal

from ..keys import SigningKey
from ._httpx import Library, auth_class
from .flow import ClientOptions, FlowEngine
from .flow11 import AgentToken, FlowEngine11
from .interaction import InteractionHandler
from .pending import PollingOptions
from .signer import RequestSigner, SignerOptions
from .token_cache import TokenCache

__all__ = ["agent_auth", "agent_auth_11"]


def agent_auth(
    signer: RequestSigner | None = None,
    *,
    library: Library = "httpx",
    options: ClientOptions | None = None,
    cache: TokenCache | None = None,
    interaction: InteractionHandler | None = None,
    profile: Literal["aauth-2026-01", "aauth-11"] = "aauth-2026-01",
    agent_token: AgentToken | None = None,
    key: SigningKey | None = None,
    **aauth_11: Any,
) -> Any:
    """An ``Auth`` for ``library`` that signs with ``signer`` and runs the challenge loop.

    ``interaction`` receives the consent URL when a user must approve and returns
    the authorization code (or the redirect URL); without it, consent raises
    :class:`~aauth_core.client.interaction.InteractionRequired`.

    ``profile="aauth-11"``: sign as an -11 agent presenting ``agent_token`` (a string, or
    a callable giving the current one) with ``key`` (or a ``scheme=jwt`` ``signer``
    carrying both); the other keywords are :func:`agent_auth_11`'s.
    """
    if profile == "aauth-11":
        if signer is not None:
            if signer.scheme != "jwt" or agent_token is not None or key is not None:
                raise ValueError("under aauth-11 give agent_token and key, or a scheme=jwt signer presenting it")
            agent_token, key = signer.params["jwt"], signer.key
            aauth_11.setdefault("signer_options", signer.options if signer.options.profile == "aauth-11" else None)
        if agent_token is None or key is None:
            raise ValueError("an aauth-11 agent needs its agent_token and key")
        return agent_auth_11(agent_token, key, library=library, options=options, cache=cache,
                             interaction=interaction, **aauth_11)
    if signer is None or agent_token is not None or key is not None or aauth_11:
        raise ValueError("an aauth-2026-01 agent is given a signer (agent_token and key are aauth-11's)")
    opts = options or ClientOptions()
    engine = FlowEngine(signer, options=opts, cache=cache, interaction=interaction)
    return auth_class(library)(engine, library)


def agent_auth_11(
    agent_token: AgentToken,
    key: SigningKey,
    *,
    library: Library = "httpx",
    options: ClientOptions | None = None,
    polling: PollingOptions | None = None,
    cache: TokenCache | None = None,
    interaction: InteractionHandler | None = None,
    upstream_token: str | None = None,
    mission_s256: str | None = None,
    signer_options: SignerOptions | None = None,
    resource_metadata: bool = True,
) -> Any:
    """An ``Auth`` for an aauth-11 agent: ``key`` signs, presenting ``agent_token`` (an
    ``aa-agent+jwt`` bound to ``key``; a callable is asked for the current one on every
    request) and the person and auth tokens obtained from the agent's person server.

    ``polling``: how pending answers are waited for.  ``interaction`` is called with
    ``{url}?code={code}`` when the user must act (its return value is not used); without
    it a ``requirement=interaction`` raises ``InteractionRequired``.  ``upstream_token``,
    ``mission_s256``, ``resource_metadata``: see :class:`~aauth_core.client.flow11.FlowEngine11`.
    ``signer_options``: :meth:`SignerOptions.aauth_11` unless given (its
    ``signature_encoding="base64url"`` is for aauth 0.5.0 peers only).
    """
    engine = FlowEngine11(key, agent_token, options=options or ClientOptions(), polling=polling or PollingOptions(),
                          cache=cache, interaction=interaction, upstream_token=upstream_token,
                          mission_s256=mission_s256, signer_options=signer_options,
                          resource_metadata=resource_metadata)
    return auth_class(library)(engine, library)
