"""Django app config: registers the AAuth system checks."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["AauthDjangoConfig"]


class AauthDjangoConfig(AppConfig):  # type: ignore[misc]
    """Add ``"aauth_django"`` to ``INSTALLED_APPS`` to get the ``aauth.*`` system checks."""

    name = "aauth_django"
    label = "aauth_django"
    verbose_name = "AAuth"
    default = True

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
