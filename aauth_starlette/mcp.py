"""AAuth for MCP servers: the Python MCP SDKs serve Streamable HTTP as a Starlette app.

``AAuthMiddleware`` in front of that app verifies every signed MCP request and
answers an unsigned or under-authorised one with the ``401`` challenge (path rules:
``protect_all`` or ``protected_paths={"/mcp": ...}``).  This module is what a *tool*
needs on top of that, the same for ``mcp`` 2.x (``MCPServer``), ``mcp`` 1.x
(``FastMCP``) and ``fastmcp``:

* :func:`aauth_from_context` — the verified caller, from the tool's context
  (``ctx.request_context.request`` is the Starlette request in every SDK);
* :func:`require_aauth` / :func:`aauth_tool` — a tool demands a level and scopes.
  A tool runs inside an MCP response that has already begun (an SSE stream, or a
  JSON-RPC result the SDK owns), so its refusal is a tool error result
  (``isError: true``) naming the error code and what the tool needs, raised as the
  SDK's own ``ToolError`` so its text reaches the agent.  A requirement that must
  be answered with a challenge (so the agent's client obtains the token and retries
  by itself) belongs on the endpoint, as a path rule;
* :func:`bearer_challenge` — an ``error_handler`` that adds MCP's OAuth challenge
  (``WWW-Authenticate: Bearer resource_metadata=...``, RFC 9728) to AAuth's, for a
  server that accepts both (with ``other_auth=`` on the middleware).

Nothing here imports an MCP SDK.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from aauth_core.cache import memoize
from aauth_core.context import Requirement, VerifiedRequest
from aauth_core.errors import AAuthError
from aauth_core.request import SIGNATURE_HEADERS
from aauth_core.service import AAuthService
from aauth_core.settings import route_requirement

from .context import SCOPE_KEY, SERVICE_KEY, UNVERIFIED_KEY
from .middleware import ErrorHandler

__all__ = ["AAuthToolError", "aauth_from_context", "aauth_tool", "bearer_challenge", "request_from_context",
           "require_aauth"]

F = TypeVar("F", bound=Callable[..., Any])

#: Where each SDK keeps the exception whose text a tool error result carries to the client
#: (``mcp`` 2.x withholds the text of any other exception).  Only modules already imported count.
_TOOL_ERROR_MODULES = ("mcp.server.mcpserver.exceptions", "mcp.server.fastmcp.exceptions", "fastmcp.exceptions")


class AAuthToolError(Exception):
    """A tool refused its caller: ``code`` and ``error`` (the :class:`AAuthError`), and the
    ``requirement`` the tool demands.  Raised as an instance of a class that also derives
    from the ``ToolError`` of every MCP SDK loaded, so each SDK answers with a tool error
    result carrying this text; ``except AAuthToolError`` catches it either way."""

    def __init__(self, error: AAuthError, requirement: Requirement) -> None:
        super().__init__(f"{error.code}: {error.description}; this tool needs {describe(requirement)}")
        self.error = error
        self.code = error.code
        self.requirement = requirement


def describe(requirement: Requirement) -> str:
    """``Requirement("authorization", {"files.write"})`` → ``"an auth token with scope files.write"``."""
    what = {"signature": "a signed request", "identity": "an identified agent", "person": "a person token",
            "authorization": "an auth token"}[requirement.level]
    return f"{what} with scope {' '.join(sorted(requirement.scopes))}" if requirement.scopes else what


@memoize(8)  # one class per set of SDKs loaded: at most 2**3
def _refusal_class(bases: tuple[type[Exception], ...]) -> type[AAuthToolError]:
    return type("AAuthToolError", (AAuthToolError, *bases), {"__module__": __name__, "__qualname__": "AAuthToolError"})


def _refusal(error: AAuthError, requirement: Requirement) -> AAuthToolError:
    bases = []
    for name in _TOOL_ERROR_MODULES:
        module = sys.modules.get(name)
        tool_error = getattr(module, "ToolError", None)
        if isinstance(tool_error, type) and issubclass(tool_error, Exception):
            bases.append(tool_error)
    return _refusal_class(tuple(bases))(error, requirement)


def request_from_context(ctx: Any) -> HTTPConnection | None:
    """The Starlette request behind an MCP tool's context, or ``None`` (stdio, no request).

    ``ctx`` is what the SDK hands a tool: ``mcp`` 2.x ``MCPServer`` and ``mcp`` 1.x
    ``FastMCP`` ``Context``, ``fastmcp``'s ``Context`` (each through
    ``ctx.request_context.request``), the low-level server's ``ServerRequestContext``
    (``ctx.request``), or a Starlette request itself."""
    if isinstance(ctx, HTTPConnection):
        return ctx
    try:
        holder = ctx.request_context  # a property that raises outside a request in some SDKs
    except (AttributeError, LookupError, ValueError, RuntimeError):
        holder = ctx
    request = getattr(holder if holder is not None else ctx, "request", None)
    return request if isinstance(request, HTTPConnection) else None


def aauth_from_context(ctx: Any) -> VerifiedRequest | None:
    """The verified caller of this MCP request (agent, delegate, user ``sub``, ``scope``, ``act``),
    or ``None`` when the request was not signed (or did not come over HTTP)."""
    conn = request_from_context(ctx)
    value = conn.scope.get(SCOPE_KEY) if conn is not None else None
    return value if isinstance(value, VerifiedRequest) else None


def require_aauth(ctx: Any, level: str | Requirement | None = None, /, *,
                  scopes: Iterable[str] | str = ()) -> VerifiedRequest:
    """The verified caller if it meets the requirement; otherwise raise :class:`AAuthToolError`
    (a tool error result naming the code and what is needed).

    Arguments as in ``aauth_required``: no level and no scopes means the configured
    ``default_requirement``; scopes alone mean ``authorization``.  A server without
    ``AAuthMiddleware`` in front of its endpoint (or a stdio server) raises ``RuntimeError``:
    nothing verified the caller, so the tool must not run."""
    return _demand(ctx, route_requirement(level, scopes))


def _demand(ctx: Any, requirement: Requirement | None) -> VerifiedRequest:
    conn = request_from_context(ctx)
    service = conn.scope.get(SERVICE_KEY) if conn is not None else None
    if conn is None or not isinstance(service, AAuthService):
        raise RuntimeError("this tool demands AAuth, but the MCP request did not pass AAuthMiddleware "
                           "(serve the SDK's Streamable HTTP app behind it)")
    if conn.scope.get(UNVERIFIED_KEY):
        raise RuntimeError("the MCP endpoint is in exempt_paths, so AAuthMiddleware verified nothing: "
                           "remove it from exempt_paths")
    needed = requirement or service.default_requirement
    try:
        return service.require(aauth_from_context(conn), needed)
    except AAuthError as exc:
        raise _refusal(exc, needed) from None


@overload
def aauth_tool(func: F, /) -> F: ...


@overload
def aauth_tool(level: str | Requirement | None = None, /, *, scopes: Iterable[str] | str = ()) -> Callable[[F], F]: ...


def aauth_tool(target: Any = None, /, *, scopes: Iterable[str] | str = ()) -> Any:
    """Decorate an MCP tool (below the SDK's ``@mcp.tool()``) so it runs only for a caller that
    meets the requirement; the tool must take the SDK's context (``ctx: Context``).

    ``@aauth_tool``, ``@aauth_tool("identity")``, ``@aauth_tool(scopes=["files.write"])``:
    the arguments of ``aauth_required``.  A refusal is :class:`AAuthToolError`."""
    if callable(target) and not isinstance(target, (str, Requirement)):
        return _decorate(target, None)
    requirement = route_requirement(target, scopes)
    return lambda func: _decorate(func, requirement)


def _decorate(func: F, requirement: Requirement | None) -> F:
    _check_takes_context(func)

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def async_tool(*args: Any, **kwargs: Any) -> Any:
            _demand(_find_context(func, args, kwargs), requirement)
            return await func(*args, **kwargs)

        async_tool.aauth_requirement = requirement  # type: ignore[attr-defined]
        return async_tool  # type: ignore[return-value]

    @functools.wraps(func)
    def tool(*args: Any, **kwargs: Any) -> Any:
        _demand(_find_context(func, args, kwargs), requirement)
        return func(*args, **kwargs)

    tool.aauth_requirement = requirement  # type: ignore[attr-defined]
    return tool  # type: ignore[return-value]


def _is_context_annotation(annotation: Any) -> bool:
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return isinstance(name, str) and name.split("[", 1)[0].rsplit(".", 1)[-1].endswith("Context")


def _check_takes_context(func: Callable[..., Any]) -> None:
    """Fail where the tool is declared when it takes no context to find its request in."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return
    if not any(_is_context_annotation(p.annotation) for p in params):
        raise TypeError(f"@aauth_tool needs {getattr(func, '__qualname__', func)!r} to take the SDK's "
                        "context, e.g. `ctx: Context`")


def _find_context(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    for value in (*args, *kwargs.values()):  # the SDK's context (by its class name), never a tool argument
        if isinstance(value, HTTPConnection) or type(value).__name__.split("[", 1)[0].endswith("Context"):
            return value
    raise RuntimeError(f"@aauth_tool: the SDK passed no context to {getattr(func, '__qualname__', func)!r}")


def bearer_challenge(resource_metadata: str) -> ErrorHandler:
    """An ``error_handler`` for a server that accepts MCP's OAuth bearer tokens beside AAuth.

    Every refusal keeps AAuth's body and ``Agent-Auth`` challenge; a ``401`` to an unsigned
    request also gets ``WWW-Authenticate: Bearer resource_metadata="..."`` (RFC 9728; with
    ``error="invalid_token"`` when it carried a bearer token that nothing accepted), so an
    OAuth client finds the protected resource metadata and an AAuth agent its challenge."""
    quoted = resource_metadata.replace("\\", "\\\\").replace('"', '\\"')

    def handler(request: Request, error: AAuthError) -> Response:
        service = request.scope.get(SERVICE_KEY)
        assert isinstance(service, AAuthService)
        rendered = service.error_response(error)
        response = Response(rendered.body, status_code=rendered.status, headers=dict(rendered.headers))
        if error.status_code == 401 and not any(name in request.headers for name in SIGNATURE_HEADERS):
            params = [f'resource_metadata="{quoted}"']
            if request.headers.get("authorization", "").lower().startswith("bearer "):
                params.insert(0, 'error="invalid_token"')
            response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(params)
        return response

    return handler
