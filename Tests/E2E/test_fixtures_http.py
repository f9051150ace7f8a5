"""Every upstream fixture, posted over real HTTP as protobuf and JSON, plain and gzip: the collector's
stdout must carry upstream's debug text byte for byte (detailed `.out`, normal `.normal.out`)."""
from __future__ import annotations

import gzip
import json

import pytest

from collector_process import Collector, config, entries, fixtures_dir

FIXTURES = fixtures_dir()
pytestmark = pytest.mark.skipif(
    FIXTURES is None, reason="OTLP fixtures not found (../shared/fixtures/otlp or $OTLP_FIXTURES_DIR): fixture tests NOT run")

VARIANTS = [("pb", "application/x-protobuf", None), ("pb", "application/x-protobuf", "gzip"),
            ("json", "application/json", None), ("json", "application/json", "gzip")]


def cases(suffix: str) -> list[tuple[str, str]]:
    if FIXTURES is None:
        return []
    found = []
    for signal in ("traces", "metrics", "logs"):
        for path in sorted((FIXTURES / signal).glob(f"*{suffix}")):
            name = path.name[: -len(suffix)]
            if "." not in name:
                found.append((signal, name))
    return found


def item_count(signal: str, body: dict) -> int:
    key, scopes, items = {"traces": ("resourceSpans", "scopeSpans", "spans"),
                          "logs": ("resourceLogs", "scopeLogs", "logRecords"),
                          "metrics": ("resourceMetrics", "scopeMetrics", "metrics")}[signal]
    total = 0
    for resource in body.get(key, []):
        for scope in resource.get(scopes, []):
            for item in scope.get(items, []):
                if signal != "metrics":
                    total += 1
                else:
                    for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                        total += len(item.get(kind, {}).get("dataPoints", []))
    return total


def dumps(stdout: str) -> list[str]:
    """The dump bodies: each entry after a summary line, without the trailing fields line."""
    bodies = []
    for level, rest in entries(stdout):
        if rest.split("\t", 1)[0] in ("TracesExporter", "MetricsExporter", "LogsExporter"):
            continue
        body, sep, fields = rest.rpartition("\t{")
        assert sep and fields.startswith('"kind": "exporter"'), rest
        bodies.append(body)
    return bodies


@pytest.mark.parametrize("verbosity,suffix", [("detailed", ".out"), ("normal", ".normal.out")])
def test_fixtures_over_http(verbosity: str, suffix: str) -> None:
    posted = []
    with Collector(config(verbosity)) as collector:
        for signal, name in cases(suffix):
            expected = (FIXTURES / signal / f"{name}{suffix}").read_text()
            items = item_count(signal, json.loads((FIXTURES / signal / f"{name}.json").read_text()))
            for ext, content_type, encoding in VARIANTS:
                body = (FIXTURES / signal / f"{name}.{ext}").read_bytes()
                if encoding == "gzip":
                    body = gzip.compress(body)
                status, headers, response = collector.post(f"/v1/{signal}", body, content_type, encoding)
                assert status == 200, (signal, name, ext, encoding, response)
                assert headers["Content-Type"] == content_type
                if items:
                    posted.append((f"{signal}/{name} {ext} {encoding}", expected))
        assert collector.stop() == 0
        got = dumps(collector.stdout())
    assert len(posted) > 0
    assert len(got) == len(posted), f"{len(got)} dumps for {len(posted)} requests with items"
    for (label, expected), body in zip(posted, got):
        assert body == expected, label


def test_examples_accepted() -> None:
    """The opentelemetry-proto JSON examples (upper-case hex ids) and their protobuf twins are accepted."""
    with Collector(config("basic")) as collector:
        for name, signal in (("trace", "traces"), ("metrics", "metrics"), ("logs", "logs"), ("events", "logs")):
            for ext, content_type in (("json", "application/json"), ("pb", "application/x-protobuf")):
                status, _, response = collector.post(f"/v1/{signal}", (FIXTURES / "examples" / f"{name}.{ext}").read_bytes(), content_type)
                assert status == 200, (name, ext, response)
        assert collector.stop() == 0
        summaries = [rest for _, rest in entries(collector.stdout())]
    assert len(summaries) == 8
    assert all(s.split("\t", 1)[0] in ("TracesExporter", "MetricsExporter", "LogsExporter") for s in summaries)
