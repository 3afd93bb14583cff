"""The resource's public documents (``/.well-known/aauth-resource``, ``/jwks.json``) and its
resource token endpoint (``POST /resource/token``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from aauth_core.errors import AAuthError
from aauth_core.service import DOCUMENT_CACHE_CONTROL, JWKS_PATH, METADATA_PATH, METADATA_PATH_11

from .conf import get_service
from .request import body_for_form, build_view, render_error, verified

__all__ = ["jwks", "metadata", "metadata_11", "resource_token", "revocation"]


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


def _metadata_11(request: HttpRequest) -> HttpResponse:
    """aauth-11's resource metadata (``issuer``, ``access_mode``, ...), when it is accepted."""
    return _document(METADATA_PATH_11)


def _jwks(request: HttpRequest) -> HttpResponse:
    """The resource's public keys (every key, so tokens signed before a rotation still verify)."""
    return _document(JWKS_PATH)


def _resource_token(request: HttpRequest) -> HttpResponse:
    """``POST /resource/token`` (B §5.4): verified once (by the middleware, or here without
    it), then answered by the service.  CSRF-exempt: only a valid signature gets a token."""
    service = get_service()
    if service.resource is None:
        raise Http404("this service has no AAuth resource identity")
    try:
        context = verified(request)
        body = body_for_form(request)  # within max_body_bytes, as every adapter reads it
    except AAuthError as exc:
        return render_error(request, exc)
    reply = service.resource_token_reply(context, body, request.headers)
    response = HttpResponse(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response[name] = value
    return response


def _revocation(request: HttpRequest) -> HttpResponse:
    """``POST /aauth/revoke`` (aauth-11, RS-60): the service verifies the revoker (a person or
    access server signing as itself) and records the revocation.  CSRF-exempt: signed."""
    service = get_service()
    if service.revocation is None:
        raise Http404("this resource has no aauth-11 revocation endpoint")
    try:
        view = build_view(service, request)
    except AAuthError as exc:
        return render_error(request, exc)
    reply = service.revoke(view)
    response = HttpResponse(reply.body, status=reply.status)
    for name, value in reply.headers.items():
        response[name] = value
    return response


metadata = require_safe(_metadata)
metadata_11 = require_safe(_metadata_11)
jwks = require_safe(_jwks)
resource_token = csrf_exempt(require_POST(_resource_token))
revocation = csrf_exempt(require_POST(_revocation))
