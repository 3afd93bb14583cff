"""Fixtures for the aauth-11 resource tests: an agent provider published on the test network."""

from __future__ import annotations

import pytest

from aauth_core.keys import SigningKey

from ..conftest import World
from .mint import ACCESS, PS, publish_ap, publish_server


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


@pytest.fixture
def ps_key(world: World) -> SigningKey:
    """A person server, ``https://ps.example``, published with its ``aauth-person.json``."""
    key = SigningKey.generate(kid="ps-key-1")
    publish_server(world.network, key, PS, "aauth-person.json")
    return key


@pytest.fixture
def as_key(world: World) -> SigningKey:
    """The resource's access server, ``https://access.example`` (``aauth-access.json``)."""
    key = SigningKey.generate(kid="as-key-1")
    publish_server(world.network, key, ACCESS, "aauth-access.json")
    return key
