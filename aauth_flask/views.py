"""The resource's metadata and JWKS documents as a Flask blueprint."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from aauth_core.service import DOCUMENT_CACHE_CONTROL, JWKS_PATH, METADATA_PATH

from .state import state_for

__all__ = ["DOCUMENT_CACHE_CONTROL", "metadata_blueprint"]



def metadata_blueprint(name: str = "aauth_metadata") -> Blueprint:
    """Serves ``/.well-known/aauth-resource`` and ``/jwks.json`` for the current app's resource.

    ``AAuth`` registers one itself unless built with ``serve_metadata=False``.
    Register it without ``url_prefix``: agents fetch the documents at these paths.
    """
    bp = Blueprint(name, __name__)
    bp.add_url_rule(METADATA_PATH, "metadata", _metadata, methods=["GET"])
    bp.add_url_rule(JWKS_PATH, "jwks", _jwks, methods=["GET"])
    return bp


def _metadata() -> Response:
    return _document(METADATA_PATH)


def _jwks() -> Response:
    return _document(JWKS_PATH)


def _document(path: str) -> Response:
    body = state_for().service.document(path)
    if body is None:  # no resource_id configured: nothing to publish
        abort(404)
    return Response(body, mimetype="application/json", headers={"Cache-Control": DOCUMENT_CACHE_CONTROL})
