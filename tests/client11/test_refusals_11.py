"""Every refusal of the aauth-11 agent: what it will not forward, present or fetch, and how it reports
what peers refuse.  Each test shows the error and that nothing further was sent or accepted."""

from __future__ import annotations

from typing import Any

import pytest

from aauth_core.client import SignerOptions
from aauth_core.errors import AAuthError
from aauth_core.keys import SigningKey
from aauth_core.tokens import peek

from ..conftest import PUBLIC_IP
from .conftest import Net11
from .parties import PS, RESOURCE, json_reply, problem, requirement, signature_error

# ----------------------------------------------------------------------------- the resource token


@pytest.mark.parametrize(("override", "problem_text"), [
    ({"iss": "https://other.example"}, "iss"),
    ({"agent_jkt": SigningKey.generate().thumbprint}, "agent_jkt"),
    ({"ps": "https://other-ps.example"}, "ps"),
    ({"sub": "someone-else"}, "sub"),
    ({"presented_jti": "another-token"}, "presented_jti"),
    ({"now": 1_000_000_000}, "expired"),
    ({"typ": "aa-auth+jwt"}, "aa-resource+jwt"),
])
def test_a_bad_resource_token_is_never_forwarded(net: Net11, mode: str, override: dict[str, Any],
                                                 problem_text: str) -> None:
    net.resource.resource_token = override
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data", mode=mode)
    assert info.value.code == "invalid_resource_token" and problem_text in info.value.description
    assert [c[0] for c in net.ps.calls] == ["/person"]  # the auth token endpoint was never called
    assert not net.resource.served


def test_auth_token_requirement_without_a_resource_token(net: Net11) -> None:
    net.resource.replies = [(401, requirement("auth-token"), b"")]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "invalid_resource_token" and net.ps.calls == []


# ----------------------------------------------------------------------------- person and auth tokens


@pytest.mark.parametrize("override", [
    {"iss": "https://other-ps.example"},
    {"aud": "https://other.example"},
    {"cnf_jwk": SigningKey.generate().public_jwk()},
    {"typ": "aa-auth+jwt"},
])
def test_a_bad_person_token_is_never_presented(net: Net11, override: dict[str, Any]) -> None:
    net.ps.person_claims = override
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "invalid_token_response"
    assert [s.typ for s in net.router.to(RESOURCE + "/data")] == ["aa-agent+jwt"]


@pytest.mark.parametrize("override", [
    {"iss": "https://other-ps.example"},
    {"aud": "https://other.example"},
    {"cnf_jwk": SigningKey.generate().public_jwk()},
    {"typ": "aa-person+jwt"},
])
def test_a_bad_auth_token_is_never_presented(net: Net11, override: dict[str, Any]) -> None:
    net.ps.auth_claims = override
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "invalid_token_response"
    assert [s.typ for s in net.router.to(RESOURCE + "/data")] == ["aa-agent+jwt", "aa-person+jwt"]
    assert not net.resource.served


def test_an_answer_without_a_token(net: Net11) -> None:
    net.ps.person_replies = [json_reply(200, {"expires_in": 60})]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/person")
    assert info.value.code == "invalid_token_response"


def test_a_bad_expires_in(net: Net11) -> None:
    net.ps.person_replies = [json_reply(200, {**net.ps._person({"resource": RESOURCE}, {
        "cnf": {"jwk": net.agent_key.public_jwk()}}), "expires_in": -5})]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/person")
    assert info.value.code == "invalid_token_response"


def test_tokens_are_never_sent_to_another_origin(net: Net11) -> None:
    auth = net.auth()
    assert net.get(auth, "/data").status_code == 200
    net.router.routes["https://other.example"] = lambda request: json_reply(200, {"ok": True})
    net.send(auth, [("GET", "https://other.example/agent", {})])
    assert net.router.seen[-1].typ == "aa-agent+jwt"


# ----------------------------------------------------------------------------- the person server


def test_no_person_server_in_the_agent_token(net: Net11, mode: str) -> None:
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(agent_token=net.agent_token(ps=None)), "/data", mode=mode)
    assert info.value.code == "no_person_server" and "no person server" in info.value.description
    assert net.router.to(PS) == []


@pytest.mark.parametrize(("issuer", "code"), [("https://other-ps.example", "issuer_mismatch"),
                                              ("https://ps.example/", "issuer_mismatch"), (None, "issuer_missing")])
def test_person_server_metadata_must_name_itself(net: Net11, issuer: str | None, code: str) -> None:
    net.ps.metadata["issuer"] = issuer
    if issuer is None:
        del net.ps.metadata["issuer"]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == code
    assert [s.method for s in net.router.to(PS)] == ["GET"]  # the metadata only: nothing posted


@pytest.mark.parametrize("endpoint", ["https://10.0.0.5/person", "http://ps.example/person",
                                      "https://127.0.0.1/person", "https://internal.example/person",
                                      "https://user@ps.example/person"])
def test_person_server_endpoints_pass_the_ssrf_guard(net: Net11, mode: str, endpoint: str) -> None:
    net.ps.metadata["person_token_endpoint"] = endpoint
    for origin in ("https://10.0.0.5", "http://ps.example", "https://127.0.0.1", "https://internal.example"):
        net.router.forbidden.add(origin)

    def resolver(host: str) -> list[str]:
        return ["10.1.2.3"] if host == "internal.example" else [PUBLIC_IP]

    with pytest.raises(AAuthError) as info:
        net.get(net.auth(options=net.options().__class__(clock=net.world.clock, resolver=resolver)), "/data",
                mode=mode)
    assert info.value.code == "blocked_url"
    assert net.ps.calls == []


def test_a_person_server_on_localhost_is_refused(net: Net11) -> None:
    net.router.forbidden.add("https://localhost")
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(agent_token=net.agent_token(ps="https://localhost")), "/data")
    assert info.value.code == "blocked_url"


def test_a_missing_endpoint(net: Net11) -> None:
    del net.ps.metadata["auth_token_endpoint"]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "discovery_failed" and "auth_token_endpoint" in info.value.description


@pytest.mark.parametrize(("reply", "code", "status"), [
    (problem(400, "expired_presented_token", "get a fresh person token"), "expired_presented_token", 400),
    (problem(400, "invalid_resource_token"), "invalid_resource_token", 400),
    (problem(403, "user_unreachable"), "user_unreachable", 403),
    (problem(502, "as_unreachable"), "as_unreachable", 502),
    (problem(400, "bad code with spaces"), "token_endpoint_error", 400),
    (json_reply(400, {"detail": "no code"}), "token_endpoint_error", 400),
    ((400, {"Content-Type": "text/plain"}, b"nope"), "token_endpoint_error", 400),
])
def test_problem_json_refusals_carry_their_code(net: Net11, mode: str, reply: Any, code: str, status: int) -> None:
    net.ps.token_replies = [reply]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data", mode=mode)
    assert (info.value.code, info.value.status_code) == (code, status)
    if code == "expired_presented_token":
        assert "get a fresh person token" in info.value.description
    assert not net.resource.served


def test_a_200_that_is_not_json(net: Net11) -> None:
    net.ps.token_replies = [(200, {"Content-Type": "text/html"}, b"<html>")]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "invalid_token_response"


# ----------------------------------------------------------------------------- the resource's answers


@pytest.mark.parametrize("code", ["invalid_signature", "unsupported_algorithm", "expired_jwt", "clock_skew",
                                  "issuer_mismatch"])
def test_signature_errors_name_their_code(net: Net11, mode: str, code: str) -> None:
    net.resource.replies = [signature_error(code)]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/agent", mode=mode)
    assert info.value.code == code and code in str(info.value) and info.value.status_code == 401
    assert len(net.router.seen) == 1  # not retried


def test_an_unreadable_signature_error_is_still_a_refusal(net: Net11) -> None:
    net.resource.replies = [(401, {"Signature-Error": "((("}, b"")]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/agent")
    assert info.value.code == "invalid_signature"


def test_revoked_auth_token_gets_a_new_person_token_once(net: Net11, mode: str) -> None:
    auth = net.auth()
    assert net.get(auth, "/data", mode=mode).status_code == 200
    auth_jti = peek(net.router.seen[-1].token).claims["jti"]
    net.resource.revoked.add(auth_jti)
    assert net.get(auth, "/data", mode=mode).status_code == 200
    assert [c[0] for c in net.ps.calls] == ["/person", "/token", "/person", "/token"]
    # every token revoked (the fresh person token too): reported after one new person token, not looped
    net.resource.revoke_everything = True
    with pytest.raises(AAuthError) as info:
        net.get(auth, "/data", mode=mode)
    assert info.value.code == "revoked_jwt"
    assert [c[0] for c in net.ps.calls][4:] == ["/person"]
    assert [s.typ for s in net.router.to(RESOURCE + "/data")][-2:] == ["aa-auth+jwt", "aa-person+jwt"]


def test_invalid_input_re_signs_with_the_required_components(net: Net11, mode: str) -> None:
    net.resource.extra_components = ("@query",)
    auth = net.auth(signer_options=SignerOptions.aauth_11(cover_query=False))
    first, second = net.send(auth, [("GET", RESOURCE + "/agent?x=1", {}), ("GET", RESOURCE + "/agent?x=2", {})],
                             mode=mode)
    assert first.status_code == second.status_code == 200
    assert len(net.router.seen) == 3  # refused once, then the extras are remembered for this resource
    assert '"@query"' in net.router.seen[-1].headers["signature-input"]


def test_the_challenge_loop_is_bounded(net: Net11, mode: str) -> None:
    loop = [(401, requirement("person-token"), b""), (401, requirement("agent-token"), b"")] * 5
    net.resource.replies = list(loop)
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/person", mode=mode)
    assert info.value.code == "too_many_challenges"
    assert len(net.router.to(RESOURCE + "/person")) == 4  # the request and max_rounds (3) retries
    assert [c[0] for c in net.ps.calls] == ["/person"]


def test_a_person_token_refused_at_once_is_reported(net: Net11) -> None:
    net.resource.replies = [(401, requirement("person-token"), b"")] * 2
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/person")
    assert info.value.code == "token_refused" and len(net.ps.calls) == 1


def test_an_auth_token_refused_at_once_is_reported(net: Net11, mode: str) -> None:
    net.resource.refuse_auth_tokens = True  # asks again, with a resource token naming the auth token
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data", mode=mode)
    assert info.value.code == "token_refused"
    assert [c[0] for c in net.ps.calls] == ["/person", "/token"] and not net.resource.served


def test_an_agent_token_refused_is_reported(net: Net11) -> None:
    net.resource.replies = [(401, requirement("agent-token"), b"")]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/agent")
    assert info.value.code == "token_refused" and len(net.router.seen) == 1


def test_an_unknown_requirement(net: Net11) -> None:
    net.resource.replies = [(401, {"AAuth-Requirement": "requirement=claims"}, b"")]
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/agent")
    assert info.value.code == "unsupported_requirement"


def test_plain_answers_are_handed_back(net: Net11) -> None:
    for reply in [problem(403, "insufficient_scope"), (401, {"WWW-Authenticate": "Bearer"}, b""),
                  json_reply(202, {"queued": True}), (401, {"AAuth-Requirement": "(((("}, b"")]:
        net.resource.replies = [reply]
        assert net.get(net.auth(), "/agent").status_code == reply[0]


def test_resource_metadata_must_name_the_origin(net: Net11) -> None:
    net.resource.metadata = {"issuer": "https://other.example"}
    with pytest.raises(AAuthError) as info:
        net.get(net.auth(), "/data")
    assert info.value.code == "issuer_mismatch" and net.ps.calls == []


@pytest.mark.parametrize("metadata", [None, {"access_mode": "auth-token"}])
def test_resource_metadata_is_advisory(net: Net11, metadata: dict[str, Any] | None) -> None:
    net.resource.metadata = metadata
    assert net.get(net.auth(), "/data").status_code == 200
    assert net.ps.calls[0][1] == {"resource": RESOURCE}


def test_resource_metadata_can_be_skipped(net: Net11) -> None:
    net.resource.metadata = {"issuer": "https://other.example"}
    assert net.get(net.auth(resource_metadata=False), "/data").status_code == 200
    assert not net.router.to(RESOURCE + "/.well-known/")
