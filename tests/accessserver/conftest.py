"""Fixtures for the access server tests: the four parties on one in-process network."""

from __future__ import annotations

import pytest

from ..conftest import FrozenClock
from .harness import FourParty, build


@pytest.fixture
def four(clock: FrozenClock) -> FourParty:
    return build(clock)
