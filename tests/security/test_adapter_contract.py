"""Red-team findings in the adapters (issue 11): each fails on the code before the fix.

* ``options_bypass``: ``OPTIONS`` to a protected route ran the view with no verified
  context (Django's default ``allow_options``; Flask for a route listing ``OPTIONS``),
  a 500 on the sample Django resource.  Now every adapter challenges it, and a real
  CORS preflight is answered 204 without the view.
* ``content_length_unicode_digit``: a ``Content-Length`` of ``"²"`` passed Django's
  ``isdigit()`` and crashed ``int()``: a 500.  Now only ASCII digits count.
* ``custom_handler_drops_challenge``: a custom error handler's response lost the
  ``Agent-Auth`` challenge in Starlette and Django.  Now it is added in all three.
"""

from __future__ import annotations

import pytest

from ..conformance.apps import VARIANTS, Variant
from ..conftest import RESOURCE, World, signed_request

PREFLIGHT = {"Origin": "https://app.example", "Access-Control-Request-Method": "DELETE"}
PLAIN = [v for v in VARIANTS if not v.handler]
HANDLED = [v for v in VARIANTS if v.handler]


@pytest.mark.parametrize("variant", PLAIN, ids=lambda v: v.name)
def test_options_bypass_is_closed(world: World, variant: Variant) -> None:
    send = variant.build(world, False)
    for path in ("/protected", "/ruled/plain", "/exempt/protected"):
        status, headers, _, ran = send("OPTIONS", path, {"Origin": "https://app.example"})
        assert (status, ran) == (401, False), (path, status)
        assert headers["agent-auth"].startswith("httpsig")
        status, _, body, ran = send("OPTIONS", path, dict(PREFLIGHT))
        assert (status, body, ran) == (204, b"", False), path


@pytest.mark.parametrize("variant", HANDLED, ids=lambda v: v.name)
def test_custom_handler_never_drops_the_challenge(world: World, variant: Variant) -> None:
    send = variant.build(world, True)
    status, headers, body, ran = send("GET", "/protected", {})
    assert (status, ran) == (401, False)
    assert b"identity_required" in body and headers["agent-auth"] == "httpsig; identity=?1"


@pytest.mark.parametrize("is_async", [False, True], ids=["wsgi", "asgi"])
def test_content_length_unicode_digit_is_no_500(world: World, is_async: bool, settings: object) -> None:
    from asgiref.sync import async_to_sync
    from django.test import Client

    from aauth_django import set_service_factory

    from ..django.clients import RawPathAsyncClient
    from ..django.conftest import AAUTH, factory_for

    body = b'{"x": 1}'
    headers, _ = signed_request("POST", RESOURCE + "/data", key=world.agent.key, body=body)
    headers.pop("Content-Type")
    settings.ROOT_URLCONF = "tests.django.urls"  # type: ignore[attr-defined]
    settings.AAUTH = AAUTH  # type: ignore[attr-defined]
    set_service_factory(factory_for(world))
    try:
        extra = {"CONTENT_LENGTH": "\u00b2"}
        if is_async:
            async def go() -> object:
                return await RawPathAsyncClient().generic(
                    "POST", "/data", data=body, content_type="application/json", headers=headers, **extra)

            response = async_to_sync(go)()
        else:
            response = Client(raise_request_exception=False).generic(
                "POST", "/data", data=body, content_type="application/json", headers=headers, **extra)
    finally:
        set_service_factory(None)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert response.json()["error"] == "invalid_request"  # type: ignore[attr-defined]
