"""Codecs for the AAuth request and challenge headers (the ``aauth-2026-01`` dialect).

Parsers are tolerant exactly where protocol A3/A4 say so — base64url signature
values, the transcript's ``label=(scheme=... ...)`` Signature-Key form — and
strict everywhere else.  A malformed header always becomes a
:class:`~aauth_core.errors.HeaderError` with a stable code, never another
exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

from . import _sf
from .errors import HeaderError
from .keys import KeyError_, PublicKey

__all__ = [
    "AgentAuthChallenge",
    "SignatureKey",
    "SignatureParams",
    "check_content_digest",
    "format_agent_auth",
    "format_content_digest",
    "format_signature",
    "format_signature_input",
    "format_signature_key",
    "parse_agent_auth",
    "parse_content_digest",
    "parse_signature",
    "parse_signature_input",
    "parse_signature_key",
]

MAX_HEADER_LENGTH = 16 * 1024
_HEADER_TEXT = re.compile(r"[\x20-\x7e\t]*")

# --------------------------------------------------------------------------- Signature-Input

_SIG_PARAMS_ORDER = ("created", "expires", "nonce", "alg", "keyid", "tag")
_COMPONENT = re.compile(r"@[a-z-]+|[a-z0-9!#$%&'*+\-.^_`|~]+")


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
        params: dict[str, _sf.BareItem | _sf.InnerList] = {}
        for name in _SIG_PARAMS_ORDER:
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        inner = _sf.InnerList(tuple(_sf.Item(c, {}) for c in self.components), params)
        return _sf.serialize_inner_list(inner)


def _check_length(name: str, value: str) -> None:
    code = "invalid_signature_header" if name == "Signature" else f"invalid_{name.lower().replace('-', '_')}"
    if len(value) > MAX_HEADER_LENGTH:
        raise HeaderError(f"{name} header is too long", code=code)
    if not _HEADER_TEXT.fullmatch(value):
        raise HeaderError(f"{name} header contains non-ASCII or control characters", code=code)


def _single_member(name: str, members: Mapping[str, Any]) -> tuple[str, Any]:
    code = f"invalid_{name.lower().replace('-', '_')}"
    if len(members) != 1:
        raise HeaderError(f"{name} must have exactly one member, found {len(members)}", code=code)
    return next(iter(members.items()))


# The canonical shape every signer we know emits: label=("c1" "c2" ...);name=value...
# with integers and escape-free strings.  Text of this shape is its own canonical
# serialization, so it is parsed here without the general structured-field parser.
_FAST_INPUT = re.compile(
    r'([a-z*][a-z0-9_\-.*]*)=\(((?:"[\x20\x21\x23-\x5b\x5d-\x7e]*"(?: "[\x20\x21\x23-\x5b\x5d-\x7e]*")*)?)\)'
    r'((?:;[a-z*][a-z0-9_\-.*]*=(?:0|[1-9][0-9]{0,14}|"[\x20\x21\x23-\x5b\x5d-\x7e]*"))*)'
)
_FAST_PARAM = re.compile(r';([a-z*][a-z0-9_\-.*]*)=(?:([0-9]+)|"([^"]*)")')


@lru_cache(maxsize=64)
def _fast_components(text: str) -> tuple[str, ...]:
    # Agents send the same few component lists over and over: split and check each once.
    components = tuple(c[1:-1] for c in text.split(" ")) if text else ()
    _check_components(components)
    return components


def _check_components(components: Sequence[str]) -> None:
    code = "invalid_signature_input"
    for component in components:
        if not _COMPONENT.fullmatch(component):
            raise HeaderError(f"invalid component identifier {component!r}", code=code)
    if len(set(components)) != len(components):
        raise HeaderError("a component is covered twice", code=code)


def parse_signature_input(value: str) -> SignatureParams:
    """Parse a Signature-Input header holding exactly one signature (A5).

    Memoised on the exact text (the result is immutable; errors are not cached):
    under load, every request signed in the same second over the same components
    carries a byte-identical Signature-Input, whoever sent it.
    """
    return _parse_signature_input(value)


@lru_cache(maxsize=256)
def _parse_signature_input(value: str) -> SignatureParams:
    code = "invalid_signature_input"
    _check_length("Signature-Input", value)
    text = value.strip(" \t")
    fast = _FAST_INPUT.fullmatch(text)
    if fast is not None:
        label = fast.group(1)
        components = list(_fast_components(fast.group(2)))  # checked (and cached) there
        raw_params: list[tuple[str, _sf.BareItem | _sf.InnerList]] = [
            (m.group(1), int(m.group(2)) if m.group(2) is not None else m.group(3))
            for m in _FAST_PARAM.finditer(fast.group(3))
        ]
        serialized = text[len(label) + 1:]
    else:
        try:
            members = _sf.parse_dictionary(value)
        except _sf.ParseError as exc:
            raise HeaderError(f"Signature-Input is malformed: {exc}", code=code) from None
        label, member = _single_member("Signature-Input", members)
        if not isinstance(member, _sf.InnerList):
            raise HeaderError("Signature-Input member must be an inner list", code=code)
        components = []
        for item in member.items:
            if not isinstance(item.value, str) or isinstance(item.value, _sf.Token):
                raise HeaderError("covered components must be strings", code=code)
            if item.params:
                raise HeaderError(f"component parameters are not supported ({item.value!r})", code=code)
            components.append(item.value)
        raw_params = list(member.params.items())
        serialized = _sf.serialize_inner_list(member)
        _check_components(components)
    kwargs: dict[str, Any] = {}
    for name, pvalue in raw_params:
        if name not in _SIG_PARAMS_ORDER:
            raise HeaderError(f"unknown signature parameter {name!r}", code=code)
        if name in kwargs:
            raise HeaderError(f"signature parameter {name!r} is repeated", code=code)
        if name in ("created", "expires"):
            if not isinstance(pvalue, int) or isinstance(pvalue, bool) or pvalue < 0:
                raise HeaderError(f"'{name}' must be a non-negative integer", code=code)
        elif not isinstance(pvalue, str) or isinstance(pvalue, _sf.Token):
            raise HeaderError(f"'{name}' must be a string", code=code)
        kwargs[name] = pvalue
    return SignatureParams(label=label, components=tuple(components), serialized=serialized, **kwargs)


def format_signature_input(params: SignatureParams) -> str:
    return f"{params.label}={params.serialize()}"


# --------------------------------------------------------------------------- Signature


# label=:<base64url>: and label=:<base64>:, one alphabet each (a value mixing them
# is left to the general parser, which refuses it).  Two single-class patterns, not
# one alternation, which would backtrack over the whole value.
_URLSAFE_TO_STD = bytes.maketrans(b"-_", b"+/")
_FAST_SIGNATURE_URLSAFE = re.compile(r"([a-z*][a-z0-9_\-.*]*)=:([A-Za-z0-9_-]*)={0,2}:")
_FAST_SIGNATURE_STD = re.compile(r"([a-z*][a-z0-9_\-.*]*)=:([A-Za-z0-9+/]*)={0,2}:")
_PADDING = (b"", b"===", b"==", b"=")  # by length % 4; 1 is invalid and a2b_base64 refuses it


def parse_signature(value: str) -> tuple[str, bytes]:
    """Parse a Signature header holding exactly one signature; base64 or base64url (A3)."""
    code = "invalid_signature_header"
    if len(value) <= MAX_HEADER_LENGTH:
        # Every signer we know sends one of these two shapes: the match alone proves the
        # text is printable ASCII, so a request costs one regex and one decode.
        text = value.strip(" \t")
        fast = _FAST_SIGNATURE_URLSAFE.fullmatch(text)
        if fast is not None:
            label, body = fast.groups()
            data = body.encode("ascii").translate(_URLSAFE_TO_STD)
        else:
            fast = _FAST_SIGNATURE_STD.fullmatch(text)
            if fast is not None:
                label, body = fast.groups()
                data = body.encode("ascii")
        if fast is not None:
            try:  # the match admits only the alphabet, so non-strict decoding drops nothing
                return label, binascii.a2b_base64(data + _PADDING[len(data) % 4])
            except ValueError:
                raise HeaderError("Signature header is malformed: bad base64", code=code) from None
    _check_length("Signature", value)
    try:
        members = _sf.parse_dictionary(value, lenient_bytes=True)
    except _sf.ParseError as exc:
        raise HeaderError(f"Signature header is malformed: {exc}", code=code) from None
    if len(members) != 1:
        raise HeaderError(f"Signature must have exactly one member, found {len(members)}", code=code)
    label, member = next(iter(members.items()))
    if not isinstance(member, _sf.Item) or not isinstance(member.value, bytes) or member.params:
        raise HeaderError("Signature member must be a byte sequence", code=code)
    return label, member.value


def format_signature(label: str, signature: bytes, *, encoding: Literal["base64url", "base64"] = "base64url") -> str:
    """A3: base64url without padding on output by default; ``base64`` gives strict RFC 8941."""
    if encoding == "base64":
        text = base64.b64encode(signature).decode("ascii")
    else:
        text = base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")
    return f"{label}=:{text}:"


# --------------------------------------------------------------------------- Signature-Key

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
    #: The imported hwk key, set on first use: parses are memoised, so a pseudonymous
    #: agent's every request finds its key here.
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
            key = _hwk_key(tuple(self.params.items()))
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


@lru_cache(maxsize=1024)
def _hwk_key(params: tuple[tuple[str, str], ...]) -> PublicKey:
    # Memoised: a pseudonymous agent presents the same inline key on every request.
    try:
        return PublicKey.from_jwk(dict(params))
    except KeyError_ as exc:
        raise HeaderError(f"Signature-Key hwk key is invalid: {exc.description}",
                          code="invalid_signature_key") from None


def _validate_scheme(scheme: str, params: Mapping[str, str]) -> None:
    code = "invalid_signature_key"
    if scheme == "hwk":
        if "alg" in params:
            raise HeaderError("hwk keys must not carry 'alg'", code=code)
        kty = params.get("kty")
        if kty not in ("OKP", "EC", "RSA"):
            raise HeaderError("hwk requires 'kty' of OKP, EC or RSA", code=code)
        needed = {"OKP": ("crv", "x"), "EC": ("crv", "x", "y"), "RSA": ("n", "e")}[kty]
        missing = [n for n in needed if n not in params]
        if missing:
            raise HeaderError(f"hwk key is missing {', '.join(missing)}", code=code)
    elif scheme == "jwks":
        has_jwks, has_id = "jwks" in params, "id" in params
        if has_jwks == has_id:
            raise HeaderError("jwks scheme needs exactly one of 'jwks' and 'id'", code=code)
        if has_jwks and "well-known" in params:
            raise HeaderError("'well-known' is only allowed with 'id'", code=code)
        if "kid" not in params:
            raise HeaderError("jwks scheme requires 'kid'", code=code)
        well_known = params.get("well-known")
        if well_known is not None and not re.fullmatch(r"[a-z0-9][a-z0-9._\-]*", well_known):
            raise HeaderError("'well-known' must be a well-known URI suffix", code=code)
    elif scheme == "jwt":
        if not params.get("jwt"):
            raise HeaderError("jwt scheme requires the 'jwt' parameter", code=code)
    elif scheme == "x509":
        if "x5u" not in params or "x5t" not in params:
            raise HeaderError("x509 scheme requires 'x5u' and 'x5t'", code=code)
    else:
        raise HeaderError(f"unsupported Signature-Key scheme {scheme!r}", code="unsupported_scheme")


@lru_cache(maxsize=512)
def parse_signature_key(value: str) -> SignatureKey:
    """Parse Signature-Key in either the transcript form or the RFC 8941 form (A4).

    Memoised: a ``scheme=jwt`` agent sends the same value on every request until
    its token expires, and the result is immutable.
    """
    code = "invalid_signature_key"
    _check_length("Signature-Key", value)
    text = value.strip(" \t")
    m = _TRANSCRIPT_FORM.fullmatch(text)
    if m is not None:
        label, params = m.group("label"), _parse_transcript_params(m.group("body"))
        scheme = params.pop("scheme", None)
        if scheme is None:
            raise HeaderError("Signature-Key has no 'scheme'", code=code)
    elif re.match(r"[a-z*][a-z0-9_\-.*]*=\(", text):
        # Looks like the transcript form but did not match it exactly: a second
        # member, nesting, or junk after ')'.
        raise HeaderError("Signature-Key must have exactly one member in the form label=(scheme=...)",
                          code=code)
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
            raise HeaderError("Signature-Key parameter list is malformed", code="invalid_signature_key")
        name = m.group("name")
        if name in params:
            raise HeaderError(f"Signature-Key parameter {name!r} is repeated", code="invalid_signature_key")
        quoted = m.group("q")
        params[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else m.group("t")
        pos = m.end()
        if pos < len(body):
            if body[pos] != " ":
                raise HeaderError("Signature-Key parameters must be separated by spaces",
                                  code="invalid_signature_key")
            while pos < len(body) and body[pos] == " ":
                pos += 1
    return params


def _parse_sf_signature_key(text: str) -> tuple[str, str, dict[str, str]]:
    code = "invalid_signature_key"
    try:
        members = _sf.parse_dictionary(text)
    except _sf.ParseError as exc:
        raise HeaderError(f"Signature-Key is malformed: {exc}", code=code) from None
    if len(members) != 1:
        raise HeaderError(f"Signature-Key must have exactly one member, found {len(members)}", code=code)
    label, member = next(iter(members.items()))
    if not isinstance(member, _sf.Item) or not isinstance(member.value, _sf.Token):
        raise HeaderError("Signature-Key member must be a scheme token with parameters", code=code)
    params: dict[str, str] = {}
    for name, pvalue in member.params.items():
        if not isinstance(pvalue, str):
            raise HeaderError(f"Signature-Key parameter {name!r} must be a string", code=code)
        params[_SF_PARAM_ALIASES.get(name, name)] = str(pvalue)
    return label, str(member.value), params


def format_signature_key(sk: SignatureKey, fmt: Literal["transcript", "sf"] = "transcript") -> str:
    """Serialise a Signature-Key: the transcript form (default, A4) or the RFC 8941 form."""
    if fmt == "transcript":
        parts = [f"scheme={sk.scheme}"]
        for name, value in sk.params.items():
            if '"' in value or "\\" in value:
                raise HeaderError("Signature-Key values must not contain quotes", code="invalid_signature_key")
            parts.append(f'{name}="{value}"')
        return f"{sk.label}=({' '.join(parts)})"
    scheme = "jwks_uri" if sk.scheme == "jwks" and "id" in sk.params else sk.scheme
    out = [f"{sk.label}={scheme}"]
    for name, value in sk.params.items():
        if sk.scheme == "jwks" and "id" in sk.params and name == "well-known":
            name = "dwk"
        out.append(f";{name}={_sf.serialize_bare_item(value)}")
    return "".join(out)


# --------------------------------------------------------------------------- Content-Digest

_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def parse_content_digest(value: str) -> dict[str, bytes]:
    """Parse Content-Digest (RFC 9530); only the algorithms we can check are returned."""
    code = "invalid_content_digest"
    _check_length("Content-Digest", value)
    try:
        members = _sf.parse_dictionary(value)
    except _sf.ParseError as exc:
        raise HeaderError(f"Content-Digest is malformed: {exc}", code=code) from None
    out: dict[str, bytes] = {}
    for name, member in members.items():
        if name not in _DIGESTS:
            continue
        if not isinstance(member, _sf.Item) or not isinstance(member.value, bytes):
            raise HeaderError(f"Content-Digest {name} must be a byte sequence", code=code)
        out[name] = member.value
    if not out:
        raise HeaderError("Content-Digest has no supported algorithm (sha-256, sha-512)",
                          code="unsupported_digest_algorithm")
    return out


def format_content_digest(body: bytes, algorithm: Literal["sha-256", "sha-512"] = "sha-256") -> str:
    """RFC 9530 value over the exact body bytes; standard base64 with padding."""
    digest = _DIGESTS[algorithm](body).digest()
    return f"{algorithm}=:{base64.b64encode(digest).decode('ascii')}:"


# The one-member SHA-256 value every signer we know sends (standard base64 of 32 bytes).
_FAST_SHA256_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/]{43}=):")


def check_content_digest(value: str, body: bytes) -> None:
    """Recompute every supported digest over ``body``; any mismatch is refused (A8)."""
    fast = _FAST_SHA256_DIGEST.fullmatch(value)
    if fast is not None:  # the usual shape: no structured-field parse, one hash
        if not hmac.compare_digest(hashlib.sha256(body).digest(), binascii.a2b_base64(fast.group(1))):
            raise HeaderError("Content-Digest sha-256 does not match the body", code="digest_mismatch")
        return
    for name, expected in parse_content_digest(value).items():
        if not hmac.compare_digest(_DIGESTS[name](body).digest(), expected):
            raise HeaderError(f"Content-Digest {name} does not match the body", code="digest_mismatch")


# --------------------------------------------------------------------------- Agent-Auth


@dataclass(frozen=True, slots=True)
class AgentAuthChallenge:
    """An ``Agent-Auth`` challenge (protocol B §3)."""

    identity: bool = False
    auth_token: bool = False
    resource_token: str | None = None
    auth_server: str | None = None
    user_interaction: str | None = None
    algs: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> Literal["signature", "identity", "authorization", "interaction"]:
        if self.auth_token:
            return "authorization"
        if self.user_interaction:
            return "interaction"
        return "identity" if self.identity else "signature"


def parse_agent_auth(value: str) -> AgentAuthChallenge:
    """Parse an Agent-Auth challenge; unknown parameters are kept in ``extra``."""
    code = "invalid_agent_auth"
    _check_length("Agent-Auth", value)
    try:
        item = _sf.parse_item(value, inner_list_params=True)
    except _sf.ParseError as exc:
        raise HeaderError(f"Agent-Auth is malformed: {exc}", code=code) from None
    if item.value != "httpsig" or not isinstance(item.value, _sf.Token):
        raise HeaderError("Agent-Auth must start with 'httpsig'", code=code)
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, pvalue in item.params.items():
        if name == "identity":
            if not isinstance(pvalue, bool):
                raise HeaderError("'identity' must be a boolean", code=code)
            kwargs["identity"] = pvalue
        elif name == "auth-token":
            if pvalue is not True:
                raise HeaderError("'auth-token' is a bare flag", code=code)
            kwargs["auth_token"] = True
        elif name in ("resource_token", "auth_server", "user_interaction"):
            if not isinstance(pvalue, str) or isinstance(pvalue, _sf.Token):
                raise HeaderError(f"'{name}' must be a string", code=code)
            kwargs[name] = pvalue
        elif name == "algs":
            if not isinstance(pvalue, _sf.InnerList) or not all(
                isinstance(i.value, str) and not isinstance(i.value, _sf.Token) for i in pvalue.items
            ):
                raise HeaderError("'algs' must be a list of strings", code=code)
            kwargs["algs"] = tuple(str(i.value) for i in pvalue.items)
        else:
            extra[name] = pvalue
    return AgentAuthChallenge(extra=MappingProxyType(extra), **kwargs)


def format_agent_auth(challenge: AgentAuthChallenge) -> str:
    """Serialise in the transcript's layout: ``httpsig; auth-token; resource_token="..."; ...``."""
    parts = ["httpsig"]
    if challenge.identity:
        parts.append("identity=?1")
    if challenge.auth_token:
        parts.append("auth-token")
    for name in ("resource_token", "auth_server", "user_interaction"):
        value = getattr(challenge, name)
        if value is not None:
            parts.append(f"{name}={_sf.serialize_bare_item(value)}")
    if challenge.algs is not None:
        parts.append("algs=(" + " ".join(_sf.serialize_bare_item(a) for a in challenge.algs) + ")")
    return "; ".join(parts)
