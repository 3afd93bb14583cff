"""``POST /resource/token`` through the Flask extension's blueprint."""

from __future__ import annotations

import pytest

from ..conftest import World
from ..resource_token_cases import CASES, Case, check
from .apps import new_app, send


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_resource_token_endpoint(world: World, case: Case) -> None:
    app, _ = new_app(world)
    response = send(app.test_client(), case.build(world))
    check(case, world, response.status_code, response.get_json())
