"""What every sample resource shares, whatever its framework: settings, routes,
and the resource-as-agent call behind ``/aggregate``."""

from __future__ import annotations

from typing import Any

import httpx

from aauth_core.client import ClientOptions, ResourceAgent
from aauth_core.context import VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.headers import parse_signature_key
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings
from aauth_core.tokens import peek

from ..config import PartyConfig
from ..printer import Printer

__all__ = ["SCOPES", "aaggregate", "aggregate", "resource_agent", "resource_service", "resource_settings"]

SCOPES = ("data.read", "data.write")
#: What the consent page says each scope allows (published as the resource's scope_descriptions).
SCOPE_DESCRIPTIONS = {"data.read": "Read your sample data", "data.write": "Change your sample data"}


def resource_settings(config: PartyConfig) -> AAuthSettings:
    if config.profile == "aauth-11":  # the -11 demos: trust our person server (and access server)
        return AAuthSettings(
            resource_id=config.id, profiles=("aauth-11",),
            person_servers=(config.person_server,) if config.person_server else (),
            access_server=config.access_server, resource_scopes=SCOPES,
            resource_scope_descriptions=SCOPE_DESCRIPTIONS,
            resource_name=f"Sample {config.framework.capitalize()} resource",
            allow_insecure_loopback=True, debug=config.debug,
        )
    return AAuthSettings(
        resource_id=config.id,
        auth_server=config.auth_server,
        trusted_issuers=(config.auth_server,) if config.auth_server else (),
        resource_scopes=SCOPES,
        resource_scope_descriptions=SCOPE_DESCRIPTIONS,
        resource_name=f"Sample {config.framework.capitalize()} resource",
        signature_bases=config.signature_bases,  # --base (rfc9421 unless asked)
        allow_insecure_loopback=True,  # every sample party is http://127.0.0.1
        debug=config.debug,
    )


def resource_service(config: PartyConfig) -> AAuthService:
    return AAuthService(resource_settings(config), keys=[config.key])


def resource_agent(config: PartyConfig) -> ResourceAgent:
    """This resource's identity when it calls downstream (scheme=jwks, aauth-resource)."""
    return ResourceAgent(config.id, [config.key], options=ClientOptions(allow_insecure_loopback=True))


def _body(config: PartyConfig, ctx: VerifiedRequest, response: httpx.Response) -> tuple[int, dict[str, Any]]:
    """Step 8 of the transcript's banner: the aggregated response for the upstream agent."""
    try:
        downstream: Any = response.json()
    except ValueError:
        downstream = response.text
    presented: dict[str, Any] | None = None
    try:
        sk = parse_signature_key(response.request.headers["signature-key"])
        if sk.jwt is not None:
            claims = peek(sk.jwt).claims
            presented = {k: _plain(claims[k]) for k in ("iss", "aud", "agent", "sub", "scope", "act") if k in claims}
    except (KeyError, AAuthError):
        presented = None
    return (200 if response.status_code == 200 else 502), {
        "message": "Aggregated response",
        "resource": config.id,
        "upstream": {"agent": ctx.agent, "scope": ctx.scope_text, "act": ctx.to_dict()["act"]},
        "downstream_status": response.status_code,
        "downstream": downstream,
        "exchanged_token": presented,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    return value


def aggregate(config: PartyConfig, agent: ResourceAgent, ctx: VerifiedRequest, printer: Printer) -> tuple[int, dict]:
    """Call ``config.downstream`` on behalf of ``ctx`` (sync frameworks)."""
    assert config.downstream is not None
    hooks = printer.hooks("RESOURCE (as agent)") if config.debug else {}
    with agent.client(ctx, event_hooks=hooks, timeout=30.0) as client:
        response = client.get(config.downstream)
    return _body(config, ctx, response)


async def aaggregate(config: PartyConfig, agent: ResourceAgent, ctx: VerifiedRequest,
                     printer: Printer) -> tuple[int, dict]:
    """Call ``config.downstream`` on behalf of ``ctx`` (async frameworks)."""
    assert config.downstream is not None
    hooks = printer.async_hooks("RESOURCE (as agent)") if config.debug else {}
    async with agent.async_client(ctx, event_hooks=hooks, timeout=30.0) as client:
        response = await client.get(config.downstream)
    return _body(config, ctx, response)
