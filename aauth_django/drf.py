"""Django REST framework integration.

``AAuthAuthentication`` puts the :class:`~aauth_core.context.VerifiedRequest` in
``request.auth`` (and an :class:`AAuthUser` in ``request.user``); it reuses the
middleware's result, or verifies the request itself when the middleware is not
installed.  ``AAuthPermission`` / :func:`RequiresAAuth` demand a level and scopes.

DRF renders exceptions through its ``EXCEPTION_HANDLER``, which knows nothing of
``Agent-Auth``; so set::

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["aauth_django.drf.AAuthAuthentication"],
        "EXCEPTION_HANDLER": "aauth_django.drf.exception_handler",
    }

and every AAuth refusal — an invalid signature, a missing level (401 with the
identity or resource-token challenge) or missing scopes (403 with the step-up
challenge) — is answered exactly as the middleware would: ``{"error",
"error_description"}`` plus ``Agent-Auth``.  Other exceptions go to DRF's default
handler.  (Without it, the status and JSON body are still right, as
:class:`AAuthException` carries them, but the challenge header is missing; check
``aauth.W006`` says so.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest, HttpResponse
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError

from .conf import get_service
from .request import (
    effective_requirement,
    is_preflight,
    preflight_response,
    render_error,
    requirement_of,
    verified,
)

if TYPE_CHECKING:
    from rest_framework.request import Request

__all__ = [
    "AAuthAuthentication",
    "AAuthException",
    "AAuthPermission",
    "AAuthPreflight",
    "AAuthUser",
    "RequiresAAuth",
    "exception_handler",
    "render_aauth_exception",
]

_CHALLENGE = "_aauth_drf_challenge"


class AAuthUser:
    """``request.user`` for an AAuth-verified request: the agent, not a database user.

    ``pk`` / ``username`` are stable per caller (agent, ``agent#delegate``, or
    ``jkt:<thumbprint>`` for a pseudonymous key), so DRF's per-user throttling works.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, aauth: VerifiedRequest) -> None:
        self.aauth = aauth

    @property
    def pk(self) -> str:
        if self.aauth.agent is None:
            return f"jkt:{self.aauth.key_thumbprint}"
        if self.aauth.agent_delegate is not None:
            return f"{self.aauth.agent}#{self.aauth.agent_delegate}"
        return self.aauth.agent

    id = pk
    username = pk

    def get_username(self) -> str:
        return self.pk

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, app_label: str) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AAuthUser) and other.pk == self.pk

    def __hash__(self) -> int:
        return hash(self.pk)

    def __str__(self) -> str:
        return self.pk


class AAuthException(exceptions.APIException):  # type: ignore[misc]
    """An :class:`AAuthError` as a DRF exception: its status and ``{"error", "error_description"}``."""

    def __init__(self, error: AAuthError) -> None:
        self.error = error
        self.status_code = error.status_code
        super().__init__(detail=error.to_dict(), code=error.code)


class AAuthPreflight(exceptions.APIException):  # type: ignore[misc]
    """A CORS preflight at a protected DRF view: :func:`exception_handler` answers 204 and the
    handler never runs (DRF's own handler would answer 204 too, with a body)."""

    status_code = 204
    default_detail = ""
    default_code = "preflight"


def _django(request: Request | HttpRequest) -> HttpRequest:
    return getattr(request, "_request", request)


def _context(request: Request) -> VerifiedRequest | None:
    auth = getattr(request, "auth", None)
    if isinstance(auth, VerifiedRequest):
        return auth
    try:
        return verified(_django(request))
    except AAuthError as error:
        raise AAuthException(error) from None


class AAuthAuthentication(BaseAuthentication):  # type: ignore[misc]
    """``request.auth`` = the :class:`VerifiedRequest`; ``None`` (anonymous) when unsigned."""

    def authenticate(self, request: Request) -> tuple[AAuthUser, VerifiedRequest] | None:
        """Like the middleware: verify any signed request, except on an exempt path (where an
        AAuth permission on the view verifies for itself)."""
        django_request = _django(request)
        if get_service().is_exempt(django_request.path_info):
            return None
        try:
            context = verified(django_request)
        except AAuthError as error:
            raise AAuthException(error) from None
        if context is None:
            return None
        return AAuthUser(context), context

    def authenticate_header(self, request: Request) -> str:
        """The challenge for an unauthenticated request: per the view's AAuth permission, else identity.

        Returning a value makes DRF answer 401 rather than 403.
        """
        requirement = _view_requirement(request) or Requirement("identity")
        try:
            get_service().require(None, requirement)
        except AAuthError as error:
            setattr(_django(request), _CHALLENGE, error)
            return error.challenge or "httpsig"
        return "httpsig"  # pragma: no cover  (require(None, ...) always refuses)


def _view_requirement(request: Request) -> Requirement | None:
    view = (getattr(request, "parser_context", None) or {}).get("view")
    for permission in getattr(view, "get_permissions", list)():
        if isinstance(permission, AAuthPermission):
            return effective_requirement(permission.aauth_requirement)
    return None


class AAuthPermission(BasePermission):  # type: ignore[misc]
    """Demand ``aauth_requirement`` (``None``: the configured ``default_requirement``)."""

    aauth_requirement: ClassVar[Requirement | None] = None

    def has_permission(self, request: Request, view: Any) -> bool:
        service = get_service()
        if is_preflight(_django(request)):
            raise AAuthPreflight
        try:
            service.require(_context(request), effective_requirement(self.aauth_requirement))
        except AAuthError as error:
            raise AAuthException(error) from None
        return True


def RequiresAAuth(  # noqa: N802  (a class factory, used like a class)
    level: str | Requirement | None = None, *, scopes: Any = ()
) -> type[AAuthPermission]:
    """A permission class demanding ``level`` and ``scopes``:
    ``permission_classes = [RequiresAAuth("authorization", scopes=["data.read"])]``."""
    requirement = requirement_of(level, scopes)
    name = "RequiresAAuth" if requirement is None else f"RequiresAAuth_{requirement.level}"
    return type(name, (AAuthPermission,), {"aauth_requirement": requirement, "__module__": __name__})


def render_aauth_exception(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """The AAuth response for ``exc``, or ``None`` when it is not an AAuth refusal (for custom handlers)."""
    request = context.get("request")
    if isinstance(exc, AAuthPreflight):
        return preflight_response()
    error: AAuthError | None = None
    if isinstance(exc, AAuthException):
        error = exc.error
    elif isinstance(exc, exceptions.NotAuthenticated) and request is not None:
        error = getattr(_django(request), _CHALLENGE, None)
    if error is None or request is None:
        return None
    return render_error(_django(request), error)


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: AAuth refusals with ``Agent-Auth``, the rest as DRF does."""
    response = render_aauth_exception(exc, context)
    if response is not None:
        return response
    # Imported here: rest_framework.views imports the authentication classes named in settings.
    from rest_framework.views import exception_handler as drf_exception_handler

    result: HttpResponse | None = drf_exception_handler(exc, context)
    return result
