"""The collector's own metrics (`service.telemetry.metrics`): fixtures posted over real HTTP, then
`GET /metrics` scraped; every count asserted exactly, computed from what was posted."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from collector_process import LOOPBACK_METRICS, Collector, collector_binary, fixtures_dir
from test_fixtures_http import item_count

FIXTURES = fixtures_dir()
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$')
OTLP = {"receiver": "otlp", "transport": "http"}
UNITS = {"traces": "spans", "metrics": "metric_points", "logs": "log_records"}
CONTENT_TYPES = {"pb": "application/x-protobuf", "json": "application/json"}


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text → {(name, labels): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, labels, value = match.groups()
        pairs = frozenset(tuple(p.split("=", 1)) for p in re.findall(r'[a-zA-Z_]\w*="[^"]*"', labels or ""))
        out[(name, frozenset((k, v.strip('"')) for k, v in pairs))] = float(value)
    return out


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, frozenset(labels.items())))


def types(text: str) -> dict[str, str]:
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def scrape_until(collector: Collector, condition, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    text = collector.scrape()
    while not condition(text) and time.monotonic() < deadline:
        time.sleep(0.05)
        text = collector.scrape()
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_config(batch: str, processors: str = "", telemetry: str = LOOPBACK_METRICS,
               traces_processors: str = "[batch]") -> str:
    return (
        "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\n"
        "        max_request_body_size: 134217728\n"
        f"processors:\n  batch:\n{batch}{processors}"
        "exporters:\n  debug:\n    verbosity: basic\n"
        "service:\n" + telemetry + "  pipelines:\n"
        f"    traces:\n      receivers: [otlp]\n      processors: {traces_processors}\n      exporters: [debug]\n"
        "    metrics:\n      receivers: [otlp]\n      exporters: [debug]\n"
        "    logs:\n      receivers: [otlp]\n      exporters: [debug]\n"
    )


@pytest.mark.skipif(FIXTURES is None, reason="OTLP fixtures not found: own-metrics fixture test NOT run")
def test_counts_match_what_was_posted() -> None:
    """Accepted items per signal, exported items per exporter, batch sends by trigger and size."""
    # Every traces fixture merged into one request: one request means the batch's sends are fixed by
    # arithmetic (size sends of exactly send_batch_size, then the rest when the timeout fires).
    merged = {"resourceSpans": []}
    for path in sorted((FIXTURES / "traces").glob("*.json")):
        merged["resourceSpans"] += json.loads(path.read_text()).get("resourceSpans", [])
    spans = item_count("traces", merged)
    assert spans >= 3, "the traces fixtures hold too few spans for this test"
    size = next(s for s in range(2, spans) if spans % s)  # a batch size that leaves a remainder
    posted = {"metrics": 0, "logs": 0}
    batch = f"    timeout: 1s\n    send_batch_size: {size}\n    send_batch_max_size: {size}\n"
    with Collector(lab_config(batch)) as collector:
        before = collector.scrape()
        assert value(before, "otelcol_receiver_accepted_spans", **OTLP) == 0  # served from the start, nothing yet
        for signal in ("metrics", "logs"):
            for path in sorted((FIXTURES / signal).glob("*.json")):
                for ext in ("pb", "json"):
                    body = path.with_suffix(f".{ext}").read_bytes()
                    status, _, response = collector.post(f"/v1/{signal}", body, CONTENT_TYPES[ext])
                    assert status == 200, (path.name, ext, response)
                    posted[signal] += item_count(signal, json.loads(path.read_text()))
        status, _, _ = collector.post("/v1/traces", json.dumps(merged).encode(), "application/json")
        assert status == 200
        # Not refused, not accepted: a body that does not decode (400) and a wrong content type (415).
        assert collector.post("/v1/traces", b"\x0a\xff", "application/x-protobuf")[0] == 400
        assert collector.post("/v1/logs", b"{}", "text/plain")[0] == 415

        text = scrape_until(collector, lambda t: value(
            t, "otelcol_processor_batch_timeout_trigger_send", processor="batch") == 1)
        assert posted["metrics"] > 0 and posted["logs"] > 0
        for signal, count in (("traces", spans), ("metrics", posted["metrics"]), ("logs", posted["logs"])):
            unit = UNITS[signal]
            assert value(text, f"otelcol_receiver_accepted_{unit}", **OTLP) == count, signal
            assert value(text, f"otelcol_receiver_refused_{unit}", **OTLP) == 0, signal
            assert value(text, f"otelcol_exporter_sent_{unit}", exporter="debug") == count, signal
            assert value(text, f"otelcol_exporter_send_failed_{unit}", exporter="debug") == 0, signal
        assert value(text, "otelcol_processor_batch_batch_size_trigger_send", processor="batch") == spans // size
        assert value(text, "otelcol_processor_batch_timeout_trigger_send", processor="batch") == 1
        histogram = "otelcol_processor_batch_batch_send_size"
        assert value(text, f"{histogram}_count", processor="batch") == spans // size + 1
        assert value(text, f"{histogram}_sum", processor="batch") == spans
        assert types(text)[histogram] == "histogram"
        bounds = sorted(float(le) for (name, labels), _ in samples(text).items() if name == f"{histogram}_bucket"
                        for key, le in labels if key == "le" and le != "+Inf")
        assert bounds == [10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000,
                          10000, 20000, 30000, 50000, 100000]
        assert types(text)["otelcol_receiver_accepted_spans"] == "counter"
        # The process: measured, so only their presence and sense can be asserted.
        assert value(text, "otelcol_process_memory_rss") > 1_000_000
        assert value(text, "otelcol_process_uptime") > 0
        assert value(text, "otelcol_process_cpu_seconds") > 0
        assert not any(name.endswith("_total") for name, _ in samples(text))  # upstream's default reader
        # The debug exporter printed what the counters say.
        assert collector.stop() == 0
    out = collector.stdout()
    printed = sum(int(n) for n in re.findall(r'"spans": (\d+)\}', out))
    assert printed == spans


def test_memory_limiter_refusal_is_counted_as_refused() -> None:
    """With the limiter refusing (its soft limit, 6 MiB, is below any collector's resident memory): over gRPC the
    request is decoded before the refusal (the transport reads it), so its spans count as refused by the
    receiver; over HTTP it is refused before its body is read, so no item count exists and nothing is counted
    (README). Nothing reaches the exporter."""
    import grpc
    from test_grpc import status_of

    limiter = "  memory_limiter:\n    check_interval: 1h\n    limit_mib: 8\n    spike_limit_mib: 2\n"
    cfg = lab_config("    timeout: 100ms\n", processors=limiter, traces_processors="[memory_limiter, batch]")
    cfg = cfg.replace("      http:\n", "      grpc:\n        endpoint: 127.0.0.1:0\n      http:\n", 1)

    def request(spans: int) -> bytes:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
        message = ExportTraceServiceRequest()
        scope = message.resource_spans.add().scope_spans.add()
        for i in range(spans):
            scope.spans.add(name=f"s{i}")
        return message.SerializeToString()

    with Collector(cfg) as collector:
        status, headers, _ = collector.post("/v1/traces", request(2), "application/x-protobuf")
        assert status == 503
        assert headers["Retry-After"] == "3600"
        code, details, _ = status_of(collector.grpc_endpoint, "traces", request(3))
        assert code == grpc.StatusCode.UNAVAILABLE and details == "data refused due to high memory usage"
        text = collector.scrape()
        assert value(text, "otelcol_receiver_refused_spans", receiver="otlp", transport="grpc") == 3
        assert value(text, "otelcol_receiver_accepted_spans", receiver="otlp", transport="grpc") == 0
        assert value(text, "otelcol_receiver_refused_spans", **OTLP) == 0
        assert value(text, "otelcol_receiver_accepted_spans", **OTLP) == 0
        assert value(text, "otelcol_exporter_sent_spans", exporter="debug") == 0
        assert collector.stop() == 0


def test_legacy_address_form_and_level_basic() -> None:
    """`address: host:port` serves there; `level: basic` leaves out the batch processor's metrics."""
    port = free_port()
    telemetry = f"  telemetry:\n    metrics:\n      level: basic\n      address: 127.0.0.1:{port}\n"
    with Collector(lab_config("    timeout: 100ms\n", telemetry=telemetry)) as collector:
        assert collector.metrics_endpoint == f"127.0.0.1:{port}"
        assert collector.post("/v1/traces", json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
            {"name": "a"}, {"name": "b"}]}]}]}).encode(), "application/json")[0] == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            text = response.read().decode()
        assert value(text, "otelcol_receiver_accepted_spans", **OTLP) == 2
        assert not [name for name, _ in samples(text) if name.startswith("otelcol_processor_batch_")]
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert missing.value.code == 404
        assert collector.stop() == 0


def test_type_suffix_and_units_when_asked() -> None:
    telemetry = ("  telemetry:\n    metrics:\n      readers: [{pull: {exporter: {prometheus: "
                 "{host: 127.0.0.1, port: 0, without_type_suffix: false, without_units: false}}}}]\n")
    with Collector(lab_config("    timeout: 100ms\n", telemetry=telemetry)) as collector:
        assert collector.post("/v1/logs", json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"body": {"stringValue": "x"}}]}]}]}).encode(), "application/json")[0] == 200
        text = scrape_until(collector, lambda t: value(t, "otelcol_exporter_sent_log_records_total", exporter="debug") == 1)
        assert value(text, "otelcol_receiver_accepted_log_records_total", **OTLP) == 1
        assert value(text, "otelcol_process_uptime_seconds_total") > 0
        assert value(text, "otelcol_process_memory_rss_bytes") > 0
        assert collector.stop() == 0


def test_level_none_serves_nothing() -> None:
    telemetry = "  telemetry:\n    metrics:\n      level: none\n"
    with Collector(lab_config("    timeout: 100ms\n", telemetry=telemetry)) as collector:
        assert "Serving metrics" not in collector.stderr()
        assert collector.stop() == 0


def test_bad_telemetry_config_and_taken_port() -> None:
    path = Path(tempfile.mkdtemp()) / "c.yaml"
    path.write_text(lab_config("", telemetry="  telemetry:\n    metrics:\n      level: loud\n      adress: x\n"))
    result = subprocess.run([str(collector_binary()), "validate", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: service::telemetry::metrics: has invalid keys: adress",
        'Error: service::telemetry::metrics::level: unknown metrics level "loud" (valid values: none, basic, normal, detailed)',
    ]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        collector = Collector(lab_config("", telemetry=f"  telemetry:\n    metrics:\n      address: 127.0.0.1:{port}\n"), wait=False)
        assert collector.process.wait(timeout=20) == 1
        collector.stop()
        assert "Collector stopped on an error" in collector.stderr()
