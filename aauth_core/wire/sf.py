"""A small RFC 8941 structured-field parser and serializer, with named tolerances.

Written by hand on purpose: the AAuth dialect breaks RFC 8941 in three places —
base64url (unpadded) byte sequences in ``Signature`` (protocol A3), inner lists
as a parameter value (``algs=(...)`` in ``Agent-Auth``) and the transcript's
``label=(scheme=jwks ...)`` Signature-Key syntax (read by :mod:`.signature_key`) — so
a strict structured-field library rejects real traffic.  Each tolerance is a flag
that only the codec which needs it turns on; everything else is parsed strictly.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

__all__ = [
    "BareItem",
    "InnerList",
    "Item",
    "ParseError",
    "Token",
    "is_token",
    "parse_dictionary",
    "parse_item",
    "parse_list",
    "serialize_inner_list",
    "serialize_item",
    "serialize_params",
]


class ParseError(ValueError):
    """Raised with the byte offset and what was expected there."""


class Token(str):
    """An RFC 8941 Token (unquoted), distinct from a String."""

    __slots__ = ()


BareItem = Union[int, Decimal, str, Token, bytes, bool]  # noqa: UP007 - runtime alias


@dataclass(frozen=True, slots=True)
class Item:
    value: BareItem
    params: dict[str, BareItem | InnerList]


@dataclass(frozen=True, slots=True)
class InnerList:
    items: tuple[Item, ...]
    params: dict[str, BareItem | InnerList]


_KEY_START = re.compile(r"[a-z*]")
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")
# A String: printable ASCII, with only \" and \\ as escapes (RFC 8941 §3.3.3).
_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_UNESCAPE = re.compile(r'\\(["\\])')
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64URL = re.compile(r"[A-Za-z0-9_\-]*={0,2}")


class _Parser:
    def __init__(self, text: str, *, lenient_bytes: bool, inner_list_params: bool) -> None:
        if not text.isascii():
            raise ParseError("header contains non-ASCII characters")
        self.s = text
        self.i = 0
        self.lenient_bytes = lenient_bytes
        self.inner_list_params = inner_list_params

    def fail(self, what: str) -> ParseError:
        return ParseError(f"{what} at offset {self.i}")

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip_sp(self) -> None:
        while self.peek() == " ":
            self.i += 1

    def end_of_member(self) -> bool:
        """After a Dictionary or List member: True at the end of the field, else consume the
        ``,`` before the next member (a trailing comma is an error)."""
        self.skip_ows()
        if self.done():
            return True
        if self.peek() != ",":
            raise self.fail("expected ','")
        self.i += 1
        self.skip_ows()
        if self.done():
            raise self.fail("trailing comma")
        return False

    def skip_ows(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.i += 1

    def key(self) -> str:
        m = _KEY.match(self.s, self.i)
        if not m:
            raise self.fail("expected a key")
        self.i = m.end()
        return m.group()

    def bare_item(self) -> BareItem:
        c = self.peek()
        if c == '"':
            return self.string()
        if c == ":":
            return self.byte_sequence()
        if c == "?":
            self.i += 1
            b = self.peek()
            if b not in ("0", "1"):
                raise self.fail("expected ?0 or ?1")
            self.i += 1
            return b == "1"
        if c == "-" or c.isdigit():
            m = _NUMBER.match(self.s, self.i)
            if not m:
                raise self.fail("malformed number")
            self.i = m.end()
            if self.peek().isdigit() or self.peek() == ".":
                raise self.fail("number too long")
            text = m.group()
            return Decimal(text) if "." in text else int(text)
        m = _TOKEN.match(self.s, self.i)
        if not m:
            raise self.fail("expected an item")
        self.i = m.end()
        return Token(m.group())

    def string(self) -> str:
        m = _STRING.match(self.s, self.i)
        if m is None:
            raise self.fail("malformed string")
        self.i = m.end()
        body = m.group(1)
        return _UNESCAPE.sub(r"\1", body) if "\\" in body else body

    def byte_sequence(self) -> bytes:
        end = self.s.find(":", self.i + 1)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        body = self.s[self.i + 1 : end]
        self.i = end + 1
        stripped = body.rstrip("=")
        padded = stripped + "=" * (-len(stripped) % 4)
        try:
            if _B64.fullmatch(body):
                return base64.b64decode(padded, validate=True)
            if self.lenient_bytes and _B64URL.fullmatch(body):
                return base64.urlsafe_b64decode(padded)
        except ValueError:
            pass
        raise ParseError("malformed byte sequence")

    def params(self) -> dict[str, BareItem | InnerList]:
        out: dict[str, BareItem | InnerList] = {}
        while self.peek() == ";":
            self.i += 1
            self.skip_sp()
            name = self.key()
            if name in out:
                raise self.fail(f"parameter {name!r} is repeated")
            value: BareItem | InnerList = True
            if self.peek() == "=":
                self.i += 1
                value = self.inner_list() if self.peek() == "(" and self.inner_list_params else self.bare_item()
            out[name] = value
        return out

    def inner_list(self) -> InnerList:
        self.i += 1  # "("
        items: list[Item] = []
        while True:
            self.skip_sp()
            if self.peek() == ")":
                self.i += 1
                return InnerList(tuple(items), self.params())
            value = self.bare_item()
            items.append(Item(value, self.params()))
            if self.peek() not in (" ", ")"):
                raise self.fail("expected space or ')' in inner list")

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() == "(":
            return self.inner_list()
        value = self.bare_item()
        return Item(value, self.params())

    def done(self) -> bool:
        return self.i >= len(self.s)


def _strip(text: str) -> str:
    return text.strip(" \t")


def parse_dictionary(text: str, *, lenient_bytes: bool = False) -> dict[str, Item | InnerList]:
    """Parse an RFC 8941 Dictionary.  Duplicate keys are an error here (RFC 8941 keeps
    the last one), because a repeated signature label is an attack, not a typo."""
    p = _Parser(_strip(text), lenient_bytes=lenient_bytes, inner_list_params=False)
    out: dict[str, Item | InnerList] = {}
    if p.done():
        raise ParseError("empty dictionary")
    while True:
        name = p.key()
        if name in out:
            raise ParseError(f"duplicate member {name!r}")
        if p.peek() == "=":
            p.i += 1
            out[name] = p.item_or_inner_list()
        else:
            out[name] = Item(True, p.params())
        if p.end_of_member():
            return out


def parse_list(text: str) -> list[Item | InnerList]:
    """Parse an RFC 8941 List (``Accept-Signature-Scheme: jwks_uri, jwt``).  An empty
    field is an empty list."""
    p = _Parser(_strip(text), lenient_bytes=False, inner_list_params=False)
    out: list[Item | InnerList] = []
    while not p.done():
        out.append(p.item_or_inner_list())
        if p.end_of_member():
            break
    return out


def is_token(text: str) -> bool:
    """True when ``text`` can be written as an RFC 8941 Token."""
    return _TOKEN.fullmatch(text) is not None


def parse_item(text: str, *, inner_list_params: bool = False) -> Item:
    """Parse an RFC 8941 Item (optionally allowing inner lists as parameter values)."""
    p = _Parser(_strip(text), lenient_bytes=False, inner_list_params=inner_list_params)
    value = p.bare_item()
    item = Item(value, _params_ows(p))
    if not p.done():
        raise p.fail("unexpected trailing characters")
    return item


def _params_ows(p: _Parser) -> dict[str, BareItem | InnerList]:
    # The Agent-Auth dialect writes "httpsig; auth-token" with a space before the
    # parameter, which RFC 8941 allows after ';' (handled by params()).
    return p.params()


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, str):
        if not _PRINTABLE.fullmatch(value):
            raise ValueError("string values must be printable ASCII")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    if isinstance(value, int):
        return str(value)
    return format(value, "f")


def serialize_params(params: dict[str, BareItem | InnerList]) -> str:
    out = []
    for name, value in params.items():
        if value is True:
            out.append(f";{name}")
        elif isinstance(value, InnerList):
            out.append(f";{name}={serialize_inner_list(value)}")
        else:
            out.append(f";{name}={serialize_bare_item(value)}")
    return "".join(out)


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    return "(" + " ".join(serialize_item(i) for i in inner.items) + ")" + serialize_params(inner.params)


__all__ += ["serialize_bare_item"]
