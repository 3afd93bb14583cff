"""The resource's public documents: ``/.well-known/aauth-resource`` and ``/jwks.json``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from aauth_core.service import DOCUMENT_CACHE_CONTROL, JWKS_PATH, METADATA_PATH

from .conf import get_service

__all__ = ["jwks", "metadata"]


def _document(path: str) -> HttpResponse:
    service = get_service()
    body = service.document(path)
    if body is None:  # no resource_id configured: nothing to publish
        raise Http404("this service has no AAuth resource identity")
    response = HttpResponse(body, content_type="application/json")
    response["Cache-Control"] = DOCUMENT_CACHE_CONTROL
    return response


def _metadata(request: HttpRequest) -> HttpResponse:
    """The resource metadata document (``resource``, ``jwks_uri``, ...)."""
    return _document(METADATA_PATH)


def _jwks(request: HttpRequest) -> HttpResponse:
    """The resource's public keys (every key, so tokens signed before a rotation still verify)."""
    return _document(JWKS_PATH)


metadata = require_safe(_metadata)
jwks = require_safe(_jwks)
