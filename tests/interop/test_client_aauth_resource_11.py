"""Issue 14, row 2 with OUR -11 client: our agent → aauth 0.5.0's resource (docs/interop.md, "Our
client and our resource").

aauth 0.5.0's ``RequestVerifier`` and ``ChallengeBuilder`` serve ``https://rs-peer.example`` on
127.0.0.1 (``peers/rs_server.py``).  Our agent is :func:`agent_auth_11` on an httpx client over
the loopback table (``ours11.our_client``), its agent token from our :class:`AgentProvider`.

aauth 0.5.0 reads only unpadded base64url ``Signature`` values (protocol-current §5.1 bug 1), so
for this peer our client is built with ``SignerOptions.aauth_11(signature_encoding="base64url")``,
the compatibility switch named in every test here; with the -11 default (standard base64) the
peer refuses it.  In the three-implementation flow our agent also talks to introspection-aauth's
person server, which reads only standard base64, so there the switch is narrowed to aauth's
resource (``SignerOptions.aauth_11(base64url_origins=...)``): our client signs base64url for
that origin alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.wire.requirement import parse_requirement

from .live11 import (
    AGENT_SUB,
    AP_ID,
    PS_ID,
    RS_PEER_ID,
    SCOPE,
    TENANT,
    LiveWorld,
    issuer_keys,
    live_world,
    said,
    verified_claims,
)
from .ours11 import our_client, presented, propose_mission

WHOAMI, DATA = f"{RS_PEER_ID}/whoami", f"{RS_PEER_ID}/data"
RS_PEER_HOST = RS_PEER_ID.removeprefix("https://")


@pytest.fixture(scope="module")
def world() -> Iterator[LiveWorld]:
    with live_world(aauth_resource=True) as started:
        yield started


def test_our_client_to_aauth_050_resource_200_signature_encoding_base64url_bug_5_1_1(world: LiveWorld) -> None:
    key = SigningKey.generate()
    client, sent = our_client(world, key, encoding="base64url")
    with client:
        answer = client.get(WHOAMI)
        posted = client.post(WHOAMI, json={"q": "quarterly report"})  # the body covered (content-digest)
    assert answer.status_code == 200, said(answer)
    assert answer.json() == {"agent": AGENT_SUB, "agent_provider": AP_ID, "ps": PS_ID, "jkt": key.thumbprint,
                             "token_type": "aa-agent+jwt"}
    assert posted.status_code == 200 and posted.json()["agent"] == AGENT_SUB, said(posted)
    get, post = sent.exchanges
    assert "=" not in get.headers["signature"].split(":")[1]  # what the switch emits
    assert '"content-digest"' in post.headers["signature-input"]
    assert {f"{AP_ID}/.well-known/aauth-agent.json", f"{AP_ID}/.well-known/jwks.json"} <= set(world.docs.fetched)


def test_aauth_050_resource_refuses_our_client_default_standard_base64_bug_5_1_1(world: LiveWorld) -> None:
    """What -11 (an RFC 9651 Byte Sequence) requires and every other peer reads: refused, and
    our client raises the peer's ``Signature-Error`` code without retrying."""
    client, sent = our_client(world, SigningKey.generate())
    with client, pytest.raises(AAuthError) as refused:
        client.get(WHOAMI)
    assert (refused.value.code, refused.value.status_code) == ("invalid_signature", 401)
    assert [(e.status, e.answer["signature-error"]) for e in sent.exchanges] == [(401, "error=invalid_signature")]


def test_three_implementations_our_client_aauth_050_resource_introspection_ps_200_base64url_to_aauth_bug_5_1_1(
        world: LiveWorld) -> None:
    """Our client, aauth's resource, introspection-aauth's person server: ``person-token`` → a
    person token (within a mission, §5.1 bug 3) → aauth's ``auth-token`` challenge with the
    resource token aauth mints → the person server's auth token → 200 at aauth's resource."""
    key = SigningKey.generate()
    approved = propose_mission(world, key, [RS_PEER_ID])
    client, sent = our_client(world, key, mission_s256=approved["s256"], base64url_hosts=[RS_PEER_HOST])
    with client:
        answer = client.get(DATA)
    assert answer.status_code == 200, said(answer)
    to_data = sent.to(DATA)
    assert [presented(e) for e in to_data] == ["aa-agent+jwt", "aa-person+jwt", "aa-auth+jwt"]
    challenge = parse_requirement(to_data[1].answer["aauth-requirement"])
    assert challenge.requirement == "auth-token" and challenge.resource_token
    rt = verified_claims(challenge.resource_token, "aa-resource+jwt",
                         issuer_keys(world.client, RS_PEER_ID, "aauth-resource.json"))
    assert (rt["iss"], rt["aud"], rt["ps"], rt["agent_jkt"]) == (RS_PEER_ID, PS_ID, PS_ID, key.thumbprint)
    assert (rt["tenant"], rt["mission_s256"], rt["scope"]) == (TENANT, approved["s256"], SCOPE)
    assert answer.json() == {"sub": rt["sub"], "ps": PS_ID, "scope": [SCOPE]}
    to_ps = [e for e in sent.exchanges if e.url.startswith(f"{PS_ID}/aauth/")]
    assert [e.status for e in to_ps] == [200, 200]
    # our client emitted unpadded base64url to aauth's resource alone, standard padded base64 (64
    # Ed25519 bytes: 88 characters, "==") everywhere else, the person server included:
    signed = [e for e in sent.exchanges if "signature" in e.headers]
    to_peer = [e for e in signed if e.url.startswith(RS_PEER_ID)]
    assert to_peer and all(not e.headers["signature"].endswith("=:") for e in to_peer)
    assert all(e.headers["signature"].endswith("==:") for e in signed if not e.url.startswith(RS_PEER_ID))
