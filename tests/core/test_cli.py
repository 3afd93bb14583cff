"""The ``aauth`` command: keygen, decode, sign and verify envelopes."""

from __future__ import annotations

import argparse
import json
import os
import stat
from pathlib import Path

import pytest

from aauth_core.cli import main
from aauth_core.keys import SigningKey, jwks_document, load_signing_key
from aauth_core.tokens import mint_auth_token, mint_resource_token

from ..interop.transcript import AGENT1, AGENT1_X, CREATED, R1, R1_X, VECTORS

NOW = 1_700_000_000


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


@pytest.fixture
def keyfile(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "agent.json"
    assert run(capsys, "keygen", "--kid", "key-1", "--out", str(path))[0] == 0
    return path


def test_keygen_writes_a_private_jwk_readable_only_by_its_owner(keyfile: Path) -> None:
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    key = load_signing_key(keyfile)
    assert key.kid == "key-1" and key.alg == "ed25519"


def test_keygen_p256(tmp_path: Path, capsys) -> None:
    path = tmp_path / "p.json"
    assert run(capsys, "keygen", "--alg", "p256", "--kid", "p", "--out", str(path))[0] == 0
    assert json.loads(path.read_text())["crv"] == "P-256"


def _write(tmp_path: Path, envelope: dict) -> str:
    path = tmp_path / "envelope.json"
    path.write_text(json.dumps(envelope))
    return str(path)


def test_sign_hwk_then_verify(tmp_path, keyfile, capsys) -> None:
    code, env, _ = run(capsys, "sign", "POST", "https://api.example/items?x=1", "--key", str(keyfile),
                       "--body", '{"a": 1}', "--header", "Content-Type: application/json", "--created", str(NOW))
    assert code == 0 and env is not None
    assert set(env) == {"method", "url", "headers", "body", "discovery"}
    assert "Content-Digest" in env["headers"]
    code, verdict, _ = run(capsys, "verify", _write(tmp_path, env), "--now", str(NOW + 5))
    assert code == 0 and verdict is not None
    assert verdict["valid"] is True and verdict["scheme"] == "hwk"
    assert verdict["key_thumbprint"] == load_signing_key(keyfile).thumbprint
    env["body"] = '{"a": 2}'
    code, verdict, _ = run(capsys, "verify", _write(tmp_path, env), "--now", str(NOW + 5))
    assert (code, verdict) == (1, {"valid": False, "error": "digest_mismatch",
                                   "error_description": "Content-Digest sha-256 does not match the body"})


def test_verify_names_the_failing_check(tmp_path, keyfile, capsys) -> None:
    _, env, _ = run(capsys, "sign", "GET", "https://api.example/data", "--key", str(keyfile), "--created", str(NOW))
    path = _write(tmp_path, env)
    assert run(capsys, "verify", path, "--now", str(NOW + 600))[1]["error"] == "signature_expired"
    assert run(capsys, "verify", path, "--now", str(NOW), "--resource", "https://other.example")[1]["error"] == (
        "invalid_signature"
    )
    assert run(capsys, "verify", path, "--now", str(NOW), "--level", "identity")[1]["error"] == "identity_required"


def test_sign_jwks_and_verify_with_offline_discovery(tmp_path, keyfile, capsys) -> None:
    key = load_signing_key(keyfile)
    _, env, _ = run(capsys, "sign", "GET", "https://api.example/data", "--key", str(keyfile), "--scheme", "jwks",
                    "--id", "https://agent.example", "--created", str(NOW))
    assert env["headers"]["Signature-Key"] == (
        'sig1=(scheme=jwks id="https://agent.example" kid="key-1" well-known="aauth-agent")'
    )
    env["discovery"] = {
        "https://agent.example/.well-known/aauth-agent": {"agent": "https://agent.example",
                                                          "jwks_uri": "https://agent.example/jwks.json"},
        "https://agent.example/jwks.json": jwks_document([key]),
    }
    code, verdict, _ = run(capsys, "verify", _write(tmp_path, env), "--now", str(NOW), "--level", "identity")
    assert code == 0 and verdict["agent"] == "https://agent.example"


def test_sign_jwt_and_verify_authorization(tmp_path, keyfile, capsys) -> None:
    agent = load_signing_key(keyfile)
    issuer = SigningKey.generate(kid="auth-key-1")
    token = mint_auth_token(issuer, iss="https://as.example", aud="https://api.example", cnf_jwk=agent.public_jwk(),
                            now=NOW, agent="https://agent.example", scope="data.read",
                            act={"agent": "https://upstream.example"})
    _, env, _ = run(capsys, "sign", "GET", "https://api.example/data", "--key", str(keyfile), "--scheme", "jwt",
                    "--jwt", token, "--created", str(NOW), "--signature-key-format", "sf")
    assert env["headers"]["Signature-Key"].startswith('sig1=jwt;jwt="')
    env["discovery"] = {
        "https://as.example/.well-known/aauth-issuer": {"issuer": "https://as.example",
                                                        "jwks_uri": "https://as.example/jwks.json"},
        "https://as.example/jwks.json": jwks_document([issuer]),
    }
    path = _write(tmp_path, env)
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW), "--level", "authorization",
                           "--trust-issuer", "https://as.example")
    assert code == 0
    assert verdict["scope"] == "data.read" and verdict["act"] == {"agent": "https://upstream.example"}
    code, verdict, _ = run(capsys, "verify", path, "--now", str(NOW))
    assert (code, verdict["error"]) == (1, "untrusted_issuer")


def test_verify_with_key_checks_only_the_signature(tmp_path, keyfile, capsys) -> None:
    _, env, _ = run(capsys, "sign", "GET", "https://api.example/data", "--key", str(keyfile), "--scheme", "jwt",
                    "--jwt", "not.a.validated-token", "--created", str(NOW))
    pub = tmp_path / "pub.json"
    pub.write_text(json.dumps(load_signing_key(keyfile).public_jwk()))
    code, verdict, _ = run(capsys, "verify", _write(tmp_path, env), "--now", str(NOW), "--key", str(pub))
    assert code == 0 and verdict["scheme"] == "jwt"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(SigningKey.generate().public_jwk()))
    code, verdict, _ = run(capsys, "verify", _write(tmp_path, env), "--now", str(NOW), "--key", str(other))
    assert (code, verdict["error"]) == (1, "invalid_signature")


def _transcript_envelope(number: int) -> dict:
    v = VECTORS[number - 1]
    ident, x, kid = (AGENT1, AGENT1_X, "key-1") if v.signer_x == AGENT1_X else (R1, R1_X, "resource-key-1")
    wk, field = ("aauth-agent", "agent") if ident == AGENT1 else ("aauth-resource", "resource")
    return {
        "method": v.method, "url": v.url, "headers": v.headers(),
        "body": v.body.decode() if v.body else None,
        "discovery": {
            f"{ident}/.well-known/{wk}": {field: ident, "jwks_uri": f"{ident}/jwks.json"},
            f"{ident}/jwks.json": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid}]},
        },
    }


@pytest.mark.parametrize("number", [1, 4])
def test_verify_transcript_requests_in_compatibility_mode(tmp_path, capsys, number) -> None:
    path = _write(tmp_path, _transcript_envelope(number))
    code, verdict, _ = run(capsys, "verify", path, "--now", str(CREATED), "--base", "demo-2026-01",
                           "--level", "identity")
    assert code == 0, verdict
    assert verdict["agent"] == (AGENT1 if number == 1 else R1)
    code, verdict, _ = run(capsys, "verify", path, "--now", str(CREATED))
    assert (code, verdict["error"]) == (1, "invalid_signature")


def test_decode(capsys) -> None:
    key = SigningKey.generate(kid="k")
    token = mint_auth_token(key, iss="https://as.example", aud="https://api.example", cnf_jwk=key.public_jwk(),
                            now=NOW, agent="https://agent.example")
    code, out, _ = run(capsys, "decode", token)
    assert code == 0 and out["header"] == {"alg": "EdDSA", "kid": "k", "typ": "auth+jwt"}
    assert out["claims"]["agent"] == "https://agent.example"
    code, out, _ = run(capsys, "decode", 'sig1=(scheme=jwks id="https://a.example" kid="k" well-known="aauth-agent")')
    assert out == {"kind": "signature-key", "label": "sig1", "scheme": "jwks",
                   "params": {"id": "https://a.example", "kid": "k", "well-known": "aauth-agent"}}
    code, out, _ = run(capsys, "decode", 'sig1=("@method" "@path");created=5')
    assert out["kind"] == "signature-input" and out["created"] == 5
    code, out, err = run(capsys, "decode", "garbage value")
    assert code == 1 and out is None and "not a valid signature-key value" in err


def test_decode_names_the_kind_it_read_and_decodes_a_challenge_token(capsys) -> None:
    # A Signature-Key error is reported as one (it was masked by a Signature-Input error).
    code, out, err = run(capsys, "decode", "sig=jwt")
    assert code == 1 and "signature-key" in err and "inner list" not in err
    key = SigningKey.generate(kid="k")
    rt = mint_resource_token(key, iss="https://api.example", aud="https://as.example", agent="https://agent.example",
                             agent_jkt=key.thumbprint, now=NOW, scope="data.read")
    code, out, _ = run(capsys, "decode", f'httpsig; auth-token; resource_token="{rt}"; auth_server="https://as.example"')
    assert code == 0 and out["kind"] == "agent-auth"
    assert out["resource_token_decoded"]["claims"]["scope"] == "data.read"
    assert out["resource_token_decoded"]["verified"] is False
    code, out, _ = run(capsys, "decode", "--as", "signature-input", 'sig1=("@method");created=5')
    assert code == 0 and out["kind"] == "signature-input"


def test_keygen_needs_a_kid_and_never_overwrites_a_key(capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["keygen", "--out", str(tmp_path / "k.json")])
    assert exc.value.code == 2 and "--kid" in capsys.readouterr().err
    target = tmp_path / "k.json"
    assert main(["keygen", "--kid", "k1", "--out", str(target)]) == 0
    first = target.read_text()
    assert main(["keygen", "--kid", "k2", "--out", str(target)]) == 2
    assert "--force" in capsys.readouterr().err and target.read_text() == first
    assert main(["keygen", "--kid", "k2", "--out", str(target), "--force"]) == 0
    assert json.loads(target.read_text())["kid"] == "k2" and oct(target.stat().st_mode & 0o777) == "0o600"


def test_verify_names_a_missing_envelope_file(capsys) -> None:
    assert main(["verify", "/nonexistent/envelope.json"]) == 2
    assert "/nonexistent/envelope.json" in capsys.readouterr().err


def test_every_option_has_help_text() -> None:
    from aauth_core.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        for action in command._actions:
            if action.dest != "help":
                assert action.help, f"aauth {name} {action.option_strings or action.dest} has no help text"


@pytest.mark.parametrize(
    "argv",
    [
        ["sign", "GET", "https://a.example/", "--key", "/nonexistent/key.json"],
        ["verify", "/nonexistent/envelope.json"],
    ],
)
def test_usage_errors_exit_2(capsys, argv) -> None:
    assert main(argv) == 2
    assert "aauth" in capsys.readouterr().err


def test_bad_envelopes_exit_2(tmp_path, keyfile, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["verify", str(bad)]) == 2
    bad.write_text(json.dumps({"method": "GET"}))
    assert main(["verify", str(bad)]) == 2
    assert main(["sign", "GET", "https://a.example/", "--key", str(keyfile), "--scheme", "jwks"]) == 2
    assert main(["sign", "GET", "https://a.example/", "--key", str(keyfile), "--scheme", "jwt"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["sign"])
    assert exc.value.code == 2
