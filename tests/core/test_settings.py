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
