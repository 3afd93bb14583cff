"""Fixtures for the aauth-11 resource tests: an agent provider published on the test network."""

from __future__ import annotations

import pytest

from aauth_core.keys import SigningKey

from ..conftest import World
from .mint import publish_ap


def pytest_configure(config: pytest.Config) -> None:
    """Django is configured as in tests/django, so this directory also runs on its own."""
    import django
    from django.conf import settings

    from ..django.conftest import SETTINGS

    if not settings.configured:
        settings.configure(**SETTINGS)
        django.setup()


@pytest.fixture
def ap_key(world: World) -> SigningKey:
    key = SigningKey.generate(kid="ap-key-1")
    publish_ap(world.network, key)
    return key


@pytest.fixture
def agent_key() -> SigningKey:
    return SigningKey.generate()
