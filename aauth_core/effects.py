"""Write a protocol flow once; run it blocking or awaiting (docs/architecture.md, "sans-I/O").

A flow is a generator.  Where it needs I/O it writes ``value = yield from call(f, af,
*args)``: ``f`` is the blocking callable and ``af`` its awaitable twin, with the same
parameters and the same result type, which mypy checks through the :class:`ParamSpec`
(no method names as strings).  :func:`run` performs each :class:`Call` with ``f``;
:func:`arun` awaits ``af``.  An :class:`AAuthError` the call raises is thrown into the
flow at its ``yield``, so the flow reads as straight-line code while parsing, policy
and cryptography stay one code path for both worlds.

The verifier, the auth server and discovery all run on this one driver.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, ParamSpec, TypeVar

from .errors import AAuthError

__all__ = ["Call", "Effect", "Flow", "arun", "call", "run"]

T = TypeVar("T")
P = ParamSpec("P")


class Call(Generic[T]):
    """One I/O effect: ``sync(*args, **kwargs)`` when run blocking, ``await async_(...)`` otherwise."""

    __slots__ = ("args", "async_", "kwargs", "sync")

    def __init__(self, sync: Callable[..., T], async_: Callable[..., Awaitable[T]], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.sync = sync
        self.async_ = async_
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"Call({getattr(self.sync, '__qualname__', self.sync)})"


#: A flow yields effects and returns ``T``; what each ``yield from call(...)`` receives is typed there.
Flow = Generator["Call[Any]", Any, T]
#: What :func:`call` returns: one effect whose result is ``T`` (for helpers that wrap a call).
Effect = Generator["Call[T]", Any, T]


def call(sync: Callable[P, T], async_: Callable[P, Awaitable[T]], /, *args: P.args,
         **kwargs: P.kwargs) -> Generator[Call[T], Any, T]:
    """The effect of calling ``sync`` (or awaiting ``async_``) with these arguments; its result."""
    result: T = yield Call(sync, async_, args, kwargs)
    return result


def run(flow: Flow[T]) -> T:
    """Drive ``flow``, performing every effect with its blocking callable."""
    try:
        effect = next(flow)
        while True:
            try:
                result = effect.sync(*effect.args, **effect.kwargs) if effect.kwargs else effect.sync(*effect.args)
            except AAuthError as exc:
                effect = flow.throw(exc)
                continue
            effect = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value


async def arun(flow: Flow[T]) -> T:
    """Drive ``flow``, awaiting every effect's awaitable twin."""
    try:
        effect = next(flow)
        while True:
            try:
                result = await (effect.async_(*effect.args, **effect.kwargs) if effect.kwargs
                                else effect.async_(*effect.args))
            except AAuthError as exc:
                effect = flow.throw(exc)
                continue
            effect = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
