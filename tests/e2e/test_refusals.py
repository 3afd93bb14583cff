"""Every refusal over the wire: a hostile request, built with the real signer, sent to a real server.

Each test asserts the HTTP status, the JSON ``error`` code (protocol B §9.2 at the
token endpoint) and that nothing was handed out.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aauth_core import dialect
from aauth_core.client import RequestSigner, encode_form
from aauth_core.headers import parse_agent_auth
from aauth_core.keys import SigningKey

from .conftest import (
    AgentParty,
    AuthServerParty,
    Parties,
    ResourceParty,
    consent_over_http,
    error_of,
    form_url,
)

pytestmark = pytest.mark.e2e


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert error_of(response) == (status, code), response.text
    assert "auth_token" not in response.text and "refresh_token" not in response.text
    assert response.headers.get("cache-control") == "no-store"


def _exchange(parties: Parties, intermediary: ResourceParty, upstream_token: str, auth_server: AuthServerParty,
              resource_token: str) -> httpx.Response:
    """The intermediary's exchange request: its own key, presenting the upstream token (A7)."""
    signer = intermediary.signer().with_token(upstream_token)
    return parties.token_request(signer, auth_server, [("request_type", "exchange"),
                                                       ("resource_token", resource_token)])


def _code(parties: Parties, agent: AgentParty, auth_server: AuthServerParty, resource: ResourceParty,
          redirect_uri: str | None = None) -> str:
    """A fresh authorization code: auth request, the user approves on the real consent pages."""
    redirect_uri = redirect_uri or agent.redirect_uri
    rt = parties.resource_token(agent.signer(), f"{resource.url}/data-auth")
    started = parties.token_request(agent.signer(), auth_server, [
        ("request_type", "auth"), ("resource_token", rt), ("redirect_uri", redirect_uri)])
    assert started.status_code == 200 and "auth_token" not in started.json(), started.text
    location = consent_over_http(form_url(f"{auth_server.url}/agent/auth",
                                          request_token=started.json()["request_token"], redirect_uri=redirect_uri))
    assert location.startswith(f"{redirect_uri}?")
    return parse_qs(urlsplit(location).query)["code"][0]


def _redeem(parties: Parties, agent: AgentParty, auth_server: AuthServerParty, code: str,
            redirect_uri: str) -> httpx.Response:
    return parties.token_request(agent.signer(), auth_server, [
        ("request_type", "code"), ("code", code), ("redirect_uri", redirect_uri)])


# ----------------------------------------------------------------------------- token exchange


def test_untrusted_upstream_issuer(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.auth_server()
    elsewhere = parties.auth_server()
    as2 = parties.auth_server(trust=[elsewhere.url])  # trusts an upstream, but not AS1
    r2 = parties.resource(as2)
    r1 = parties.resource(as1, downstream=f"{r2.url}/data-auth")
    upstream = parties.auth_token(agent, as1, f"{r1.url}/data-auth")
    rt = parties.resource_token(r1.signer(), f"{r2.url}/data-auth")
    _refused(_exchange(parties, r1, upstream, as2, rt), 401, "invalid_token")
    # the same refusal through the real intermediary: its exchange fails, the agent gets no data
    with parties.client(agent.signer()) as client:
        through = client.get(f"{r1.url}/aggregate")
    assert error_of(through) == (502, "invalid_token"), through.text
    assert as2.counter.calls == [("exchange", 401), ("exchange", 401)]


def test_upstream_audience_is_not_the_intermediary(parties: Parties) -> None:
    agent, as1, as2, r1, r2 = parties.exchange_chain()
    other = parties.resource(as1)
    meant_for_other = parties.auth_token(agent, as1, f"{other.url}/data-auth")  # aud = other, not R1
    rt = parties.resource_token(r1.signer(), f"{r2.url}/data-auth")
    _refused(_exchange(parties, r1, meant_for_other, as2, rt), 401, "invalid_token")
    # control: the same request with R1's own upstream token is granted
    own = parties.auth_token(agent, as1, f"{r1.url}/data-auth")
    assert _exchange(parties, r1, own, as2, rt).status_code == 200
    assert as2.counter.calls == [("exchange", 401), ("exchange", 200)]


def test_replayed_exchange_request(parties: Parties) -> None:
    agent, as1, as2, r1, r2 = parties.exchange_chain()
    upstream = parties.auth_token(agent, as1, f"{r1.url}/data-auth")
    rt = parties.resource_token(r1.signer(), f"{r2.url}/data-auth")
    body = encode_form([("request_type", "exchange"), ("resource_token", rt)])
    headers, content = parties.signed(r1.signer().with_token(upstream), "POST", as2.token_endpoint, body=body,
                                      headers={"Content-Type": dialect.FORM_CONTENT_TYPE})
    with httpx.Client(trust_env=False) as http:
        first = http.post(as2.token_endpoint, headers=headers, content=content)
        replayed = http.post(as2.token_endpoint, headers=headers, content=content)  # captured and resent
    assert first.status_code == 200 and "auth_token" in first.json(), first.text
    _refused(replayed, 401, "invalid_signature")
    assert as2.counter.calls == [("exchange", 200), ("exchange", 401)]


def test_agent_token_presented_as_the_upstream_auth_token(parties: Parties) -> None:
    """An exchange needs the upstream *auth* token; an agent token (even one for R1's own key) is refused."""
    as1 = parties.auth_server()
    as2 = parties.auth_server(trust=[as1.url])
    r2 = parties.resource(as2)
    r1 = parties.resource(as1)
    agent_server = parties.agent()
    agent_token = agent_server.server.issue_agent_token("delegate-1", r1.key.public_jwk())
    rt = parties.resource_token(r1.signer(), f"{r2.url}/data-auth")
    _refused(_exchange(parties, r1, agent_token, as2, rt), 401, "invalid_token")


def test_exchange_must_present_a_token(parties: Parties) -> None:
    as1 = parties.auth_server()
    as2 = parties.auth_server(trust=[as1.url])
    r2 = parties.resource(as2)
    r1 = parties.resource(as1)
    rt = parties.resource_token(r1.signer(), f"{r2.url}/data-auth")
    refused = parties.token_request(r1.signer(), as2, [("request_type", "exchange"), ("resource_token", rt)])
    _refused(refused, 401, "invalid_request")


# ----------------------------------------------------------------------------- resource tokens


def test_resource_token_for_another_auth_server(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.auth_server()
    as2 = parties.auth_server()
    r2 = parties.resource(as2)
    rt = parties.resource_token(agent.signer(), f"{r2.url}/data-auth")  # aud = AS2
    refused = parties.token_request(agent.signer(), as1, [
        ("request_type", "auth"), ("resource_token", rt), ("redirect_uri", agent.redirect_uri)])
    _refused(refused, 400, "invalid_resource_token")
    assert as1.counter.calls == [("auth", 400)]


def test_agent_jkt_mismatch(parties: Parties) -> None:
    """The resource token binds the key that asked for it; the same agent's other key may not redeem it."""
    agent = parties.agent(keys=2)
    as1 = parties.auth_server()
    r1 = parties.resource(as1)
    rt = parties.resource_token(agent.signer(agent.keys[0]), f"{r1.url}/data-auth")
    form = [("request_type", "auth"), ("resource_token", rt), ("redirect_uri", agent.redirect_uri)]
    _refused(parties.token_request(agent.signer(agent.keys[1]), as1, form), 400, "invalid_resource_token")
    # control: the key the token was issued for is granted
    assert parties.token_request(agent.signer(agent.keys[0]), as1, form).status_code == 200
    assert as1.counter.calls == [("auth", 400), ("auth", 200)]


def test_resource_token_issued_to_another_agent(parties: Parties) -> None:
    agent = parties.agent()
    rogue = parties.agent()
    as1 = parties.auth_server()
    r1 = parties.resource(as1)
    rt = parties.resource_token(agent.signer(), f"{r1.url}/data-auth")
    refused = parties.token_request(rogue.signer(), as1, [
        ("request_type", "auth"), ("resource_token", rt), ("redirect_uri", rogue.redirect_uri)])
    _refused(refused, 400, "invalid_resource_token")


# ----------------------------------------------------------------------------- authorization codes


def test_expired_code(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    code = _code(parties, agent, as1, r1)
    parties.clock.advance(as1.server.config.lifetimes.code + 1)
    _refused(_redeem(parties, agent, as1, code, agent.redirect_uri), 400, "invalid_grant")
    assert as1.counter.calls == [("auth", 200), ("code", 400)]


def test_replayed_code(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    code = _code(parties, agent, as1, r1)
    first = _redeem(parties, agent, as1, code, agent.redirect_uri)
    assert first.status_code == 200 and "auth_token" in first.json(), first.text
    _refused(_redeem(parties, agent, as1, code, agent.redirect_uri), 400, "invalid_grant")
    assert as1.counter.calls == [("auth", 200), ("code", 200), ("code", 400)]


def test_code_redeemed_by_another_agent(parties: Parties) -> None:
    agent = parties.agent()
    rogue = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    code = _code(parties, agent, as1, r1)
    _refused(_redeem(parties, rogue, as1, code, agent.redirect_uri), 400, "invalid_grant")


def test_redirect_uri_mismatch_at_code_redemption(parties: Parties) -> None:
    second = "/elsewhere"
    agent = parties.agent()
    agent.server.metadata_extra = {**agent.server.metadata_extra,
                                   "redirect_uris": [agent.redirect_uri, f"{agent.url}{second}"]}
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    code = _code(parties, agent, as1, r1)
    _refused(_redeem(parties, agent, as1, code, f"{agent.url}{second}"), 400, "invalid_grant")
    # the code is burnt: redeeming it correctly afterwards fails too
    _refused(_redeem(parties, agent, as1, code, agent.redirect_uri), 400, "invalid_grant")


def test_redirect_uri_not_registered_by_the_agent(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    rt = parties.resource_token(agent.signer(), f"{r1.url}/data-auth")
    refused = parties.token_request(agent.signer(), as1, [
        ("request_type", "auth"), ("resource_token", rt), ("redirect_uri", f"{agent.url}/not-registered")])
    _refused(refused, 400, "invalid_request")
    assert "request_token" not in refused.text


def test_redirect_uri_mismatch_at_the_consent_page(parties: Parties) -> None:
    agent = parties.agent()
    as1 = parties.consent_auth_server()
    r1 = parties.resource(as1)
    rt = parties.resource_token(agent.signer(), f"{r1.url}/data-auth")
    started = parties.token_request(agent.signer(), as1, [
        ("request_type", "auth"), ("resource_token", rt), ("redirect_uri", agent.redirect_uri)])
    request_token = started.json()["request_token"]
    with httpx.Client(trust_env=False) as browser:
        page = browser.get(form_url(f"{as1.url}/agent/auth", request_token=request_token,
                                    redirect_uri="http://127.0.0.1:9/steal"))
    assert page.status_code == 400 and "invalid_request" in page.text
    assert "location" not in page.headers and "login-form" not in page.text


# ----------------------------------------------------------------------------- the wrong token in the wrong place


def test_agent_token_where_an_auth_token_is_needed(parties: Parties) -> None:
    """A delegate's agent token identifies it, but /data-auth demands authorization: challenged, not served."""
    agent = parties.agent()
    as1 = parties.auth_server()
    r1 = parties.resource(as1)
    delegate_key = SigningKey.generate(kid="delegate-key")
    delegate = agent.server.delegate_signer("delegate-1", delegate_key)
    identified = parties.send(delegate, "GET", f"{r1.url}/data-jwks")
    assert identified.status_code == 200 and identified.json()["agent_delegate"] == "delegate-1", identified.text
    refused = parties.send(delegate, "GET", f"{r1.url}/data-auth")
    assert error_of(refused) == (401, "authorization_required"), refused.text
    challenge = parse_agent_auth(refused.headers[dialect.CHALLENGE_HEADER])
    assert challenge.auth_token and challenge.resource_token and challenge.auth_server == as1.url
    assert "data" not in refused.json()


def test_auth_token_where_an_agent_identity_is_needed(parties: Parties) -> None:
    """The converse at the token endpoint: an auth token cannot sign an auth request (A8)."""
    agent = parties.agent()
    as1 = parties.auth_server()
    r1 = parties.resource(as1)
    token = parties.auth_token(agent, as1, f"{r1.url}/data-auth")
    rt = parties.resource_token(agent.signer(), f"{r1.url}/data-auth")
    refused = parties.token_request(RequestSigner.jwt(agent.key, token), as1, [
        ("request_type", "auth"), ("resource_token", rt), ("redirect_uri", agent.redirect_uri)])
    _refused(refused, 401, "invalid_request")
