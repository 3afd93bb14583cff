"""Our side of the live aauth-11 rows, and the world that starts every party on 127.0.0.1.

Our side of the raw rows (``test_peers_ps_11.py``, ``test_peers_resource_11.py``), which
send tokens minted on purpose (forged, tenant-less, for another key) that a real client never
would; the same flows with our real -11 client and resource are ``ours11.py``'s, served here
through ``live_world(ours=...)``:

* our agent provider is :class:`aauth_core.client.agent_provider.AgentProvider`: its
  ``asgi_app()`` serves ``https://ap.example/.well-known/aauth-agent.json`` and its JWKS (keys
  with ``alg``), and ``issue_agent_token`` mints the ``aa-agent+jwt``.
* :class:`OurResource` publishes ``https://rs.example``'s ``aauth-resource.json`` and JWKS and
  mints ``aa-resource+jwt`` with ``mint_resource_token_11``.
* :class:`RawSigner` is our raw -11 signer: ``SignatureKey.build("jwt", ..., fmt="sk")`` and
  ``sign_request(..., encoding="base64")`` (``@method @authority @path signature-key``, plus
  ``content-type content-digest`` on a body), sent through the loopback table.

A raw row talks to the peers through :class:`Agent`, whose ``send`` is any :class:`SendSigned`.
"""

from __future__ import annotations

import json as jsonlib
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from aauth_core.client.agent_provider import AgentProvider
from aauth_core.keys import PublicKey, SigningKey, jwks_document
from aauth_core.tokens.jws import verify_signature
from aauth_core.tokens.mint_11 import jose_alg, mint_resource_token_11
from aauth_core.tokens.parse import peek
from aauth_core.wire.httpsig import sign_request
from aauth_core.wire.signature_key import SignatureKey

from .peer_servers import DocumentServer, LoopbackNet, peer_server, recorded, serve_ours

AP_ID, RS_ID = "https://ap.example", "https://rs.example"  # ours
PS_ID, AS_ID = "https://ps.example", "https://as.example"  # introspection-aauth 0.1.0
RS_PEER_ID = "https://rs-peer.example"  # aauth 0.5.0's resource
AGENT_SUB = "aauth:assistant@ap.example"  # agent_token()'s agent
Encoding = Literal["base64", "base64url"]
TENANT, PEOPLE, SCOPE = "acme", ("alice", "bob"), "data.read"
MAX_POLLS = 20


def jwks_11(*keys: SigningKey) -> dict[str, Any]:
    """A JWKS as -11 publishes it: every key names its JOSE ``alg`` (§11.3.1)."""
    jwks = jwks_document(keys)
    for jwk, key in zip(jwks["keys"], keys, strict=True):
        jwk["alg"] = jose_alg(key)
    return jwks


def agent_provider(issuer: str = AP_ID) -> AgentProvider:
    """An agent provider with a fresh key (``kid`` ``ap-key-1``)."""
    return AgentProvider(issuer, [SigningKey.generate(kid="ap-key-1")])


def agent_token(ap: AgentProvider, agent: SigningKey, *, ps: str | None = PS_ID) -> str:
    """``ap``'s ``aa-agent+jwt`` for ``assistant``, holding ``agent``'s key."""
    return ap.issue_agent_token("assistant", agent.public_jwk(), ps=ps)


class OurResource:
    """``https://rs.example``: its documents, and the resource tokens it mints."""

    def __init__(self) -> None:
        self.id, self.key = RS_ID, SigningKey.generate(kid="rs-key-1")

    def publish(self, docs: DocumentServer) -> None:
        docs.publish(f"{self.id}/.well-known/aauth-resource.json",
                     {"issuer": self.id, "jwks_uri": f"{self.id}/.well-known/jwks.json", "access_mode": ["auth-token"],
                      "scope_descriptions": {SCOPE: "Read your documents"}})
        docs.publish(f"{self.id}/.well-known/jwks.json", jwks_11(self.key))

    def resource_token(self, person: Mapping[str, Any], agent: SigningKey, *, aud: str = PS_ID,
                       copy: tuple[str, ...] = ("tenant", "mission_s256"), signer: SigningKey | None = None) -> str:
        """For the verified person token ``person`` (§6.7.1): ``ps``, ``sub`` and ``presented_jti``
        from it, ``agent_jkt`` the request key, and the claims in ``copy`` copied (§5.1 bug 3)."""
        return mint_resource_token_11(signer or self.key, iss=self.id, aud=aud, ps=person["iss"], sub=person["sub"],
                                      presented_jti=person["jti"], agent_jkt=agent.thumbprint, now=time.time(),
                                      scope=SCOPE, tenant=person.get("tenant") if "tenant" in copy else None,
                                      mission_s256=person.get("mission_s256") if "mission_s256" in copy else None)


class SendSigned(Protocol):
    """Signs one request as the agent, presenting ``token``, and sends it on the loopback table."""

    def __call__(self, method: str, url: str, *, token: str, json: Any = None,
                 headers: Mapping[str, str] | None = None) -> httpx.Response: ...


class RawSigner:
    """Our raw -11 signer.  ``encoding="base64url"`` renders the same signature bytes unpadded
    base64url, for aauth-signing's reader only (§5.1 bug 1)."""

    def __init__(self, client: httpx.Client, key: SigningKey, *, encoding: Encoding = "base64",
                 tamper: bool = False) -> None:
        self.client, self.key, self.encoding, self.tamper = client, key, encoding, tamper

    def __call__(self, method: str, url: str, *, token: str, json: Any = None,
                 headers: Mapping[str, str] | None = None) -> httpx.Response:
        body = jsonlib.dumps(json).encode() if json is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        signature_key = SignatureKey.build("jwt", {"jwt": token}, label="sig", fmt="sk")
        signed = sign_request(method, url, sent, body, key=self.key, signature_key=signature_key,
                              created=int(time.time()), encoding=self.encoding)
        sent.update(signed.headers)
        if self.tamper:  # one byte of the signature changed: every verifier must refuse it
            label, value = sent["Signature"].split("=", 1)
            sent["Signature"] = f"{label}={value[:5]}{'B' if value[5] == 'A' else 'A'}{value[6:]}"
        return self.client.request(method, url, headers=sent, content=body)


@dataclass
class Agent:
    """An agent key, its agent token, and how its requests are signed and sent."""

    key: SigningKey
    agent_token: str
    send: SendSigned

    def __call__(self, method: str, url: str, *, token: str | None = None, json: Any = None,
                 headers: Mapping[str, str] | None = None) -> httpx.Response:
        return self.send(method, url, token=token or self.agent_token, json=json, headers=headers)

    def follow_pending(self, response: httpx.Response, *, token: str | None = None) -> httpx.Response:
        """-11 §11.8: while 202, wait ``Retry-After`` and poll ``Location`` with a signed GET."""
        for _ in range(MAX_POLLS):
            if response.status_code != 202:
                return response
            assert response.headers["Cache-Control"] == "no-store"
            time.sleep(min(int(response.headers.get("Retry-After", "1")), 5))
            response = self("GET", response.headers["Location"], token=token)
        raise AssertionError(f"still pending after {MAX_POLLS} polls")


def said(response: httpx.Response) -> str:
    """What a failed assertion may show of a response: its status and, for a refusal, its error
    code and detail; never a body that could carry a token."""
    if response.status_code < 400 or "json" not in response.headers.get("Content-Type", ""):
        return f"{response.status_code} ({len(response.content)} bytes)"
    body = response.json()
    return f"{response.status_code} {body.get('error')}: {body.get('detail')}"


def issuer_keys(client: httpx.Client, issuer: str, dwk: str) -> dict[str, PublicKey]:
    """``{issuer}/.well-known/{dwk}`` (its ``issuer`` checked), then its JWKS: the keys by ``kid``."""
    metadata = client.get(f"{issuer}/.well-known/{dwk}").json()
    assert metadata["issuer"] == issuer and metadata["jwks_uri"].startswith("https://")
    jwks = client.get(metadata["jwks_uri"]).json()
    return {jwk["kid"]: PublicKey.from_jwk(jwk) for jwk in jwks["keys"]}


def verified_claims(token: str, typ: str, keys: Mapping[str, PublicKey]) -> dict[str, Any]:
    """The claims of ``token``, its JWS checked with its issuer's key by ``kid`` under the
    fully specified ``alg`` (-11 §11.3.1) and its ``typ`` the one expected."""
    unverified = peek(token)
    assert unverified.header["typ"] == typ, unverified.header
    assert unverified.header["alg"] in ("Ed25519", "ES256"), unverified.header
    verify_signature(token, unverified.header["alg"], keys[unverified.header["kid"]])
    return dict(unverified.claims)


@dataclass
class LiveWorld:
    """Every party of the live rows, started on 127.0.0.1."""

    net: LoopbackNet
    client: httpx.Client
    docs: DocumentServer
    ap: AgentProvider
    rs: OurResource

    def agent(self, *, encoding: Encoding = "base64", ps: str | None = PS_ID) -> Agent:
        key = SigningKey.generate()
        return Agent(key, agent_token(self.ap, key, ps=ps), RawSigner(self.client, key, encoding=encoding))

    def ps_metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = self.client.get(f"{PS_ID}/.well-known/aauth-person.json").json()
        return metadata


#: One of our servers (``ours11.OurResource11.serve``: our real resource in an adapter): serves
#: on its socket from the host table, recording each URL fetched in the list, for the ``with``.
OurServer = Callable[[LoopbackNet, socket.socket, list[str]], AbstractContextManager[Any]]


@contextmanager
def live_world(*, aauth_resource: bool = False, ours: Mapping[str, OurServer] | None = None) -> Iterator[LiveWorld]:
    """Our agent provider (ap.example), our resource's documents (rs.example), introspection-aauth's
    person and access servers (ps.example, as.example) and, with ``aauth_resource``, aauth's
    resource (rs-peer.example).  ``ours``: more of our servers by identifier (our real resource in
    an adapter), each on its own socket; the access server decides for them too.  Every socket is
    bound before anything starts, so each party's host table names all the others.
    ``docs.fetched`` records what was fetched from ours."""
    net, docs, ap, rs = LoopbackNet(), DocumentServer(), agent_provider(), OurResource()
    rs.publish(docs)
    ours = dict(ours or {})
    with ExitStack() as stack:
        sockets = [net.listen(AP_ID), net.listen(RS_ID), net.listen(PS_ID, AS_ID)]
        if aauth_resource:
            sockets.append(net.listen(RS_PEER_ID))
        our_sockets = [net.listen(identifier) for identifier in ours]
        for sock in [*sockets, *our_sockets]:
            stack.callback(sock.close)  # each server closes its own; these cover a failed start
        stack.enter_context(serve_ours(recorded(ap.asgi_app(), docs.fetched), sockets[0]))
        stack.enter_context(serve_ours(docs, sockets[1]))
        for serve, sock in zip(ours.values(), our_sockets, strict=True):
            stack.enter_context(serve(net, sock, docs.fetched))
        stack.enter_context(peer_server("ps_server.py", net, sockets[2], {
            "ps": PS_ID, "as": AS_ID, "agent_providers": [AP_ID], "resources": [RS_ID, *ours],
            "people": list(PEOPLE), "tenant": TENANT, "retry_after": 1}))
        if aauth_resource:
            stack.enter_context(peer_server("rs_server.py", net, sockets[3], {
                "resource": RS_PEER_ID, "person_servers": [PS_ID], "scope": SCOPE}))
        client = stack.enter_context(net.client())
        yield LiveWorld(net, client, docs, ap, rs)
