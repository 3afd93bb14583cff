"""Shared by the one-shot drivers that reach our live servers (aauth_agent_flow.py,
verify_regent_live.py; run under .interop/py): an awaitable httpx transport on the loopback
host table of peer_servers.py / loopback.py.

``https://<host>`` goes to ``http://127.0.0.1:<port>`` with the ``Host`` header still ``<host>``;
a URL off the table (another host, a port, ``http``) is refused before a packet is sent.  It
records each exchange (method, URL, status, a few answer headers, never a body or a token) and
can flip one character of the ``Signature`` on requests to chosen hosts (the tampering rows).
"""

import httpx

RECORDED_ANSWER_HEADERS = ("signature-error", "www-authenticate")


def _loopback_url(url, routes):
    port = routes.get(url.host)
    if url.scheme != "https" or url.port is not None or port is None:
        return None
    return url.copy_with(scheme="http", host="127.0.0.1", port=int(port))


def requirement_name(value):
    """``requirement=<name>`` of an AAuth-Requirement, without its parameters (a resource
    token is a token: it is never printed)."""
    for part in (value or "").replace(",", ";").split(";"):
        name, _, rest = part.strip().partition("=")
        if name == "requirement":
            return rest.strip()
    return None


def tampered(signature):
    """``label=:…:`` with one character of the value changed (in the same alphabet)."""
    label, _, value = signature.partition("=")
    i = 6
    return f"{label}={value[:i]}{'B' if value[i] == 'A' else 'A'}{value[i + 1:]}"


class AsyncLoopbackTransport(httpx.AsyncBaseTransport):
    def __init__(self, routes, *, tamper_hosts=()):
        self._routes = dict(routes)
        self._tamper = frozenset(tamper_hosts)
        self._inner = httpx.AsyncHTTPTransport()
        self.exchanges = []

    async def handle_async_request(self, request):
        url = _loopback_url(request.url, self._routes)
        if url is None:
            raise httpx.ConnectError(f"{request.url.host} is not on the loopback table", request=request)
        original = str(request.url)
        signature = request.headers.get("signature")
        if signature and request.url.host in self._tamper:
            request.headers["signature"] = tampered(signature)
        request.url = url  # the Host header keeps the identifier's host
        response = await self._inner.handle_async_request(request)
        self.exchanges.append({
            "method": request.method, "url": original.split("?")[0], "status": response.status_code,
            "signed": signature is not None,
            "signature_base64url": bool(signature) and not any(c in signature.split(":")[1] for c in "+/="),
            "requirement": requirement_name(response.headers.get("aauth-requirement")),
            **{name: response.headers.get(name) for name in RECORDED_ANSWER_HEADERS}})
        return response

    async def aclose(self):
        await self._inner.aclose()
