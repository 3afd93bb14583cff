"""Send scenario requests through Django's test clients."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from django.test import AsyncClient, Client

from ..scenarios import Request


class RawPathAsyncClient(AsyncClient):
    """An AsyncClient whose scope is what uvicorn or daphne would build: ``raw_path`` as sent and
    ``path`` percent-decoded as UTF-8 (Django's AsyncClient decodes it as latin-1)."""

    raw_path: bytes | None = None

    def _base_scope(self, **request: Any) -> dict[str, Any]:
        scope = super()._base_scope(**request)
        if self.raw_path is not None:
            scope["raw_path"] = self.raw_path
            scope["path"] = unquote(self.raw_path.partition(b"?")[0].decode("ascii"))
        return scope

    def generic(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        self.raw_path = urlsplit(path).path.encode("ascii")
        return super().generic(method, path, *args, **kwargs)


def _args(req: Request) -> tuple[dict[str, Any], dict[str, str]]:
    headers = dict(req.headers)
    content_type = headers.pop("Content-Type", None)
    kwargs: dict[str, Any] = {"data": req.body or b""}
    if content_type is not None:
        kwargs["content_type"] = content_type
    return kwargs, headers


def send(client: Client, req: Request, **extra: Any) -> Any:
    kwargs, headers = _args(req)
    return client.generic(req.method, req.path, headers=headers, **kwargs, **extra)


async def asend(client: AsyncClient, req: Request, **extra: Any) -> Any:
    kwargs, headers = _args(req)
    return await client.generic(req.method, req.path, headers=headers, **kwargs, **extra)
