"""What an operator sees: one INFO line per refusal, and optional OpenTelemetry.

Refusals are logged on the ``aauth`` logger with the error code, its description,
the Signature-Key scheme and who the request claimed to be (the agent identifier,
or the key thumbprint of an inline key), the method and the path.  Never a token,
a signature, a signature base or a body: the claimed agent of a ``jwt`` request is
read from the token's ``iss``/``agent`` claim and labelled as claimed, since a
refused token proves nothing.

OpenTelemetry is opt-in (``telemetry=True``) because even a no-op span costs
0.5-3 µs a request, a few percent of a whole verification: then every
verification is a span (``aauth.verify``: scheme, level, outcome, code) and two
counters count verified and refused requests by code.  The ``otel`` extra brings
``opentelemetry-api``; the exporter is the application's own configuration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import AAuthError

if TYPE_CHECKING:
    from ..context import VerifiedRequest
    from ..request import RequestView

__all__ = ["Telemetry", "claimed_caller", "log_refusal"]

log = logging.getLogger("aauth")

_MAX_FIELD = 200  # a claimed identifier longer than this is cut: logs are no place for an attacker's essay


def claimed_caller(headers: Any) -> tuple[str | None, str | None]:
    """``(scheme, who)`` from a request's Signature-Key, unverified; ``(None, None)`` when absent or
    unreadable.  ``who`` is an agent identifier, ``key:<thumbprint>`` or ``claimed:<iss>``."""
    value = headers.get("signature-key") if headers is not None else None
    if not isinstance(value, str) or not value:
        return None, None
    from ..headers import parse_signature_key

    try:
        sk = parse_signature_key(value)
    except (AAuthError, ValueError):
        return "unreadable", None
    try:
        if sk.scheme == "hwk":
            from ..keys import PublicKey

            return sk.scheme, "key:" + PublicKey.from_jwk(dict(sk.params)).thumbprint
        if sk.scheme == "jwt" and sk.jwt:
            from ..tokens import peek

            claims = peek(sk.jwt).claims
            who = claims.get("agent") or claims.get("iss")
            return sk.scheme, f"claimed:{who}"[:_MAX_FIELD] if isinstance(who, str) else None
        return sk.scheme, (sk.id or "")[:_MAX_FIELD] or None
    except (AAuthError, ValueError, TypeError):
        return sk.scheme, None


def log_refusal(error: AAuthError, method: str, path: str, headers: Any = None,
                telemetry: Telemetry | None = None) -> None:
    """The one INFO line for a refused request (see the module docstring for what it holds),
    and the refusal counter when telemetry is on."""
    logging_on = log.isEnabledFor(logging.INFO)
    if not logging_on and telemetry is None:
        return
    scheme, who = claimed_caller(headers)
    if telemetry is not None:
        telemetry.count_refusal(error, scheme)
    if not logging_on:
        return
    log.info("refused %s %r: %s (%d) %r scheme=%s caller=%r", method, path[:_MAX_FIELD], error.code,
             error.status_code, error.description[:_MAX_FIELD], scheme or "-", who)


class Telemetry:
    """Spans and counters around ``verify``/``averify`` (see the module docstring)."""

    def __init__(self, *, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        """The global providers unless others are injected (tests, or an app with its own)."""
        try:
            from opentelemetry import metrics, trace
        except ImportError:
            from ..settings import SettingsError

            raise SettingsError("telemetry=True needs opentelemetry-api: pip install 'aauth-kit[otel]'") from None
        self._tracer = trace.get_tracer("aauth", tracer_provider=tracer_provider)
        meter = metrics.get_meter("aauth", meter_provider=meter_provider)
        self._verified = meter.create_counter("aauth.requests.verified", description="verified signed requests")
        self._refused = meter.create_counter("aauth.requests.refused", description="refused requests, by code")
        self._error_status = trace.StatusCode.ERROR

    def wrap(self, verify: Callable[[RequestView], VerifiedRequest | None]
             ) -> Callable[[RequestView], VerifiedRequest | None]:
        def traced(view: RequestView) -> VerifiedRequest | None:
            span = self._tracer.start_span("aauth.verify")
            try:
                verified = verify(view)
            except AAuthError as exc:
                self._failed(span, view, exc)
                raise
            except BaseException:
                span.end()
                raise
            self._success(span, verified)
            return verified

        return traced

    def awrap(self, averify: Callable[[RequestView], Any]) -> Callable[[RequestView], Any]:
        async def traced(view: RequestView) -> VerifiedRequest | None:
            span = self._tracer.start_span("aauth.verify")
            try:
                verified: VerifiedRequest | None = await averify(view)
            except AAuthError as exc:
                self._failed(span, view, exc)
                raise
            except BaseException:
                span.end()
                raise
            self._success(span, verified)
            return verified

        return traced

    def count_refusal(self, error: AAuthError, scheme: str | None) -> None:
        """Every refusal, whatever refused it (verification, a requirement, a body limit), once."""
        self._refused.add(1, {"aauth.code": error.code, "aauth.scheme": scheme or "-"})

    def _success(self, span: Any, verified: VerifiedRequest | None) -> None:
        if verified is None:  # unsigned: nothing was verified, nothing to count
            span.set_attribute("aauth.outcome", "unsigned")
        else:
            attributes = {"aauth.scheme": verified.scheme, "aauth.level": verified.level}
            span.set_attributes({"aauth.outcome": "verified", **attributes})
            self._verified.add(1, attributes)
        span.end()

    def _failed(self, span: Any, view: RequestView, error: AAuthError) -> None:
        scheme, _ = claimed_caller(view.headers)
        span.set_attributes({"aauth.outcome": "refused", "aauth.code": error.code, "aauth.scheme": scheme or "-"})
        span.set_status(self._error_status, error.code)
        span.end()
