"""``aauth_core.resource.explain``: the base we built and what would have verified, with real keys
and real signatures; through the verifier's debug mode, ``aauth verify --explain`` and a
Starlette app's log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from aauth_core.cli import main
from aauth_core.errors import AAuthError, SignatureError
from aauth_core.headers import format_signature, parse_signature
from aauth_core.keys import PublicKey, SigningKey, jwks_document
from aauth_core.resource.explain import MAX_ATTEMPTS, explain_request
from aauth_core.verifier import Verifier

from ..conftest import AGENT, NOW, RESOURCE, World, signed_request, view_of
from ..interop.transcript import AGENT1_X, CREATED, VECTORS
from ..starlette.apps import resource_settings, starlette_app
from .test_cli import _transcript_envelope


def _public(key: SigningKey) -> PublicKey:
    return PublicKey.from_jwk(key.public_jwk())


def _verifier(world: World, **overrides: object) -> Verifier:
    settings = resource_settings(**overrides)
    return Verifier(settings, discovery=world.discovery(settings), clock=world.clock)


def _refusal(verifier: Verifier, view: object) -> SignatureError:
    with pytest.raises(SignatureError) as err:
        verifier.verify(view)  # type: ignore[arg-type]
    assert err.value.code == "invalid_signature"
    return err.value


# ----------------------------------------------------------------------------- the core module


def test_tampered_authority_names_authority_and_the_host_that_verifies(world: World) -> None:
    """Signed for evil.example, received by a resource configured as api.example."""
    headers, _ = signed_request("GET", "https://evil.example/data", key=world.agent.key)
    view = view_of("GET", f"{RESOURCE}/data", {**headers, "Host": "evil.example"})
    exc = _refusal(_verifier(world, debug=True), view)
    explanation = exc.explanation
    assert explanation is not None and explanation.verified is False
    assert explanation.differing_component == "@authority"
    (finding,) = explanation.findings
    assert (finding.ours, finding.theirs, finding.base) == ("api.example", "evil.example", "rfc9421")
    text = explanation.to_text()
    assert "differs: @authority: we used api.example (configured); the signature verifies with evil.example " \
           "(the Host header)" in text
    assert '"@authority": api.example\n' in text  # the base we built, exactly
    assert "[configured; the Host header: evil.example]" in text


def test_the_configured_authority_verifies_when_the_request_arrived_under_another_name(world: World) -> None:
    """The other way round: no configured authority was used, the configured one verifies."""
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=world.agent.key, scheme="hwk")
    view = view_of("GET", "https://internal.example/data", headers)
    explanation = explain_request(view, _public(world.agent.key), configured_authority="api.example")
    (finding,) = explanation.findings
    assert (finding.component, finding.ours, finding.theirs) == ("@authority", "internal.example", "api.example")


def test_a_demo_signed_request_verified_under_rfc9421_says_demo_verifies() -> None:
    """The reference demo's own request (transcript vector 1), refused under rfc9421."""
    vector = VECTORS[0]
    view = view_of(vector.method, vector.url, vector.headers(), vector.body)
    key = PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": AGENT1_X})
    explanation = explain_request(view, key, bases=("rfc9421",))
    assert explanation.verified is False
    (finding,) = explanation.findings
    assert finding.base == "demo-2026-01" and finding.component is None
    text = explanation.to_text()
    assert "verifies with base demo-2026-01" in text
    assert "signature_bases=('rfc9421', 'demo-2026-01')" in text and "or sign with rfc9421" in text
    # Accepted as configured, the same request is simply valid under the demo's base.
    both = explain_request(view, key, bases=("rfc9421", "demo-2026-01"))
    assert both.verified is True and both.verified_base == "demo-2026-01" and not both.findings


def test_a_tampered_path_with_no_recognisable_rewrite_shows_the_base_and_guesses_nothing(world: World) -> None:
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=world.agent.key)
    view = view_of("GET", f"{RESOURCE}/admin", headers)
    explanation = _refusal(_verifier(world, debug=True), view).explanation
    assert explanation is not None and explanation.findings == () and explanation.differing_component is None
    text = explanation.to_text()
    assert "no alternative verifies. Tried: base demo-2026-01" in text
    assert '"@path": /admin\n' in text and "@signature-params" in text


def test_a_path_prefix_added_on_the_way_is_named(world: World) -> None:
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=world.agent.key)
    view = view_of("GET", f"{RESOURCE}/v1/data", headers)
    explanation = _refusal(_verifier(world, debug=True), view).explanation
    assert explanation is not None and explanation.differing_component == "@path"
    (finding,) = explanation.findings
    assert (finding.ours, finding.theirs) == ("/v1/data", "/data")
    assert "the prefix '/v1' was added on the way" in explanation.to_text()


def test_a_prefix_stripped_by_a_proxy_is_found_through_x_forwarded_prefix(world: World) -> None:
    headers, _ = signed_request("GET", f"{RESOURCE}/api/data", key=world.agent.key)
    view = view_of("GET", f"{RESOURCE}/data", {**headers, "X-Forwarded-Prefix": "/api"})
    explanation = _refusal(_verifier(world, debug=True), view).explanation
    assert explanation is not None
    assert [(f.component, f.theirs) for f in explanation.findings] == [("@path", "/api/data")]


def test_an_authority_and_base_mismatch_together_are_both_named(world: World) -> None:
    headers, _ = signed_request("GET", "https://evil.example/data", key=world.agent.key, base="demo-2026-01")
    view = view_of("GET", f"{RESOURCE}/data", {**headers, "Host": "evil.example"})
    explanation = _refusal(_verifier(world, debug=True), view).explanation
    assert explanation is not None
    (finding,) = explanation.findings
    assert (finding.component, finding.theirs, finding.base) == ("@authority", "evil.example", "demo-2026-01")
    assert "under base demo-2026-01" in finding.summary


def _signed_with_62_or_63(key: SigningKey, encoding: str) -> tuple[dict[str, str], str]:
    """A request whose Signature text holds a character for 62 or 63 (most do; find one)."""
    for created in range(NOW, NOW + 50):
        headers, _ = signed_request("GET", f"{RESOURCE}/data", key=key, scheme="hwk", created=created)
        label, sig = parse_signature(headers["Signature"])
        text = format_signature(label, sig, encoding=encoding)  # type: ignore[arg-type]
        if any(c in text for c in "+/-_"):
            return {**headers, "Signature": text}, text
    raise AssertionError("no signature with a 62 or 63 character")  # pragma: no cover


@pytest.mark.parametrize(("encoding", "swap"), [("base64url", {"-": "_", "_": "-"}),
                                                  ("base64", {"+": "/", "/": "+"})])
def test_a_base64_alphabet_swap_is_detected(world: World, encoding: str, swap: dict[str, str]) -> None:
    headers, text = _signed_with_62_or_63(world.agent.key, encoding)
    swapped = text.translate(str.maketrans(swap))
    view = view_of("GET", f"{RESOURCE}/data", {**headers, "Signature": swapped})
    verifier = _verifier(world, debug=True)
    world.clock.now = float(parse_created(headers))
    explanation = _refusal(verifier, view).explanation
    assert explanation is not None
    (finding,) = explanation.findings
    assert finding.component is None and "62 and 63 swapped" in finding.summary
    assert "RFC 4648" in finding.hint


def parse_created(headers: dict[str, str]) -> int:
    return int(headers["Signature-Input"].rsplit("created=", 1)[1])


def test_a_valid_request_shows_the_base_and_its_components(world: World) -> None:
    headers, body = signed_request("POST", f"{RESOURCE}/data?page=2", key=world.agent.key, body=b'{"x": 1}')
    view = view_of("POST", f"{RESOURCE}/data?page=2", headers, body)
    explanation = explain_request(view, _public(world.agent.key), configured_authority="api.example")
    assert explanation.verified is True and explanation.findings == ()
    assert [c.name for c in explanation.components] == [
        "@method", "@authority", "@path", "@query", "content-type", "content-digest", "signature-key"]
    assert {c.name: c.value for c in explanation.components}["@query"] == "?page=2"
    text = explanation.to_text()
    assert text.startswith("explain: valid: the signature verifies with base rfc9421\n")
    assert '"@query": ?page=2\n' in text and '"content-type": application/json\n' in text


def test_without_a_key_only_the_base_is_shown(world: World) -> None:
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=world.agent.key)
    explanation = explain_request(view_of("GET", f"{RESOURCE}/data", headers), None,
                                  refusal=AAuthError("stale", code="signature_expired"))
    assert explanation.verified is None and explanation.findings == ()
    assert "refused (signature_expired: stale) before the signature was checked" in explanation.to_text()


def test_alternatives_are_bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every alternative at once (query, prefix header, several hosts, encoded path, 62/63
    characters): the number of signature verifications stays within MAX_ATTEMPTS."""
    import aauth_core.resource.explain as explain

    calls = []
    real = explain._verifies
    monkeypatch.setattr(explain, "_verifies", lambda key, sig, text: calls.append(text) or real(key, sig, text))
    headers, _ = _signed_with_62_or_63(SigningKey.generate(kid="other"), "base64url")
    headers = {**headers, "Host": "a.example", "X-Forwarded-Host": "b.example", "X-Forwarded-Prefix": "/p"}
    view = view_of("GET", "https://c.example/x/%7Ey/?q=1", headers)
    key = _public(world.agent.key)  # not the signer's: nothing verifies, everything is tried
    explanation = explain_request(view, key, configured_authority="api.example", received_authority="d.example")
    assert explanation.findings == () and 12 < len(calls) <= MAX_ATTEMPTS + 1  # + the check of the base itself


# ----------------------------------------------------------------------------- the command


def _write(tmp_path: Path, envelope: dict, name: str = "envelope.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(envelope))
    return str(path)


def _verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(["verify", *argv])
    out, _ = capsys.readouterr()
    verdict, _, explanation = out.partition("\n}\n")
    return code, json.loads(verdict + "\n}"), explanation


def test_cli_explain_names_the_authority_that_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = tmp_path / "agent.json"
    key.write_text(json.dumps(SigningKey.generate(kid="agent-1").private_jwk()))
    assert main(["sign", "GET", "https://api.example/data", "--key", str(key), "--created", str(NOW)]) == 0
    envelope = json.loads(capsys.readouterr().out)
    code, verdict, text = _verify(capsys, _write(tmp_path, envelope), "--now", str(NOW),
                                  "--resource", "https://api2.example", "--explain")
    assert (code, verdict["error"]) == (1, "invalid_signature")
    assert '"@authority": api2.example\n"@path": /data\n' in text  # the base text
    assert "differs: @authority: we used api2.example (configured); the signature verifies with api.example " \
           "(the request URL)" in text
    code, verdict, text = _verify(capsys, _write(tmp_path, envelope), "--now", str(NOW), "--explain")
    assert code == 0 and verdict["valid"] is True
    assert text.startswith("\nexplain: valid: the signature verifies with base rfc9421\n")
    assert '"@authority": api.example\n' in text


def test_cli_explain_finds_the_key_through_discovery_documents(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The reference demo's request, its agent's JWKS in the envelope, verified under rfc9421."""
    path = _write(tmp_path, _transcript_envelope(1))
    code, verdict, text = _verify(capsys, path, "--now", str(CREATED), "--explain")
    assert (code, verdict["error"]) == (1, "invalid_signature")
    assert "verifies with base demo-2026-01" in text and "aauth verify --base demo-2026-01" in text
    assert '"@signature-params": ("@method" "@authority" "@path" "signature-key");created=1768786273' in text


def test_cli_explain_with_key_and_a_jwks_envelope(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent = SigningKey.generate(kid="key-1")
    headers, _ = signed_request("GET", f"{RESOURCE}/v1/data", key=agent)
    envelope = {"method": "GET", "url": f"{RESOURCE}/data", "headers": headers, "body": None, "discovery": {
        f"{AGENT}/.well-known/aauth-agent": {"agent": AGENT, "jwks_uri": f"{AGENT}/jwks.json"},
        f"{AGENT}/jwks.json": jwks_document([agent]),
    }}
    path = _write(tmp_path, envelope)
    code, _, text = _verify(capsys, path, "--now", str(NOW), "--explain")
    assert code == 1 and "no alternative verifies" in text and '"@path": /data\n' in text
    pub = tmp_path / "pub.json"
    pub.write_text(json.dumps(agent.public_jwk()))
    code, _, with_key = _verify(capsys, path, "--now", str(NOW), "--key", str(pub), "--explain")
    assert code == 1 and f"thumbprint {_public(agent).thumbprint}" in with_key


def test_cli_explain_with_hwk_refused_before_the_signature_check(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A stale request: the inline key still lets the explanation check the signature."""
    agent = SigningKey.generate(kid="key-1")
    headers, _ = signed_request("GET", f"{RESOURCE}/data", key=agent, scheme="hwk")
    path = _write(tmp_path, {"method": "GET", "url": f"{RESOURCE}/data", "headers": headers})
    code, verdict, text = _verify(capsys, path, "--now", str(NOW + 3600), "--explain")
    assert (code, verdict["error"]) == (1, "signature_expired")
    assert "although the signature itself verifies with base rfc9421" in text


# ----------------------------------------------------------------------------- server side


def _tampered_authority(world: World) -> tuple[dict[str, str], str]:
    headers, _ = signed_request("GET", "https://evil.example/data", key=world.agent.key)
    return headers, headers["Signature-Key"]


def test_a_debug_server_logs_the_explanation(world: World, caplog: pytest.LogCaptureFixture) -> None:
    app = starlette_app(world, resource_settings(debug=True))
    headers, signature_key = _tampered_authority(world)
    caplog.set_level(logging.DEBUG, logger="aauth")
    with TestClient(app, base_url="https://evil.example") as client:
        response = client.get("/data", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "invalid_signature"
    assert "differs: @authority: we used api.example (configured); the signature verifies with evil.example " \
           "(the Host header)" in caplog.text
    assert '"@authority": api.example\n' in caplog.text and signature_key in caplog.text
    assert "api.example" not in response.text and "@authority" not in response.text  # never in the response


def test_without_debug_nothing_of_the_base_is_logged(world: World, caplog: pytest.LogCaptureFixture) -> None:
    app = starlette_app(world, resource_settings())
    headers, signature_key = _tampered_authority(world)
    caplog.set_level(logging.DEBUG)  # everything, every logger
    with TestClient(app, base_url="https://evil.example") as client:
        response = client.get("/data", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "invalid_signature"
    logged = caplog.text
    assert "invalid_signature" in logged  # the refusal itself is logged, by code
    for secret in ('"@authority"', "@signature-params", signature_key, headers["Signature"][6:-1],
                   "explain", "differs"):
        assert secret not in logged, secret


def test_without_debug_the_error_carries_no_explanation(world: World) -> None:
    headers, _ = signed_request("GET", "https://evil.example/data", key=world.agent.key)
    view = view_of("GET", f"{RESOURCE}/data", {**headers, "Host": "evil.example"})
    assert _refusal(_verifier(world), view).explanation is None
