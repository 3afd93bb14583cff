"""January's discovery and SSRF attacks re-run under aauth-11 (issue 14): a token's ``iss``
is where the resource fetches ``{iss}/.well-known/{dwk}`` and the JWKS it names, so it is
the -11 SSRF surface.  Person tokens are trusted from any person server unless
``person_servers`` lists them (open point 10), so these rows run with none listed: the
fetch is attempted and the SSRF guard, not the trust list, must stop it.

Nothing leaves the process: the World's network is an in-process ``httpx.MockTransport``
that records every request it is asked for, and its resolver answers the hostile names of
tests/security/conftest.py; ``forbidden`` hosts must never appear in that record
(checks.check_network fails the row otherwise, as it does for any host that resolves to a
private address or any IP literal fetched).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aauth_core.keys import SigningKey

from ..conftest import RESOURCE
from ..profile11.mint import agent_token, auth_claims, mint, person_claims
from .build11 import AUTH_PATH_11, PATH_11, TRUST, ap, publish, res11, sign_at
from .conftest import huge_document, redirect_to, slow_document
from .table import Attack, Ctx, Req

__all__ = ["DISCOVERY_ROWS"]

EVIL_PS = "https://evil-ps.example"
METADATA_IP = "169.254.169.254"
METADATA_HOSTS = (METADATA_IP,)
ANY_PS: Mapping[str, Any] = {"person_servers": ()}


def row(name: str, build: Callable[[Ctx], Req], code: str, description: str, *,
        settings: Mapping[str, Any] | None = None, **kw: Any) -> Attack:
    """An -11 discovery row: person tokens from any person server unless ``settings`` say otherwise."""
    return res11(name, build, code, description, settings={**ANY_PS, **(settings or {})}, **kw)


def _person_from(iss: str, prepare: Callable[[Ctx], None] | None = None) -> Callable[[Ctx], Req]:
    """A person token naming ``iss``, signed by the key a person server there would hold
    (``server(ctx, iss)`` publishes it honestly: the control)."""

    def build(ctx: Ctx) -> Req:
        if prepare is not None:
            prepare(ctx)
        agent, key = SigningKey.generate(), ctx.keys.setdefault((iss, "ps-key-1"), SigningKey.generate(kid="ps-key-1"))
        return sign_at(ctx, PATH_11, agent, mint(key, person_claims(agent, aud=RESOURCE, iss=iss),
                                                 typ="aa-person+jwt"))

    return build


def _evil_metadata(document: Mapping[str, Any]) -> Callable[[Ctx], None]:
    return lambda ctx: publish(ctx, f"{EVIL_PS}/.well-known/aauth-person.json", dict(document))


def _evil_responds(path: str, responder: Any, *, metadata: bool = False) -> Callable[[Ctx], None]:
    def prepare(ctx: Ctx) -> None:
        if metadata:
            _evil_metadata({"issuer": EVIL_PS, "jwks_uri": f"{EVIL_PS}/jwks.json"})(ctx)
        ctx.world.net.respond(f"{EVIL_PS}{path}", responder)

    return prepare


def _agent_from(iss: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        agent = SigningKey.generate()
        return sign_at(ctx, PATH_11, agent, agent_token(ap(ctx), agent, iss=iss))

    return build


def _auth_from(iss: str) -> Callable[[Ctx], Req]:
    def build(ctx: Ctx) -> Req:
        agent, key = SigningKey.generate(), SigningKey.generate(kid="ps-key-1")
        claims = auth_claims(agent, aud=RESOURCE, iss=iss, ps=iss)
        return sign_at(ctx, AUTH_PATH_11, agent, mint(key, claims, typ="aa-auth+jwt"))

    return build


DISCOVERY_ROWS: list[Attack] = [
    # ------------------------------------------------------------------ iss: not a server identifier (never fetched)
    row("aa11_ssrf_iss_ip_literal", _person_from(f"https://{METADATA_IP}"), "invalid_jwt",
        "-11: `iss` the cloud metadata address as an IP literal", forbidden=METADATA_HOSTS),
    row("aa11_ssrf_iss_ipv6_loopback", _person_from("https://[::1]"), "invalid_jwt", "-11: `iss` at [::1]",
        forbidden=("::1", "[::1]")),
    row("aa11_ssrf_iss_loopback_http", _person_from("http://127.0.0.1:8443"), "invalid_jwt",
        "-11: `iss` plain http on loopback (only with `allow_insecure_loopback`, P7)", forbidden=("127.0.0.1",)),
    row("aa11_ssrf_iss_userinfo", _person_from(f"https://ps.example@{METADATA_IP}"), "invalid_jwt",
        "-11: `iss` with userinfo making the host the metadata address", forbidden=METADATA_HOSTS),
    row("aa11_ssrf_iss_path", _person_from("https://ps.example/../admin"), "invalid_jwt",
        "-11: `iss` with a path", forbidden=("ps.example",)),
    row("aa11_ssrf_iss_http", _person_from("http://ps.example"), "invalid_jwt", "-11: `iss` plain http"),
    row("aa11_ssrf_iss_decimal_ip", _person_from("https://2852039166"), "invalid_jwt",
        "-11: `iss` 169.254.169.254 spelled as one decimal number", forbidden=("2852039166", *METADATA_HOSTS)),
    # ------------------------------------------------------------------ iss: a name the SSRF guard refuses
    row("aa11_ssrf_iss_dns_private", _person_from("https://internal.example"), "invalid_key",
        "-11: `iss` a name that resolves to 10.0.0.7", forbidden=("internal.example",)),
    row("aa11_ssrf_iss_dns_metadata", _person_from("https://metadata.google.internal"), "invalid_key",
        "-11: `iss` a name that resolves to 169.254.169.254", forbidden=("metadata.google.internal",)),
    row("aa11_ssrf_iss_dns_mixed_answers", _person_from("https://rebind.example"), "invalid_key",
        "-11: `iss` a name with one public and one loopback address", forbidden=("rebind.example",)),
    row("aa11_ssrf_iss_dns_ipv6_unique_local", _person_from("https://v6-internal.example"), "invalid_key",
        "-11: `iss` a name that resolves to fd00::7", forbidden=("v6-internal.example",)),
    row("aa11_ssrf_agent_iss_dns_private", _agent_from("https://internal.example"), "invalid_key",
        "-11: an agent token whose `iss` resolves to 10.0.0.7", forbidden=("internal.example",)),
    row("aa11_ssrf_auth_iss_unlisted_private", _auth_from("https://internal.example"), "invalid_jwt",
        "-11: an auth token from an unlisted host: refused before any fetch or DNS answer matters",
        settings=TRUST, forbidden=("internal.example",)),
    # ------------------------------------------------------------------ what the issuer's documents point at
    row("aa11_ssrf_jwks_uri_metadata", _person_from(EVIL_PS, _evil_metadata(
        {"issuer": EVIL_PS, "jwks_uri": f"https://{METADATA_IP}/jwks.json"})), "invalid_key",
        "-11: PS metadata whose `jwks_uri` is the metadata address", forbidden=METADATA_HOSTS),
    row("aa11_ssrf_jwks_uri_private_name", _person_from(EVIL_PS, _evil_metadata(
        {"issuer": EVIL_PS, "jwks_uri": "https://internal.example/jwks.json"})), "invalid_key",
        "-11: PS metadata whose `jwks_uri` resolves to 10.0.0.7", forbidden=("internal.example",)),
    row("aa11_ssrf_redirect_metadata", _person_from(EVIL_PS, _evil_responds(
        "/.well-known/aauth-person.json", redirect_to(f"http://{METADATA_IP}/latest/meta-data/"))), "invalid_key",
        "-11: the PS's metadata answering 302 to the metadata address (not followed)", forbidden=METADATA_HOSTS),
    row("aa11_ssrf_redirect_jwks", _person_from(EVIL_PS, _evil_responds(
        "/jwks.json", redirect_to("https://10.0.0.1/jwks.json", 301), metadata=True)), "invalid_key",
        "-11: the PS's JWKS answering 301 to a private address (not followed)", forbidden=("10.0.0.1",)),
    row("aa11_slow_document", _person_from(EVIL_PS, _evil_responds("/.well-known/aauth-person.json",
                                                                   slow_document())), "invalid_key",
        "-11: PS metadata trickling in for 10 s; refused once `discovery_timeout` (0.3 s) passes",
        settings={"discovery_timeout": 0.3}, max_seconds=3.0),
    row("aa11_oversized_document_declared", _person_from(EVIL_PS, _evil_responds(
        "/.well-known/aauth-person.json", huge_document(1024 * 1024, declared=True))), "invalid_key",
        "-11: a 1 MiB PS metadata document with Content-Length"),
    row("aa11_oversized_document_streamed", _person_from(EVIL_PS, _evil_responds(
        "/.well-known/aauth-person.json", huge_document(1024 * 1024, declared=False))), "invalid_key",
        "-11: a 1 MiB PS metadata document streamed without Content-Length"),
]
