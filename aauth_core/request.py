"""The neutral request object every adapter builds.

Adapters translate their framework's request into a :class:`RequestView` and never
parse a signature header themselves.  The view keeps the *raw* path and query as
they arrived on the wire, because the signature covers those bytes, not a
decoded or re-encoded form.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

__all__ = ["HEADER_TYPES", "Headers", "RequestView", "SIGNATURE_HEADERS"]


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

        The per-request hot path of the ASGI adapters.  In the usual case (a list,
        every name lower-case ASCII and sent once) nothing is decoded up front: the
        pairs go into a ``dict`` in one C call and a value is decoded when asked for.
        Anything else is copied and folded field by field.
        """
        if type(raw) is list and cls is Headers:
            try:
                pairs: dict[bytes, bytes] = dict(raw)
            except (TypeError, ValueError):  # not hashable byte pairs: the general path reports it
                pairs = {}
            if len(pairs) == len(raw) and (pairs.keys() <= _FOLDED_NAMES or _all_folded(pairs)):
                lazy = _new_object(_AsgiHeaders)
                lazy._raw = pairs
                return lazy
        fields: dict[str, list[str]] = {}
        names = _ASGI_NAMES
        for name, value in raw:
            key = names.get(name)
            if key is None:
                key = name.decode("latin-1").lower()  # lower-case per the ASGI spec; fold anyway
                if len(names) < _NAME_CACHE_SIZE:
                    names[name] = key
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
        headers = _new_object(_EnvironHeaders)  # _EnvironHeaders(environ), without the __init__ call
        headers._environ = environ
        return headers

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

    def component(self, name: str) -> str | None:
        """The field as a covered component (RFC 9421 §2.1): each line trimmed, joined
        with ``", "``; ``None`` when absent.  ``name`` is lower-case, as components are."""
        values = self._fields.get(name)
        if values is None:
            return None
        if len(values) == 1:
            return values[0].strip(" \t")
        return ", ".join(v.strip(" \t") for v in values)

    def __repr__(self) -> str:  # never print values: they may hold tokens
        return f"Headers({sorted(self._fields)})"


#: Memos of per-name string work, each costing a string operation or three per header per
#: request otherwise: decoded, folded ASGI names by their raw bytes; raw ASGI names already
#: folded; the raw name a looked-up name stands for; environ keys by header name.  Bounded,
#: because the names come from clients; past the bound, names are simply computed.
_NAME_CACHE_SIZE = 1024
_ASGI_NAMES: dict[bytes, str] = {}
_FOLDED_NAMES: set[bytes] = set()
_BYTE_KEYS: dict[str, bytes | None] = {}
_BYTE_SETS: dict[frozenset[str], frozenset[bytes]] = {}
_ENVIRON_KEYS: dict[str, str] = {}

_CGI_FIELDS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


class _OneValuePerName(Headers):
    """Header views whose source already holds one value per name (a WSGI environ, an
    ASGI header list without repeats): everything is answered through :meth:`get`."""

    __slots__ = ()

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return str(value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get_all(self, name: str) -> list[str]:
        value = self.get(name)
        return [] if value is None else [value]

    def component(self, name: str) -> str | None:  # one value per name here
        value = self.get(name)
        return None if value is None else value.strip(" \t")


class _EnvironHeaders(_OneValuePerName):
    """:class:`Headers` read from a WSGI environ on demand (the server already joined
    repeated fields with ``", "``, so each name has one value)."""

    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:  # no field parsing up front
        self._environ = environ

    @staticmethod
    def _key(name: str) -> str:
        key = _ENVIRON_KEYS.get(name)
        if key is None:
            lowered = name.lower()
            key = _CGI_FIELDS.get(lowered) or "HTTP_" + lowered.upper().replace("-", "_")
            if len(_ENVIRON_KEYS) < _NAME_CACHE_SIZE:
                _ENVIRON_KEYS[name] = key
        return key

    @property
    def _fields(self) -> dict[str, list[str]]:  # type: ignore[override]  # only for iteration
        fields: dict[str, list[str]] = {}
        for key, value in self._environ.items():
            if key[:5] == "HTTP_" and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                fields[key[5:].replace("_", "-").lower()] = [value]
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                fields[key.replace("_", "-").lower()] = [value]
        return fields

    def get(self, name: str, default: Any = None) -> Any:
        """Every lookup comes here: a string, else ``default`` (an empty CGI field is absent)."""
        key = _ENVIRON_KEYS.get(name) or self._key(name)
        value = self._environ.get(key)
        if type(value) is not str and not isinstance(value, str):
            return default
        if not value and (key == "CONTENT_TYPE" or key == "CONTENT_LENGTH"):
            return default
        return value



    def has_any(self, names: frozenset[str]) -> bool:
        get = self.get
        for name in names:  # noqa: SIM110  # a plain loop: no generator per request
            if get(name) is not None:
                return True
        return False


def _all_folded(pairs: dict[bytes, bytes]) -> bool:
    """Whether every name is lower-case ASCII, so its own folded form (memoised by name)."""
    for name in pairs:
        if name not in _FOLDED_NAMES:
            if not (type(name) is bytes and name.isascii() and name == name.lower()):
                return False
            if len(_FOLDED_NAMES) < _NAME_CACHE_SIZE:
                _FOLDED_NAMES.add(name)
    return True


def _byte_key(name: str) -> bytes | None:
    """The raw ASGI name a looked-up ``name`` stands for (``None``: none, it is not latin-1)."""
    key = _BYTE_KEYS.get(name)
    if key is None:
        try:
            key = name.lower().encode("latin-1")
        except UnicodeEncodeError:
            return None
        if len(_BYTE_KEYS) < _NAME_CACHE_SIZE:
            _BYTE_KEYS[name] = key
    return key


class _AsgiHeaders(_OneValuePerName):
    """:class:`Headers` over an ASGI scope's header pairs, each value decoded when asked for.

    Built by :meth:`Headers.from_asgi` only when every name is lower-case ASCII and
    sent once, so the raw name *is* the folded name and each has one value.
    """

    __slots__ = ("_raw",)

    def __init__(self, raw: dict[bytes, bytes]) -> None:
        self._raw = raw

    @property
    def _fields(self) -> dict[str, list[str]]:  # type: ignore[override]  # only for iteration
        return {name.decode("latin-1"): [value.decode("latin-1")] for name, value in self._raw.items()}


    def get(self, name: str, default: Any = None) -> Any:
        key = _BYTE_KEYS.get(name) or _byte_key(name)
        value = self._raw.get(key) if key is not None else None
        return default if value is None else value.decode("latin-1")

    def __len__(self) -> int:
        return len(self._raw)


    def has_any(self, names: frozenset[str]) -> bool:
        keys = _BYTE_SETS.get(names)
        if keys is None:
            keys = frozenset(key for key in map(_byte_key, names) if key is not None)
            if len(_BYTE_SETS) < _NAME_CACHE_SIZE:
                _BYTE_SETS[names] = keys
        return not self._raw.keys().isdisjoint(keys)


_new_object = object.__new__

#: The three signature headers; any of them present means "signed".
SIGNATURE_HEADERS = frozenset({"signature", "signature-input", "signature-key"})
_NO_HEADERS = Headers()
#: The concrete header types adapters build (checked with ``type() in``: an ABC
#: ``isinstance`` costs more than the rest of the check).
HEADER_TYPES = frozenset({Headers, _EnvironHeaders, _AsgiHeaders})


class RequestView(NamedTuple):
    """What the verifier needs from an HTTP request, and nothing else.

    ``authority`` is the canonical authority (lower-case host, port only when not
    the scheme's default) the *receiver* is configured with; adapters fill it from
    settings, never from ``Host`` alone.  ``path`` and ``query`` are raw (still
    percent-encoded); ``query`` excludes the ``?`` and is ``None`` when the target
    had no ``?`` at all.  ``body`` holds the exact bytes received, or ``None`` when
    the adapter did not read the body (no ``content-digest`` to check).

    Immutable; a named tuple rather than a frozen dataclass because every adapter
    builds one per request, and a tuple is built in a third of the time.  Change
    a field with ``view._replace(body=...)``.
    """

    method: str
    authority: str
    path: str
    query: str | None = None
    headers: Headers = _NO_HEADERS
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
        return self.headers.has_any(SIGNATURE_HEADERS)


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
