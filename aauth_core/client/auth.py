"""Public constructors for the agent's ``httpx.Auth`` (or ``httpx2.Auth``).

``agent_auth(signer)`` is the whole client story: pass the result as ``auth=`` (or
use its ``.client()`` / ``.async_client()`` for a client with the redirect guard)
and every request is signed, challenged requests are answered, and auth tokens
are cached and refreshed.
"""

from __future__ import annotations

from typing import Any

from ._httpx import Library, auth_class
from .flow import ClientOptions, FlowEngine
from .interaction import InteractionHandler
from .signer import RequestSigner
from .token_cache import TokenCache

__all__ = ["agent_auth"]


def agent_auth(
    signer: RequestSigner,
    *,
    library: Library = "httpx",
    options: ClientOptions | None = None,
    cache: TokenCache | None = None,
    interaction: InteractionHandler | None = None,
) -> Any:
    """An ``Auth`` for ``library`` that signs with ``signer`` and runs the challenge loop.

    ``interaction`` receives the consent URL when a user must approve and returns
    the authorization code (or the redirect URL); without it, consent raises
    :class:`~aauth_core.client.interaction.InteractionRequired`.
    """
    opts = options or ClientOptions()
    engine = FlowEngine(signer, options=opts, cache=cache, interaction=interaction)
    return auth_class(library)(engine, library)
