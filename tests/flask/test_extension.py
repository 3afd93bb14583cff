"""The extension around the scenarios: hook, preflight, blueprints, errors, metadata, config, many apps."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from flask import Blueprint, Flask, Request, g, request

from aauth_core import dialect
from aauth_core.context import Requirement
from aauth_core.errors import AAuthError
from aauth_core.headers import parse_agent_auth
from aauth_core.settings import SettingsError
from aauth_core.tokens import peek
from aauth_flask import AAuth, aauth_required, current_aauth, get_current_aauth, metadata_blueprint

from ..conftest import AGENT, RESOURCE, World
from ..scenarios import _jwt, _sign, _tamper
from .apps import CONFIG, new_app, send

OTHER = "https://api2.example"


def open_routes(app: Flask) -> list[str]:
    calls: list[str] = []

    @app.get("/open")
    def open_view() -> dict[str, Any]:
        calls.append("/open")
        return {"has_context": get_current_aauth() is not None, "truthy": bool(current_aauth)}

    @app.get("/guarded")
    @aauth_required("identity")
    def guarded() -> dict[str, Any]:
        calls.append("/guarded")
        return {"agent": current_aauth.agent}

    return calls


# ---------------------------------------------------------------------------- the before_request hook


def test_unsigned_request_passes_without_context(world: World) -> None:
    app, _ = new_app(world)
    open_routes(app)
    resp = app.test_client().get("/open", base_url=RESOURCE)
    assert resp.get_json() == {"has_context": False, "truthy": False}


def test_signed_request_gets_context_on_an_open_route(world: World) -> None:
    app, _ = new_app(world)
    open_routes(app)
    resp = send(app.test_client(), _sign(world, "GET", "/open"))
    assert resp.get_json() == {"has_context": True, "truthy": True}


def test_invalid_signature_is_refused_at_once_even_on_an_open_route(world: World) -> None:
    app, _ = new_app(world)
    calls = open_routes(app)
    resp = send(app.test_client(), _tamper(_sign(world, "GET", "/open"), method="POST"))
    assert (resp.status_code, resp.get_json()["error"]) == (401, "invalid_signature")
    assert resp.headers["Agent-Auth"].startswith("httpsig")
    assert calls == []


def test_context_is_gone_outside_a_request() -> None:
    assert get_current_aauth() is None


def test_decorator_without_extension_is_a_setup_error() -> None:
    app = Flask("bare")
    app.testing = True

    @app.get("/x")
    @aauth_required
    def x() -> str:
        return "never"

    with pytest.raises(RuntimeError, match="not initialised"):
        app.test_client().get("/x")


def test_init_twice_is_refused(world: World) -> None:
    app, aauth = new_app(world)
    with pytest.raises(RuntimeError, match="already"):
        aauth.init_app(app)


# ---------------------------------------------------------------------------- decorator forms


@pytest.mark.parametrize("decorate", [
    aauth_required("authorization:data.read"),
    aauth_required("authorization", scopes=["data.read"]),
    aauth_required("authorization", scopes="data.read"),
    aauth_required(Requirement("authorization", frozenset({"data.read"}))),
], ids=["spec", "list", "text", "requirement"])
@pytest.mark.parametrize("is_async", [False, True])
def test_decorator_forms(world: World, decorate: Any, is_async: bool) -> None:
    app, _ = new_app(world)
    calls: list[str] = []
    if is_async:
        async def view() -> dict[str, Any]:
            calls.append("view")
            return {"scope": current_aauth.scope_text}
    else:
        def view() -> dict[str, Any]:
            calls.append("view")
            return {"scope": current_aauth.scope_text}
    wrapped = decorate(view)
    assert inspect.iscoroutinefunction(wrapped) is is_async and wrapped.__name__ == "view"
    app.add_url_rule("/r", view_func=wrapped)
    client = app.test_client()

    resp = send(client, _sign(world, "GET", "/r"))  # identified, but no auth token
    assert (resp.status_code, resp.get_json()["error"]) == (401, "authorization_required")
    challenge = parse_agent_auth(resp.headers["Agent-Auth"])
    claims = peek(challenge.resource_token or "").claims
    assert (claims["agent"], claims["scope"], claims["aud"]) == (AGENT, "data.read", CONFIG["AAUTH_AUTH_SERVER"])
    assert calls == []

    resp = send(client, _jwt(world, "GET", "/r", world.auth_token(scope="data.write")))
    assert (resp.status_code, resp.get_json()["error"]) == (403, "insufficient_scope")
    assert calls == []

    resp = send(client, _jwt(world, "GET", "/r", world.auth_token()))
    assert resp.status_code == 200 and resp.get_json() == {"scope": "data.read data.write"}
    assert calls == ["view"]


@pytest.mark.parametrize("is_async", [False, True])
def test_bare_decorator_demands_a_signature(world: World, is_async: bool) -> None:
    app, _ = new_app(world)
    if is_async:
        @aauth_required
        async def view() -> dict[str, Any]:
            return {"scheme": current_aauth.scheme}
    else:
        @aauth_required
        def view() -> dict[str, Any]:
            return {"scheme": current_aauth.scheme}
    app.add_url_rule("/r", view_func=view)
    resp = app.test_client().get("/r", base_url=RESOURCE)
    assert (resp.status_code, resp.get_json()["error"], resp.headers["Agent-Auth"]) == (
        401, "signature_required", "httpsig")
    resp = send(app.test_client(), _sign(world, "GET", "/r", scheme="hwk"))
    assert resp.get_json() == {"scheme": "hwk"}


def test_bare_decorator_follows_the_default_requirement_setting(world: World) -> None:
    """Bare means "the project's default", the same in Flask, Starlette and Django."""
    app, _ = new_app(world, config={"AAUTH_DEFAULT_REQUIREMENT": "identity"})

    @aauth_required
    def view() -> dict[str, Any]:
        return {"agent": current_aauth.agent}

    app.add_url_rule("/r", view_func=view)
    resp = send(app.test_client(), _sign(world, "GET", "/r", scheme="hwk"))
    assert (resp.status_code, resp.get_json()["error"]) == (401, "identity_required")
    resp = send(app.test_client(), _sign(world, "GET", "/r"))
    assert resp.get_json() == {"agent": AGENT}


@pytest.mark.parametrize("args", [("identity", ["data.read"]), ("bogus", ()), ("authorization:", ["a", 1])])
def test_bad_decorator_arguments_fail_at_import(args: tuple[str, Any]) -> None:
    with pytest.raises((SettingsError, TypeError)):
        aauth_required(args[0], scopes=args[1])


def test_decorator_on_exempt_path_verifies_lazily(world: World) -> None:
    app, _ = new_app(world, config={"AAUTH_EXEMPT_PATHS": ["/health"]})

    @app.get("/health")
    @aauth_required("identity")
    def health() -> dict[str, Any]:
        return {"agent": current_aauth.agent}

    client = app.test_client()
    assert client.get("/health", base_url=RESOURCE).get_json()["error"] == "identity_required"
    resp = send(client, _sign(world, "GET", "/health"))
    assert resp.status_code == 200 and resp.get_json() == {"agent": AGENT}
    resp = send(client, _tamper(_sign(world, "GET", "/health"), path="/health?x=1"))
    assert (resp.status_code, resp.get_json()["error"]) == (401, "missing_component")


# ---------------------------------------------------------------------------- preflight and path rules


def test_options_preflight_passes_protect_all(world: World) -> None:
    app, _ = new_app(world, config={"AAUTH_PROTECT_ALL": True, "AAUTH_DEFAULT_REQUIREMENT": "identity"})
    calls = open_routes(app)
    client = app.test_client()
    resp = client.open("/guarded", method="OPTIONS", base_url=RESOURCE,
                       headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert (resp.status_code, resp.data) == (204, b"")  # answered by the hook, nothing ran
    resp = client.get("/open", base_url=RESOURCE)
    assert (resp.status_code, resp.get_json()["error"]) == (401, "identity_required")
    resp = send(client, _sign(world, "GET", "/open", scheme="hwk"))
    assert (resp.status_code, resp.get_json()["error"]) == (401, "identity_required")
    assert send(client, _sign(world, "GET", "/open")).status_code == 200
    assert calls == ["/open"]
    # the documents stay reachable
    assert client.get("/.well-known/aauth-resource", base_url=RESOURCE).status_code == 200


def test_options_refused_when_not_allowed(world: World) -> None:
    app, _ = new_app(world, config={"AAUTH_PROTECT_ALL": True, "AAUTH_ALLOW_OPTIONS": False})
    open_routes(app)
    resp = app.test_client().open("/open", method="OPTIONS", base_url=RESOURCE)
    assert (resp.status_code, resp.get_json()["error"]) == (401, "signature_required")


def test_options_never_runs_a_decorated_view_unverified(world: World) -> None:
    app, _ = new_app(world)
    ran: list[str] = []

    @app.route("/cors", methods=["GET", "OPTIONS"], provide_automatic_options=False)
    @aauth_required("identity")
    def cors() -> tuple[str, int]:
        ran.append(request.method)
        return str(current_aauth.agent), 200

    client = app.test_client()
    bare = client.open("/cors", method="OPTIONS", base_url=RESOURCE)
    assert (bare.status_code, bare.get_json()["error"]) == (401, "identity_required")
    preflight = client.open("/cors", method="OPTIONS", base_url=RESOURCE,
                            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert (preflight.status_code, preflight.data) == (204, b"")
    assert client.get("/cors", base_url=RESOURCE).status_code == 401
    assert ran == []


def test_path_rules_match_the_decoded_routed_path(world: World) -> None:
    """``/%61dmin`` routes to ``/admin``, so the ``/admin`` rule must catch it too."""
    app, _ = new_app(world, config={"AAUTH_PROTECTED_PATHS": {"/admin": "identity"}})
    calls: list[str] = []

    @app.get("/admin/<item>")
    def admin(item: str) -> str:
        calls.append(item)
        return item

    client = app.test_client()
    for path in ("/admin/x", "/%61dmin/x", "/adm%69n/x"):
        resp = client.get(path, base_url=RESOURCE)
        assert (resp.status_code, resp.get_json()["error"]) == (401, "identity_required"), path
    assert calls == []
    assert send(client, _sign(world, "GET", "/%61dmin/x")).status_code == 200
    assert calls == ["x"]


# ---------------------------------------------------------------------------- blueprints


def test_protect_blueprint(world: World) -> None:
    app, aauth = new_app(world)
    calls = open_routes(app)
    private = Blueprint("private", __name__, url_prefix="/private")

    @private.get("/hello")
    def hello() -> dict[str, Any]:
        calls.append("hello")
        return {"agent": current_aauth.agent}

    @private.get("/async")
    async def async_hello() -> dict[str, Any]:
        calls.append("async")
        return {"agent": current_aauth.agent}

    paid = Blueprint("paid", __name__, url_prefix="/paid")

    @paid.get("/report")
    def report() -> dict[str, Any]:
        calls.append("report")
        return {"scope": current_aauth.scope_text}

    assert aauth.protect_blueprint(private, "identity") is private
    aauth.protect_blueprint(paid, "authorization", scopes=["data.read"])
    app.register_blueprint(private)
    app.register_blueprint(paid)
    client = app.test_client()

    for path in ("/private/hello", "/private/async"):
        resp = client.get(path, base_url=RESOURCE)
        assert (resp.status_code, resp.get_json()["error"]) == (401, "identity_required")
        resp = send(client, _sign(world, "GET", path, scheme="hwk"))
        assert (resp.status_code, resp.get_json()["error"]) == (401, "identity_required")
        assert send(client, _sign(world, "GET", path)).get_json() == {"agent": AGENT}
    resp = send(client, _sign(world, "GET", "/paid/report"))
    assert (resp.status_code, resp.get_json()["error"]) == (401, "authorization_required")
    assert parse_agent_auth(resp.headers["Agent-Auth"]).resource_token
    resp = send(client, _jwt(world, "GET", "/paid/report", world.auth_token()))
    assert resp.get_json() == {"scope": "data.read data.write"}
    assert client.get("/open", base_url=RESOURCE).status_code == 200  # outside the blueprints: open
    assert calls == ["hello", "async", "report", "/open"]


# ---------------------------------------------------------------------------- error handler


def test_custom_error_handler(world: World) -> None:
    seen: list[AAuthError] = []

    def handler(request: Request, error: AAuthError) -> tuple[dict[str, Any], int]:
        seen.append(error)
        return {"problem": error.code}, error.status_code

    app, _ = new_app(world, error_handler=handler)
    calls = open_routes(app)
    client = app.test_client()

    resp = client.get("/guarded", base_url=RESOURCE)  # refused by the decorator
    assert (resp.status_code, resp.get_json()) == (401, {"problem": "identity_required"})
    assert resp.headers["Agent-Auth"] == "httpsig; identity=?1"  # the challenge is added for the handler
    resp = send(client, _tamper(_sign(world, "GET", "/open"), path="/guarded"))  # refused by the hook
    assert (resp.status_code, resp.get_json()) == (401, {"problem": "invalid_signature"})
    assert resp.headers["Agent-Auth"].startswith("httpsig")
    assert [e.code for e in seen] == ["identity_required", "invalid_signature"]
    assert calls == []


def test_custom_error_handler_keeps_its_own_challenge(world: World) -> None:
    app, _ = new_app(world, error_handler=lambda r, e: ("nope", 401, {"Agent-Auth": "httpsig; custom=1"}))
    open_routes(app)
    resp = app.test_client().get("/guarded", base_url=RESOURCE)
    assert (resp.status_code, resp.text, resp.headers["Agent-Auth"]) == (401, "nope", "httpsig; custom=1")


# ---------------------------------------------------------------------------- metadata


def test_metadata_routes(world: World) -> None:
    app, _ = new_app(world)
    client = app.test_client()
    resp = client.get("/.well-known/aauth-resource", base_url=RESOURCE)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    doc = resp.get_json()
    assert doc[dialect.METADATA_ID_FIELD[dialect.WELL_KNOWN_RESOURCE]] == RESOURCE
    assert doc["jwks_uri"] == f"{RESOURCE}/jwks.json"
    assert doc["supported_scopes"] == ["data.read", "data.write"]
    jwks = client.get("/jwks.json", base_url=RESOURCE).get_json()
    assert [k["kid"] for k in jwks["keys"]] == ["resource-key-1"]
    assert all("d" not in k for k in jwks["keys"])  # public halves only
    assert client.head("/jwks.json", base_url=RESOURCE).status_code == 200
    assert client.post("/jwks.json", base_url=RESOURCE).status_code == 405


def test_metadata_can_be_left_to_the_app(world: World) -> None:
    app, _ = new_app(world, serve_metadata=False)
    assert app.test_client().get("/jwks.json", base_url=RESOURCE).status_code == 404
    app, _ = new_app(world, serve_metadata=False)
    app.register_blueprint(metadata_blueprint("my_docs"))
    assert app.test_client().get("/jwks.json", base_url=RESOURCE).get_json()["keys"]


def test_no_resource_id_publishes_nothing(world: World) -> None:
    app = Flask("anon")
    AAuth(app, discovery=world.discovery, clock=world.clock)
    assert app.test_client().get("/.well-known/aauth-resource").status_code == 404


# ---------------------------------------------------------------------------- configuration


@pytest.mark.parametrize("key, value, match", [
    ("AAUTH_RESOURCE_IDD", RESOURCE, "AAUTH_RESOURCE_IDD"),
    ("AAUTH_SERVE_METADATA", False, "AAUTH_SERVE_METADATA"),
    ("AAUTH_SIGNATURE_BASES", ["nope"], "signature_bases"),
    ("AAUTH_PROTECTED_PATHS", {"/x": "superuser"}, "superuser"),
])
def test_bad_config_raises_at_init_app(world: World, key: str, value: Any, match: str) -> None:
    app = Flask("typo")
    app.config.update(CONFIG)
    app.config[key] = value
    aauth = AAuth(keys=[world.resource.key], discovery=world.discovery, clock=world.clock)
    with pytest.raises(SettingsError, match=match):
        aauth.init_app(app)
    assert "aauth" not in app.extensions


def test_config_strings_are_accepted(world: World) -> None:
    app, aauth = new_app(world, config={"AAUTH_TRUSTED_ISSUERS": "https://as.example https://as2.example",
                                        "SOME_OTHER_SETTING": 1})
    assert aauth.service_for(app).settings.trusted_issuers == ("https://as.example", "https://as2.example")
    with app.app_context():
        assert aauth.service is aauth.service_for(app)


def test_one_extension_serves_several_apps(world: World) -> None:
    aauth = AAuth(keys=[world.resource.key], discovery=world.discovery, clock=world.clock)
    apps = {}
    for resource in (RESOURCE, OTHER):
        app = Flask(resource)
        app.config.update(CONFIG, AAUTH_RESOURCE_ID=resource)
        aauth.init_app(app)
        open_routes(app)
        apps[resource] = app
    assert aauth.service_for(apps[RESOURCE]) is not aauth.service_for(apps[OTHER])

    for resource, app in apps.items():
        client = app.test_client()
        doc = client.get("/.well-known/aauth-resource", base_url=resource).get_json()
        assert doc["resource"] == resource
        req = _sign(world, "GET", "/guarded")  # signed for https://api.example
        resp = client.get(req.path, headers=req.headers, base_url=resource)
        if resource == RESOURCE:
            assert resp.status_code == 200 and resp.get_json() == {"agent": AGENT}
        else:  # the other app's canonical authority is api2.example: the signature does not cover it
            assert (resp.status_code, resp.get_json()["error"]) == (401, "invalid_signature")


# ---------------------------------------------------------------------------- request scoping


def test_context_never_outlives_its_request_in_a_reused_app_context(world: World) -> None:
    """Inside ``app.app_context()`` Flask reuses ``g`` across requests; the context must not leak."""
    app, _ = new_app(world)

    @app.get("/who")
    def who() -> dict[str, Any]:
        return {"proxy": bool(current_aauth), "g": g.aauth is not None}

    client = app.test_client()
    with app.app_context():
        assert send(client, _sign(world, "GET", "/who")).get_json() == {"proxy": True, "g": True}
        assert client.get("/who", base_url=RESOURCE).get_json() == {"proxy": False, "g": False}
        resp = send(client, _tamper(_sign(world, "GET", "/who"), method="PUT"))
        assert resp.status_code == 401


def test_body_over_max_content_length_is_refused_unread(world: World) -> None:
    app, _ = new_app(world, config={"MAX_CONTENT_LENGTH": 64})
    calls = open_routes(app)

    @app.post("/upload")
    @aauth_required
    def upload() -> str:
        calls.append("upload")
        return "never"

    resp = send(app.test_client(), _sign(world, "POST", "/upload", body=b"x" * 1000))
    assert resp.status_code == 413
    assert calls == []
