"""Discovery's only I/O: DNS answers and HTTP GETs, each as a blocking and an awaitable twin.

A GET never follows a redirect, ignores proxy settings from the environment (they
would bypass the SSRF guard), sends ``Accept-Encoding: identity`` and stops reading
as soon as the body passes its limit.  Every transport failure is a
``DiscoveryError`` (``discovery_failed``), never a stray exception.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import DiscoveryError
from ..settings import AAuthSettings
from ..wire.http_fields import bounded_int
from .ssrf import FAILED, Resolver, resolve

__all__ = ["Fetcher", "Response"]


@dataclass(frozen=True, slots=True)
class Response:
    """What discovery keeps of an answer: its status and, for a 200, ``Cache-Control`` and body."""

    status: int
    cache_control: str | None = None
    body: bytes = b""


class _Body:
    """Accumulates a response body and stops as soon as it passes the limit."""

    def __init__(self, response: httpx.Response, host: str, limit: int) -> None:
        self.host, self.limit = host, limit
        self.chunks: list[bytes] = []
        self.size = 0
        declared = bounded_int(response.headers.get("content-length", ""), limit + 1)
        if declared is not None and declared > limit:  # a malformed length is ignored: the body is counted
            raise self._too_large()

    def _too_large(self) -> DiscoveryError:
        return DiscoveryError(f"document from {self.host} exceeds {self.limit} bytes", code="document_too_large")

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise self._too_large()
        self.chunks.append(chunk)

    def done(self, response: httpx.Response) -> Response:
        return Response(200, response.headers.get("cache-control"), b"".join(self.chunks))


def _transport_error(host: str, exc: BaseException) -> DiscoveryError:
    what = "timed out" if isinstance(exc, httpx.TimeoutException | TimeoutError) else "failed"
    return DiscoveryError(f"fetching from {host} {what}", code=FAILED)


class Fetcher:
    """Resolves names and GETs documents; the httpx clients are made on first use."""

    def __init__(
        self,
        settings: AAuthSettings,
        resolver: Resolver,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = settings.discovery_timeout
        self._resolver = resolver
        self._transport = transport
        self._async_transport = async_transport
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None

    def resolve(self, name: str) -> list[str]:
        return resolve(self._resolver, name)

    async def aresolve(self, name: str) -> list[str]:
        return await asyncio.get_running_loop().run_in_executor(None, resolve, self._resolver, name)

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "follow_redirects": False,
            "timeout": self._timeout,
            "headers": {"Accept": "application/json", "Accept-Encoding": "identity"},
            # Proxies from the environment would bypass the address checks; pass a
            # transport to use a proxy deliberately.
            "trust_env": False,
        }

    def get(self, url: str, host: str, max_bytes: int) -> Response:
        """GET ``url`` (``host`` names it in errors), reading at most ``max_bytes`` of body."""
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(transport=self._transport, **self._client_kwargs())
            client = self._client
        deadline = time.monotonic() + self._timeout
        try:
            with client.stream("GET", url) as response:
                if response.status_code != 200:
                    return Response(response.status_code)
                body = _Body(response, host, max_bytes)
                for chunk in response.iter_bytes():
                    body.feed(chunk)
                    if time.monotonic() > deadline:
                        raise TimeoutError
                return body.done(response)
        except (httpx.HTTPError, OSError) as exc:  # TimeoutError is an OSError
            raise _transport_error(host, exc) from exc

    async def aget(self, url: str, host: str, max_bytes: int) -> Response:
        with self._lock:
            if self._aclient is None:
                self._aclient = httpx.AsyncClient(transport=self._async_transport, **self._client_kwargs())
            client = self._aclient
        try:
            async with asyncio.timeout(self._timeout):
                async with client.stream("GET", url) as response:
                    if response.status_code != 200:
                        return Response(response.status_code)
                    body = _Body(response, host, max_bytes)
                    async for chunk in response.aiter_bytes():
                        body.feed(chunk)
                    return body.done(response)
        except (httpx.HTTPError, OSError) as exc:
            raise _transport_error(host, exc) from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        if self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None
        self.close()
