"""Issue 14, the live row "aauth 0.5.0's agent → our resource → 200" (docs/interop.md).

aauth 0.5.0 (under ``.interop/py``) mints an ``aa-agent+jwt`` as its agent provider and signs a
request with ``AgentRequestSigner``; our :class:`AAuthService`, dual-stack, verifies it in full:
the request classified as aauth-11, the AP's ``aauth-agent.json`` and JWKS found through
:class:`Discovery` over an in-process transport (no network), the token validated, the RFC 9421
signature checked.  The peer's deviations are named in test names, never absorbed: its
``Signature`` is unpadded base64url (protocol-current §5.1 bug 1), which -11 open point 2 lets us
read; its ``created`` and token times come from its own clock, so ours is the real clock too.
"""

from __future__ import annotations

import json

import httpx

from aauth_core.context import Requirement
from aauth_core.discovery import Discovery
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.request import RequestView
from aauth_core.resource.service import AAuthService
from aauth_core.settings import AAuthSettings

from .peer_runner import run_driver

RESOURCE = "https://resource.example"
AP_ID = "https://agent.example"
SUB = "aauth:assistant@agent.example"


def _ap_documents(ap: SigningKey) -> dict[str, object]:
    jwks = jwks_document([ap])
    for jwk in jwks["keys"]:
        jwk["alg"] = "Ed25519"
    return {f"{AP_ID}/.well-known/aauth-agent.json": {"issuer": AP_ID, "jwks_uri": f"{AP_ID}/jwks.json"},
            f"{AP_ID}/jwks.json": jwks}


def _service(ap: SigningKey) -> tuple[AAuthService, list[str]]:
    documents, fetched = _ap_documents(ap), []

    def serve(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        doc = documents.get(str(request.url))
        return httpx.Response(404) if doc is None else httpx.Response(200, json=doc)

    async def aserve(request: httpx.Request) -> httpx.Response:
        return serve(request)

    settings = AAuthSettings(resource_id=RESOURCE, profiles=("aauth-2026-01", "aauth-11"))
    discovery = Discovery(settings, transport=httpx.MockTransport(serve), async_transport=httpx.MockTransport(aserve),
                          resolver=lambda host: ["93.184.216.34"])
    return AAuthService(settings, keys=[SigningKey.generate(kid="rs-1")], discovery=discovery), fetched


def _peer_signs(ap: SigningKey, agent: SigningKey, method: str, url: str, body: str | None = None,
                headers: dict[str, str] | None = None) -> dict[str, str]:
    answer = run_driver("aauth_agent.py", {"method": method, "url": url, "headers": headers or {}, "body": body,
                                           "ap_key": ap.private_jwk(), "agent_key": agent.private_jwk(),
                                           "iss": AP_ID, "sub": SUB})
    return dict(answer["headers"])


def test_aauth_050_agent_to_our_resource_200_with_unpadded_base64url_signature() -> None:
    ap, agent = SigningKey.generate(kid="ap-key-1"), SigningKey.generate()
    url = RESOURCE + "/api/documents"
    headers = _peer_signs(ap, agent, "GET", url)
    assert headers["Signature-Key"].startswith("sig=jwt;")
    assert "=" not in headers["Signature"].split(":")[1]  # the peer's unpadded base64url (bug 1)
    service, fetched = _service(ap)
    verified = service.require(service.verify(RequestView.from_url("GET", url, headers)), Requirement("identity"))
    assert (verified.profile, verified.agent, verified.agent_provider) == ("aauth-11", SUB, AP_ID)
    assert verified.key_thumbprint == agent.thumbprint
    assert fetched == [f"{AP_ID}/.well-known/aauth-agent.json", f"{AP_ID}/jwks.json"]


def test_aauth_050_agent_tampered_request_refused_with_signature_error() -> None:
    ap, agent = SigningKey.generate(kid="ap-key-1"), SigningKey.generate()
    headers = _peer_signs(ap, agent, "GET", RESOURCE + "/api/documents")
    service, _ = _service(ap)
    try:
        service.verify(RequestView.from_url("GET", RESOURCE + "/api/other", headers))
    except AAuthError as exc:
        reply = service.error_response(exc)
    else:
        raise AssertionError("a request signed for another path verified")
    assert reply.status == 401 and reply.headers["Signature-Error"] == "error=invalid_signature"
    assert json.loads(reply.body)["error"] == "invalid_signature"


def test_aauth_050_agent_post_to_a_resource_covers_no_body_refused_invalid_input() -> None:
    """aauth 0.5.0 covers the body only for a PS, AS or revocation endpoint (§5.1 bug 4, as -11
    §11.3.3.1 reads); this resource requires the body set on every body (our policy, decision P5)."""
    ap, agent = SigningKey.generate(kid="ap-key-1"), SigningKey.generate()
    url = RESOURCE + "/api/documents"
    headers = _peer_signs(ap, agent, "POST", url, body='{"a":1}', headers={"Content-Type": "application/json"})
    service, _ = _service(ap)
    try:
        service.verify(RequestView.from_url("POST", url, headers, b'{"a":1}'))
    except AAuthError as exc:
        reply = service.error_response(exc)
    else:
        raise AssertionError("a body outside the signature verified")
    assert reply.status == 401 and reply.headers["Signature-Error"].startswith("error=invalid_input")
    assert "content-digest" in reply.headers["Signature-Error"]
