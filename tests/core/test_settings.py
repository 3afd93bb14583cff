"""One settings vocabulary, validated at start-up."""

from __future__ import annotations

import pytest

from aauth_core.settings import AAuthSettings, SettingsError


def test_defaults_are_secure() -> None:
    s = AAuthSettings()
    assert s.signature_bases == ("rfc9421",)
    assert s.algorithms == ("ed25519",)
    assert s.allow_insecure_loopback is False
    assert s.trusted_issuers == ()
    assert s.replay_protection is True
    assert s.trust_forwarded is False


def test_canonical_authority_is_derived_from_resource_id() -> None:
    assert AAuthSettings(resource_id="https://API.example:443").canonical_authority == "api.example"
    assert AAuthSettings(resource_id="http://127.0.0.1:8002").canonical_authority == "127.0.0.1:8002"


def test_flask_style_mapping() -> None:
    s = AAuthSettings.from_mapping(
        {"AAUTH_RESOURCE_ID": "https://r.example", "AAUTH_TRUSTED_ISSUERS": "https://a.example https://b.example",
         "SECRET_KEY": "ignored"},
        prefix="AAUTH_",
    )
    assert s.trusted_issuers == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    "values",
    [
        {"RESOURCE_IDD": "https://r.example"},
        {"resource_id": "ftp://r.example"},
        {"resource_id": "https://user@r.example"},
        {"trusted_issuers": ["not a url"]},
        {"signature_bases": ["rfc9421", "legacy"]},
        {"signature_bases": []},
        {"algorithms": ["hmac-sha256"]},
        {"created_max_age": -1},
        {"signature_key_format": "sf"},  # a client-side choice (SignerOptions), not a resource setting
    ],
)
def test_invalid_settings_fail_at_start_up(values) -> None:
    with pytest.raises(SettingsError) as err:
        AAuthSettings.from_mapping(values)
    assert err.value.code == "invalid_settings"


def test_public_names_import_from_the_package_and_match_their_modules() -> None:
    import aauth_core
    from aauth_core import context, errors, keys, service, settings

    assert sorted(aauth_core.__all__) == sorted([*aauth_core._EXPORTS, "__version__"])
    assert aauth_core.AAuthSettings is settings.AAuthSettings
    assert aauth_core.VerifiedRequest is context.VerifiedRequest and aauth_core.Requirement is context.Requirement
    assert aauth_core.AAuthError is errors.AAuthError and aauth_core.SettingsError is settings.SettingsError
    assert aauth_core.SigningKey is keys.SigningKey and aauth_core.PublicKey is keys.PublicKey
    assert aauth_core.AAuthService is service.AAuthService
    with pytest.raises(AttributeError):
        aauth_core.NoSuchName


def test_route_requirement_means_the_same_in_every_adapter() -> None:
    from aauth_core.context import Requirement
    from aauth_core.settings import SettingsError, route_requirement

    assert route_requirement() is None and route_requirement(None, ()) is None  # the default_requirement
    assert route_requirement(scopes="data.read") == Requirement("authorization", frozenset({"data.read"}))
    assert route_requirement("identity") == Requirement("identity")
    for bad in (("superuser", ()), ("signature", ["data.read"]), ("identity:data.read", ()), ("authorization", 5)):
        with pytest.raises(SettingsError):
            route_requirement(*bad)  # type: ignore[arg-type]


def test_replace_moves_a_derived_authority_with_resource_id() -> None:
    """``AAuthMiddleware(app, settings=base, resource_id=...)``: the keyword overrides the field, and the
    ``@authority`` derived from the old ``resource_id`` must not stay behind."""
    base = AAuthSettings(resource_id="https://a.example")
    assert base.replace(resource_id="http://127.0.0.1:9").canonical_authority == "127.0.0.1:9"
    pinned = AAuthSettings(resource_id="https://a.example", canonical_authority="proxy.example")
    assert pinned.replace(resource_id="https://b.example").canonical_authority == "proxy.example"
