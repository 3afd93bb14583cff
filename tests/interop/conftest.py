"""Django is configured as in tests/django, so this directory also runs on its own (our Django
resource in the live rows, ``ours11.py``; the aauth 0.5.0 agent rows, ``test_peers_agent_adapters_11.py``)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    import django
    from django.conf import settings

    from ..django.conftest import SETTINGS

    if not settings.configured:
        settings.configure(**SETTINGS)
        django.setup()
