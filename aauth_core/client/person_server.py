"""The agent's side of its person server (-11 §7.1, §7.2, §11.2.2; reference §2.2).

``{ps}/.well-known/aauth-person.json`` names the endpoints; its ``issuer`` must equal the
``ps`` it was fetched for, byte for byte.  Every endpoint it names passes the SSRF guard
before a packet is sent.  Requests are JSON, signed with the agent token, the body
covered, with ``Prefer: wait=<n>``; a ``202`` is polled (:mod:`.pending`); a refusal is a
:class:`~aauth_core.errors.TokenEndpointError` carrying the problem+json ``error`` code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..discovery import check_url
from ..errors import DiscoveryError, TokenEndpointError
from ..profile.aauth_11 import AAUTH_11
from .interaction import InteractionHandler
from .pending import PollingOptions, poll, problem_error
from .responses import host, json_object, redirected
from .signer import RequestSigner
from .values import Body, ClientOptions, Flow, RequestFactory

__all__ = ["PersonServerClient", "SendFn"]

log = logging.getLogger("aauth.client")

#: Sends one signed request and returns its response (the engine's ``send``).
SendFn = Callable[[Any, Body, RequestSigner], Flow]
_WELL_KNOWN = AAUTH_11.well_known_person or "aauth-person.json"


def _terminal_code(status: int) -> str:
    """The code of a refusal whose body names none (reference §4.4, pending URLs)."""
    code = "token_endpoint_error"
    if status == 403:
        code = "denied"
    elif status == 408:
        code = "expired"
    elif status == 410:
        code = "invalid_code"
    return code


class PersonServerClient:
    """Metadata (cached per person server) and the two token endpoints."""

    def __init__(self, *, options: ClientOptions, polling: PollingOptions, interaction: InteractionHandler,
                 send: SendFn) -> None:
        self.options = options
        self.polling = polling
        self.interaction = interaction
        self._send = send
        self._metadata: dict[str, tuple[float, Mapping[str, Any]]] = {}

    def _guard(self, url: str) -> None:
        check_url(url, allow_insecure_loopback=self.options.allow_insecure_loopback, resolver=self.options.resolver)

    def metadata(self, ps: str, make_request: RequestFactory) -> Flow:
        """``aauth-person.json`` of ``ps``, its ``issuer`` checked."""
        self._guard(ps)
        now = self.options.clock()
        cached = self._metadata.get(ps)
        if cached is not None and cached[0] > now:
            return cached[1]
        request = make_request("GET", f"{ps}/.well-known/{_WELL_KNOWN}", {"Accept": "application/json"}, None)
        response = yield request
        if redirected(request, response):
            raise DiscoveryError("the person server's metadata was redirected; refusing", code="discovery_failed")
        if response.status_code != 200:
            raise DiscoveryError(f"the person server's metadata answered HTTP {response.status_code}",
                                 code="discovery_failed")
        doc = json_object(response.content, DiscoveryError, "discovery_failed", "the person server's metadata")
        issuer = doc.get("issuer")
        if issuer is None:
            raise DiscoveryError("the person server's metadata has no issuer", code="issuer_missing")
        if issuer != ps:
            raise DiscoveryError("the person server's metadata names another issuer than the agent token's ps",
                                 code="issuer_mismatch")
        self._metadata[ps] = (now + self.options.metadata_ttl, doc)
        return doc

    def endpoint(self, meta: Mapping[str, Any], name: str) -> str:
        """An endpoint named in the metadata, past the SSRF guard."""
        value = meta.get(name)
        if not isinstance(value, str) or not value:
            raise DiscoveryError(f"the person server's metadata has no {name}", code="discovery_failed")
        self._guard(value)
        return value

    def request(self, ps: str, endpoint_name: str, payload: Mapping[str, Any], signer: RequestSigner,
                make_request: RequestFactory) -> Flow:
        """POST ``payload`` to the endpoint ``endpoint_name`` of ``ps``; the settled JSON answer."""
        meta = yield from self.metadata(ps, make_request)
        endpoint = self.endpoint(meta, endpoint_name)
        content = json.dumps(dict(payload), separators=(",", ":")).encode()
        request = make_request("POST", endpoint, self._headers(json_body=True), content)
        response = yield from self._checked(request, Body(content), signer)
        if response.status_code == 202:
            def get(url: str) -> Flow:
                poll_request = make_request("GET", url, self._headers(json_body=False), None)
                answer = yield from self._checked(poll_request, Body(), signer)
                return answer

            response = yield from poll(response, endpoint, get, options=self.polling, interaction=self.interaction,
                                       allow_insecure_loopback=self.options.allow_insecure_loopback)
        if response.status_code != 200:
            log.info("aauth client: the person server refused (%s, HTTP %s)", endpoint_name, response.status_code)
            raise problem_error(response, f"the person server's {endpoint_name}", _terminal_code(response.status_code))
        log.info("aauth client: %s at %s answered", endpoint_name, host(endpoint))
        return json_object(response.content, TokenEndpointError, "invalid_token_response",
                           f"the {endpoint_name}'s answer")

    def _headers(self, *, json_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if json_body:
            headers["Content-Type"] = "application/json"
        if self.polling.prefer_wait is not None:
            headers["Prefer"] = f"wait={self.polling.prefer_wait}"
        return headers

    def _checked(self, request: Any, body: Body, signer: RequestSigner) -> Flow:
        response = yield from self._send(request, body, signer)
        if redirected(request, response):
            raise TokenEndpointError("the person server redirected; refusing", code="invalid_token_response")
        return response
