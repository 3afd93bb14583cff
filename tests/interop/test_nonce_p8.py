"""Issue 14, decision P8 at every peer: a signature carrying RFC 9421's ``nonce`` parameter is
accepted (docs/interop.md, "P8: the nonce").

Ed25519 is deterministic, so the same request signed twice in one second would be byte-identical
and a replay cache would refuse the second; our -11 client (``FlowEngine11.sign_into``) then adds
``;nonce="<random>"`` to the signature parameters.  Here our real client makes exactly that
happen (its clock held on one second, the same request sent twice) and the second request, the
one with the nonce, goes to:

* the signature-layer verifiers of aauth-signing 0.2.0, regent-httpsig 0.7.3 and
  @hellocoop/httpsig 2.2.0 (drivers in ``peers/``, as in ``test_peers_signature.py``), GET and
  POST; a control changes the nonce after signing and each peer refuses it, so the nonce is part
  of the base each one verifies, not ignored;
* introspection-aauth 0.1.0's person server and aauth 0.5.0's resource, live on 127.0.0.1.

aauth-signing and aauth read only unpadded base64url (protocol-current §5.1 bug 1): for them the
client is built with ``signature_encoding="base64url"``, named in the tests.  No peer refuses the
nonce: there is no deviation to record.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import pytest

from aauth_core.client import AgentProvider, ClientOptions
from aauth_core.client.signer import SignerOptions
from aauth_core.keys import SigningKey

from .live11 import PS_ID, RS_ID, RS_PEER_ID, LiveWorld, live_world, said
from .ours11 import Exchange, our_client, signature_params
from .peer_runner import run_driver

AP_ID = "https://agent.example"
URL = "https://resource.example/api/documents"
NONCE = re.compile(r';nonce="[A-Za-z0-9_-]{16,}"')
VERIFIERS = {"aauth-signing": "verify_aauth_signing.py", "regent-httpsig": "verify_regent.py",
             "hellocoop": "hellocoop.mjs"}
ENCODING: dict[str, Literal["base64", "base64url"]] = {"aauth-signing": "base64url", "regent-httpsig": "base64",
                                                       "hellocoop": "base64"}  # aauth-signing: bug 5.1.1


def one_second() -> Any:
    """Our client's clock, held on the current second: two sends share their ``created``."""
    now = float(int(time.time()))
    return lambda: now


# ---- the signature layer --------------------------------------------------------------------

class Captured:
    """An in-process resource answering 200 to anything, keeping each request as signed."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode() if request.content else None
        self.requests.append({"method": request.method, "url": str(request.url), "headers": dict(request.headers),
                              "body": body})
        return httpx.Response(200, json={})


def signed_twice(encoding: Literal["base64", "base64url"], method: str, body: Any = None) -> tuple[
        dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Our real client sends ``method URL`` twice within one second; both requests as sent, and
    the key documents of its agent provider (what a verifier's discovery fetches)."""
    provider = AgentProvider(AP_ID, [SigningKey.generate(kid="ap-key-1")])
    auth = provider.agent_auth("assistant", SigningKey.generate(), options=ClientOptions(clock=one_second()),
                               signer_options=SignerOptions.aauth_11(signature_encoding=encoding))
    captured = Captured()
    with auth.client(transport=httpx.MockTransport(captured)) as client:
        for _ in range(2):
            assert client.request(method, URL, json=body).status_code == 200
    first, second = captured.requests
    documents = {f"{AP_ID}/.well-known/aauth-agent.json": provider.metadata(), provider.jwks_uri: provider.jwks()}
    return first, second, documents


def peer_verifies(peer: str, request: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    return run_driver(VERIFIERS[peer], {"op": "verify", **request, "documents": documents})


CASES = [(peer, method) for peer in VERIFIERS for method in ("GET", "POST")]


@pytest.mark.parametrize(("peer", "method"), CASES, ids=[f"{peer}-{method}" for peer, method in CASES])
def test_peer_verifier_accepts_our_clients_nonce_signature(peer: str, method: str) -> None:
    first, second, documents = signed_twice(ENCODING[peer], method, {"q": "report"} if method == "POST" else None)
    first_params, second_params = (signature_params(r["headers"]) for r in (first, second))
    assert not NONCE.search(first_params) and NONCE.search(second_params)  # P8: only the repeat gets one
    assert first_params == NONCE.sub("", second_params)  # the same created and components otherwise
    if method == "POST":  # the body covered, and handed to the peer as sent
        assert '"content-digest"' in second["headers"]["signature-input"]
        assert json.loads(second["body"]) == {"q": "report"}
    verdict = peer_verifies(peer, second, documents)
    assert verdict["verified"], verdict


@pytest.mark.parametrize("peer", list(VERIFIERS))
def test_peer_verifier_refuses_a_changed_nonce(peer: str) -> None:
    """The control: the nonce is in the base each peer verifies (changed after signing: refused)."""
    _, second, documents = signed_twice(ENCODING[peer], "GET")
    headers = dict(second["headers"])
    headers["signature-input"] = NONCE.sub(';nonce="changed-after-signing-0"', headers["signature-input"])
    verdict = peer_verifies(peer, {**second, "headers": headers}, documents)
    assert not verdict["verified"] and verdict["error"] == "invalid_signature", verdict


# ---- live peers: introspection-aauth's person server, aauth 0.5.0's resource ------------------

@pytest.fixture(scope="module")
def world() -> Iterator[LiveWorld]:
    with live_world(aauth_resource=True) as started:
        yield started


def repeated(exchanges: list[Exchange]) -> tuple[Exchange, Exchange]:
    """The two exchanges of one request sent twice in a second: the second carries the nonce."""
    first, second = exchanges
    assert not NONCE.search(signature_params(first.headers)) and NONCE.search(signature_params(second.headers))
    return first, second


def test_introspection_person_server_accepts_our_clients_nonce_signature(world: LiveWorld) -> None:
    client, sent = our_client(world, SigningKey.generate(), clock=one_second())
    endpoint = world.ps_metadata()["person_token_endpoint"]
    with client:
        answers = [client.post(endpoint, json={"resource": RS_ID, "login_hint": "alice"}) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], [said(a) for a in answers]
    assert all(a.json()["person_token"] for a in answers)
    assert endpoint.startswith(f"{PS_ID}/")
    repeated(sent.to(endpoint))


def test_aauth_050_resource_accepts_our_clients_nonce_signature_base64url_bug_5_1_1(world: LiveWorld) -> None:
    client, sent = our_client(world, SigningKey.generate(), clock=one_second(), encoding="base64url")
    with client:
        answers = [client.get(f"{RS_PEER_ID}/whoami") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], [said(a) for a in answers]
    _, second = repeated(sent.to(f"{RS_PEER_ID}/whoami"))
    assert answers[1].json()["jkt"] and "=" not in second.headers["signature"].split(":")[1]
