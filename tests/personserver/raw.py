"""Hand-signed requests to the person server, for the refusal tests: signed as our agent client
signs (SK-09 ``sig=jwt``, body covered), unless a test says otherwise."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from aauth_core.keys import SigningKey

from ..profile11.mint import sign11
from .stack import PS, Stack

BODY_SET = ("@method", "@authority", "@path", "signature-key", "content-digest", "content-type")


def post(stack: Stack, path: str, body: Any, *, key: SigningKey | None = None, token: str | None = None,
         components: tuple[str, ...] = BODY_SET, headers: dict[str, str] | None = None, app: Any = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    key = key or stack.agent_key
    signed = sign11("POST", f"{PS}{path}", key, token or stack.agent_token(key), body=raw,
                    components=components, created=int(stack.clock()), headers=headers)
    return TestClient(app or stack.ps_app, base_url=PS).post(path, content=raw, headers=signed)


def get(stack: Stack, url: str, *, key: SigningKey | None = None, headers: dict[str, str] | None = None,
        app: Any = None) -> Any:
    key = key or stack.agent_key
    signed = sign11("GET", url, key, stack.agent_token(key), created=int(stack.clock()), headers=headers)
    return TestClient(app or stack.ps_app, base_url=PS).get(url, headers=signed)


def person_request(stack: Stack, body: Any, **kw: Any) -> Any:
    return post(stack, "/person", body, **kw)
