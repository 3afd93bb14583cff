"""System checks for the AAuth configuration (``manage.py check``), tag ``aauth``.

Errors
    ``aauth.E001`` ``AAUTH`` missing; ``aauth.E002`` ``AAUTH`` invalid (the
    settings error's message); ``aauth.E003`` ``AAUTH_SERVICE_FACTORY`` /
    ``AAUTH_ERROR_HANDLER`` cannot be imported; ``aauth.E004`` a route requires
    ``authorization`` but no ``trusted_issuers`` are configured (no auth token
    could ever be accepted); ``aauth.E005`` ... but no ``auth_server`` (no
    resource token could be issued in the challenge); ``aauth.E008`` (aauth-11) ... but
    neither ``person_servers`` nor ``access_server``.  E004/E005/E008 are reported only
    when no accepted profile can authorize.
Warnings
    ``aauth.W001`` middleware not installed; ``aauth.W002`` no ``resource_id``
    (``Host`` becomes ``@authority``, no resource tokens); ``aauth.W003`` no
    ``signing_keys`` and no service factory (an ephemeral key per process);
    ``aauth.W004`` ``allow_insecure_loopback`` with ``DEBUG = False``;
    ``aauth.W005`` the unsigned-``created`` ``demo-2026-01`` base is accepted;
    ``aauth.W006`` Django REST framework is installed but its ``EXCEPTION_HANDLER``
    is not :func:`aauth_django.drf.exception_handler` (DRF would not send the
    ``Agent-Auth`` challenge).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from aauth_core.context import Requirement
from aauth_core.errors import AAuthError
from aauth_core.keys import load_signing_key
from aauth_core.settings import AAuthSettings, SettingsError, parse_requirement

from .conf import has_service_factory, load_settings

__all__ = ["MIDDLEWARE_PATH", "EXCEPTION_HANDLER_PATH", "check_aauth", "uses_authorization"]

MIDDLEWARE_PATH = "aauth_django.middleware.AAuthMiddleware"
EXCEPTION_HANDLER_PATH = "aauth_django.drf.exception_handler"


def check_aauth(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Run every AAuth check; see the module docstring for the ids."""
    messages: list[CheckMessage] = []
    messages += _check_hooks()
    raw = getattr(django_settings, "AAUTH", None)
    if raw is None:
        messages.append(Error("settings.AAUTH is missing", id="aauth.E001",
                              hint="Set AAUTH = {'resource_id': 'https://api.example.com', ...}."))
        return messages
    try:
        aauth = load_settings(raw)
    except SettingsError as exc:
        messages.append(Error(f"settings.AAUTH is invalid: {exc.description}", id="aauth.E002"))
        return messages
    if MIDDLEWARE_PATH not in getattr(django_settings, "MIDDLEWARE", ()):
        messages.append(Warning(
            f"{MIDDLEWARE_PATH} is not in MIDDLEWARE", id="aauth.W001",
            hint="Without it path rules (protect_all, protected_paths) are not enforced and invalid "
                 "signatures are only refused on decorated views."))
    messages += _check_identity(aauth)
    messages += _check_signing_keys(aauth)
    messages += _check_security(aauth)
    messages += _check_drf()
    return messages


register(check_aauth, "aauth")


def _check_hooks() -> list[CheckMessage]:
    out: list[CheckMessage] = []
    for name in ("AAUTH_SERVICE_FACTORY", "AAUTH_ERROR_HANDLER"):
        path = getattr(django_settings, name, None)
        if path and not callable(path):
            try:
                import_string(path)
            except ImportError as exc:
                out.append(Error(f"{name} {path!r} cannot be imported: {exc}", id="aauth.E003"))
    return out


def _check_identity(aauth: AAuthSettings) -> list[CheckMessage]:
    out: list[CheckMessage] = []
    if aauth.resource_id is None:
        out.append(Warning(
            "AAUTH has no resource_id", id="aauth.W002",
            hint="The Host header becomes the signed @authority and no resource tokens can be issued."))
    elif not aauth.signing_keys and not has_service_factory():  # a factory may supply the keys
        out.append(Warning(
            "AAUTH has no signing_keys; each process will generate its own ephemeral key", id="aauth.W003",
            hint="Create one with `aauth keygen --kid ...` and list it in signing_keys."))
    if uses_authorization(aauth):
        out += _authorization_sources(aauth)
    return out


def _authorization_sources(aauth: AAuthSettings) -> list[CheckMessage]:
    """Some accepted profile must be able to both accept an auth token and ask for one:
    January through ``trusted_issuers`` + ``auth_server``, aauth-11 through ``person_servers``
    or ``access_server``.  Only when none can are the missing settings reported."""
    january = "aauth-2026-01" in aauth.profiles
    eleven = "aauth-11" in aauth.profiles
    if (january and aauth.trusted_issuers and aauth.auth_server is not None) or (
            eleven and (aauth.person_servers or aauth.access_server is not None)):
        return []
    out: list[CheckMessage] = []
    if january and not aauth.trusted_issuers:
        out.append(Error("routes require authorization but AAUTH has no trusted_issuers", id="aauth.E004",
                         hint="List the auth servers whose auth tokens you accept."))
    if january and aauth.auth_server is None:
        out.append(Error("routes require authorization but AAUTH has no auth_server", id="aauth.E005",
                         hint="Name the auth server agents should ask for an auth token."))
    if eleven:
        out.append(Error("routes require authorization but AAUTH has neither person_servers nor access_server",
                         id="aauth.E008", hint="aauth-11: list the person servers (three-party) or name your "
                         "access server (four-party) whose auth tokens you accept."))
    return out


def _check_signing_keys(aauth: AAuthSettings) -> list[CheckMessage]:
    """Load every configured key now, so a broken one fails ``manage.py check`` (and a
    deploy), not the first request.  Never echoes key material: only the source's name."""
    out: list[CheckMessage] = []
    for index, source in enumerate(aauth.signing_keys):
        where = f"AAUTH signing_keys[{index}] ({source!r})" if str(source).startswith("env:") \
            else f"AAUTH signing_keys[{index}]"
        try:
            key = load_signing_key(source)
        except (AAuthError, ValueError, TypeError) as exc:
            out.append(Error(f"{where} cannot be loaded: {getattr(exc, 'description', exc)}", id="aauth.E006",
                             hint="Set the environment variable or fix the path; create a key with "
                                  "`aauth keygen --kid NAME --out key.json`."))
            continue
        if key.kid is None:
            out.append(Error(f"{where} has no 'kid'", id="aauth.E007",
                             hint="Write the key with `aauth keygen --kid NAME` (agents find it by kid)."))
    return out


def _check_security(aauth: AAuthSettings) -> list[CheckMessage]:
    out: list[CheckMessage] = []
    if aauth.allow_insecure_loopback and not getattr(django_settings, "DEBUG", False):
        out.append(Warning("AAUTH allow_insecure_loopback is on while DEBUG is False", id="aauth.W004",
                           hint="It lets http:// loopback identifiers be fetched; for development only."))
    if "demo-2026-01" in aauth.signature_bases:
        out.append(Warning("AAUTH accepts the demo-2026-01 signature base", id="aauth.W005",
                           hint="That base does not sign `created`; enable it only for transcript interop."))
    return out


def _check_drf() -> list[CheckMessage]:
    if "rest_framework" not in getattr(django_settings, "INSTALLED_APPS", ()):
        return []
    handler = dict(getattr(django_settings, "REST_FRAMEWORK", {}) or {}).get("EXCEPTION_HANDLER")
    if handler == EXCEPTION_HANDLER_PATH:
        return []
    return [Warning(
        "REST_FRAMEWORK['EXCEPTION_HANDLER'] is not aauth_django.drf.exception_handler", id="aauth.W006",
        hint="Set it (or call aauth_django.drf.render_aauth_exception from yours) so DRF views answer "
             "with the Agent-Auth challenge; silence this check if DRF views do not use AAuth.")]


def uses_authorization(aauth: AAuthSettings) -> bool:
    """Whether any path rule or routed view demands the ``authorization`` level."""
    if aauth.protect_all and parse_requirement(aauth.default_requirement).level == "authorization":
        return True
    if any(parse_requirement(spec).level == "authorization" for spec in aauth.protected_paths.values()):
        return True
    default = parse_requirement(aauth.default_requirement)
    return any((r or default).level == "authorization" for r in _routed_requirements())


def _routed_requirements() -> Iterator[Requirement | None]:
    try:
        from django.urls import get_resolver

        patterns = list(get_resolver().url_patterns)
    except Exception:  # a broken URLconf is reported by Django's own checks
        return
    yield from _walk(patterns)


def _walk(patterns: list[Any]) -> Iterator[Requirement | None]:
    for pattern in patterns:
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            yield from _walk(list(nested))
            continue
        callback = getattr(pattern, "callback", None)
        if callback is None:
            continue
        if hasattr(callback, "aauth_requirement"):
            yield callback.aauth_requirement
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view_class is not None:
            if hasattr(view_class, "get_aauth_requirement"):
                yield view_class.get_aauth_requirement()
            for permission in getattr(view_class, "permission_classes", ()):
                if hasattr(permission, "aauth_requirement"):
                    yield permission.aauth_requirement
