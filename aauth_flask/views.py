"""The resource's metadata and JWKS documents, and its resource token endpoint, as a Flask blueprint."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from aauth_core.errors import AAuthError
from aauth_core.resource import RESOURCE_TOKEN_PATH
from aauth_core.service import DOCUMENT_CACHE_CONTROL, JWKS_PATH, METADATA_PATH, METADATA_PATH_11, REVOCATION_PATH_11

from .environ import read_body, request_view
from .state import state_for

__all__ = ["DOCUMENT_CACHE_CONTROL", "metadata_blueprint"]



def metadata_blueprint(name: str = "aauth_metadata") -> Blueprint:
    """Serves ``/.well-known/aauth-resource``, ``/jwks.json`` and ``POST /resource/token``.

    ``AAuth`` registers one itself unless built with ``serve_metadata=False``.
    Register it without ``url_prefix``: agents fetch the documents at these paths.
    """
    bp = Blueprint(name, __name__)
    bp.add_url_rule(METADATA_PATH, "metadata", _metadata, methods=["GET"])
    bp.add_url_rule(METADATA_PATH_11, "metadata_11", _metadata_11, methods=["GET"])
    bp.add_url_rule(JWKS_PATH, "jwks", _jwks, methods=["GET"])
    bp.add_url_rule(RESOURCE_TOKEN_PATH, "resource_token", _resource_token, methods=["POST"])
    bp.add_url_rule(REVOCATION_PATH_11, "revocation", _revocation, methods=["POST"])
    return bp


def _resource_token() -> Response:
    """``POST /resource/token`` (B §5.4), answered by the service from the request the
    ``before_request`` hook already verified."""
    state = state_for()
    if state.service.resource is None:
        abort(404)
    try:
        verified = state.verified()
        body = read_body(state.service, request)  # bounded; the same bytes when verification read them
    except AAuthError as exc:
        return state.render(exc)
    reply = state.service.resource_token_reply(verified, body, request.headers)
    return Response(reply.body, status=reply.status, headers=dict(reply.headers))


def _revocation() -> Response:
    """``POST /aauth/revoke`` (aauth-11): the service verifies the revoker and records it."""
    service = state_for().service
    if service.revocation is None:
        abort(404)
    try:
        view = request_view(service, request)
    except AAuthError as exc:
        return state_for().render(exc)
    reply = service.revoke(view)
    return Response(reply.body, status=reply.status, headers=dict(reply.headers))


def _metadata() -> Response:
    return _document(METADATA_PATH)


def _metadata_11() -> Response:
    return _document(METADATA_PATH_11)


def _jwks() -> Response:
    return _document(JWKS_PATH)


def _document(path: str) -> Response:
    body = state_for().service.document(path)
    if body is None:  # no resource_id configured: nothing to publish
        abort(404)
    return Response(body, mimetype="application/json", headers={"Cache-Control": DOCUMENT_CACHE_CONTROL})
