"""The same public API in all three adapters: names, decorator arguments, their errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aauth_core.context import Requirement
from aauth_core.settings import SettingsError


def _starlette(*args: Any, **kwargs: Any) -> Requirement | None:
    from aauth_starlette import aauth_required

    async def endpoint(request: Any) -> None: ...

    return aauth_required(*args, **kwargs)(endpoint).aauth_requirement  # type: ignore[attr-defined,no-any-return]


def _fastapi(*args: Any, **kwargs: Any) -> Requirement | None:
    from aauth_starlette import RequireAAuth

    return RequireAAuth(*args, **kwargs).requirement


def _flask(*args: Any, **kwargs: Any) -> Requirement | None:
    from aauth_flask import aauth_required

    def view() -> None: ...

    return aauth_required(*args, **kwargs)(view).aauth_requirement  # type: ignore[attr-defined,no-any-return]


def _django(*args: Any, **kwargs: Any) -> Requirement | None:
    from aauth_django import aauth_required

    def view(request: Any) -> None: ...

    return aauth_required(*args, **kwargs)(view).aauth_requirement  # type: ignore[no-any-return]


def _drf(*args: Any, **kwargs: Any) -> Requirement | None:
    from aauth_django.drf import RequiresAAuth

    return RequiresAAuth(*args, **kwargs).aauth_requirement


ADAPTERS: dict[str, Callable[..., Requirement | None]] = {
    "starlette": _starlette, "fastapi": _fastapi, "flask": _flask, "django": _django, "drf": _drf}

GOOD = [
    ((), {}, None),  # nothing: the configured default_requirement
    (("identity",), {}, Requirement("identity")),
    (("authorization",), {"scopes": ["data.read"]}, Requirement("authorization", frozenset({"data.read"}))),
    (("authorization:data.read",), {"scopes": "data.write"},
     Requirement("authorization", frozenset({"data.read", "data.write"}))),
    ((), {"scopes": ["data.read"]}, Requirement("authorization", frozenset({"data.read"}))),  # scopes alone
]
BAD = [(("superuser",), {}), (("signature",), {"scopes": ["data.read"]}), (("identity:data.read",), {}),
       (("authorization",), {"scopes": ["two words"]})]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_decorator_arguments_mean_the_same_everywhere(adapter: str) -> None:
    build = ADAPTERS[adapter]
    for args, kwargs, want in GOOD:
        assert build(*args, **kwargs) == want, (args, kwargs)
    for args, kwargs in BAD:
        with pytest.raises(SettingsError):
            build(*args, **kwargs)


def test_one_name_everywhere_and_the_earlier_names_as_aliases() -> None:
    import aauth_django
    import aauth_flask
    import aauth_starlette

    assert all(hasattr(m, "aauth_required") for m in (aauth_starlette, aauth_flask, aauth_django))
    assert aauth_starlette.requires_aauth is aauth_starlette.aauth_required
    assert aauth_starlette.AAuth is aauth_starlette.RequireAAuth
    assert "raw_path" not in aauth_flask.__all__ and "request_view" not in aauth_flask.__all__
    assert not hasattr(aauth_flask, "raw_path") or "raw_path" not in dir(aauth_flask.__init__)
