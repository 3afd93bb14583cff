"""Django settings for the adapter tests, configured here so other test directories are unaffected.

The service is built by an injected factory (``set_service_factory``) so that
discovery goes through the in-process ``World`` network and time is the frozen
clock; nothing of ours is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings

from ..conftest import ISSUER, RESOURCE, World

AAUTH = {
    "RESOURCE_ID": RESOURCE,
    "AUTH_SERVER": ISSUER,
    "TRUSTED_ISSUERS": [ISSUER],
    "RESOURCE_SCOPES": ["data.read", "data.write"],
}

SETTINGS = dict(
    DEBUG=False,
    SECRET_KEY="aauth-django-tests",
    ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost", "api.example"],
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "aauth_django"],
    MIDDLEWARE=["aauth_django.middleware.AAuthMiddleware"],
    ROOT_URLCONF="tests.django.urls",
    DATABASES={},
    USE_TZ=True,
    AAUTH=AAUTH,
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["aauth_django.drf.AAuthAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": [],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "EXCEPTION_HANDLER": "aauth_django.drf.exception_handler",
    },
)


def pytest_configure(config: pytest.Config) -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(**SETTINGS)
    django.setup()


def factory_for(world: World):
    def build(settings: AAuthSettings) -> AAuthService:
        return AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings),
                            clock=world.clock)

    return build


@pytest.fixture(autouse=True)
def aauth_service(world: World) -> Iterator[None]:
    """Every test gets a fresh service wired to its own World (keys, network, clock, replay cache)."""
    from aauth_django.conf import set_service_factory

    set_service_factory(factory_for(world))
    yield
    set_service_factory(None)
