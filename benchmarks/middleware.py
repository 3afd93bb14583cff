"""Issue 4: what each framework adapter adds on top of ``verify()``, in-process.

    python -m benchmarks.middleware [--n 2000]

For Starlette (ASGI), Flask (WSGI) and Django (``WSGIHandler``), in one run and
without sockets, the median per-request time of

* ``open``: a trivial route in the bare framework app (no AAuth installed);
* ``protected``: the same route behind the adapter, ``scheme=jwt`` auth token,
  warm key and token caches, required level ``authorization``;
* ``verify``: the adapter's own :class:`AAuthService` verifying the same kind of
  request directly (``service.verify(view)``);
* ``raw``: one raw Ed25519 verification;
* ``floor``: an adapter with no code at all, ``verify()`` of a prebuilt view and
  then the bare route.  Put through the same formula it shows what the formula
  charges any adapter for running ``verify()`` and the framework one after the
  other in one request (CPU-cache interference between the two).

The adapter's own cost is ``protected - open - verify``; target: at most
0.2 x ``raw`` in every framework.  Every request is distinct (pre-signed with a
distinct query), because the replay cache is on.  The ASGI app is called with a
hand-built scope/receive/send, the WSGI apps with a hand-built environ.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from aauth_core.request import RequestView
from aauth_core.service import AAuthService

from ._parties import NOW, RESOURCE, Parties
from ._timing import interleaved_medians, raw_ed25519_call

__all__ = ["run", "urlpatterns"]

HOST = RESOURCE.split("://", 1)[1]
PROTECTED = {"/data": "authorization"}


def _signed(p: Parties, n: int, tag: str) -> list[tuple[str, dict[str, str]]]:
    """``n`` distinct signed jwt GETs of ``/data?i=<tag><i>``: ``(query, headers)``."""
    return [(f"i={tag}{i}", p.sign("GET", f"{RESOURCE}/data?i={tag}{i}", "jwt")[0]) for i in range(n)]


def _views(p: Parties, n: int) -> list[RequestView]:
    return [RequestView.from_url("GET", f"{RESOURCE}/data?{q}", h) for q, h in _signed(p, n, "v")]


def _service(p: Parties) -> AAuthService:
    settings = p.settings(protected_paths=PROTECTED)
    return AAuthService(settings, keys=[p.resource], discovery=p.discovery(settings), clock=lambda: NOW)


# ---------------------------------------------------------------------------- ASGI


def _scope(query: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "https",
        "path": "/data", "raw_path": b"/data", "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", HOST.encode())] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "server": (HOST, 443), "client": ("127.0.0.1", 50000),
    }


def starlette_cases(p: Parties, n: int) -> tuple[dict[str, Callable[[int], object]], AAuthService]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from aauth_starlette import AAuthMiddleware

    async def data(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    bare = Starlette(routes=[Route("/data", data)])
    service = _service(p)
    protected = AAuthMiddleware(Starlette(routes=[Route("/data", data)]), service=service)
    loop = asyncio.new_event_loop()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def caller(app: Any, scopes: list[dict[str, Any]]) -> Callable[[int], object]:
        status: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        def call(i: int) -> None:
            # One event-loop step per request; the same overhead for both apps.
            loop.run_until_complete(app(scopes[i], receive, send))
            if status.pop() != 200:
                raise RuntimeError("request refused")

        return call

    open_scopes = [_scope(f"i=o{i}", {}) for i in range(n)]
    signed_scopes = [_scope(q, h) for q, h in _signed(p, n, "p")]
    caller(protected, [_scope(*_signed(p, 1, "warm")[0])])(0)  # warm the caches
    return {"open": caller(bare, open_scopes), "protected": caller(protected, signed_scopes)}, service


# ---------------------------------------------------------------------------- WSGI


def _environ(query: str, headers: dict[str, str]) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/data", "QUERY_STRING": query,
        "REQUEST_URI": f"/data?{query}", "RAW_URI": f"/data?{query}", "SERVER_NAME": HOST, "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": HOST,
        "wsgi.version": (1, 0), "wsgi.url_scheme": "https", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def _wsgi_caller(app: Any, environs: list[dict[str, Any]]) -> Callable[[int], object]:
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        status.append(s)
        return lambda data: None

    def call(i: int) -> None:
        result = app(environs[i], start_response)
        try:
            for _ in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not status.pop().startswith("200"):
            raise RuntimeError("request refused")

    return call


def flask_cases(p: Parties, n: int) -> tuple[dict[str, Callable[[int], object]], AAuthService]:
    from dataclasses import fields

    from flask import Flask

    from aauth_flask import AAuth

    def make() -> Flask:
        app = Flask("bench")
        app.add_url_rule("/data", "data", lambda: "ok")
        return app

    bare = make()
    app = make()
    settings = p.settings(protected_paths=PROTECTED)
    app.config.update({f"AAUTH_{f.name.upper()}": getattr(settings, f.name) for f in fields(settings)
                       if f.name != "extra"})
    ext = AAuth(app, keys=[p.resource], discovery=p.discovery(settings), clock=lambda: NOW)
    service = ext.service_for(app)
    _wsgi_caller(app, [_environ(*_signed(p, 1, "warm")[0])])(0)
    return {
        "open": _wsgi_caller(bare, [_environ(f"i=o{i}", {}) for i in range(n)]),
        "protected": _wsgi_caller(app, [_environ(q, h) for q, h in _signed(p, n, "p")]),
    }, service


def _django_view(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("ok")


urlpatterns: list[Any] = []  # ROOT_URLCONF of the in-process Django project (filled in django_cases)


def django_cases(p: Parties, n: int) -> tuple[dict[str, Callable[[int], object]], AAuthService]:
    import django
    from django.conf import settings as dj
    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import path

    from aauth_django.conf import set_service_factory

    s = p.settings(protected_paths=PROTECTED)
    dj.configure(
        DEBUG=False, SECRET_KEY="bench", ALLOWED_HOSTS=[HOST], INSTALLED_APPS=["aauth_django"], MIDDLEWARE=[],
        ROOT_URLCONF="benchmarks.middleware", DATABASES={}, USE_TZ=True,
        AAUTH={"resource_id": s.resource_id, "auth_server": s.auth_server, "trusted_issuers": list(s.trusted_issuers),
               "resource_scopes": list(s.resource_scopes), "replay_cache_size": s.replay_cache_size,
               "protected_paths": PROTECTED},
    )
    django.setup()
    import importlib

    # Run as ``python -m``, this file is ``__main__``; Django imports the urlconf by name.
    importlib.import_module("benchmarks.middleware").urlpatterns[:] = [path("data", _django_view)]
    service = _service(p)
    set_service_factory(lambda settings: service)
    bare = WSGIHandler()  # middleware is loaded when the handler is built
    dj.MIDDLEWARE = ["aauth_django.middleware.AAuthMiddleware"]
    protected = WSGIHandler()
    _wsgi_caller(protected, [_environ(*_signed(p, 1, "warm")[0])])(0)
    return {
        "open": _wsgi_caller(bare, [_environ(f"i=o{i}", {}) for i in range(n)]),
        "protected": _wsgi_caller(protected, [_environ(q, h) for q, h in _signed(p, n, "p")]),
    }, service


FRAMEWORKS: dict[str, Callable[[Parties, int], tuple[dict[str, Callable[[int], object]], AAuthService]]] = {
    "starlette": starlette_cases, "flask": flask_cases, "django": django_cases,
}


def _verify_between_routes(service: AAuthService, views: list[RequestView],
                           route: Callable[[int], object]) -> float:
    """Median of ``verify()`` alone, each call preceded (untimed) by one open-route request.

    Inside an app, ``verify()`` runs with the CPU caches holding the framework's
    code, not its own: a tight loop of ``verify()`` alone is ~10% faster than the
    very same call inside a request.  This is that call in the app's cache state.
    """
    samples = []
    for i, view in enumerate(views):
        route(i)
        t0 = time.perf_counter_ns()
        service.verify(view)
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples)


def _shell(service: AAuthService, cases: dict[str, Callable[[int], object]], view: RequestView, n: int) -> float:
    """Diagnostic: the adapter's code alone, ``verify()`` answering a precomputed result.

    (protected with that stand-in) - open, medians over the second half of the
    pre-signed requests.  Separates the adapter's own work from the cache effects
    of running ``verify()`` and the framework together.  Called last: it replaces
    the service's ``verify``/``averify`` for good.
    """
    result = service.verify(view)

    async def averify(v: RequestView) -> object:
        return result

    service.verify = lambda v: result  # type: ignore[method-assign,assignment]
    service.averify = averify  # type: ignore[method-assign,assignment]
    m = interleaved_medians({"open": lambda i: cases["open"](n + i), "protected": lambda i: cases["protected"](n + i)},
                            n)
    return m["protected"] - m["open"]


def run(n: int) -> dict[str, dict[str, float]]:
    """``{framework: {"open", "protected", "verify", "verify_in_app", "raw", "adapter", "ratio", ...}}`` in ns.

    ``adapter`` uses ``verify`` (a hot loop, the strict figure); ``adapter_in_app``
    uses ``verify_in_app`` (the same call in the cache state of a request).
    """
    results: dict[str, dict[str, float]] = {}
    for name, build in FRAMEWORKS.items():
        p = Parties()
        cases, service = build(p, 2 * n)
        views = _views(p, 3 * n)
        cases["verify"] = lambda i, views=views, service=service: service.verify(views[i])
        cases["raw"] = raw_ed25519_call()
        # An adapter with no code at all: verify() of a prebuilt view, then the bare route.
        cases["floor"] = lambda i, views=views, service=service, route=cases["open"]: (
            service.verify(views[2 * n + i]), route(i))
        medians = interleaved_medians(cases, n)
        route = cases["open"]
        medians["verify_in_app"] = _verify_between_routes(service, views[n:2 * n], lambda i, route=route: route(n + i))
        medians["adapter"] = medians["protected"] - medians["open"] - medians["verify"]
        medians["ratio"] = medians["adapter"] / medians["raw"]
        medians["adapter_in_app"] = medians["protected"] - medians["open"] - medians["verify_in_app"]
        medians["ratio_in_app"] = medians["adapter_in_app"] / medians["raw"]
        medians["floor_adapter"] = medians["floor"] - medians["open"] - medians["verify"]
        q, h = _signed(p, 1, "shell")[0]
        medians["shell"] = _shell(service, cases, RequestView.from_url("GET", f"{RESOURCE}/data?{q}", h), n)
        results[name] = medians
    return results


def table(results: dict[str, dict[str, float]]) -> str:
    lines = ["| framework | open route µs | protected µs | core verify µs (loop / in app) | raw Ed25519 µs "
             "| adapter µs (strict / in app) | adapter / raw, target ≤ 0.2 (strict / in app) "
             "| adapter code alone µs (÷ raw) | the formula for an adapter with no code µs (÷ raw) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        ok = "✅" if r["ratio"] <= 0.2 else ("🟡" if r["ratio_in_app"] <= 0.2 else "❌")
        lines.append(f"| {name} | {r['open'] / 1e3:.1f} | {r['protected'] / 1e3:.1f} "
                     f"| {r['verify'] / 1e3:.1f} / {r['verify_in_app'] / 1e3:.1f} | {r['raw'] / 1e3:.1f} "
                     f"| {r['adapter'] / 1e3:.1f} / {r['adapter_in_app'] / 1e3:.1f} "
                     f"| {r['ratio']:.2f} / {r['ratio_in_app']:.2f} {ok} "
                     f"| {r['shell'] / 1e3:.1f} ({r['shell'] / r['raw']:.2f}) "
                     f"| {r['floor_adapter'] / 1e3:.1f} ({r['floor_adapter'] / r['raw']:.2f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    print(table(run(parser.parse_args().n)))


if __name__ == "__main__":
    main()
