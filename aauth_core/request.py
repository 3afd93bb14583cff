"""The neutral request object every adapter builds.

Adapters translate their framework's request into a :class:`RequestView` and never
parse a signature header themselves.  The view keeps the *raw* path and query as
they arrived on the wire, because the signature covers those bytes, not a
decoded or re-encoded form.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Headers", "RequestView"]


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only header mapping.

    Repeated fields are kept as a list (see :meth:`get_all`); looking one up with
    ``[]`` joins them with ``", "`` as RFC 9110 allows, so a duplicated signature
    header shows up as a two-member dictionary and is rejected by the parsers.
    """

    __slots__ = ("_fields",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        fields: dict[str, list[str]] = {}
        pairs = items.items() if isinstance(items, Mapping) else items
        for name, value in pairs:
            fields.setdefault(name.lower(), []).append(value)
        self._fields = fields

    @classmethod
    def from_asgi(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """From an ASGI scope's ``headers`` (byte pairs, names already lower-case).

        The per-request hot path of the ASGI adapters: no name folding, no generator.
        """
        fields: dict[str, list[str]] = {}
        for name, value in raw:
            key = name.decode("latin-1").lower()  # lower-case per the ASGI spec; fold anyway, it is cheap
            values = fields.get(key)
            if values is None:
                fields[key] = [value.decode("latin-1")]
            else:
                values.append(value.decode("latin-1"))
        headers = cls.__new__(cls)
        headers._fields = fields
        return headers

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Headers:
        """From a WSGI environ (or Django's ``request.META``): ``HTTP_*``, ``CONTENT_TYPE``, ``CONTENT_LENGTH``.

        A view, not a copy: each name is looked up in the environ when asked for, so
        a request costs a handful of dictionary lookups however large the environ
        (Django's ``META`` carries the whole process environment).
        """
        return _EnvironHeaders(environ)

    def __getitem__(self, name: str) -> str:
        return ", ".join(self._fields[name.lower()])

    def get(self, name: str, default: Any = None) -> Any:  # Mapping.get, without raising KeyError inside
        values = self._fields.get(name.lower())
        return default if values is None else ", ".join(values)

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def has_any(self, names: frozenset[str]) -> bool:
        """True when any of ``names`` (lower-case) is present: one set operation."""
        return not self._fields.keys().isdisjoint(names)

    def get_all(self, name: str) -> list[str]:
        """Every value the header was sent with, in order."""
        return list(self._fields.get(name.lower(), ()))

    def __repr__(self) -> str:  # never print values: they may hold tokens
        return f"Headers({sorted(self._fields)})"


_CGI_FIELDS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


class _EnvironHeaders(Headers):
    """:class:`Headers` read from a WSGI environ on demand (the server already joined
    repeated fields with ``", "``, so each name has one value)."""

    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:  # no field parsing up front
        self._environ = environ

    @staticmethod
    def _key(name: str) -> str:
        lowered = name.lower()
        return _CGI_FIELDS.get(lowered) or "HTTP_" + lowered.upper().replace("-", "_")

    def _value(self, name: str) -> str | None:
        key = self._key(name)
        value = self._environ.get(key)
        if not isinstance(value, str) or (key in ("CONTENT_TYPE", "CONTENT_LENGTH") and not value):
            return None
        return value

    @property
    def _fields(self) -> dict[str, list[str]]:  # type: ignore[override]  # only for iteration
        fields: dict[str, list[str]] = {}
        for key, value in self._environ.items():
            if key[:5] == "HTTP_" and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                fields[key[5:].replace("_", "-").lower()] = [value]
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                fields[key.replace("_", "-").lower()] = [value]
        return fields

    def __getitem__(self, name: str) -> str:
        value = self._value(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:
        value = self._value(name)
        return default if value is None else value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._value(name) is not None

    def get_all(self, name: str) -> list[str]:
        value = self._value(name)
        return [] if value is None else [value]

    def has_any(self, names: frozenset[str]) -> bool:
        return any(self._value(name) is not None for name in names)


_SIGNATURE_HEADERS = frozenset({"signature", "signature-input", "signature-key"})


@dataclass(frozen=True, slots=True)
class RequestView:
    """What the verifier needs from an HTTP request, and nothing else.

    ``authority`` is the canonical authority (lower-case host, port only when not
    the scheme's default) the *receiver* is configured with; adapters fill it from
    settings, never from ``Host`` alone.  ``path`` and ``query`` are raw (still
    percent-encoded); ``query`` excludes the ``?`` and is ``None`` when the target
    had no ``?`` at all.  ``body`` holds the exact bytes received, or ``None`` when
    the adapter did not read the body (no ``content-digest`` to check).
    """

    method: str
    authority: str
    path: str
    query: str | None = None
    headers: Headers = field(default_factory=Headers)
    body: bytes | None = None
    scheme: str = "https"

    @classmethod
    def from_url(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
        *,
        authority: str | None = None,
    ) -> RequestView:
        """Build a view from an absolute URL (clients, the CLI, tests)."""
        parts = urlsplit(url)
        query: str | None = parts.query if ("?" in url.split("#", 1)[0]) else None
        return cls(
            method=method.upper(),
            authority=authority or canonical_authority(url),
            path=parts.path or "/",
            query=query,
            headers=headers if isinstance(headers, Headers) else Headers(headers),
            body=body,
            scheme=parts.scheme or "https",
        )

    @property
    def is_signed(self) -> bool:
        """True when any of the three signature headers is present."""
        return self.headers.has_any(_SIGNATURE_HEADERS)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_authority(url: str) -> str:
    """RFC 9421 ``@authority`` of an absolute URL: lower-case host, non-default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


__all__ += ["canonical_authority"]
