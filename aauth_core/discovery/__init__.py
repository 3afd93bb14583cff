"""Metadata and JWKS discovery: fetching, caching, single-flight refresh, SSRF guard.

Every key the verifier trusts comes from a document fetched here, from a URL an
unauthenticated peer named, so the rules are strict:

* every URL passes :func:`check_url` before a packet is sent (https to public
  addresses only; loopback only behind ``allow_insecure_loopback``);
* key-discovery URLs carry no query, fragment or userinfo, so a peer cannot
  make us GET arbitrary endpoints; a host whose fetches fail is asked a few
  times a minute (``discovery_failed_host_budget``), not once per request;
* redirects are never followed, bodies are capped at ``discovery_max_bytes``;
* every value read from a response (``Cache-Control``, ``Content-Length``, the
  JSON body and its nesting) is read strictly: odd values fall back to
  defaults or fail as a ``DiscoveryError``, never as a stray exception;
* a metadata document must name the identifier it was fetched for (protocol A8);
* keys are looked up per identifier / ``jwks_uri``, never by ``kid`` alone, since
  ``kid``s collide across parties.

The sync and async methods share all logic: each lookup is one flow on the
project's sans-I/O driver (:mod:`aauth_core.effects`), run blocking or awaited.

Modules, one concern each: :mod:`.ssrf` (the URL guard), :mod:`.fetch` (DNS and
HTTP, the only I/O), :mod:`.documents` (decoding, validation, freshness),
:mod:`.budget` (fetch rate limits), :mod:`.locks` (single flight), :mod:`.store`
(one document: cache, refresh, stale fallback, ``keys_version``) and
:mod:`.client` (:class:`Discovery`: metadata, JWKS and key lookups).
"""

from .client import Discovery
from .ssrf import Resolver, check_url, same_origin, system_resolver

__all__ = ["Discovery", "Resolver", "check_url", "same_origin", "system_resolver"]
