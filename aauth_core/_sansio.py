"""Write a protocol flow once; run it blocking or awaiting (architecture convention 2).

A flow is a generator that yields :class:`Call` requests — "call ``method`` of the
collaborator ``target``" — and receives each result.  :func:`run` performs the
call as is; :func:`arun` awaits the collaborator's ``a``-prefixed twin
(``key_for`` → ``akey_for``, ``add`` → ``aadd``).  An :class:`AAuthError` a call
raises is thrown into the flow, so the flow reads like straight-line code while
parsing, policy and cryptography stay one code path for both worlds.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import AAuthError

__all__ = ["Call", "Flow", "arun", "run"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """``owner.<target>.<method>(*args, **kwargs)``, or its ``a<method>`` twin, awaited."""

    target: str
    method: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()


Flow = Generator[Call, Any, T]


def run(owner: object, flow: Flow[T]) -> T:
    """Drive ``flow`` with blocking calls on ``owner``'s collaborators."""
    try:
        call = next(flow)
        while True:
            try:
                method = getattr(getattr(owner, call.target), call.method)
                result = method(*call.args, **dict(call.kwargs)) if call.kwargs else method(*call.args)
            except AAuthError as exc:
                call = flow.throw(exc)
                continue
            call = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value


async def arun(owner: object, flow: Flow[T]) -> T:
    """Drive ``flow`` awaiting the ``a``-prefixed twins of the same calls."""
    try:
        call = next(flow)
        while True:
            try:
                method = getattr(getattr(owner, call.target), "a" + call.method)
                result = await (method(*call.args, **dict(call.kwargs)) if call.kwargs else method(*call.args))
            except AAuthError as exc:
                call = flow.throw(exc)
                continue
            call = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
