"""Discovery's explicit versions: ``keys_version``, the key memo and the keyset memo.

A key found once is reused while its documents are fresh and ``keys_version`` has not
moved; ``keys_version`` moves only when a key document's content changes.
"""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from aauth_core.cache import CachedDocument, MemoryKeyCache
from aauth_core.discovery import Discovery
from aauth_core.errors import DiscoveryError
from aauth_core.keys import SigningKey, jwks_document
from aauth_core.settings import AAuthSettings

from .test_discovery import AGENT, AGENT_JWKS, AGENT_META, FakeClock, FakeDNS, Web, make

Agent = tuple[Web, SigningKey]


@pytest.fixture
def agent() -> Agent:
    """The agent's web, publishing its key ``key-1``."""
    key = SigningKey.generate(kid="key-1")
    (web := Web()).party(AGENT, key)
    return web, key


def test_first_fetch_of_each_key_document_moves_the_version(agent: Agent) -> None:
    web, _ = agent
    d = make(web)
    assert d.keys_version == 0
    d.key_for(AGENT, "aauth-agent", "key-1")
    assert d.keys_version == 2  # the metadata and the JWKS were new
    d.key_for(AGENT, "aauth-agent", "key-1")
    assert d.keys_version == 2


def test_a_refetch_of_the_same_content_leaves_the_version_and_the_key(agent: Agent) -> None:
    web, _ = agent
    clock = FakeClock()
    d = make(web, clock=clock)
    key = d.key_for(AGENT, "aauth-agent", "key-1")
    clock.advance(301)  # both documents expired: refetched, unchanged
    assert d.cached_key_for(AGENT, "aauth-agent", "key-1") is None
    assert d.key_for(AGENT, "aauth-agent", "key-1") is key  # the keyset was reused
    assert d.keys_version == 2
    assert web.calls[AGENT_JWKS] == 2
    assert d.cached_key_for(AGENT, "aauth-agent", "key-1") is key


def test_rotation_moves_the_version_and_ends_every_memo(agent: Agent) -> None:
    web, key1 = agent
    d = make(web)
    old = d.key_for(AGENT, "aauth-agent", "key-1")
    before = d.keys_version
    key2 = SigningKey.generate(kid="key-2")
    web.party(AGENT, key2)  # key-1 withdrawn
    assert d.key_for(AGENT, "aauth-agent", "key-2").thumbprint == key2.thumbprint  # forced refetch
    assert d.keys_version == before + 1
    assert d.cached_key_for(AGENT, "aauth-agent", "key-1") is None  # derived from the old JWKS
    with pytest.raises(DiscoveryError, match="no matching key"):
        d.key_for(AGENT, "aauth-agent", "key-1")
    assert old.thumbprint == key1.thumbprint


def test_a_lookup_that_fetched_memoises_under_the_version_it_produced(agent: Agent) -> None:
    web, _ = agent
    d = make(web)
    key = d.key_for(AGENT, "aauth-agent", "key-1")
    assert d.cached_key_for(AGENT, "aauth-agent", "key-1") is key


def test_a_change_made_by_another_lookup_ends_the_memo(agent: Agent) -> None:
    web, key1 = agent
    d = make(web)
    d.key_for(AGENT, "aauth-agent", "key-1")
    web.json("https://agent2.example/keys", jwks_document([key1]))
    d.jwks("https://agent2.example/keys")  # a new document elsewhere
    assert d.cached_key_for(AGENT, "aauth-agent", "key-1") is None
    d.key_for(AGENT, "aauth-agent", "key-1")  # from the cache, no I/O
    assert d.cached_key_for(AGENT, "aauth-agent", "key-1") is not None
    assert web.calls[AGENT_JWKS] == 1


def test_text_documents_and_offline_documents_do_not_move_the_version(agent: Agent) -> None:
    web, key1 = agent
    web.routes["https://agent.example/chain.pem"] = (200, b"-----BEGIN CERTIFICATE-----\n", {})
    d = make(web)
    d.fetch_text("https://agent.example/chain.pem")
    assert d.keys_version == 0
    ident = "http://127.0.0.1:8001"
    offline = make(documents={f"{ident}/.well-known/aauth-agent": {"agent": ident, "jwks_uri": f"{ident}/jwks"},
                              f"{ident}/jwks": jwks_document([key1])})
    offline.key_for(ident, "aauth-agent", "key-1")
    assert offline.keys_version == 0
    assert offline.cached_key_for(ident, "aauth-agent", "key-1") is None  # offline keys are not memoised


def test_keysets_are_reused_for_an_equal_copy_and_renewed_for_a_changed_one(agent: Agent) -> None:
    web, _ = agent

    class Copying(MemoryKeyCache):
        """Hands out a fresh copy on every read, as a shared (Redis) cache does."""

        def get(self, key: str) -> CachedDocument | None:
            doc = super().get(key)
            return None if doc is None else replace(doc, value=dict(doc.value))

    cache = Copying()
    d = Discovery(AAuthSettings(), transport=httpx.MockTransport(web.handler), cache=cache, clock=FakeClock(),
                  resolver=FakeDNS())
    first = d.jwks(AGENT_JWKS)
    assert d.jwks(AGENT_JWKS) == first and d.jwks(AGENT_JWKS)[0] is first[0]
    key2 = SigningKey.generate(kid="key-2")
    entry = cache.get(AGENT_JWKS)
    assert entry is not None
    cache.set(AGENT_JWKS, replace(entry, value=jwks_document([key2])))  # another process refreshed it
    assert [k.kid for k in d.jwks(AGENT_JWKS)] == ["key-2"]
    assert web.calls[AGENT_META] == 0

