"""``aauth request``: a curl-like agent — sign, answer the challenge, print the answer.

The agent side is the library's client (``agent_auth(...).client()``): this module only
turns a command line into a signer, options and one request.  ``--scope`` asks the
resource's token endpoint (B §5.4) first; ``-v`` prints every exchange to stderr with
each JWT decoded in place of its raw value, since a transcript is copied around.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import httpx

from .. import dialect
from ..client import ClientOptions, InteractionRequired, RequestSigner, agent_auth
from ..errors import AAuthError
from ..keys import KeyError_, SigningKey, load_signing_key
from ..resource import RESOURCE_TOKEN_PATH
from ..tokens import peek
from ._common import plain, usage
from ._request11 import add_arguments as add_11_arguments
from ._request11 import auth_11, check_11
from .sign import parse_header

__all__ = ["add_parser"]

_ME = "aauth request"
RULE = "=" * 80


def add_parser(sub: Any) -> None:
    p = sub.add_parser("request", help="call a protected API as an agent (curl-like)",
                       description="Sign a request, answer the resource's Agent-Auth challenge at the auth "
                                   "server it names, retry with the auth token and print the response body. "
                                   "Exit 0 for a 2xx answer, 1 otherwise, 2 on usage errors.")
    p.add_argument("method", metavar="METHOD", help="the HTTP method, e.g. GET")
    p.add_argument("url", metavar="URL",
                   help="the resource URL (https; http only for 127.0.0.1/localhost with --allow-loopback)")
    p.add_argument("--key", metavar="FILE",
                   help="private key file (JWK or PEM) or env:NAME; without it --hwk signs with a new ephemeral key")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--agent-id", metavar="URL",
                     help="sign as this agent (scheme jwks): its /.well-known/aauth-agent and JWKS publish --key")
    who.add_argument("--hwk", action="store_true",
                     help="sign pseudonymously with the key inline (scheme hwk; the default without --agent-id)")
    p.add_argument("-H", "--header", action="append", metavar="'NAME: VALUE'",
                   help="an extra request header (repeatable)")
    p.add_argument("--data", metavar="BODY",
                   help="the request body: text, @FILE or @- (standard input); Content-Type defaults to "
                        "application/octet-stream")
    p.add_argument("--scope", metavar="'S1 S2'",
                   help="ask for these space-separated scopes up front, at the resource's resource_token_endpoint "
                        "(needs --agent-id)")
    p.add_argument("--redirect-uri", metavar="URL",
                   help="redirect_uri sent to the auth server (default: AGENT_ID/callback)")
    p.add_argument("--allow-loopback", action="store_true",
                   help="development only: allow http://127.0.0.1 and localhost resources, agents and auth servers")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="seconds to wait for each answer (default: 30)")
    add_11_arguments(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print every exchange to stderr, tokens decoded (signatures included: debugging only)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    method = _method(args.method)
    check_11(args)
    _check_url(args.url, "URL", args.allow_loopback)
    if args.agent_id is not None:
        _check_url(args.agent_id, "--agent-id", args.allow_loopback)
    if args.redirect_uri is not None:
        _check_url(args.redirect_uri, "--redirect-uri", args.allow_loopback)
    if not args.timeout > 0:
        usage("--timeout must be a positive number of seconds")
    scopes = (args.scope or "").split()
    if args.scope is not None and not scopes:
        usage("--scope needs at least one scope")
    if scopes and args.agent_id is None:
        usage("--scope needs --agent-id: a resource issues resource tokens only to identified agents")
    headers = [parse_header(h) for h in args.header or ()]
    body = _body(args.data)
    if body is not None and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/octet-stream"))
    options = ClientOptions(allow_insecure_loopback=args.allow_loopback, redirect_uri=args.redirect_uri)
    if args.profile == "aauth-11":
        auth = auth_11(args, options)
    else:
        auth = agent_auth(_signer(args), options=options, interaction=_ask_user(can_prompt=args.data != "@-"))
    transcript = _Transcript(sys.stderr, args.url) if args.verbose else None
    try:
        with auth.client(timeout=args.timeout) as client:
            if transcript is not None:
                client.event_hooks["request"].append(transcript.request)
                client.event_hooks["response"].append(transcript.response)
            if scopes:
                _ask_scopes(client, auth.engine, args.url, scopes)
            response = client.request(method, args.url, headers=headers, content=body)
    except AAuthError as exc:
        return _refused(exc, args.allow_loopback)
    except httpx.HTTPError as exc:
        where = exc.request.url if _has_request(exc) else args.url
        sys.stderr.write(f"{_ME}: cannot complete the exchange with {where}: {exc or type(exc).__name__}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{_ME}: interrupted\n")
        return 1
    if transcript is not None:
        sys.stderr.write(f"=== final answer: HTTP {response.status_code} {response.reason_phrase}\n")
    ok = 200 <= response.status_code < 300
    if not ok:
        _report_status(response)  # before the body, which need not end its line
    _write_body(response.content)
    return 0 if ok else 1


# ----------------------------------------------------------------------------- the command line


_TOKEN_CHARS = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _method(value: str) -> str:
    if not _TOKEN_CHARS.match(value):
        usage(f"not an HTTP method: {value!r}")
    return value.upper()


def _check_url(url: str, what: str, allow_loopback: bool) -> None:
    """https anywhere; plain http only for a loopback host, and only with --allow-loopback."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        usage(f"{what} is not a valid URL ({exc}): {url!r}")
    if parsed.scheme not in ("http", "https") or not parsed.host:
        usage(f"{what} must be an absolute http(s) URL, got {url!r}")
    if parsed.scheme == "http":
        if not _is_loopback(parsed.host):
            usage(f"{what} {url} is plain http: use https (http is only for 127.0.0.1/localhost in development)")
        if not allow_loopback:
            usage(f"{what} {url} is a plain-http development address: pass --allow-loopback to allow "
                  "127.0.0.1/localhost parties")


def _is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _signer(args: argparse.Namespace) -> RequestSigner:
    key: SigningKey
    if args.key is not None:
        try:
            key = load_signing_key(args.key)
        except KeyError_ as exc:
            usage(exc.description)
    elif args.agent_id is not None:
        usage("--agent-id needs --key: the private key the agent's JWKS publishes")
    else:
        key = SigningKey.generate()
        sys.stderr.write(f"{_ME}: no --key: signing pseudonymously (hwk) with a new ephemeral key, "
                         f"thumbprint {key.thumbprint}\n")
    if args.agent_id is None:
        return RequestSigner.hwk(key)
    if not key.kid:
        usage("--agent-id needs a key with a kid (the kid its JWKS lists it under)")
    return RequestSigner.jwks(key, args.agent_id)


def _body(data: str | None) -> bytes | None:
    if data is None:
        return None
    if not data.startswith("@"):
        return data.encode()
    if data == "@-":
        return sys.stdin.buffer.read()
    try:
        return Path(data[1:]).read_bytes()
    except OSError as exc:
        usage(f"cannot read --data file {data[1:]!r}: {exc.strerror}")


def _ask_user(*, can_prompt: bool) -> Callable[[str], str]:
    """The interaction handler: show the consent URL, then wait for the user to paste the
    address their browser was sent back to (standard input; EOF means nobody can)."""

    def handler(url: str) -> str:
        sys.stderr.write(f"{_ME}: the auth server needs a user's consent. Open this URL and approve:\n  {url}\n")
        if can_prompt:
            sys.stderr.write("Then paste the address your browser was sent back to (or the code): ")
            sys.stderr.flush()
            answer = sys.stdin.readline().strip()
            if answer:
                return answer
        raise InteractionRequired(url)

    return handler


# ----------------------------------------------------------------------------- scopes up front


def _ask_scopes(client: httpx.Client, engine: Any, url: str, scopes: list[str]) -> None:
    """``POST resource_token_endpoint`` with ``scope``, then trade that resource token at the
    auth server: the token is cached for the resource, so the request presents it at once."""
    parts = urlsplit(url)
    metadata_url = f"{parts.scheme}://{parts.netloc}/.well-known/{dialect.WELL_KNOWN_RESOURCE}"
    meta = _json_answer(client.get(metadata_url, auth=None), "the resource's metadata", "discovery_failed")
    endpoint = meta.get("resource_token_endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise AAuthError("the resource's metadata has no resource_token_endpoint, so --scope cannot be used",
                         code="discovery_failed", status_code=400)
    if urlsplit(endpoint).netloc != parts.netloc:
        raise AAuthError(f"the resource_token_endpoint {endpoint} is on another host than the resource",
                         code="discovery_failed", status_code=400)
    answer = _json_answer(client.post(endpoint, data={"scope": " ".join(scopes)}), "the resource token request",
                          "token_endpoint_error")
    resource_token, auth_server = answer.get("resource_token"), answer.get("auth_server")
    if not isinstance(resource_token, str) or not isinstance(auth_server, str):
        raise AAuthError("the resource token answer lacks resource_token or auth_server",
                         code="invalid_token_response", status_code=400)
    flow = engine.obtain(url, resource_token, auth_server, _make_request)
    try:
        outgoing = next(flow)
        while True:
            outgoing = flow.send(client.send(outgoing, auth=None))
    except StopIteration:
        return


def _make_request(method: str, url: str, headers: Mapping[str, str], content: bytes | None) -> httpx.Request:
    return httpx.Request(method, url, headers=dict(headers), content=content)


def _json_answer(response: httpx.Response, what: str, fallback: str) -> dict[str, Any]:
    """A 200 JSON object, or an error with the answer's own ``error`` code (else ``fallback``)."""
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if response.status_code == 200 and isinstance(doc, dict):
        return doc
    error = doc if isinstance(doc, dict) else {}
    code, text = error.get("error"), error.get("error_description")
    detail = f": {_JWT.sub('<token>', text)[:300]}" if isinstance(text, str) else ""
    raise AAuthError(f"{what} answered HTTP {response.status_code}{detail}",
                     code=code if isinstance(code, str) else fallback, status_code=400)


# ----------------------------------------------------------------------------- the outcome


def _write_body(content: bytes) -> None:
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    if out is not None:
        out.write(content)
        out.flush()
    else:  # a text-only stream (tests capturing output)
        sys.stdout.write(content.decode("utf-8", "replace"))


def _report_status(response: httpx.Response) -> None:
    """The status line, the challenge and the error code on stderr; tokens only as labels."""
    lines = [f"HTTP {response.status_code} {response.reason_phrase}"]
    for name in (dialect.CHALLENGE_HEADER, "AAuth-Requirement", "Signature-Error"):  # January, then -11
        value = response.headers.get(name)
        if value:
            lines.append(f"{name}: {_JWT.sub(lambda m: _kind(m.group()), value)}")
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        text = doc.get("error_description", doc.get("detail"))
        detail = f": {_JWT.sub('<token>', text)[:300]}" if isinstance(text, str) else ""
        lines.append(f"error: {doc['error']}{detail}")
    sys.stderr.write("".join(f"{_ME}: {line}\n" for line in lines))


def _refused(exc: AAuthError, allow_loopback: bool) -> int:
    message = f"{_ME}: {exc.code}: {exc.description}"
    if exc.code == "blocked_url" and not allow_loopback:
        message += " (a development party on 127.0.0.1/localhost needs --allow-loopback)"
    if isinstance(exc, InteractionRequired):
        message += "; run the command in a terminal to paste the address your browser is sent back to"
    sys.stderr.write(message + "\n")
    return 1


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018 - the property raises when the error carries no request
    except RuntimeError:
        return False
    return True


# ----------------------------------------------------------------------------- -v


#: A compact JWS (three base64url segments of some length); hostnames and base64 signatures never match.
_JWT = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}")
#: Opaque secrets of the token endpoint, shown only by their length.
_SECRETS = ("refresh_token", "code", "request_token")
_SECRET_JSON = re.compile(r'"(%s)"(\s*:\s*)"([^"<]*)"' % "|".join(_SECRETS))  # noqa: UP031
_SECRET_FORM = re.compile(r"(?<![^&])(%s)=([^&<]*)" % "|".join(_SECRETS))  # noqa: UP031
_NAMES = {dialect.TYP_AUTH: "auth token", dialect.TYP_RESOURCE: "resource token", dialect.TYP_AGENT: "agent token"}
_SKIP_REQUEST = frozenset({"host", "accept", "accept-encoding", "connection", "user-agent", "content-length"})
_SKIP_RESPONSE = frozenset({"date", "server", "content-length"})
_BODY_LIMIT = 2000


def _kind(token: str) -> str:
    try:
        typ = peek(token).header.get("typ")
    except AAuthError:
        return "<a JWT>"
    return f"<{_NAMES.get(typ, 'JWT') if isinstance(typ, str) else 'JWT'}>"


class _Transcript:
    """Prints each exchange like the demo's transcript (``sample_apps/printer.py``), every
    JWT replaced by a numbered label and decoded once below, opaque secrets by their length."""

    def __init__(self, out: TextIO, target: str) -> None:
        self.out = out
        self.target = str(httpx.URL(target))
        self.labels: dict[str, str] = {}
        self._pending: list[str] = []  # labelled since the last section: decoded at its end
        self.sends = 0

    # httpx event hooks
    def request(self, request: httpx.Request) -> None:
        try:
            content = request.content
        except httpx.RequestNotRead:  # a stream: sent unread, so not shown
            content = b""
        lines = [self._redact(f"{request.method} {request.url} HTTP/1.1")]
        lines += self._headers(request.headers, _SKIP_REQUEST)
        lines += self._body(content, secrets=_is_form(request.headers))
        self._section(f">>> {self._title(request, content)}", lines)

    def response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        what = "challenge" if response.headers.get(dialect.CHALLENGE_HEADER) else "answer"
        lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
        lines += self._headers(response.headers, _SKIP_RESPONSE)
        lines += self._body(response.content, secrets=_is_form(request.headers))
        self._section(f"<<< {response.status_code} {what} from {request.url.netloc.decode()}{request.url.path}", lines)

    # pieces
    def _title(self, request: httpx.Request, content: bytes) -> str:
        path = request.url.path
        if str(request.url) == self.target:
            self.sends += 1
            state = request.extensions.get("aauth")
            scheme = getattr(getattr(state, "signer", None), "scheme", "?")
            return f"{'request' if self.sends == 1 else 'retry'} signed with scheme={scheme}"
        if path.endswith(f"/.well-known/{dialect.WELL_KNOWN_ISSUER}"):
            return "auth server metadata request"
        if path.endswith(f"/.well-known/{dialect.WELL_KNOWN_RESOURCE}"):
            return "resource metadata request"
        if _is_form(request.headers):
            kind = dict(parse_qsl(content.decode("ascii", "replace"))).get("request_type")
            if kind:
                return f"token request (request_type={kind}) to the auth server"
            return "resource token request (--scope)" if path.endswith(RESOURCE_TOKEN_PATH) else f"form POST to {path}"
        return f"request to {path}"

    def _headers(self, headers: httpx.Headers, skip: frozenset[str]) -> list[str]:
        return sorted(f"{_title_case(k)}: {self._redact(v)}" for k, v in headers.items() if k.lower() not in skip)

    def _body(self, content: bytes, *, secrets: bool) -> list[str]:
        if not content:
            return []
        text = self._redact(content.decode("utf-8", "replace"))
        if secrets:
            text = _SECRET_FORM.sub(lambda m: f"{m[1]}=<hidden: {len(m[2])} chars>", text)
            text = _SECRET_JSON.sub(lambda m: f'"{m[1]}"{m[2]}"<hidden: {len(m[3])} chars>"', text)
        if len(text) > _BODY_LIMIT:
            text = text[:_BODY_LIMIT] + f"... ({len(text) - _BODY_LIMIT} more characters)"
        return ["", f"[Body ({len(content)} bytes)]", text]

    def _redact(self, text: str) -> str:
        return _JWT.sub(lambda m: self._label(m.group()), text)

    def _label(self, token: str) -> str:
        if token not in self.labels:
            self.labels[token] = f"{_kind(token)[:-1]} #{len(self.labels) + 1}>"
            self._pending.append(token)
        return self.labels[token]

    def _section(self, title: str, lines: Iterable[str]) -> None:
        body = list(lines)  # labelling happened while building these; decode the new tokens after them
        decoded = [line for token in self._take_pending() for line in self._decoded(token)]
        self.out.write("\n".join([RULE, title, RULE, *body, *decoded, RULE, ""]) + "\n")
        self.out.flush()

    def _take_pending(self) -> list[str]:
        pending, self._pending = self._pending, []
        return pending

    def _decoded(self, token: str) -> list[str]:
        label = self.labels[token]
        try:
            unverified = peek(token)
        except AAuthError as exc:
            return ["", f"{label}: not decodable ({exc.code}); {len(token)} characters"]
        claims = json.dumps(plain(unverified.claims), indent=2).splitlines()
        return ["", f"{label} decoded (signature not checked):",
                f"  header: {json.dumps(plain(unverified.header))}",
                "  claims: " + claims[0], *(f"  {line}" for line in claims[1:])]


def _is_form(headers: httpx.Headers) -> bool:
    return str(headers.get("content-type", "")).startswith(dialect.FORM_CONTENT_TYPE)


def _title_case(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
