"""Signature-Key (protocol A4, B §2): which key made the signature, in either syntax.

The dialect's transcript form ``label=(scheme=jwks id="..." kid="...")`` is read by
hand (no structured-field parser accepts it); the RFC 8941 form
``label=jwks_uri;jwks="...";kid="..."`` goes through :mod:`.sf`, its older scheme
and parameter names mapped onto this dialect's.  Both give one :class:`SignatureKey`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from ..cache import memoize
from ..errors import HeaderError
from ..keys import KeyError_, PublicKey
from . import sf
from .checks import check_length, parse_dictionary, single_member

__all__ = ["Scheme", "SignatureKey", "format_signature_key", "parse_signature_key"]

_CODE = "invalid_signature_key"

Scheme = Literal["hwk", "jwks", "jwt", "x509"]
_SK_PARAM_ORDER: dict[str, tuple[str, ...]] = {
    "hwk": ("kty", "crv", "x", "y", "n", "e"),
    "jwks": ("jwks", "id", "kid", "well-known"),
    "jwt": ("jwt",),
    "x509": ("x5u", "x5t"),
}
# RFC 8941-era scheme names and parameter spellings, mapped onto this dialect's.
_SF_SCHEME_ALIASES = {"jwks_uri": "jwks"}
_SF_PARAM_ALIASES = {"dwk": "well-known", "jwks_uri": "jwks"}
_TRANSCRIPT_FORM = re.compile(r"(?P<label>[a-z*][a-z0-9_\-.*]*)=\((?P<body>[^()]*)\)")
_TRANSCRIPT_PARAM = re.compile(r'(?P<name>[a-z][a-z0-9_\-]*)=(?:"(?P<q>(?:[^"\\]|\\.)*)"|(?P<t>[^\s"()]+))')
_TRANSCRIPT_START = re.compile(r"[a-z*][a-z0-9_\-.*]*=\(")
_WELL_KNOWN_SUFFIX = re.compile(r"[a-z0-9][a-z0-9._\-]*")
_HWK_MEMBERS = {"OKP": ("crv", "x"), "EC": ("crv", "x", "y"), "RSA": ("n", "e")}


@dataclass(frozen=True, slots=True)
class SignatureKey:
    """A parsed Signature-Key member.

    ``raw`` is the header text exactly as received (or as we will send it): it is
    the value of the ``signature-key`` covered component, which cannot be
    re-serialised from the parsed form (protocol B §11.3).
    """

    label: str
    scheme: Scheme
    params: Mapping[str, str] = field(default_factory=dict)
    raw: str = ""
    #: The imported hwk key, set on first use.  Parses are memoised, so a pseudonymous
    #: agent's every request finds its key here: the one cache of that fact.
    _inline_key: PublicKey | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def jwt(self) -> str | None:
        return self.params.get("jwt")

    @property
    def kid(self) -> str | None:
        return self.params.get("kid")

    @property
    def id(self) -> str | None:
        return self.params.get("id")

    @property
    def well_known(self) -> str | None:
        return self.params.get("well-known")

    @property
    def jwks_uri(self) -> str | None:
        return self.params.get("jwks")

    def hwk_key(self) -> PublicKey:
        """The inline key of ``scheme=hwk`` (B §2.2)."""
        key = self._inline_key
        if key is None:
            key = _hwk_key(self.params)
            object.__setattr__(self, "_inline_key", key)
        return key

    @classmethod
    def build(cls, scheme: Scheme, params: Mapping[str, str], *, label: str = "sig1",
              fmt: Literal["transcript", "sf"] = "transcript") -> SignatureKey:
        """Construct (and validate) a Signature-Key to send, with its ``raw`` text."""
        ordered = {k: params[k] for k in _SK_PARAM_ORDER[scheme] if k in params}
        ordered.update({k: v for k, v in params.items() if k not in ordered})
        _validate_scheme(scheme, ordered)
        sk = cls(label=label, scheme=scheme, params=MappingProxyType(ordered))
        return cls(label=label, scheme=scheme, params=sk.params, raw=format_signature_key(sk, fmt))


def _hwk_key(params: Mapping[str, str]) -> PublicKey:
    try:
        return PublicKey.from_jwk(dict(params))
    except KeyError_ as exc:
        raise HeaderError(f"Signature-Key hwk key is invalid: {exc.description}", code=_CODE) from None


@memoize(512)
def parse_signature_key(value: str) -> SignatureKey:
    """Parse Signature-Key in either the transcript form or the RFC 8941 form (A4).

    Memoised: a ``scheme=jwt`` agent sends the same value on every request until
    its token expires, and the result is immutable.
    """
    check_length("Signature-Key", value, _CODE)
    text = value.strip(" \t")
    m = _TRANSCRIPT_FORM.fullmatch(text)
    if m is not None:
        label, params = m.group("label"), _parse_transcript_params(m.group("body"))
        scheme = params.pop("scheme", None)
        if scheme is None:
            raise HeaderError("Signature-Key has no 'scheme'", code=_CODE)
    elif _TRANSCRIPT_START.match(text):
        # Looks like the transcript form but did not match it exactly: a second
        # member, nesting, or junk after ')'.
        raise HeaderError("Signature-Key must have exactly one member in the form label=(scheme=...)", code=_CODE)
    else:
        label, scheme, params = _parse_sf_signature_key(text)
    scheme = _SF_SCHEME_ALIASES.get(scheme, scheme)
    if scheme not in _SK_PARAM_ORDER:
        raise HeaderError(f"unsupported Signature-Key scheme {scheme!r}", code="unsupported_scheme")
    _validate_scheme(scheme, params)
    return SignatureKey(label=label, scheme=scheme, params=MappingProxyType(params), raw=value)  # type: ignore[arg-type]


def _parse_transcript_params(body: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = 0
    body = body.strip(" ")
    while pos < len(body):
        m = _TRANSCRIPT_PARAM.match(body, pos)
        if m is None:
            raise HeaderError("Signature-Key parameter list is malformed", code=_CODE)
        name = m.group("name")
        if name in params:
            raise HeaderError(f"Signature-Key parameter {name!r} is repeated", code=_CODE)
        quoted = m.group("q")
        params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else m.group("t")
        pos = m.end()
        if pos < len(body):
            if body[pos] != " ":
                raise HeaderError("Signature-Key parameters must be separated by spaces", code=_CODE)
            while pos < len(body) and body[pos] == " ":
                pos += 1
    return params


def _parse_sf_signature_key(text: str) -> tuple[str, str, dict[str, str]]:
    label, member = single_member("Signature-Key", parse_dictionary("Signature-Key", text, _CODE), _CODE)
    if not isinstance(member, sf.Item) or not isinstance(member.value, sf.Token):
        raise HeaderError("Signature-Key member must be a scheme token with parameters", code=_CODE)
    params: dict[str, str] = {}
    for name, pvalue in member.params.items():
        if not isinstance(pvalue, str):
            raise HeaderError(f"Signature-Key parameter {name!r} must be a string", code=_CODE)
        params[_SF_PARAM_ALIASES.get(name, name)] = str(pvalue)
    return label, str(member.value), params


def _validate_scheme(scheme: str, params: Mapping[str, str]) -> None:
    """The parameters each scheme requires and forbids (B §2.2-2.5)."""
    check = _SCHEME_CHECKS.get(scheme)
    if check is None:
        raise HeaderError(f"unsupported Signature-Key scheme {scheme!r}", code="unsupported_scheme")
    check(params)


def _check_hwk(params: Mapping[str, str]) -> None:
    if "alg" in params:
        raise HeaderError("hwk keys must not carry 'alg'", code=_CODE)
    needed = _HWK_MEMBERS.get(params.get("kty", ""))
    if needed is None:
        raise HeaderError("hwk requires 'kty' of OKP, EC or RSA", code=_CODE)
    missing = [n for n in needed if n not in params]
    if missing:
        raise HeaderError(f"hwk key is missing {', '.join(missing)}", code=_CODE)


def _check_jwks(params: Mapping[str, str]) -> None:
    has_jwks, has_id = "jwks" in params, "id" in params
    if has_jwks == has_id:
        raise HeaderError("jwks scheme needs exactly one of 'jwks' and 'id'", code=_CODE)
    if has_jwks and "well-known" in params:
        raise HeaderError("'well-known' is only allowed with 'id'", code=_CODE)
    if "kid" not in params:
        raise HeaderError("jwks scheme requires 'kid'", code=_CODE)
    well_known = params.get("well-known")
    if well_known is not None and not _WELL_KNOWN_SUFFIX.fullmatch(well_known):
        raise HeaderError("'well-known' must be a well-known URI suffix", code=_CODE)


def _check_jwt(params: Mapping[str, str]) -> None:
    if not params.get("jwt"):
        raise HeaderError("jwt scheme requires the 'jwt' parameter", code=_CODE)


def _check_x509(params: Mapping[str, str]) -> None:
    if "x5u" not in params or "x5t" not in params:
        raise HeaderError("x509 scheme requires 'x5u' and 'x5t'", code=_CODE)


_SCHEME_CHECKS = {"hwk": _check_hwk, "jwks": _check_jwks, "jwt": _check_jwt, "x509": _check_x509}


def format_signature_key(sk: SignatureKey, fmt: Literal["transcript", "sf"] = "transcript") -> str:
    """Serialise a Signature-Key: the transcript form (default, A4) or the RFC 8941 form."""
    if fmt == "transcript":
        parts = [f"scheme={sk.scheme}"]
        for name, value in sk.params.items():
            if '"' in value or "\\" in value:
                raise HeaderError("Signature-Key values must not contain quotes", code=_CODE)
            parts.append(f'{name}="{value}"')
        return f"{sk.label}=({' '.join(parts)})"
    scheme = "jwks_uri" if sk.scheme == "jwks" and "id" in sk.params else sk.scheme
    out = [f"{sk.label}={scheme}"]
    for name, value in sk.params.items():
        if sk.scheme == "jwks" and "id" in sk.params and name == "well-known":
            name = "dwk"
        out.append(f";{name}={sf.serialize_bare_item(value)}")
    return "".join(out)
