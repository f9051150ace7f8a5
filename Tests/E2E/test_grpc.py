"""OTLP/gRPC against the real collector on 127.0.0.1: every upstream fixture's protobuf sent through the three
Export methods (plain and gzip-compressed messages) must print the same debug text, byte for byte, as over
HTTP (`.out`, `.normal.out`); upstream's status codes for bad data, oversize messages and memory_limiter
refusals; and the official OpenTelemetry Python SDK's gRPC exporter reporting SUCCESS for spans, metrics
and logs."""
from __future__ import annotations

import gzip
import json
import logging

import pytest

grpc = pytest.importorskip("grpc", reason="grpcio is not installed (pip install -r Tests/requirements.txt)")

from collector_process import Collector, config, entries, fixtures_dir  # noqa: E402
from test_fixtures_http import cases, dumps, item_count  # noqa: E402

FIXTURES = fixtures_dir()
SERVICES = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}
# An empty ExportPartialSuccess in field 1: what upstream (and our HTTP receiver) answers on success.
SUCCESS = b"\x0a\x00"


def span_request(trace_id: bytes = bytes.fromhex("5b8efff798038103d269b633813fc60c"), name: str = "grpc-span") -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = trace_id, bytes.fromhex("eee19b7ec3c1b174"), name
    return request.SerializeToString()


def export(endpoint: str, signal: str, body: bytes, compression=None, timeout: float = 10.0) -> bytes:
    """One unary Export call with raw protobuf bytes (no generated stubs: the bytes go on the wire as they are)."""
    with grpc.insecure_channel(endpoint, options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]) as channel:
        call = channel.unary_unary(SERVICES[signal], request_serializer=None, response_deserializer=None)
        return call(body, timeout=timeout, compression=compression)


def status_of(endpoint: str, signal: str, body: bytes, compression=None) -> tuple[grpc.StatusCode, str, tuple]:
    with pytest.raises(grpc.RpcError) as failure:
        export(endpoint, signal, body, compression)
    error = failure.value
    return error.code(), error.details(), error.trailing_metadata() or ()


@pytest.mark.skipif(FIXTURES is None, reason="OTLP fixtures not found (../shared/fixtures/otlp or $OTLP_FIXTURES_DIR): fixture tests NOT run")
@pytest.mark.parametrize("verbosity,suffix", [("detailed", ".out"), ("normal", ".normal.out")])
def test_fixtures_over_grpc(verbosity: str, suffix: str) -> None:
    sent = []
    with Collector(config(verbosity, grpc="")) as collector:
        assert collector.grpc_endpoint and collector.grpc_endpoint.startswith("127.0.0.1:")
        for signal, name in cases(suffix):
            expected = (FIXTURES / signal / f"{name}{suffix}").read_text()
            items = item_count(signal, json.loads((FIXTURES / signal / f"{name}.json").read_text()))
            body = (FIXTURES / signal / f"{name}.pb").read_bytes()
            for compression in (None, grpc.Compression.Gzip):
                response = export(collector.grpc_endpoint, signal, body, compression)
                assert response == SUCCESS, (signal, name, compression)
                if items:
                    sent.append((f"{signal}/{name} {compression}", expected))
        assert collector.stop() == 0
        got = dumps(collector.stdout())
    assert len(sent) > 0
    assert len(got) == len(sent), f"{len(got)} dumps for {len(sent)} requests with items"
    for (label, expected), body in zip(sent, got):
        assert body == expected, label


@pytest.mark.skipif(FIXTURES is None, reason="OTLP fixtures not found")
def test_same_output_over_http_and_grpc() -> None:
    """One collector, both protocols: the same fixture sent over each prints the same dump."""
    body = (FIXTURES / "traces" / "two_spans.pb").read_bytes()
    with Collector(config("detailed", grpc="")) as collector:
        status, _, _ = collector.post("/v1/traces", body, "application/x-protobuf")
        assert status == 200
        assert export(collector.grpc_endpoint, "traces", body) == SUCCESS
        assert collector.stop() == 0
        got = dumps(collector.stdout())
    assert len(got) == 2 and got[0] == got[1] == (FIXTURES / "traces" / "two_spans.out").read_text()


def test_own_metrics_count_grpc_as_its_own_transport() -> None:
    """`otelcol_receiver_accepted_spans` per transport: 2 spans over HTTP, 2 + 2 over gRPC."""
    body = (FIXTURES / "traces" / "two_spans.pb").read_bytes()
    with Collector(config("basic", grpc="")) as collector:
        assert collector.post("/v1/traces", body, "application/x-protobuf")[0] == 200
        assert export(collector.grpc_endpoint, "traces", body) == SUCCESS
        assert export(collector.grpc_endpoint, "traces", body) == SUCCESS
        text = collector.scrape()
        assert collector.stop() == 0
    lines = [line for line in text.splitlines() if line.startswith("otelcol_receiver_accepted_spans{")]
    by_transport = {("grpc" if 'transport="grpc"' in line else "http"): float(line.rsplit(" ", 1)[1]) for line in lines}
    assert by_transport == {"http": 2.0, "grpc": 4.0}, lines


def test_startup_logs_both_servers() -> None:
    with Collector(config("basic", grpc="")) as collector:
        err = collector.stderr()
        assert f'Starting GRPC server\t{{"endpoint": "{collector.grpc_endpoint}"' in err
        assert f'Starting HTTP server\t{{"endpoint": "{collector.endpoint}"' in err
        assert collector.stop() == 0


def test_grpc_only_receiver() -> None:
    cfg = config("basic").replace("      http:\n        endpoint: 127.0.0.1:0\n", "      grpc:\n        endpoint: 127.0.0.1:0\n")
    with Collector(cfg) as collector:
        assert collector.endpoint is None and collector.grpc_endpoint
        assert "Starting HTTP server" not in collector.stderr()
        assert export(collector.grpc_endpoint, "traces", span_request()) == SUCCESS
        assert collector.stop() == 0
        assert '"spans": 1}' in collector.stdout()


def test_malformed_protobuf_is_invalid_argument() -> None:
    with Collector(config("basic", grpc="")) as collector:
        for signal in SERVICES:
            code, _, _ = status_of(collector.grpc_endpoint, signal, b"\x0a\xff\xff\xff")
            assert code == grpc.StatusCode.INVALID_ARGUMENT, signal
        assert collector.stop() == 0
        assert "Exporter" not in collector.stdout()


def test_wrong_id_length_is_invalid_argument() -> None:
    body = span_request(trace_id=b"\x01\x02\x03")
    with Collector(config("basic", grpc="")) as collector:
        code, details, _ = status_of(collector.grpc_endpoint, "traces", body)
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert "trace_id" in details or "traceId" in details or "trace" in details.lower(), details
        assert collector.stop() == 0
        assert "TracesExporter" not in collector.stdout()


def test_oversize_message_is_resource_exhausted() -> None:
    """max_recv_msg_size_mib: 1: a 2 MiB message is refused; so is a small gzip message that inflates past it."""
    big_attr = b"\x0a\x07" + b"big.key" + b"\x12"  # KeyValue{key, value: AnyValue{string_value}}
    value = b"\x0a" + _varint(2 * 1024 * 1024) + b"a" * (2 * 1024 * 1024)
    attribute = big_attr + _varint(len(value)) + value
    resource = b"\x0a" + _varint(len(attribute)) + attribute  # Resource.attributes
    resource_spans = b"\x0a" + _varint(len(resource)) + resource
    body = b"\x0a" + _varint(len(resource_spans)) + resource_spans
    with Collector(config("basic", grpc="        max_recv_msg_size_mib: 1\n")) as collector:
        code, _, _ = status_of(collector.grpc_endpoint, "traces", body)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        code, _, _ = status_of(collector.grpc_endpoint, "traces", body, grpc.Compression.Gzip)
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        # Under the limit still works on the same server.
        assert export(collector.grpc_endpoint, "traces", b"") == SUCCESS
        assert collector.stop() == 0
        assert "TracesExporter" not in collector.stdout()


def test_default_limit_is_4_mib() -> None:
    def body(size: int) -> bytes:
        # A single unknown length-delimited field 15 of `size` bytes: valid protobuf, no items.
        return b"\x7a" + _varint(size) + b"\x00" * size
    with Collector(config("basic", grpc="")) as collector:
        assert export(collector.grpc_endpoint, "traces", body(4 * 1024 * 1024 - 16)) == SUCCESS
        code, _, _ = status_of(collector.grpc_endpoint, "traces", body(4 * 1024 * 1024 + 16))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert collector.stop() == 0


def test_memory_limiter_refusal_is_unavailable_with_retry_info() -> None:
    cfg = config("basic", grpc="").replace(
        "\nexporters:\n", "\nprocessors:\n  memory_limiter:\n    check_interval: 100ms\n    limit_mib: 2\n    spike_limit_mib: 1\nexporters:\n")
    cfg = cfg.replace("      exporters: [debug]\n", "      processors: [memory_limiter]\n      exporters: [debug]\n")
    with Collector(cfg) as collector:
        code, details, trailers = status_of(collector.grpc_endpoint, "traces", span_request())
        assert code == grpc.StatusCode.UNAVAILABLE
        assert details == "data refused due to high memory usage"
        status_details = dict(trailers)["grpc-status-details-bin"]
        from google.rpc import error_details_pb2, status_pb2
        status = status_pb2.Status.FromString(status_details)
        assert status.code == 14 and status.message == "data refused due to high memory usage"
        retry = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(retry) and retry.retry_delay.seconds == 1
        assert collector.stop() == 0
        assert "TracesExporter" not in collector.stdout()


def test_bad_grpc_config_names_the_key() -> None:
    import subprocess
    from collector_process import collector_binary
    import tempfile
    from pathlib import Path
    path = Path(tempfile.mkdtemp()) / "bad.yaml"
    path.write_text(config("basic", grpc="        tls:\n          cert_file: x.pem\n        max_recv_msg_size_mib: -1\n"))
    result = subprocess.run([str(collector_binary()), "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "receivers::otlp::protocols::grpc::tls: is not served by this collector yet" in result.stderr
    assert "receivers::otlp::protocols::grpc::max_recv_msg_size_mib: cannot be negative: -1" in result.stderr


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# ---------------------------------------------------------------------------------------------------------
# The OpenTelemetry Python SDK's gRPC exporter (opentelemetry-exporter-otlp-proto-grpc)

@pytest.mark.parametrize("compression", [None, "gzip"])
def test_python_sdk_grpc_exporter(compression, monkeypatch) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.grpc", reason="opentelemetry-exporter-otlp-proto-grpc is not installed")
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    from test_python_sdk import export_with_the_sdk

    def exporters(collector):
        endpoint = f"http://{collector.grpc_endpoint}"
        return (OTLPSpanExporter(endpoint=endpoint, insecure=True), OTLPMetricExporter(endpoint=endpoint, insecure=True),
                OTLPLogExporter(endpoint=endpoint, insecure=True))

    export_with_the_sdk(config("detailed", grpc=""), exporters, "grpc", compression, monkeypatch)
