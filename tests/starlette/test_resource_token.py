"""``POST /resource/token`` through the Starlette middleware."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from ..conftest import RESOURCE, World
from ..resource_token_cases import CASES, Case, check
from .apps import starlette_app


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_resource_token_endpoint(world: World, case: Case) -> None:
    req = case.build(world)
    with TestClient(starlette_app(world), base_url=RESOURCE) as client:
        response = client.request(req.method, req.path, headers=req.headers, content=req.body)
    check(case, world, response.status_code, response.json())
