"""Signature-Input (RFC 9421 §4.1): the covered components and signature parameters.

Two parsers, one answer.  Every signer we know emits one canonical shape
(``label=("c1" "c2");name=value...`` with integers and escape-free strings); that
text is its own serialization, so :func:`_parse_fast` reads it with one regex.
Anything else goes to the general structured-field parser.  The two are checked
against each other on generated input in ``tests/core/test_fast_path_differential.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..cache import memoize
from ..errors import HeaderError
from . import sf
from .checks import check_length, parse_dictionary, single_member

__all__ = ["SignatureParams", "format_signature_input", "parse_signature_input"]

_CODE = "invalid_signature_input"
_SIG_PARAMS_ORDER = ("created", "expires", "nonce", "alg", "keyid", "tag")
_COMPONENT = re.compile(r"@[a-z-]+|[a-z0-9!#$%&'*+\-.^_`|~]+")

#: A parse before its parameters are checked: label, components, parameters in
#: received order, and the member's canonical serialization.
_Parsed = tuple[str, tuple[str, ...], list[tuple[str, sf.BareItem | sf.InnerList]], str]


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """One Signature-Input member: the covered components and their parameters."""

    label: str
    components: tuple[str, ...]
    created: int | None = None
    expires: int | None = None
    nonce: str | None = None
    alg: str | None = None
    keyid: str | None = None
    tag: str | None = None
    #: The received member, re-serialised canonically with its parameters in the
    #: order the signer wrote them (which the signed ``@signature-params`` line keeps).
    serialized: str | None = field(default=None, compare=False)

    def serialize(self) -> str:
        """The inner-list serialization: the ``@signature-params`` value of RFC 9421 §2.3."""
        if self.serialized is not None:
            return self.serialized
        params: dict[str, sf.BareItem | sf.InnerList] = {}
        for name in _SIG_PARAMS_ORDER:
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        inner = sf.InnerList(tuple(sf.Item(c, {}) for c in self.components), params)
        return sf.serialize_inner_list(inner)


@memoize(256)
def parse_signature_input(value: str) -> SignatureParams:
    """Parse a Signature-Input header holding exactly one signature (A5).

    Memoised on the exact text (the result is immutable; errors are not cached):
    under load, every request signed in the same second over the same components
    carries a byte-identical Signature-Input, whoever sent it.
    """
    check_length("Signature-Input", value, _CODE)
    parsed = _parse_fast(value.strip(" \t")) or _parse_general(value)
    return _build(*parsed)


def format_signature_input(params: SignatureParams) -> str:
    return f"{params.label}={params.serialize()}"


# The canonical shape: label=("c1" "c2" ...);name=value... with integers and
# escape-free strings.  Component strings hold no space, so splitting the list at
# spaces finds exactly its members (a space inside one is left to the general parser).
_FAST_INPUT = re.compile(
    r'([a-z*][a-z0-9_\-.*]*)=\(((?:"[\x21\x23-\x5b\x5d-\x7e]*"(?: "[\x21\x23-\x5b\x5d-\x7e]*")*)?)\)'
    r'((?:;[a-z*][a-z0-9_\-.*]*=(?:0|[1-9][0-9]{0,14}|"[\x20\x21\x23-\x5b\x5d-\x7e]*"))*)'
)
_FAST_PARAM = re.compile(r';([a-z*][a-z0-9_\-.*]*)=(?:([0-9]+)|"([^"]*)")')


def _parse_fast(text: str) -> _Parsed | None:
    """The canonical shape read with one regex, or ``None`` to defer to the general parser."""
    fast = _FAST_INPUT.fullmatch(text)
    if fast is None:
        return None
    label = fast.group(1)
    raw_params: list[tuple[str, sf.BareItem | sf.InnerList]] = [
        (m.group(1), int(m.group(2)) if m.group(2) is not None else m.group(3))
        for m in _FAST_PARAM.finditer(fast.group(3))
    ]
    return label, _fast_components(fast.group(2)), raw_params, text[len(label) + 1:]


@memoize(64)
def _fast_components(text: str) -> tuple[str, ...]:
    # Agents send the same few component lists over and over: split and check each once.
    components = tuple(c[1:-1] for c in text.split(" ")) if text else ()
    _check_components(components)
    return components


def _parse_general(value: str) -> _Parsed:
    """Any Signature-Input, through the structured-field parser."""
    label, member = single_member("Signature-Input", parse_dictionary("Signature-Input", value, _CODE), _CODE)
    if not isinstance(member, sf.InnerList):
        raise HeaderError("Signature-Input member must be an inner list", code=_CODE)
    components = []
    for item in member.items:
        if not isinstance(item.value, str) or isinstance(item.value, sf.Token):
            raise HeaderError("covered components must be strings", code=_CODE)
        if item.params:
            raise HeaderError(f"component parameters are not supported ({item.value!r})", code=_CODE)
        components.append(item.value)
    _check_components(components)
    return label, tuple(components), list(member.params.items()), sf.serialize_inner_list(member)


def _check_components(components: Sequence[str]) -> None:
    for component in components:
        if not _COMPONENT.fullmatch(component):
            raise HeaderError(f"invalid component identifier {component!r}", code=_CODE)
    if len(set(components)) != len(components):
        raise HeaderError("a component is covered twice", code=_CODE)


def _build(label: str, components: tuple[str, ...], raw_params: list[tuple[str, sf.BareItem | sf.InnerList]],
           serialized: str) -> SignatureParams:
    """Check the parameters (known, once each, of the right type) either parser found."""
    kwargs: dict[str, Any] = {}
    for name, pvalue in raw_params:
        if name not in _SIG_PARAMS_ORDER:
            raise HeaderError(f"unknown signature parameter {name!r}", code=_CODE)
        if name in kwargs:
            raise HeaderError(f"signature parameter {name!r} is repeated", code=_CODE)
        if name in ("created", "expires"):
            if not isinstance(pvalue, int) or isinstance(pvalue, bool) or pvalue < 0:
                raise HeaderError(f"'{name}' must be a non-negative integer", code=_CODE)
        elif not isinstance(pvalue, str) or isinstance(pvalue, sf.Token):
            raise HeaderError(f"'{name}' must be a string", code=_CODE)
        kwargs[name] = pvalue
    return SignatureParams(label=label, components=components, serialized=serialized, **kwargs)
