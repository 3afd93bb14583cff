"""The agent side of AAuth: request signer, httpx/httpx2 ``Auth`` with the challenge
loop and token cache, resource-as-agent token exchange, agent-server helpers; and the
aauth-11 agent (``agent_auth_11``, ``FlowEngine11``) with its agent provider
(``AgentProvider``)."""

from __future__ import annotations

from ._httpx import Library, auth_class, install_redirect_guard
from .agent import AgentServer, agent_metadata
from .agent_provider import AgentProvider, AgentTokenSource
from .auth import agent_auth, agent_auth_11
from .exchange import ResourceAgent
from .flow import ClientOptions, FlowEngine, encode_form
from .flow11 import AgentToken, FlowEngine11
from .interaction import InteractionHandler, InteractionRequired, parse_interaction_result
from .pending import PollingOptions, Wait
from .signer import RequestSigner, SignerOptions
from .token_cache import CachedToken, TokenCache

__all__ = [
    "AgentProvider",
    "AgentServer",
    "AgentToken",
    "AgentTokenSource",
    "CachedToken",
    "ClientOptions",
    "FlowEngine",
    "FlowEngine11",
    "InteractionHandler",
    "InteractionRequired",
    "Library",
    "PollingOptions",
    "RequestSigner",
    "ResourceAgent",
    "SignerOptions",
    "TokenCache",
    "Wait",
    "agent_auth",
    "agent_auth_11",
    "agent_metadata",
    "auth_class",
    "encode_form",
    "install_redirect_guard",
    "parse_interaction_result",
]
