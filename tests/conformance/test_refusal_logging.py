"""Every refusal is logged once at INFO on ``aauth``, the same in every adapter, without secrets;
with ``telemetry=True`` each verification is a span and the outcomes are counted."""

from __future__ import annotations

import logging

import pytest

from aauth_core.errors import AAuthError
from aauth_core.service import AAuthService
from aauth_core.settings import AAuthSettings

from ..conftest import AGENT, RESOURCE, World, signed_request, view_of
from .apps import VARIANTS, Variant
from .routes import SETTINGS

PLAIN = [v for v in VARIANTS if not v.handler]


def _refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "aauth" and r.getMessage().startswith("refused ")]


@pytest.mark.parametrize("variant", PLAIN, ids=lambda v: v.name)
def test_every_refusal_is_logged_once_with_its_caller_and_no_secret(
        world: World, variant: Variant, caplog: pytest.LogCaptureFixture) -> None:
    send = variant.build(world, False)
    caplog.set_level(logging.INFO, logger="aauth")
    tampered = signed_request("GET", RESOURCE + "/elsewhere", key=world.agent.key)[0]
    token = world.auth_token(scope="data.read")
    jwt = signed_request("GET", RESOURCE + "/elsewhere", key=world.agent.key, scheme="jwt",
                         params={"jwt": token})[0]
    hwk = signed_request("GET", RESOURCE + "/protected", key=world.agent.key, scheme="hwk")[0]
    cases = [
        (tampered, "invalid_signature", "scheme=jwks", f"caller={AGENT!r}"),
        (jwt, "invalid_signature", "scheme=jwt", f"caller='claimed:{AGENT}'"),
        (hwk, "identity_required", "scheme=hwk", f"caller='key:{world.agent.key.thumbprint}'"),
        ({}, "identity_required", "scheme=-", "caller=None"),
    ]
    for headers, code, scheme, caller in cases:
        caplog.clear()
        status, _, _, ran = send("GET", "/protected", headers)
        assert (status, ran) == (401, False)
        records = _refusals(caplog)
        assert len(records) == 1, [r.getMessage() for r in records]
        message = records[0].getMessage()
        assert records[0].levelno == logging.INFO
        assert message.startswith("refused GET '/protected': " + code) and scheme in message and caller in message
        secrets = [token, *(v for k, v in headers.items() if k.lower() in ("signature", "signature-input"))]
        assert not any(secret in message for secret in secrets if secret)


def test_no_refusal_no_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    send = PLAIN[0].build(world, False)
    caplog.set_level(logging.INFO, logger="aauth")
    assert send("GET", "/protected", signed_request("GET", RESOURCE + "/protected", key=world.agent.key)[0])[0] == 200
    assert _refusals(caplog) == []


def test_telemetry_spans_and_counters(world: World) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from aauth_core.resource.observe import Telemetry

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    telemetry = Telemetry(tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader]))
    settings = AAuthSettings(**SETTINGS)
    service = AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings),
                           clock=world.clock, telemetry=telemetry)
    good = view_of("GET", RESOURCE + "/data", signed_request("GET", RESOURCE + "/data", key=world.agent.key)[0])
    bad = view_of("GET", RESOURCE + "/data", signed_request("GET", RESOURCE + "/x", key=world.agent.key)[0])
    assert service.verify(good) is not None
    with pytest.raises(AAuthError) as refused:
        service.verify(bad)
    service.log_refusal(refused.value, "GET", "/data", bad.headers)  # what every adapter does, once
    finished = spans.get_finished_spans()
    assert [s.name for s in finished] == ["aauth.verify", "aauth.verify"]
    assert dict(finished[0].attributes or {}) == {"aauth.outcome": "verified", "aauth.scheme": "jwks",
                                                  "aauth.level": "identity"}
    assert dict(finished[1].attributes or {}) == {"aauth.outcome": "refused", "aauth.code": "invalid_signature",
                                                  "aauth.scheme": "jwks"}
    data = reader.get_metrics_data()
    points = {m.name: [(dict(p.attributes), p.value) for p in m.data.data_points]
              for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert points["aauth.requests.verified"] == [({"aauth.scheme": "jwks", "aauth.level": "identity"}, 1)]
    assert points["aauth.requests.refused"] == [({"aauth.code": "invalid_signature", "aauth.scheme": "jwks"}, 1)]


def test_telemetry_off_leaves_verify_untouched(world: World) -> None:
    settings = AAuthSettings(**SETTINGS)
    service = AAuthService(settings, keys=[world.resource.key], discovery=world.discovery(settings))
    assert service.telemetry is None
    assert service.verify.__func__ is AAuthService.verify  # type: ignore[attr-defined]  # no wrapper per request
