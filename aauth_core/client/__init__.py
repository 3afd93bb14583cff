"""The agent side of AAuth: request signer, httpx/httpx2 ``Auth`` with the challenge
loop and token cache, resource-as-agent token exchange, agent-server helpers."""

from __future__ import annotations

from ._httpx import Library, auth_class, install_redirect_guard
from .agent import AgentServer, agent_metadata
from .auth import agent_auth
from .exchange import ResourceAgent
from .flow import ClientOptions, FlowEngine, encode_form
from .interaction import InteractionHandler, InteractionRequired, parse_interaction_result
from .signer import RequestSigner, SignerOptions
from .token_cache import CachedToken, TokenCache

__all__ = [
    "AgentServer",
    "CachedToken",
    "ClientOptions",
    "FlowEngine",
    "InteractionHandler",
    "InteractionRequired",
    "Library",
    "RequestSigner",
    "ResourceAgent",
    "SignerOptions",
    "TokenCache",
    "agent_auth",
    "agent_metadata",
    "auth_class",
    "encode_form",
    "install_redirect_guard",
    "parse_interaction_result",
]
