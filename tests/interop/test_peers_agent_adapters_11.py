"""Issue 14, row 3 in every adapter: aauth 0.5.0's agent → our resource → 200 (docs/interop.md).

aauth 0.5.0 (under ``.interop/py``, driver ``peers/aauth_agent.py``) mints an ``aa-agent+jwt``
as its agent provider and signs the request with ``AgentRequestSigner``.  Our resource is the
same dual-stack app the live rows serve (``ours11.OurResource11``): ``AAuthMiddleware`` and
``@aauth_required`` in Starlette, the ``AAuth`` extension in Flask, ``settings.AAUTH`` and the
middleware in Django (its ``WSGIHandler``), reached in-process through Starlette's ``TestClient``
or httpx's WSGI transport.  Discovery of the peer's agent provider is answered in-process from
the documents made here.  ``test_peers_agent_11.py`` is the same row against
:class:`AAuthService` directly.

The peer's deviations are named, never absorbed: its ``Signature`` is unpadded base64url
(protocol-current §5.1 bug 1), which -11 open point 2 lets us read; it covers a body only for
person, access and revocation endpoints (§5.1 bug 4), which our resource refuses (decision P5).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from aauth_core.discovery import Discovery
from aauth_core.keys import SigningKey
from aauth_core.settings import AAuthSettings
from aauth_core.wire.signature import format_signature, parse_signature

from .live11 import jwks_11
from .ours11 import Adapter, OurResource11, public
from .peer_runner import run_driver

RESOURCE = "https://resource.example"
AP_ID = "https://agent.example"
SUB = "aauth:assistant@agent.example"
ADAPTERS: list[Adapter] = ["starlette", "flask", "django"]
#: How a test reaches our resource in-process: Starlette's ``TestClient``, or httpx over WSGI.
Caller = TestClient | httpx.Client


class PeerAgentProvider:
    """aauth 0.5.0's agent provider: our key, its documents served in-process to our discovery."""

    def __init__(self) -> None:
        self.key = SigningKey.generate(kid="ap-key-1")
        self.fetched: list[str] = []
        self.documents = {f"{AP_ID}/.well-known/aauth-agent.json": {"issuer": AP_ID, "jwks_uri": f"{AP_ID}/jwks.json"},
                          f"{AP_ID}/jwks.json": jwks_11(self.key)}

    def _serve(self, request: httpx.Request) -> httpx.Response:
        self.fetched.append(str(request.url))
        document = self.documents.get(str(request.url))
        return httpx.Response(404) if document is None else httpx.Response(200, json=document)

    async def _aserve(self, request: httpx.Request) -> httpx.Response:
        return self._serve(request)

    def discovery(self, settings: AAuthSettings) -> Discovery:
        return Discovery(settings, transport=httpx.MockTransport(self._serve),
                         async_transport=httpx.MockTransport(self._aserve), resolver=public)

    def signs(self, agent: SigningKey, method: str, path: str, body: str | None = None,
              headers: dict[str, str] | None = None) -> dict[str, str]:
        """aauth 0.5.0 signs ``method {RESOURCE}{path}`` as ``SUB``: every header it would send."""
        answer = run_driver("aauth_agent.py", {"method": method, "url": RESOURCE + path, "headers": headers or {},
                                               "body": body, "ap_key": self.key.private_jwk(),
                                               "agent_key": agent.private_jwk(), "iss": AP_ID, "sub": SUB})
        return dict(answer["headers"])


@pytest.fixture
def provider() -> PeerAgentProvider:
    return PeerAgentProvider()


@pytest.fixture(params=ADAPTERS)
def ours(request: pytest.FixtureRequest, provider: PeerAgentProvider) -> Iterator[Caller]:
    """Our resource in one adapter, in-process at ``RESOURCE``: Starlette's ``TestClient``, or
    httpx's WSGI transport for Flask's app and Django's ``WSGIHandler``."""
    resource = OurResource11(RESOURCE, request.param)
    with resource.app(provider.discovery) as app:
        if resource.wsgi:
            with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=RESOURCE) as client:
                yield client
        else:
            yield TestClient(app, base_url=RESOURCE, raise_server_exceptions=False)


def test_aauth_050_agent_to_our_resource_200_in_each_adapter(provider: PeerAgentProvider, ours: Caller) -> None:
    agent = SigningKey.generate()
    headers = provider.signs(agent, "GET", "/whoami")
    assert headers["Signature-Key"].startswith("sig=jwt;")
    assert "=" not in headers["Signature"].split(":")[1]  # the peer's unpadded base64url (bug 1)
    answer = ours.get("/whoami", headers=headers)
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert (seen["profile"], seen["token_type"], seen["agent"]) == ("aauth-11", "aa-agent+jwt", SUB)
    assert (seen["agent_provider"], seen["key"], seen["person"]) == (AP_ID, agent.thumbprint, None)
    assert provider.fetched == [f"{AP_ID}/.well-known/aauth-agent.json", f"{AP_ID}/jwks.json"]


def test_aauth_050_agent_tampered_signature_refused_in_each_adapter(provider: PeerAgentProvider,
                                                                   ours: Caller) -> None:
    headers = provider.signs(SigningKey.generate(), "GET", "/whoami")
    label, signature = parse_signature(headers["Signature"])
    tampered = {**headers, "Signature": format_signature(label, bytes([signature[0] ^ 1]) + signature[1:])}
    answer = ours.get("/whoami", headers=tampered)
    assert answer.status_code == 401 and answer.headers["Signature-Error"] == "error=invalid_signature"
    assert answer.json()["error"] == "invalid_signature" and "profile" not in answer.json()  # the route never ran


def test_aauth_050_agent_post_without_body_coverage_refused_invalid_input_in_each_adapter_bug_5_1_4(
        provider: PeerAgentProvider, ours: Caller) -> None:
    """aauth 0.5.0 covers no body at a resource (§5.1 bug 4); ours requires the body set on every
    body (decision P5) and says what to cover."""
    body = json.dumps({"q": "quarterly report"})
    headers = provider.signs(SigningKey.generate(), "POST", "/whoami", body, {"Content-Type": "application/json"})
    answer = ours.post("/whoami", headers=headers, content=body.encode())
    assert answer.status_code == 401 and answer.headers["Signature-Error"].startswith("error=invalid_input")
    assert "content-digest" in answer.headers["Signature-Error"] and "profile" not in answer.json()
