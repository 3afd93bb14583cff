"""System checks: each id, and that they are registered under the ``aauth`` tag."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from aauth_django import set_service_factory
from aauth_django.checks import check_aauth

from .conftest import AAUTH

NO_AUTHZ = {k: v for k, v in AAUTH.items() if k not in ("TRUSTED_ISSUERS", "AUTH_SERVER")}


def ids() -> set[str]:
    return {m.id for m in check_aauth()}


def test_the_test_configuration_is_clean() -> None:
    assert check_aauth() == []
    assert [m for m in run_checks(tags=["aauth"])] == []


def test_registered_under_the_aauth_tag(settings: Any) -> None:
    del settings.AAUTH
    assert "aauth.E001" in {m.id for m in run_checks(tags=["aauth"])}
    with pytest.raises(SystemCheckError, match=r"aauth\.E001"):
        call_command("check")


def test_e001_missing(settings: Any) -> None:
    del settings.AAUTH
    assert ids() == {"aauth.E001"}


@pytest.mark.parametrize("value, text", [
    (["resource_id"], "must be a dict"),
    ({"resource_idd": "https://x.example"}, "unknown AAuth setting(s): resource_idd"),
    ({"resource_id": "ftp://x.example"}, "must be an absolute http(s) URL"),
    ({"protected_paths": {"data": "identity"}}, "must start with '/'"),
    ({"default_requirement": "root"}, "invalid requirement"),
])
def test_e002_invalid(settings: Any, value: Any, text: str) -> None:
    settings.AAUTH = value
    [message] = check_aauth()
    assert message.id == "aauth.E002" and text in message.msg


@pytest.mark.parametrize("name", ["AAUTH_SERVICE_FACTORY", "AAUTH_ERROR_HANDLER"])
def test_e003_unimportable_hook(settings: Any, name: str) -> None:
    setattr(settings, name, "no.such.thing")
    assert "aauth.E003" in ids()


@pytest.mark.parametrize("urlconf", ["tests.django.urls", "tests.django.urls_async", "tests.django.urls_drf"])
def test_e004_e005_routed_views_require_authorization(settings: Any, urlconf: str) -> None:
    """Found through decorated views, async views, the CBV mixin and DRF permission classes."""
    settings.ROOT_URLCONF = urlconf
    settings.AAUTH = NO_AUTHZ
    assert {"aauth.E004", "aauth.E005"} <= ids()


def test_e004_from_path_rules(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.django.urls_rules"
    settings.AAUTH = {**AAUTH, "TRUSTED_ISSUERS": []}
    assert "aauth.E004" not in ids()  # undecorated views, no rules: authorization is not used
    settings.AAUTH = {**AAUTH, "TRUSTED_ISSUERS": [], "protected_paths": {"/data": "authorization"}}
    assert ids() == {"aauth.E004"}
    settings.AAUTH = {**NO_AUTHZ, "protect_all": True, "default_requirement": "authorization:x"}
    assert ids() == {"aauth.E004", "aauth.E005"}


def test_an_aauth_11_resource_authorizes_through_person_servers(settings: Any) -> None:
    """aauth-11 auth tokens come from person_servers / access_server: January's E004/E005 do
    not apply to an -11-only resource, and E008 names what -11 lacks."""
    settings.ROOT_URLCONF = "tests.django.urls_rules"
    rules = {"protected_paths": {"/data": "authorization"}}
    settings.AAUTH = {**NO_AUTHZ, **rules, "profiles": ["aauth-11"], "person_servers": ["https://ps.example"]}
    assert ids() == set()
    settings.AAUTH = {**NO_AUTHZ, **rules, "profiles": ["aauth-11"], "access_server": "https://as.example"}
    assert ids() == set()
    settings.AAUTH = {**NO_AUTHZ, **rules, "profiles": ["aauth-11"]}
    assert ids() == {"aauth.E008"}
    settings.AAUTH = {**NO_AUTHZ, **rules, "profiles": ["aauth-2026-01", "aauth-11"]}
    assert ids() == {"aauth.E004", "aauth.E005", "aauth.E008"}
    settings.AAUTH = {**NO_AUTHZ, **rules, "profiles": ["aauth-2026-01", "aauth-11"],
                      "person_servers": ["https://ps.example"]}
    assert ids() == set()  # dual-stack: -11 can authorize


def test_cbv_mixin_is_found(settings: Any) -> None:
    from django.urls import path

    from . import views

    settings.ROOT_URLCONF = type("Conf", (), {"urlpatterns": [path("cbv", views.CBVData.as_view())]})
    settings.AAUTH = NO_AUTHZ
    assert {"aauth.E004", "aauth.E005"} <= ids()


def test_w001_middleware_missing(settings: Any) -> None:
    settings.MIDDLEWARE = []
    assert ids() == {"aauth.W001"}


def test_w002_no_resource_id(settings: Any) -> None:
    settings.AAUTH = {}
    settings.ROOT_URLCONF = "tests.django.urls_rules"
    assert ids() == {"aauth.W002"}


def test_w003_no_signing_keys(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from aauth_core.keys import SigningKey

    set_service_factory(None)
    assert ids() == {"aauth.W003"}
    monkeypatch.setenv("AAUTH_TEST_KEY", json.dumps(SigningKey.generate(kid="k1").private_jwk()))
    settings.AAUTH = {**AAUTH, "signing_keys": ["env:AAUTH_TEST_KEY"]}
    assert ids() == set()
    settings.AAUTH = AAUTH
    settings.AAUTH_SERVICE_FACTORY = "tests.django.test_middleware.dotted_factory"
    assert ids() == set()


def test_w004_insecure_loopback_without_debug(settings: Any) -> None:
    settings.AAUTH = {**AAUTH, "allow_insecure_loopback": True}
    assert ids() == {"aauth.W004"}
    settings.DEBUG = True
    assert ids() == set()


def test_w005_demo_base(settings: Any) -> None:
    settings.AAUTH = {**AAUTH, "signature_bases": ["rfc9421", "demo-2026-01"]}
    assert ids() == {"aauth.W005"}


def test_w006_drf_exception_handler(settings: Any) -> None:
    settings.REST_FRAMEWORK = {}
    assert ids() == {"aauth.W006"}
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a != "rest_framework"]
    assert ids() == set()


def test_e006_unloadable_signing_keys(settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AAUTH_CHECK_UNSET_KEY", raising=False)
    not_a_key = tmp_path / "not-a-key.json"
    not_a_key.write_text('{"kty": "oct", "k": "c2VjcmV0"}')
    settings.AAUTH = {**AAUTH, "SIGNING_KEYS": ["env:AAUTH_CHECK_UNSET_KEY", str(tmp_path / "missing.json"),
                                                str(not_a_key)]}
    messages = [m for m in check_aauth() if m.id == "aauth.E006"]
    assert len(messages) == 3
    assert "AAUTH_CHECK_UNSET_KEY" in messages[0].msg and "not set" in messages[0].msg
    assert "cannot read key file" in messages[1].msg and "aauth keygen" in messages[1].hint
    assert all("c2VjcmV0" not in m.msg for m in messages)  # key material is never echoed
    with pytest.raises(SystemCheckError, match=r"aauth\.E006"):
        call_command("check")


def test_e007_signing_key_without_kid(settings: Any, tmp_path: Any) -> None:
    from aauth_core.keys import SigningKey

    jwk = SigningKey.generate(kid="k").private_jwk()
    jwk.pop("kid")
    path = tmp_path / "nokid.json"
    path.write_text(__import__("json").dumps(jwk))
    settings.AAUTH = {**AAUTH, "SIGNING_KEYS": [str(path)]}
    assert "aauth.E007" in ids()
