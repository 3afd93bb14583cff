"""Issue 15, row 2: tokens issued by OUR person server verify at aauth 0.5.0's resource and
with regent-httpsig 0.7.3 (docs/interop.md, "Our person server and the peers").

Our person server (``ourps11.ours_world``) issues, our -11 client (``agent_auth_11`` through
``ours11.our_client``) presents:

* at aauth 0.5.0's resource (``peers/rs_server.py``: ``RequestVerifier`` trusting our PS for
  person and auth tokens, ``ChallengeBuilder`` minting the resource token our PS checks): the
  whole three-party flow.  aauth reads only unpadded base64url signatures (protocol-current §5.1
  bug 1), so our client is built with ``SignerOptions.aauth_11(signature_encoding="base64url")``,
  the compatibility switch named in the test; our PS reads that form too (-11 open point 2).
* to regent-httpsig's resource verifier (``peers/verify_regent_live.py``): the very requests our
  client sent to our resource with our PS's person token and auth token (standard base64, the
  -11 default), regent discovering our PS's keys over HTTP (``insecure_hosts`` for the loopback
  table, §5.1 bug 8), with ``resource_url`` our resource and our PS in ``trusted_ps``.

Every refusal row shows the peer's code and that nothing was accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aauth_core.keys import SigningKey
from aauth_core.tokens import peek
from aauth_core.wire.requirement import parse_requirement
from aauth_core.wire.signature_key import parse_signature_key

from .live11 import PS_ID, RS_PEER_ID, SCOPE, RawSigner, issuer_keys, said, verified_claims
from .ourps11 import API_ID, OurPersonServerWorld, ours_world
from .ours11 import Exchange, our_client, presented
from .peer_runner import run_driver

PEER_DATA, OUR_DATA = f"{RS_PEER_ID}/data", f"{API_ID}/data"
PERSON, TOKEN = f"{PS_ID}/person", f"{PS_ID}/token"
OUR_PS_DOCUMENTS = [f"{PS_ID}/.well-known/aauth-person.json", f"{PS_ID}/jwks.json"]


@pytest.fixture(scope="module")
def world() -> Iterator[OurPersonServerWorld]:
    with ours_world() as started:
        yield started


def token_of(exchange: Exchange) -> str:
    """The token a request our client sent presented in its Signature-Key (kept in memory only)."""
    token = parse_signature_key(exchange.headers["signature-key"]).jwt
    assert token is not None
    return token


def our_flow_to_our_resource(world: OurPersonServerWorld, key: SigningKey) -> list[Exchange]:
    """Our client → our resource ``/data`` ↔ our PS: the three requests to ``/data`` (agent,
    person and auth token), the last answered 200."""
    client, sent = our_client(world.live, key)
    with client:
        answer = client.get(OUR_DATA)
    assert answer.status_code == 200, said(answer)
    to_data = sent.to(OUR_DATA)
    assert [presented(e) for e in to_data] == ["aa-agent+jwt", "aa-person+jwt", "aa-auth+jwt"]
    return to_data


def regent(world: OurPersonServerWorld, exchange: Exchange, *, resource_url: str = API_ID,
           trusted_ps: tuple[str, ...] = (PS_ID,), headers: dict[str, str] | None = None) -> dict[str, Any]:
    return run_driver("verify_regent_live.py", {
        "method": exchange.method, "url": exchange.url, "headers": headers or dict(exchange.headers), "body": None,
        "routes": dict(world.routes), "resource_url": resource_url, "trusted_ps": list(trusted_ps)})


# ---------------------------------------------------------------- aauth 0.5.0's resource


def test_our_client_our_person_server_aauth_050_resource_200_signature_encoding_base64url_bug_5_1_1(
        world: OurPersonServerWorld) -> None:
    """``person-token`` → our PS's person token → aauth's ``auth-token`` challenge with the
    resource token aauth mints (``aud`` = our PS) → our PS checks it against aauth's published
    key and issues the auth token → aauth's ``RequestVerifier`` accepts it: 200."""
    key = SigningKey.generate()
    client, sent = our_client(world.live, key, encoding="base64url")
    with client:
        answer = client.get(PEER_DATA)
    assert answer.status_code == 200, said(answer)
    to_data = sent.to(PEER_DATA)
    assert [presented(e) for e in to_data] == ["aa-agent+jwt", "aa-person+jwt", "aa-auth+jwt"]
    assert [(e.method, e.status, e.url) for e in sent.exchanges if e.url.startswith(PS_ID + "/")] == [
        ("GET", 200, f"{PS_ID}/.well-known/aauth-person.json"), ("POST", 200, PERSON),
        ("POST", 200, TOKEN)]  # our PS read the base64url signatures (open point 2)
    assert all("=" not in e.headers["signature"].split(":")[1] for e in sent.exchanges if "signature" in e.headers)
    challenge = parse_requirement(to_data[1].answer["aauth-requirement"])
    assert challenge.requirement == "auth-token" and challenge.resource_token
    rt = verified_claims(challenge.resource_token, "aa-resource+jwt",
                         issuer_keys(world.live.client, RS_PEER_ID, "aauth-resource.json"))
    assert (rt["iss"], rt["aud"], rt["ps"], rt["agent_jkt"], rt["scope"]) == (
        RS_PEER_ID, PS_ID, PS_ID, key.thumbprint, SCOPE)
    ps_keys = issuer_keys(world.live.client, PS_ID, "aauth-person.json")
    person = verified_claims(token_of(to_data[1]), "aa-person+jwt", ps_keys)
    auth = verified_claims(token_of(to_data[2]), "aa-auth+jwt", ps_keys)
    assert (person["aud"], person["sub"], person["jti"]) == (RS_PEER_ID, rt["sub"], rt["presented_jti"])
    assert (auth["iss"], auth["dwk"], auth["aud"], auth["ps"], auth["sub"], auth["scope"]) == (
        PS_ID, "aauth-person.json", RS_PEER_ID, PS_ID, rt["sub"], SCOPE)
    assert answer.json() == {"sub": rt["sub"], "ps": PS_ID, "scope": [SCOPE]}  # what aauth's verifier saw


def test_aauth_050_resource_refuses_our_person_servers_tokens_for_another_resource_invalid_jwt(
        world: OurPersonServerWorld) -> None:
    """Our PS's person and auth tokens for our resource (``aud`` = ``https://api.example``),
    presented at aauth's resource by the key they are bound to: 401 ``invalid_jwt``."""
    key = SigningKey.generate()
    to_data = our_flow_to_our_resource(world, key)
    send = RawSigner(world.live.client, key, encoding="base64url")  # bug 1: the form aauth reads
    for exchange in to_data[1:]:
        assert peek(token_of(exchange)).claims["aud"] == API_ID
        refused = send("GET", PEER_DATA, token=token_of(exchange))
        assert refused.status_code == 401, said(refused)
        assert refused.headers["Signature-Error"] == "error=invalid_jwt" and refused.json() == {"error": "invalid_jwt"}


def test_aauth_050_resource_refuses_our_person_servers_auth_token_from_another_key_invalid_signature(
        world: OurPersonServerWorld) -> None:
    """An auth token our PS issued for aauth's resource, signed by a key other than its ``cnf``."""
    key = SigningKey.generate()
    client, sent = our_client(world.live, key, encoding="base64url")
    with client:
        assert client.get(PEER_DATA).status_code == 200
    auth_token = token_of(sent.to(PEER_DATA)[-1])
    refused = RawSigner(world.live.client, SigningKey.generate(), encoding="base64url")(
        "GET", PEER_DATA, token=auth_token)
    assert refused.status_code == 401, said(refused)
    assert refused.headers["Signature-Error"] == "error=invalid_signature"


# ---------------------------------------------------------------- regent-httpsig 0.7.3


def test_regent_verifies_our_person_servers_person_and_auth_tokens_on_our_clients_requests(
        world: OurPersonServerWorld) -> None:
    key = SigningKey.generate()
    _, with_person, with_auth = our_flow_to_our_resource(world, key)
    person = regent(world, with_person)
    assert (person["verified"], person["scheme"]) == (True, "aauth-person"), person
    assert (person["claims"]["iss"], person["claims"]["aud"]) == (PS_ID, API_ID)
    auth = regent(world, with_auth)
    assert (auth["verified"], auth["scheme"]) == (True, "aauth-auth"), auth
    claims = auth["claims"]
    assert (claims["iss"], claims["aud"], claims["ps"], claims["dwk"]) == (PS_ID, API_ID, PS_ID, "aauth-person.json")
    assert claims["sub"] == person["claims"]["sub"]
    assert auth["fetched"] == OUR_PS_DOCUMENTS  # discovered from our live PS, issuer checked


def test_regent_refuses_our_person_servers_tokens_for_another_resource_invalid_jwt(
        world: OurPersonServerWorld) -> None:
    _, with_person, with_auth = our_flow_to_our_resource(world, SigningKey.generate())
    for exchange in (with_person, with_auth):
        refused = regent(world, exchange, resource_url="https://other.example")
        assert (refused["verified"], refused["error"]) == (False, "invalid_jwt"), refused


def test_regent_refuses_an_auth_token_from_a_person_server_it_does_not_trust_invalid_key(
        world: OurPersonServerWorld) -> None:
    _, _, with_auth = our_flow_to_our_resource(world, SigningKey.generate())
    refused = regent(world, with_auth, trusted_ps=())
    assert (refused["verified"], refused["error"], refused["fetched"]) == (False, "invalid_key", [])


def test_regent_refuses_our_clients_request_with_a_changed_signature_invalid_signature(
        world: OurPersonServerWorld) -> None:
    _, _, with_auth = our_flow_to_our_resource(world, SigningKey.generate())
    headers = dict(with_auth.headers)
    label, value = headers["signature"].split("=", 1)
    headers["signature"] = f"{label}={value[:5]}{'B' if value[5] == 'A' else 'A'}{value[6:]}"
    refused = regent(world, with_auth, headers=headers)
    assert (refused["verified"], refused["error"]) == (False, "invalid_signature"), refused
