"""The conformance routes, the settings they run under, and what each route declares.

Every adapter variant serves the same five paths, each accepting every method the
table sends, and records when a route's own code runs (never when it was refused):

| path | path rule | decorator |
|---|---|---|
| ``/open`` | none | none |
| ``/protected`` | none | ``identity`` |
| ``/ruled/plain`` | ``identity`` (``/ruled/``) | none |
| ``/ruled/scoped`` | ``identity`` (``/ruled/``) | ``authorization:data.read`` |
| ``/exempt/plain`` | exempt (``/exempt/``) | none |
| ``/exempt/protected`` | exempt (``/exempt/``) | ``identity`` |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..conftest import ISSUER, RESOURCE

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE")

SETTINGS: dict[str, Any] = dict(
    resource_id=RESOURCE,
    auth_server=ISSUER,
    trusted_issuers=(ISSUER,),
    resource_scopes=("data.read", "data.write"),
    protected_paths={"/ruled/": "identity"},
    exempt_paths=("/.well-known/", "/jwks.json", "/exempt/"),
)


@dataclass(frozen=True)
class Route:
    path: str
    ruled: bool = False  # under a path rule demanding identity
    exempt: bool = False  # under an exempt prefix
    decorator: str | None = None  # the route's own requirement spec

    @property
    def protected(self) -> bool:
        return self.decorator is not None or (self.ruled and not self.exempt)


ROUTES = (
    Route("/open"),
    Route("/protected", decorator="identity"),
    Route("/ruled/plain", ruled=True),
    Route("/ruled/scoped", ruled=True, decorator="authorization:data.read"),
    Route("/exempt/plain", exempt=True),
    Route("/exempt/protected", exempt=True, decorator="identity"),
)
DECORATED = {r.path: r.decorator for r in ROUTES if r.decorator is not None}
