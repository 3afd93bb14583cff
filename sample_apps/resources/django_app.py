"""A sample resource in Django (served as ASGI by uvicorn, so the async middleware runs).

Django is configured in-process (``settings.configure``): the sample needs no
project directory.  This module is also the ``ROOT_URLCONF``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from aauth_django.decorators import aauth_required

from ..config import PartyConfig
from ..printer import Printer
from . import aauth11, payloads
from .common import aaggregate, resource_agent, resource_settings

__all__ = ["django_resource", "urlpatterns"]

_state: dict[str, Any] = {}


def _json(body: Any, status: int = 200) -> HttpResponse:
    # Compact separators: the transcript's bodies, byte for byte.
    return HttpResponse(json.dumps(body, separators=(",", ":")), status=status, content_type="application/json")


@aauth_required("signature")
async def data(request: HttpRequest) -> HttpResponse:
    return _json(payloads.data(request.aauth, request.method or "GET"))  # type: ignore[attr-defined]


@aauth_required("identity")
async def data_jwks(request: HttpRequest) -> HttpResponse:
    return _json(payloads.data_jwks(request.aauth, request.method or "GET"))  # type: ignore[attr-defined]


@aauth_required("authorization")
async def data_auth(request: HttpRequest) -> HttpResponse:
    return _json(payloads.data_auth(request.aauth, request.method or "GET"))  # type: ignore[attr-defined]


@aauth_required("authorization")
async def aggregate(request: HttpRequest) -> HttpResponse:
    config: PartyConfig = _state["config"]
    if config.downstream is None:
        return _json({"error": "not_configured", "error_description": "no --downstream"}, 404)
    status, body = await aaggregate(config, _state["agent"], request.aauth, _state["printer"])  # type: ignore[attr-defined]
    return _json(body, status)


@aauth_required(aauth11.REQUIREMENT)
async def records(request: HttpRequest) -> HttpResponse:
    return _json(aauth11.records(request.aauth, _state["config"].id))  # type: ignore[attr-defined]


@aauth_required(aauth11.REQUIREMENT)
async def chain(request: HttpRequest) -> HttpResponse:
    config: PartyConfig = _state["config"]
    if config.downstream is None:
        return _json({"error": "not_configured", "error_description": "no --downstream"}, 404)
    status, body = await _state["chain_agent"].acall(request.aauth, _state["printer"])  # type: ignore[attr-defined]
    return _json(body, status)


async def agent_metadata(request: HttpRequest) -> HttpResponse:
    """This resource as its own agent provider (call chaining)."""
    return _json(_state["chain_agent"].metadata())


async def agent_jwks(request: HttpRequest) -> HttpResponse:
    return _json(_state["chain_agent"].jwks())


urlpatterns = [
    path("data", data),
    path("data-jwks", data_jwks),
    path("data-auth", data_auth),
    path("aggregate", aggregate),
    path("records", records),  # aauth-11 (the -11 demos)
    path("chain", chain),
    path(".well-known/aauth-agent.json", agent_metadata),
    path(".well-known/jwks.json", agent_jwks),
    path("", include("aauth_django.urls")),
]


def django_resource(config: PartyConfig, printer: Printer) -> Any:
    """Configure Django for this resource and return its ASGI application."""
    from django.conf import settings

    from aauth_core.service import AAuthService
    from aauth_django.conf import set_service_factory

    s = resource_settings(config)
    settings.configure(
        DEBUG=False,
        SECRET_KEY="aauth-sample-resource",  # noqa: S106 - a sample on loopback, no sessions
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        INSTALLED_APPS=["aauth_django"],
        MIDDLEWARE=["aauth_django.middleware.AAuthMiddleware"],
        ROOT_URLCONF=__name__,
        DATABASES={},
        AAUTH={"resource_id": s.resource_id, "auth_server": s.auth_server, "trusted_issuers": list(s.trusted_issuers),
               "resource_scopes": list(s.resource_scopes), "signature_bases": list(s.signature_bases),
               "allow_insecure_loopback": True, "debug": config.debug, "profiles": list(s.profiles),
               "person_servers": list(s.person_servers), "access_server": s.access_server},
    )
    import django

    django.setup()
    set_service_factory(lambda settings_: AAuthService(settings_, keys=[config.key]))
    _state.update(config=config, agent=resource_agent(config), printer=printer,
                  chain_agent=aauth11.ChainAgent(config))
    from django.core.asgi import get_asgi_application

    return get_asgi_application()
