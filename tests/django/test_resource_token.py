"""``POST /resource/token`` through ``aauth_django.urls``, WSGI and ASGI."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ..conftest import World
from ..resource_token_cases import CASES, Case, check
from .clients import RawPathAsyncClient, asend, send


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_resource_token_endpoint_wsgi(world: World, client: Client, case: Case) -> None:
    response = send(client, case.build(world))
    check(case, world, response.status_code, json.loads(response.content))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_resource_token_endpoint_asgi(world: World, case: Case) -> None:
    response = await asend(RawPathAsyncClient(), case.build(world))
    check(case, world, response.status_code, json.loads(response.content))
