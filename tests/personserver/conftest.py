"""Fixtures: the in-process aauth-11 stack of :mod:`.stack`, with a frozen clock."""

from __future__ import annotations

import pytest

from aauth_core.authserver import AllowAll

from ..conftest import FrozenClock
from .stack import Stack, make_stack


@pytest.fixture
def stack(clock: FrozenClock) -> Stack:
    """The default person server: consent required (RequireConsent)."""
    return make_stack(clock)


@pytest.fixture
def open_stack(clock: FrozenClock) -> Stack:
    """A person server that grants autonomously (AllowAll: an explicit choice of the deployment)."""
    return make_stack(clock, policy=AllowAll())
