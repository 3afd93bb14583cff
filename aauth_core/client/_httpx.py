"""The only place that knows httpx from httpx2.

Both libraries share the ``Auth`` protocol (a generator that yields requests and
receives responses), so one ``Auth`` class serves both: it derives from each
library's ``Auth`` that is installed, tells which library a request came from by
its type, reads the body that library's way (blocking or awaited), then drives
the shared :class:`~aauth_core.client.flow.FlowEngine` generator (or the aauth-11
:class:`~aauth_core.client.flow11.FlowEngine11`, which may also yield a
:class:`~aauth_core.client.pending.Wait`: the driver sleeps, blocking or awaited).  ``library``
only chooses what :meth:`client` builds.  It also provides
the redirect guard: httpx follows redirects *inside* one auth-flow step, copying
every header, so signature headers must be stripped (other origin) or re-signed
(same origin) by a request event hook, which both libraries run for every hop.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, Generator, Mapping
from functools import cache
from typing import Any, Literal, Protocol

from .. import dialect
from .flow import Body, Flow, SignState, origin_of, redirected
from .pending import Wait
from .signer import RequestSigner
from .values import RequestFactory

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


class Engine(Protocol):
    """What the driver needs of an engine (:class:`FlowEngine`, ``FlowEngine11``)."""

    @property
    def identity(self) -> RequestSigner: ...

    def flow(self, request: Any, body: Body, make_request: RequestFactory) -> Flow: ...

    def sign_into(self, request: Any, body: Body, signer: RequestSigner, *, nonce: bool = False) -> None: ...


def _needs_body(outgoing: Any, request: Any, response: Any, engine: Engine) -> bool:
    """Whether the flow reads this response's body: the auth server's answers (metadata, tokens)
    and a challenged answer to the caller's request (its error code).  Any other answer to the
    caller's request goes back unread, so a streamed one (an MCP server's ``text/event-stream``,
    a download) stays a stream: reading it here would wait for its end.  An engine with a
    ``reads_answer`` (aauth-11) says itself which answers it reads."""
    if outgoing is not request:
        return True
    reads = getattr(engine, "reads_answer", None)
    if reads is not None:
        return bool(reads(response))
    return response.status_code in (401, 403) and dialect.CHALLENGE_HEADER in response.headers


def _guard(engine: Engine, request: Any, content: bytes | None) -> None:
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


_LIBRARIES: tuple[Library, ...] = ("httpx", "httpx2")


def _installed() -> list[Any]:
    out = []
    for name in _LIBRARIES:
        try:
            out.append(importlib.import_module(name))
        except ImportError:
            continue
    return out


def _library_of(request: Any) -> Any:
    """The library (module) that built ``request``: ``httpx`` or ``httpx2``."""
    return importlib.import_module(type(request).__module__.partition(".")[0])


class _AuthBehaviour:
    """Signs every request and answers AAuth challenges (see :mod:`aauth_core.client.flow`).

    Pass it as ``auth=`` to an ``httpx`` or ``httpx2`` client, sync or async.  The
    behaviour of the ``AAuth`` class :func:`_universal_auth` builds: that class adds the
    ``Auth`` base of every installed library, so one instance is an ``httpx.Auth`` and
    an ``httpx2.Auth`` at once."""

    requires_request_body = False  # read in the flows below, so digest-carrying streams stay streams
    requires_response_body = False  # read in the flows below only when needed (_needs_body): streams stay streams
    library_name: Library = "httpx"

    def __init__(self, engine: Engine, library: Library = "httpx") -> None:
        self.engine = engine
        self.library_name = library

    def __repr__(self) -> str:
        return f"AAuth(scheme={self.engine.identity.scheme})"

    def _request_factory(self, lib: Any) -> Any:
        def make(method: str, url: str, headers: Mapping[str, str], content: bytes | None) -> Any:
            return lib.Request(method, url, headers=dict(headers), content=content)

        return make

    def _reject_cross_origin_challenge(self, request: Any, response: Any) -> bool:
        return redirected(request, response) and origin_of(str(response.request.url)) != origin_of(
            str(request.url))

    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        return self.sync_auth_flow(request)

    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        lib = _library_of(request)
        flow = self.engine.flow(request, _body_sync(request, lib), self._request_factory(lib))
        try:
            outgoing = next(flow)
            while True:
                if isinstance(outgoing, Wait):
                    outgoing.sleep(outgoing.seconds)
                    outgoing = flow.send(None)
                    continue
                response = yield outgoing
                if _needs_body(outgoing, request, response, self.engine):
                    response.read()
                if outgoing is request and self._reject_cross_origin_challenge(request, response):
                    return
                outgoing = flow.send(response)
        except StopIteration:
            return

    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        lib = _library_of(request)
        flow = self.engine.flow(request, await _body_async(request, lib), self._request_factory(lib))
        try:
            outgoing = next(flow)
            while True:
                if isinstance(outgoing, Wait):
                    await outgoing.asleep(outgoing.seconds)
                    outgoing = flow.send(None)
                    continue
                response = yield outgoing
                if _needs_body(outgoing, request, response, self.engine):
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
        """A ``Client`` of this auth's library, with the redirect guard installed."""
        lib = importlib.import_module(self.library_name)
        return install_redirect_guard(lib.Client(auth=self, **kwargs), self)

    def async_client(self, **kwargs: Any) -> Any:
        """An ``AsyncClient`` of this auth's library, with the redirect guard installed."""
        lib = importlib.import_module(self.library_name)
        return install_redirect_guard(lib.AsyncClient(auth=self, **kwargs), self)


@cache
def _universal_auth() -> type[Any]:
    bases = tuple(lib.Auth for lib in _installed())
    if not bases:
        raise ImportError("aauth_core.client needs httpx (or httpx2) installed")
    return type("AAuth", (_AuthBehaviour, *bases), {"__module__": __name__, "__qualname__": "AAuth",
                                                      "__doc__": _AuthBehaviour.__doc__})


def auth_class(library: Library = "httpx") -> type[Any]:
    """The ``Auth`` class; one class serves both libraries.  ``library`` is kept for
    callers that name one; instances choose theirs with ``AAuth(engine, library)``."""
    if library not in _LIBRARIES:
        raise ValueError(f"library must be one of {_LIBRARIES}")
    return _universal_auth()


def install_redirect_guard(client: Any, auth: Any) -> Any:
    """Add ``auth``'s redirect hook to an existing httpx/httpx2 (Async)Client; returns it."""
    hooks = dict(client.event_hooks)
    is_async = hasattr(client, "aclose")
    hook = auth.aredirect_hook if is_async else auth.redirect_hook
    hooks["request"] = [*hooks.get("request", []), hook]
    client.event_hooks = hooks
    return client
