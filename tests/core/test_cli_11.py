"""``aauth sign --profile aauth-11`` and ``aauth verify`` on aauth-11 envelopes (issue 14).

Real keys, real ``aa-agent+jwt`` tokens (``mint_agent_token_11``), real signatures; the
agent provider's documents travel in the envelope's ``discovery`` (verify never fetches a
document listed there), or the key is given with ``--key``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from aauth_core.cli import main
from aauth_core.headers import SignatureKey
from aauth_core.httpsig import sign_request
from aauth_core.keys import KeyAlg, SigningKey, jwks_document
from aauth_core.tokens import mint_agent_token
from aauth_core.tokens.mint_11 import mint_agent_token_11

NOW = 1_800_000_000
AP = "https://ap.example"
AGENT_ID = "aauth:Planner.7f@ap.example"
URL = "https://api.example/data"
BASE = ["@method", "@authority", "@path", "signature-key"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def explain(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    """``--explain`` output: the JSON verdict, then the text after the first blank line."""
    code = main(list(argv))
    out = capsys.readouterr().out
    verdict, _, text = out.partition("\n\n")
    return code, json.loads(verdict), text


class AgentProvider:
    """An agent provider's key and documents, and one agent's key file and token."""

    def __init__(self, tmp_path: Path, *, agent_alg: KeyAlg = "ed25519") -> None:
        self.key = SigningKey.generate(kid="ap-key-1")
        self.agent = SigningKey.generate(alg=agent_alg, kid="agent-1")
        self.keyfile = tmp_path / "agent.json"
        self.keyfile.write_text(json.dumps(self.agent.private_jwk()))
        self.pubfile = tmp_path / "agent.pub.json"
        self.pubfile.write_text(json.dumps(self.agent.public_jwk()))
        self.token = self.mint()

    def mint(self, **over: Any) -> str:
        values: dict[str, Any] = {"iss": AP, "sub": AGENT_ID, "cnf_jwk": self.agent.public_jwk(), "now": NOW,
                                  "ps": "https://ps.example"}
        values.update(over)
        return mint_agent_token_11(self.key, **values)

    def documents(self) -> dict[str, Any]:
        jwks = jwks_document([self.key])
        for jwk in jwks["keys"]:
            jwk["alg"] = "Ed25519"
        return {f"{AP}/.well-known/aauth-agent.json": {"issuer": AP, "jwks_uri": f"{AP}/jwks.json"},
                f"{AP}/jwks.json": jwks}


@pytest.fixture
def ap(tmp_path: Path) -> AgentProvider:
    return AgentProvider(tmp_path)


def sign11(capsys: pytest.CaptureFixture[str], ap: AgentProvider, method: str = "GET", url: str = URL,
           *extra: str) -> dict[str, Any]:
    code, env, err = run(capsys, "sign", method, url, "--key", str(ap.keyfile), "--profile", "aauth-11",
                         "--jwt", ap.token, "--created", str(NOW), *extra)
    assert code == 0, err
    assert isinstance(env, dict)
    return env


def write(tmp_path: Path, envelope: dict[str, Any], name: str = "envelope.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(envelope))
    return str(path)


def with_documents(env: dict[str, Any], ap: AgentProvider) -> dict[str, Any]:
    return {**env, "discovery": ap.documents()}


# ----------------------------------------------------------------------------- signing


def test_sign_11_writes_what_draft_11_requires(capsys, ap) -> None:
    env = sign11(capsys, ap)
    headers = env["headers"]
    assert set(headers) == {"Signature-Key", "Signature-Input", "Signature"}  # no body, no Content-Digest
    assert headers["Signature-Key"] == f'sig=jwt;jwt="{ap.token}"'  # the SK-09 Dictionary member
    # -11 §11.3.3.1 base set, `created` only: no alg, no keyid, no @query.
    assert headers["Signature-Input"] == 'sig=("@method" "@authority" "@path" "signature-key");created=' + str(NOW)
    m = re.fullmatch(r"sig=:([A-Za-z0-9+/]{86}==):", headers["Signature"])  # standard, padded base64
    assert m is not None and len(base64.b64decode(m.group(1), validate=True)) == 64
    assert env["discovery"] == {} and env["body"] is None


def test_sign_11_covers_the_body_and_an_authorization_header(capsys, ap) -> None:
    env = sign11(capsys, ap, "POST", URL, "--body", '{"a": 1}', "--header", "Content-Type: application/json",
                 "--header", "Authorization: AAuth session-1")
    headers = env["headers"]
    assert headers["Signature-Input"] == ('sig=("@method" "@authority" "@path" "signature-key" "content-digest" '
                                          f'"content-type" "authorization");created={NOW}')
    assert headers["Content-Digest"].startswith("sha-256=:")
    assert env["body"] == '{"a": 1}'


def test_sign_11_adds_components_a_resource_asks_for(tmp_path, capsys, ap) -> None:
    env = sign11(capsys, ap, "GET", URL + "?page=2", "--component", "@query")
    assert env["headers"]["Signature-Input"] == (
        f'sig=("@method" "@authority" "@path" "signature-key" "@query");created={NOW}')
    code, verdict, _ = run(capsys, "verify", write(tmp_path, with_documents(env, ap)), "--now", str(NOW))
    assert code == 0 and verdict["valid"] is True


def test_sign_11_as_a_server_with_jwks_uri(tmp_path, capsys, ap) -> None:
    code, env, err = run(capsys, "sign", "POST", "https://as.example/token", "--key", str(ap.keyfile),
                         "--profile", "aauth-11", "--scheme", "jwks_uri", "--id", "https://ps.example",
                         "--dwk", "aauth-person.json", "--kid", "k", "--body", "{}", "--created", str(NOW))
    assert code == 0, err
    assert env["headers"]["Signature-Key"] == 'sig=jwks_uri;id="https://ps.example";dwk="aauth-person.json";kid="k"'
    assert '"content-digest" "content-type"' in env["headers"]["Signature-Input"]
    path = write(tmp_path, env)
    # With the key in hand the signature checks out, under -11 ...
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW), "--key", str(ap.pubfile))
    assert code == 0
    assert verdict == {"valid": True, "profile": "aauth-11", "scheme": "jwks_uri", "agent": None,
                       "agent_provider": None, "token_type": None, "scope": None,
                       "key_thumbprint": ap.agent.thumbprint}
    # ... while a resource in agent-token mode refuses a server's scheme.
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW))
    assert code == 1
    assert (verdict["profile"], verdict["error"], verdict["signature_error"]) == (
        "aauth-11", "unsupported_scheme", "unsupported_scheme")
    assert verdict["accept_signature_scheme"] == ["jwt"]


def test_january_signing_is_unchanged(tmp_path, capsys, ap) -> None:
    """The default profile writes exactly what ``sign_request`` always wrote."""
    code, env, _ = run(capsys, "sign", "POST", URL + "?x=1", "--key", str(ap.keyfile), "--body", "{}",
                       "--created", str(NOW))
    assert code == 0
    expected = sign_request("POST", URL + "?x=1", {"Content-Type": "application/octet-stream"}, b"{}",
                            key=ap.agent, created=NOW, signature_key=SignatureKey.build(
                                "hwk", {k: v for k, v in ap.agent.public_jwk().items() if k != "kid"}))
    assert env["headers"] == {"Content-Type": "application/octet-stream", **expected.headers}
    assert env["headers"]["Signature-Input"].startswith('sig1=("@method" "@authority" "@path" "@query" ')
    assert run(capsys, "sign", "POST", URL + "?x=1", "--key", str(ap.keyfile), "--body", "{}", "--created",
               str(NOW), "--profile", "aauth-2026-01")[1] == env
    code, verdict, _ = run(capsys, "verify", write(tmp_path, env), "--now", str(NOW))
    assert code == 0 and verdict["profile"] == "aauth-2026-01" and verdict["scheme"] == "hwk"


@pytest.mark.parametrize(("extra", "message"), [
    (["--scheme", "hwk"], "signs with --scheme jwt"),
    (["--scheme", "jwks", "--id", "https://agent.example"], "signs with --scheme jwt"),
    (["--base", "demo-2026-01"], "RFC 9421 base only"),
    (["--signature-key-format", "sf"], "SK-09 Dictionary form"),
    (["--well-known", "aauth-agent"], "use --dwk"),
    (["--component", "x-missing"], "x-missing"),
    (["--scheme", "jwks_uri", "--id", "https://ps.example"], "--dwk"),
    (["--scheme", "jwks_uri", "--id", "https://ps.example", "--dwk", "aauth-person"], "--dwk"),
    (["--scheme", "jwks_uri", "--id", "https://ps.example/", "--dwk", "aauth-person.json"], "--id"),
    (["--scheme", "jwks_uri", "--dwk", "aauth-person.json"], "needs --id"),
])
def test_sign_11_usage_errors(capsys, ap, extra, message) -> None:
    code, out, err = run(capsys, "sign", "GET", URL, "--key", str(ap.keyfile), "--profile", "aauth-11",
                         "--jwt", ap.token, *extra)
    assert (code, out) == (2, None)  # nothing signed, nothing printed
    assert message in err


def test_sign_11_refuses_tokens_a_verifier_would_refuse(capsys, ap) -> None:
    base = ["sign", "GET", URL, "--key", str(ap.keyfile), "--profile", "aauth-11"]
    code, out, err = run(capsys, *base)
    assert (code, out) == (2, None) and "needs --jwt" in err
    january = mint_agent_token(ap.key, iss="https://agent.example", sub="delegate-1",
                               cnf_jwk=ap.agent.public_jwk(), now=NOW)
    code, out, err = run(capsys, *base, "--jwt", january)
    assert (code, out) == (2, None) and "'agent+jwt'" in err
    other = ap.mint(cnf_jwk=SigningKey.generate().public_jwk())
    code, out, err = run(capsys, *base, "--jwt", other)
    assert (code, out) == (2, None) and "not bound to --key" in err
    code, out, err = run(capsys, *base, "--jwt", "not-a-jwt")
    assert (code, out) == (2, None) and "not a JWT" in err


@pytest.mark.parametrize(("extra", "message"), [
    (["--dwk", "aauth-person.json"], "--dwk is for --profile aauth-11"),
    (["--component", "@query"], "--component is for --profile aauth-11"),
    (["--scheme", "jwks_uri", "--id", "https://agent.example"], "--scheme jwks_uri is aauth-11's"),
])
def test_january_refuses_aauth_11_options(capsys, ap, extra, message) -> None:
    code, out, err = run(capsys, "sign", "GET", URL, "--key", str(ap.keyfile), *extra)
    assert (code, out) == (2, None) and message in err


# ----------------------------------------------------------------------------- round trips


def test_get_round_trip_with_the_agent_providers_documents(tmp_path, capsys, ap) -> None:
    path = write(tmp_path, with_documents(sign11(capsys, ap), ap))
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW + 5))
    assert code == 0
    assert verdict == {"valid": True, "profile": "aauth-11", "scheme": "jwt", "agent": AGENT_ID,
                       "agent_provider": AP, "token_type": "aa-agent+jwt", "scope": None,
                       "key_thumbprint": ap.agent.thumbprint}
    # Forcing the profile gives the same verdict; an agent token proves identity.
    assert run(capsys, "verify", path, "--now", str(NOW + 5), "--profile", "aauth-11")[1] == verdict
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW + 5), "--level", "identity")
    assert code == 0 and verdict["agent"] == AGENT_ID


def test_post_round_trip_and_a_tampered_body(tmp_path, capsys, ap) -> None:
    env = with_documents(sign11(capsys, ap, "POST", URL, "--body", '{"amount": 10}',
                                "--header", "Content-Type: application/json"), ap)
    code, verdict, _ = run(capsys, "verify", write(tmp_path, env), "--now", str(NOW))
    assert code == 0 and verdict["agent"] == AGENT_ID
    env["body"] = '{"amount": 10000}'
    code, verdict, _ = run(capsys, "verify", write(tmp_path, env), "--now", str(NOW))
    assert code == 1
    assert verdict == {"valid": False, "profile": "aauth-11", "error": "digest_mismatch",
                       "error_description": "Content-Digest sha-256 does not match the body",
                       "signature_error": "invalid_signature"}


def test_p256_agent_round_trip(tmp_path, capsys) -> None:
    ap = AgentProvider(tmp_path, agent_alg="p256")
    env = with_documents(sign11(capsys, ap), ap)
    code, verdict, _ = run(capsys, "verify", write(tmp_path, env), "--now", str(NOW))
    assert code == 0 and verdict["key_thumbprint"] == ap.agent.thumbprint


@pytest.mark.parametrize(("now", "error", "signature_error"), [
    (NOW + 61, "signature_expired", "invalid_signature"),  # stale: -11 answers invalid_signature
    (NOW - 61, "signature_not_yet_valid", "clock_skew"),  # ahead of the verifier's clock
])
def test_created_outside_the_window(tmp_path, capsys, ap, now, error, signature_error) -> None:
    path = write(tmp_path, with_documents(sign11(capsys, ap), ap))
    code, verdict, _ = run(capsys, "verify", path, "--now", str(now))
    assert code == 1 and verdict["valid"] is False
    assert (verdict["error"], verdict["signature_error"]) == (error, signature_error)


def test_an_uncovered_authorization_header_is_invalid_input(tmp_path, capsys, ap) -> None:
    env = with_documents(sign11(capsys, ap), ap)
    env["headers"]["Authorization"] = "AAuth session-1"  # added after signing
    code, verdict, _ = run(capsys, "verify", write(tmp_path, env), "--now", str(NOW))
    assert code == 1
    assert (verdict["error"], verdict["signature_error"]) == ("missing_component", "invalid_input")
    assert verdict["required_input"] == [*BASE, "authorization"]
    # The fixed-key check answers the same.
    code, verdict, _ = run(capsys, "verify", write(tmp_path, env), "--now", str(NOW), "--key", str(ap.pubfile))
    assert code == 1 and verdict["required_input"] == [*BASE, "authorization"]


def test_a_token_the_agent_provider_did_not_sign_is_refused(tmp_path, capsys, ap) -> None:
    env = sign11(capsys, ap)
    env["discovery"] = AgentProvider(tmp_path).documents()  # another AP key under the same kid
    code, verdict, _ = run(capsys, "verify", write(tmp_path, env), "--now", str(NOW))
    assert code == 1
    assert (verdict["error"], verdict["signature_error"]) == ("invalid_token_signature", "invalid_jwt")


def test_january_only_verify_refuses_an_aauth_11_envelope(tmp_path, capsys, ap) -> None:
    path = write(tmp_path, with_documents(sign11(capsys, ap), ap))
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW), "--profile", "aauth-2026-01")
    assert code == 1
    assert set(verdict) == {"valid", "error", "error_description"}  # January's refusal, as always
    assert verdict["valid"] is False and verdict["error"] == "wrong_token_type"


def test_hwk_under_aauth_11_is_an_unsupported_scheme(tmp_path, capsys, ap) -> None:
    """An SK-09 ``hwk`` member: -11 agents sign with ``jwt`` only (§11.3.2)."""
    jwk = {k: v for k, v in ap.agent.public_jwk().items() if k != "kid"} | {"alg": "Ed25519"}
    sk = SignatureKey.build("hwk", jwk, label="sig", fmt="sk")
    signed = sign_request("GET", URL, {}, None, key=ap.agent, signature_key=sk, created=NOW, encoding="base64",
                          components=BASE)
    path = write(tmp_path, {"method": "GET", "url": URL, "headers": dict(signed.headers), "body": None})
    for extra in ([], ["--key", str(ap.pubfile)]):
        code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW), "--profile", "aauth-11", *extra)
        assert code == 1
        assert (verdict["profile"], verdict["error"], verdict["signature_error"]) == (
            "aauth-11", "unsupported_scheme", "unsupported_scheme")
        assert verdict["accept_signature_scheme"] == ["jwt"]
    # A dual-stack verifier reads an hwk member as January's (decision P2), where hwk is allowed.
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW))
    assert code == 0 and verdict["profile"] == "aauth-2026-01" and verdict["scheme"] == "hwk"


# ----------------------------------------------------------------------------- --key and --explain


def test_key_checks_only_the_signature_of_an_aauth_11_envelope(tmp_path, capsys, ap) -> None:
    path = write(tmp_path, sign11(capsys, ap))  # no documents: the token is never validated
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW), "--key", str(ap.pubfile))
    assert code == 0
    assert (verdict["profile"], verdict["scheme"], verdict["agent"]) == ("aauth-11", "jwt", None)
    other = tmp_path / "other.json"
    other.write_text(json.dumps(SigningKey.generate().public_jwk()))
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW), "--key", str(other))
    assert code == 1
    assert (verdict["error"], verdict["signature_error"]) == ("invalid_signature", "invalid_signature")
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW + 600), "--key", str(ap.pubfile))
    assert code == 1 and verdict["signature_error"] == "invalid_signature"


def test_explain_prints_the_signature_error_and_the_covered_components(tmp_path, capsys, ap) -> None:
    env = with_documents(sign11(capsys, ap), ap)
    env["headers"]["Authorization"] = "AAuth session-1"
    code, verdict, text = explain(capsys, "verify", write(tmp_path, env), "--now", str(NOW), "--explain")
    assert code == 1 and verdict["signature_error"] == "invalid_input"
    lines = text.splitlines()
    assert lines[:2] == ["profile: aauth-11", 'Signature-Error: error=invalid_input, required_input=("@method" '
                         '"@authority" "@path" "signature-key" "authorization")']
    assert "covered components:" in text and "signature base (rfc9421)" in text
    # The key is the token's cnf key: the signature itself verifies, so the explanation says so.
    assert f"thumbprint {ap.agent.thumbprint}" in text and "although the signature itself verifies" in text
    code, verdict, text = explain(capsys, "verify", write(tmp_path, with_documents(sign11(capsys, ap), ap)),
                                  "--now", str(NOW), "--explain")
    assert code == 0 and text.startswith("profile: aauth-11\nSignature-Error: none (the request verifies)\n")
    assert re.search(r"^  @path +/data$", text, re.M)


def test_verify_rejects_a_demo_base_under_aauth_11(tmp_path, capsys, ap) -> None:
    path = write(tmp_path, sign11(capsys, ap))
    code, out, err = run(capsys, "verify", path, "--profile", "aauth-11", "--base", "demo-2026-01")
    assert (code, out) == (2, None) and "RFC 9421 base only" in err
