"""The only place that knows httpx from httpx2.

Both libraries share the ``Auth`` protocol (a generator that yields requests and
receives responses), so one factory builds the ``Auth`` class for either: it
reads the request body the library's way (blocking or awaited), then drives the
shared :class:`~aauth_core.client.flow.FlowEngine` generator.  It also provides
the redirect guard: httpx follows redirects *inside* one auth-flow step, copying
every header, so signature headers must be stripped (other origin) or re-signed
(same origin) by a request event hook, which both libraries run for every hop.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, Generator, Mapping
from functools import cache
from typing import Any, Literal

from .flow import Body, FlowEngine, SignState, origin_of, redirected

__all__ = ["Library", "auth_class", "install_redirect_guard"]

Library = Literal["httpx", "httpx2"]
_SIGNATURE_HEADERS = ("signature", "signature-input", "signature-key", "content-digest")


def _body_sync(request: Any, lib: Any) -> Body:
    try:
        return Body(request.content or None)
    except lib.RequestNotRead:
        pass
    digest = request.headers.get("content-digest")
    if digest is not None:  # a stream whose digest the caller computed: sign it unread, send it once
        return Body(None, digest, replayable=False)
    return Body(request.read() or None)


async def _body_async(request: Any, lib: Any) -> Body:
    try:
        return Body(request.content or None)
    except lib.RequestNotRead:
        pass
    digest = request.headers.get("content-digest")
    if digest is not None:
        return Body(None, digest, replayable=False)
    return Body(await request.aread() or None)


def _guard(engine: FlowEngine, request: Any, content: bytes | None) -> None:
    state = request.extensions.get("aauth")
    if not isinstance(state, SignState):
        return
    state.guarded = True
    url = str(request.url)
    if url == state.url and request.method == state.method:
        return  # the request as the flow signed it
    if origin_of(url) != origin_of(state.url):
        for name in _SIGNATURE_HEADERS:
            if name in request.headers:
                del request.headers[name]
        request.extensions = {k: v for k, v in request.extensions.items() if k != "aauth"}
        return
    digest = request.headers.get("content-digest") if content is None else None
    engine.sign_into(request, Body(content, digest, replayable=content is not None or digest is None),
                     state.signer)
    request.extensions["aauth"].guarded = True


@cache
def auth_class(library: Library = "httpx") -> type[Any]:
    """The ``Auth`` subclass for ``library`` (``"httpx"`` or ``"httpx2"``)."""
    lib = importlib.import_module(library)

    class AAuth(lib.Auth):  # type: ignore[name-defined,misc]
        """Signs every request and answers AAuth challenges (see :mod:`aauth_core.client.flow`)."""

        requires_request_body = False  # read in the flows below, so digest-carrying streams stay streams
        requires_response_body = True
        library_name = library

        def __init__(self, engine: FlowEngine) -> None:
            self.engine = engine

        def __repr__(self) -> str:
            return f"AAuth({library}, scheme={self.engine.identity.scheme})"

        def _make_request(self, method: str, url: str, headers: Mapping[str, str], content: bytes | None) -> Any:
            return lib.Request(method, url, headers=dict(headers), content=content)

        def _reject_cross_origin_challenge(self, request: Any, response: Any) -> bool:
            return redirected(request, response) and origin_of(str(response.request.url)) != origin_of(
                str(request.url))

        def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
            return self.sync_auth_flow(request)

        def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
            flow = self.engine.flow(request, _body_sync(request, lib), self._make_request)
            try:
                outgoing = next(flow)
                while True:
                    response = yield outgoing
                    response.read()
                    if outgoing is request and self._reject_cross_origin_challenge(request, response):
                        return
                    outgoing = flow.send(response)
            except StopIteration:
                return

        async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
            flow = self.engine.flow(request, await _body_async(request, lib), self._make_request)
            try:
                outgoing = next(flow)
                while True:
                    response = yield outgoing
                    await response.aread()
                    if outgoing is request and self._reject_cross_origin_challenge(request, response):
                        return
                    outgoing = flow.send(response)
            except StopIteration:
                return

        # -------------------------------------------------------------- redirect guard

        def redirect_hook(self, request: Any) -> None:
            """Request event hook for ``Client``: strip or re-sign redirected copies."""
            content = None
            state = request.extensions.get("aauth")
            if isinstance(state, SignState) and "content-digest" in request.headers:
                try:
                    content = request.read() or None
                except Exception:
                    content = None
            _guard(self.engine, request, content)

        async def aredirect_hook(self, request: Any) -> None:
            """Request event hook for ``AsyncClient``."""
            content = None
            state = request.extensions.get("aauth")
            if isinstance(state, SignState) and "content-digest" in request.headers:
                try:
                    content = await request.aread() or None
                except Exception:
                    content = None
            _guard(self.engine, request, content)

        def client(self, **kwargs: Any) -> Any:
            """A ``Client`` using this auth with the redirect guard installed."""
            return install_redirect_guard(lib.Client(auth=self, **kwargs), self)

        def async_client(self, **kwargs: Any) -> Any:
            """An ``AsyncClient`` using this auth with the redirect guard installed."""
            return install_redirect_guard(lib.AsyncClient(auth=self, **kwargs), self)

    AAuth.__qualname__ = AAuth.__name__ = f"AAuth_{library}"
    return AAuth


def install_redirect_guard(client: Any, auth: Any) -> Any:
    """Add ``auth``'s redirect hook to an existing httpx/httpx2 (Async)Client; returns it."""
    hooks = dict(client.event_hooks)
    is_async = hasattr(client, "aclose")
    hook = auth.aredirect_hook if is_async else auth.redirect_hook
    hooks["request"] = [*hooks.get("request", []), hook]
    client.event_hooks = hooks
    return client
