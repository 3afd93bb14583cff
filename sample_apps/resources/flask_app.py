"""A sample resource in Flask (served by a real threaded WSGI server)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from aauth_core.context import VerifiedRequest
from aauth_flask import AAuth, aauth_required, get_current_aauth

from ..config import PartyConfig
from ..printer import Printer
from . import aauth11, payloads
from .common import aggregate, resource_agent, resource_settings

__all__ = ["flask_resource"]


def flask_resource(config: PartyConfig, printer: Printer) -> Flask:
    import json

    app = Flask("aauth_sample_resource")
    settings = resource_settings(config)
    app.config.update({f"AAUTH_{name.upper()}": getattr(settings, name)
                       for name in ("resource_id", "auth_server", "trusted_issuers", "resource_scopes",
                                    "signature_bases", "allow_insecure_loopback", "debug",
                                    "profiles", "person_servers", "access_server")})
    AAuth(app, keys=[config.key])
    agent = resource_agent(config)

    def _ctx() -> VerifiedRequest:
        ctx = get_current_aauth()
        assert ctx is not None  # aauth_required guarantees it
        return ctx

    def _json(body: Any, status: int = 200) -> Response:
        # Compact, unsorted: the transcript's bodies, byte for byte.
        return Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")

    @app.route("/data", methods=["GET", "POST"])
    @aauth_required("signature")
    def data() -> Response:
        return _json(payloads.data(_ctx(), request.method))

    @app.route("/data-jwks", methods=["GET", "POST"])
    @aauth_required("identity")
    def data_jwks() -> Response:
        return _json(payloads.data_jwks(_ctx(), request.method))

    @app.route("/data-auth", methods=["GET", "POST"])
    @aauth_required("authorization")
    def data_auth() -> Response:
        return _json(payloads.data_auth(_ctx(), request.method))

    @app.route("/aggregate")
    @aauth_required("authorization")
    def aggregate_view() -> Response:
        if config.downstream is None:
            return _json({"error": "not_configured", "error_description": "no --downstream"}, 404)
        status, body = aggregate(config, agent, _ctx(), printer)
        return _json(body, status)

    chain_agent = aauth11.ChainAgent(config)

    @app.route("/records", methods=["GET", "POST"])
    @aauth_required(aauth11.REQUIREMENT)
    def records() -> Response:
        return _json(aauth11.records(_ctx(), config.id))

    @app.route("/chain")
    @aauth_required(aauth11.REQUIREMENT)
    def chain() -> Response:
        if config.downstream is None:
            return _json({"error": "not_configured", "error_description": "no --downstream"}, 404)
        status, body = chain_agent.call(_ctx(), printer)
        return _json(body, status)

    @app.route("/.well-known/aauth-agent.json")
    def agent_metadata() -> Response:  # this resource as its own agent provider (call chaining)
        return _json(chain_agent.metadata())

    @app.route("/.well-known/jwks.json")
    def agent_jwks() -> Response:
        return _json(chain_agent.jwks())

    return app
