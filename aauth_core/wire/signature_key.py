"""Signature-Key (protocol A4, B §2; SK-09 §3): which key made the signature.

January (:func:`parse_signature_key`): the dialect's transcript form
``label=(scheme=jwks id="..." kid="...")`` is read by hand (no structured-field parser
accepts it); the RFC 8941 form ``label=jwks_uri;id="...";kid="..."`` goes through
:mod:`.sf`, its scheme and parameter names mapped onto this dialect's.  Exactly one member.

aauth-11 (:func:`parse_signature_key_member`): the RFC 9651 Dictionary of
draft-hardt-httpbis-signature-key-09, one member per label, the scheme a Token:
``sig=jwt;jwt="..."``, ``sig=jwks_uri;id="...";dwk="...";kid="..."``,
``sig=hwk;kty=...;crv=...;x=...;alg=...``, ``sig=jkt-jwt;jwt="..."``.  The member for the
signature's label is selected; the others are never looked at.

Both give one :class:`SignatureKey` whose ``raw`` is the header text as received: the
``signature-key`` component is that text, never a re-serialisation (open point 16).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from .. import dialect
from ..cache import memoize
from ..errors import HeaderError
from ..keys import KeyError_, PublicKey, b64url_decode, b64url_encode, check_jwk_alg
from . import sf
from .checks import check_length, parse_dictionary, single_member

__all__ = [
    "SK_JWK_ALGS",
    "Scheme",
    "SignatureKey",
    "SignatureKeyMember",
    "format_signature_key",
    "parse_signature_key",
    "parse_signature_key_member",
    "read_signature_key_member",
]

_CODE = "invalid_signature_key"

Scheme = Literal["hwk", "jwks", "jwt", "x509", "jkt-jwt"]
_SK_PARAM_ORDER: dict[str, tuple[str, ...]] = {
    "hwk": ("kty", "crv", "x", "y", "n", "e"),
    "jwks": ("jwks", "id", "kid", "well-known"),
    "jwt": ("jwt",),
    "x509": ("x5u", "x5t"),
    "jkt-jwt": ("jwt",),
}
#: The schemes January reads (``jkt-jwt`` exists only in the SK-09 form).
_JANUARY_SCHEMES = frozenset({"hwk", "jwks", "jwt", "x509"})
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
    #: Boolean parameters sent bare (SK-09: ``cache`` on ``jwt`` and ``jkt-jwt``).
    flags: frozenset[str] = frozenset()
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

    @property
    def wire_scheme(self) -> str:
        """The scheme's SK-09 name: ``jwks_uri`` for a ``jwks`` key found by ``id``."""
        if self.scheme == "jwks":
            return "jwks_uri" if "id" in self.params else "jwks"
        return self.scheme

    def hwk_key(self) -> PublicKey:
        """The inline key of ``scheme=hwk`` (B §2.2)."""
        key = self._inline_key
        if key is None:
            key = _hwk_key(self.params)
            object.__setattr__(self, "_inline_key", key)
        return key

    @classmethod
    def build(cls, scheme: Scheme, params: Mapping[str, str], *, label: str = "sig1",
              fmt: Literal["transcript", "sf", "sk"] = "transcript",
              flags: frozenset[str] = frozenset()) -> SignatureKey:
        """Construct (and validate) a Signature-Key to send, with its ``raw`` text.

        ``fmt="sk"`` writes the SK-09 Dictionary form (aauth-11) and checks it by parsing
        it back with :func:`parse_signature_key_member`, SK-09's rules and all."""
        ordered = {k: params[k] for k in _SK_PARAM_ORDER[scheme] if k in params}
        ordered.update({k: v for k, v in params.items() if k not in ordered})
        sk = cls(label=label, scheme=scheme, params=MappingProxyType(ordered), flags=flags)
        if flags and fmt != "sk":
            raise HeaderError("only the SK-09 form carries flags such as 'cache'", code=_CODE)
        if fmt == "sk":
            return parse_signature_key_member(format_signature_key(sk, fmt), label)
        _validate_scheme(scheme, ordered)
        return cls(label=label, scheme=scheme, params=sk.params, raw=format_signature_key(sk, fmt), flags=flags)


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
    if scheme not in _JANUARY_SCHEMES:
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


def _check_hwk(params: Mapping[str, str], algs: tuple[str, ...] = dialect.JWK_ALGS, *,
               alg_required: bool = False) -> None:
    needed = _HWK_MEMBERS.get(params.get("kty", ""))
    if needed is None:
        raise HeaderError("hwk requires 'kty' of OKP, EC or RSA", code=_CODE)
    missing = [n for n in needed if n not in params]
    if missing:
        raise HeaderError(f"hwk key is missing {', '.join(missing)}", code=_CODE)
    # Decision P4: an 'alg' that fits the key is accepted (SK-09 requires one), any other refused.
    try:
        check_jwk_alg(params, algs, required=alg_required)
    except KeyError_ as exc:
        raise HeaderError(f"hwk {exc.description}", code=exc.code) from None


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


_SCHEME_CHECKS = {"hwk": _check_hwk, "jwks": _check_jwks, "jwt": _check_jwt, "x509": _check_x509,
                  "jkt-jwt": _check_jwt}


def format_signature_key(sk: SignatureKey, fmt: Literal["transcript", "sf", "sk"] = "transcript") -> str:
    """Serialise a Signature-Key: the transcript form (default, A4), the RFC 8941 form of
    January's later drafts, or (``"sk"``) the SK-09 form aauth-11 uses."""
    if fmt == "sk":
        return _format_sk(sk)
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


# ----------------------------------------------------------------------------- SK-09 (aauth-11)

#: The fully specified JOSE names SK-09 keys may carry that this package implements.
SK_JWK_ALGS: tuple[str, ...] = ("Ed25519", "ES256")

#: SK-09 scheme → (our scheme, its parameters as SK-09 names them → our names).  Parameters
#: a scheme does not define are ignored; ``kid`` on ``hwk`` is understood and refused.
_SK_SCHEMES: dict[str, tuple[Scheme, dict[str, str]]] = {
    "hwk": ("hwk", {n: n for n in ("kty", "crv", "x", "y", "n", "e", "alg")}),
    "jwt": ("jwt", {"jwt": "jwt"}),
    "jkt-jwt": ("jkt-jwt", {"jwt": "jwt"}),
    "jwks_uri": ("jwks", {"id": "id", "dwk": "well-known", "kid": "kid"}),
    "jwks": ("jwks", {"url": "jwks", "kid": "kid"}),
    "x509": ("x509", {"x5u": "x5u", "x5t": "x5t"}),
}
#: Parameters each SK-09 scheme requires (SK-09 §3.4-3.10; hwk's key members by ``kty``).
_SK_REQUIRED: dict[str, tuple[str, ...]] = {
    "jwt": ("jwt",), "jkt-jwt": ("jwt",), "jwks_uri": ("id", "dwk", "kid"), "jwks": ("url", "kid"),
    "x509": ("x5u", "x5t"),
}
#: Parameters SK-09 carries as Byte Sequences; we keep them as base64url text like January.
_SK_BYTES = frozenset({"x5t"})


@dataclass(frozen=True, slots=True)
class SignatureKeyMember:
    """One member of an SK-09 Signature-Key Dictionary, as sent: the scheme Token, its
    String (and Byte Sequence) parameters, its bare Boolean ones.  Nothing is checked
    beyond the syntax: :func:`parse_signature_key_member` applies the scheme's rules."""

    label: str
    scheme: str
    #: String parameters.
    params: Mapping[str, str]
    #: Bare (true) Boolean parameters.
    flags: frozenset[str]
    #: Byte Sequence parameters, as base64url text.
    byte_params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def read_signature_key_member(value: str, label: str) -> SignatureKeyMember:
    """The member of Signature-Key for ``label`` (SK-09 §3): the header is an RFC 9651
    Dictionary, other members may use schemes or syntax we do not know and are ignored."""
    check_length("Signature-Key", value, _CODE)
    members = parse_dictionary("Signature-Key", value, _CODE)
    member = members.get(label)
    if member is None:
        raise HeaderError(f"Signature-Key has no member for the signature's label {label!r}", code="label_mismatch")
    if not isinstance(member, sf.Item) or not isinstance(member.value, sf.Token):
        raise HeaderError("Signature-Key member must be a scheme token with parameters", code=_CODE)
    params: dict[str, str] = {}
    byte_params: dict[str, str] = {}
    flags: set[str] = set()
    for name, pvalue in member.params.items():
        if pvalue is True:
            flags.add(name)
        elif isinstance(pvalue, bytes):
            byte_params[name] = b64url_encode(pvalue)
        elif isinstance(pvalue, str) and not isinstance(pvalue, sf.Token):
            params[name] = pvalue
        # other types: a parameter no scheme we implement defines; ignored like unknown ones
    return SignatureKeyMember(label, str(member.value), MappingProxyType(params), frozenset(flags),
                              MappingProxyType(byte_params))


def parse_signature_key_member(value: str, label: str, *, schemes: tuple[str, ...] | None = None,
                               jwk_algs: tuple[str, ...] = SK_JWK_ALGS) -> SignatureKey:
    """Parse Signature-Key in the SK-09 form and select ``label``'s member (aauth-11).

    ``schemes`` (SK-09 names: ``jwt``, ``jwks_uri``...) are those the caller accepts: any
    other is ``unsupported_scheme`` before its parameters are read (-11 §11.3.4 step 4), as
    is a scheme we do not implement (``self-jwt``, ``cached``, an unregistered one).  A
    String parameter of the wrong type counts as absent.  ``raw`` is ``value`` unchanged.
    Memoised (bounded) like :func:`parse_signature_key`.
    """
    return _parse_member((value, label, schemes, jwk_algs))


@memoize(512)
def _parse_member(args: tuple[str, str, tuple[str, ...] | None, tuple[str, ...]]) -> SignatureKey:
    value, label, schemes, jwk_algs = args
    member = read_signature_key_member(value, label)
    entry = _SK_SCHEMES.get(member.scheme)
    if entry is None or (schemes is not None and member.scheme not in schemes):
        raise HeaderError(f"Signature-Key scheme {member.scheme[:40]!r} is not accepted here",
                          code="unsupported_scheme")
    ours, names = entry
    # Each parameter of the type SK-09 gives it; one of another type counts as absent.
    given = {n: v for n, v in member.params.items() if n not in _SK_BYTES}
    given.update((n, v) for n, v in member.byte_params.items() if n in _SK_BYTES)
    missing = [n for n in _SK_REQUIRED.get(member.scheme, ()) if not given.get(n)]
    if missing:
        raise HeaderError(f"{member.scheme} scheme requires {', '.join(missing)}", code=_CODE)
    params = {names[n]: v for n, v in given.items() if n in names}
    if ours == "hwk":
        if "kid" in member.params:
            raise HeaderError("hwk keys must not carry 'kid' (SK-09 §3.4)", code=_CODE)
        _check_hwk(params, jwk_algs, alg_required=True)
    well_known = params.get("well-known")
    if well_known is not None and not _WELL_KNOWN_SUFFIX.fullmatch(well_known):
        raise HeaderError("'dwk' must be a well-known URI suffix", code=_CODE)
    flags = member.flags & {"cache"} if ours in ("jwt", "jkt-jwt") else frozenset()
    return SignatureKey(label=label, scheme=ours, params=MappingProxyType(params), raw=value, flags=flags)


#: Our parameter names → SK-09's, per SK-09 scheme, in the order SK-09's examples write them.
_SK_OUT: dict[str, tuple[tuple[str, str], ...]] = {
    "jwks_uri": (("id", "id"), ("well-known", "dwk"), ("kid", "kid")),
    "jwks": (("jwks", "url"), ("kid", "kid")),
}


def _format_sk(sk: SignatureKey) -> str:
    scheme = sk.wire_scheme
    names = _SK_OUT.get(scheme) or tuple((n, n) for n in sk.params)
    out = [f"{sk.label}={scheme}"]
    for ours, theirs in names:
        value = sk.params.get(ours)
        if value is None:
            continue
        if theirs in _SK_BYTES:
            try:
                out.append(f";{theirs}={sf.serialize_bare_item(b64url_decode(value))}")
            except ValueError:
                raise HeaderError(f"'{theirs}' must be base64url", code=_CODE) from None
        else:
            out.append(f";{theirs}={sf.serialize_bare_item(value)}")
    out.extend(f";{flag}" for flag in sorted(sk.flags))
    return "".join(out)
