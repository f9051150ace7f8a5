"""Interop with a real client: the official OpenTelemetry Python SDK exports spans, metrics and logs
to a running collector over OTLP/HTTP (protobuf), with and without OTEL_EXPORTER_OTLP_COMPRESSION=gzip.
Every span name, trace id and metric name sent must appear in the collector's detailed output, and
every export must report success."""
from __future__ import annotations

import logging

import pytest

otel = pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed (pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http)")

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler  # noqa: E402
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402

from collector_process import Collector, config  # noqa: E402


class Recording:
    """Wraps an exporter and keeps every result it returned."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []

    def export(self, batch, *args, **kwargs):
        result = self.inner.export(batch, *args, **kwargs)
        self.results.append(result)
        return result

    def __getattr__(self, name):
        return getattr(self.inner, name)


def export_with_the_sdk(collector_config: str, make_exporters, prefix: str, compression, monkeypatch) -> None:
    """Spans (5 traces of 2), a counter, a histogram and a log record through the SDK's exporters that
    `make_exporters(collector)` returns (span, metric, log); every export must succeed and everything sent
    must be in the collector's detailed output."""
    if compression:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", compression)
    else:
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_COMPRESSION", raising=False)
    resource = Resource.create({"service.name": f"{prefix}-e2e"})
    message = f"hello from {prefix}"
    with Collector(collector_config) as collector:
        span_inner, metric_exporter, log_inner = make_exporters(collector)
        span_exporter = Recording(span_inner)
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        tracer = tracer_provider.get_tracer("e2e")
        trace_ids, names = [], []
        for i in range(5):
            with tracer.start_as_current_span(f"{prefix}-span-{i}") as span:
                span.set_attribute("record.id", i)
                with tracer.start_as_current_span(f"{prefix}-child-{i}"):
                    pass
                trace_ids.append(format(span.get_span_context().trace_id, "032x"))
                names += [f"{prefix}-span-{i}", f"{prefix}-child-{i}"]
        tracer_provider.shutdown()

        reader = InMemoryMetricReader()
        meter = MeterProvider(resource=resource, metric_readers=[reader]).get_meter("e2e")
        meter.create_counter(f"{prefix}_records_total").add(3, {"status": "success"})
        meter.create_histogram(f"{prefix}_latency_ms").record(12.5)
        metric_result = metric_exporter.export(reader.get_metrics_data())

        log_exporter = Recording(log_inner)
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
        python_logger = logging.getLogger(f"{prefix}-e2e-{compression}")
        python_logger.propagate = False
        handler = LoggingHandler(logger_provider=logger_provider)
        python_logger.addHandler(handler)
        python_logger.warning(message)
        python_logger.removeHandler(handler)
        logger_provider.shutdown()

        assert collector.stop() == 0
        out = collector.stdout()

    assert len(span_exporter.results) == 10 and all(r.name == "SUCCESS" for r in span_exporter.results)
    assert metric_result.name == "SUCCESS"
    assert log_exporter.results and all(r.name == "SUCCESS" for r in log_exporter.results)
    for name in names:
        assert f"    Name           : {name}\n" in out
    for trace_id in trace_ids:
        assert out.count(f"    Trace ID       : {trace_id}\n") == 2
    assert f"     -> Name: {prefix}_records_total\n" in out
    assert f"     -> Name: {prefix}_latency_ms\n" in out
    assert f"Body: Str({message})\n" in out
    assert out.count('"spans": 1}') == 10


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_python_sdk_exports_reach_the_collector(compression, monkeypatch) -> None:
    def exporters(collector):
        base = collector.base_url
        return (OTLPSpanExporter(endpoint=f"{base}/v1/traces"), OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
                OTLPLogExporter(endpoint=f"{base}/v1/logs"))

    export_with_the_sdk(config("detailed"), exporters, "python", compression, monkeypatch)
