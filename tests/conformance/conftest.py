"""Django is configured as in tests/django, so this directory also runs on its own."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    import django
    from django.conf import settings

    from ..django.conftest import SETTINGS

    if not settings.configured:
        settings.configure(**SETTINGS)
        django.setup()
