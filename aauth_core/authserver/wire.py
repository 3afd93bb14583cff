"""Wire-level helpers of the token endpoint: form parsing, error codes, scopes, redirects.

Core verifier errors are mapped here onto the auth-server codes of protocol B §9.2,
so the mapping is written once for the sync and async drivers.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from .. import dialect
from ..errors import (
    AAuthError,
    CacheUnavailable,
    DiscoveryError,
    HeaderError,
    ReplayError,
    SignatureError,
    TokenEndpointError,
    TokenError,
)
from ..headers import SignatureKey, parse_signature_key
from ..request import RequestView
from .policy import narrow

__all__ = [
    "check_redirect_uri",
    "granted_scopes",
    "invalid_request",
    "map_error",
    "parse_form",
    "redirect_url",
    "scope_list",
    "signature_key",
    "token_error",
]

_MAX_FORM_FIELDS = 16
_SIGNATURE_LAYER_CODES = frozenset(
    {"missing_signature", "unsupported_scheme", "invalid_signature_key", "label_mismatch", "invalid_request"}
)

def token_error(code: str, description: str, status: int) -> TokenEndpointError:
    return TokenEndpointError(description, code=code, status_code=status)


def invalid_request(description: str, status: int = 400) -> TokenEndpointError:
    return token_error("invalid_request", description, status)




def parse_form(view: RequestView) -> dict[str, str]:
    """The token request's form body, parsed leniently (the demo does not percent-encode), strictly single-valued."""
    content_type = (view.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != dialect.FORM_CONTENT_TYPE:
        raise invalid_request(f"the token request must be {dialect.FORM_CONTENT_TYPE}")
    if view.body is None:
        raise invalid_request("the token request has no body")
    try:
        text = view.body.decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, strict_parsing=False, max_num_fields=_MAX_FORM_FIELDS,
                          errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("the request body is not a valid form") from None
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise invalid_request(f"parameter(s) repeated: {', '.join(repeated)}")
    return {name: values[0] for name, values in parsed.items()}


def signature_key(view: RequestView) -> SignatureKey:
    """B §7.3 step 2 / §5.2 step 2: all three signature headers present, Signature-Key parseable."""
    names = (dialect.SIGNATURE_HEADER, dialect.SIGNATURE_INPUT_HEADER, dialect.SIGNATURE_KEY_HEADER)
    missing = [n for n in names if n not in view.headers]
    if missing:
        raise invalid_request(f"missing signature header(s): {', '.join(missing)}", 401)
    try:
        return parse_signature_key(view.headers[dialect.SIGNATURE_KEY_HEADER])
    except AAuthError as exc:
        raise invalid_request(exc.description, 401) from None


def map_error(exc: AAuthError, stage: str) -> TokenEndpointError:
    """Core verifier errors → B §9.2 token-endpoint errors."""
    if isinstance(exc, TokenEndpointError):
        return exc
    text = exc.description
    if isinstance(exc, CacheUnavailable):  # keeps its Retry-After (a full replay cache says when)
        return TokenEndpointError(text, code="server_error", status_code=503, extra_headers=exc.headers)
    if isinstance(exc, ReplayError):
        return token_error("invalid_signature", "this signed request was already used (replay)", 401)
    if isinstance(exc, HeaderError):
        if exc.code == "digest_mismatch":  # the signed Content-Digest does not match the body
            return token_error("invalid_signature", text, 401)
        return invalid_request(text, 401)
    if isinstance(exc, SignatureError):
        if exc.status_code >= 500:
            return token_error("server_error", text, 500)
        if exc.code in _SIGNATURE_LAYER_CODES:
            return invalid_request(text, 401)
        return token_error("invalid_signature", text, 401)
    if isinstance(exc, TokenError):
        if stage == "agent" and exc.code in ("wrong_token_type", "malformed_token"):
            return invalid_request(text, 401)
        return token_error("invalid_token", text, 401)
    if isinstance(exc, DiscoveryError):
        if stage == "exchange":  # the intermediary's key was found already: this is the upstream issuer's
            return token_error("invalid_token", f"the upstream auth server's key could not be obtained: {text}", 401)
        return invalid_request(f"the signer's key could not be obtained: {text}", 401)
    return invalid_request(text, 401)


def scope_list(text: str) -> list[str]:
    out: list[str] = []
    for scope in text.split():
        if scope not in out:
            out.append(scope)
    return out


def granted_scopes(requested: list[str], *limits: frozenset[str] | None) -> list[str]:
    """Requested scopes the limits allow, in the requested order; refuse when none is left."""
    allowed = narrow(frozenset(requested), *limits)
    granted = [s for s in requested if s in allowed]
    if requested and not granted:
        raise token_error("access_denied", "none of the requested scopes may be granted", 403)
    return granted


def check_redirect_uri(uri: str) -> None:
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise invalid_request("redirect_uri is not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment or "#" in uri:
        raise invalid_request("redirect_uri must be an absolute http(s) URL without a fragment")
    if any(c in uri for c in "\r\n\t <>\""):
        raise invalid_request("redirect_uri contains characters that are not allowed")


def redirect_url(uri: str, params: Mapping[str, str], state: str | None) -> str:
    values = dict(params)
    if state:
        values["state"] = state
    parts = urlsplit(uri)
    extra = urlencode(values)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
