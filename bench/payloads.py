#!/usr/bin/env python3
"""Writes the load benchmark's request bodies: one OTLP ExportTraceServiceRequest of 100 spans with 8
attributes each, as protobuf, gzip'd protobuf and OTLP/JSON (hex trace/span ids, enums as integers, as
the OTLP/JSON encoding requires).

    bench/payloads.py [OUT_DIR]     # default: $BENCH_WORK or bench/.work; prints the files as JSON

The content is deterministic (fixed seed, fixed base time), so every run posts the same bytes.
"""
from __future__ import annotations

import base64
import gzip
import json
import os
import random
import sys
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SPANS = 100
ATTRIBUTES_PER_SPAN = 8
BASE_NANOS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def kv(key: str, value) -> KeyValue:
    if isinstance(value, bool):
        any_value = AnyValue(bool_value=value)
    elif isinstance(value, int):
        any_value = AnyValue(int_value=value)
    elif isinstance(value, float):
        any_value = AnyValue(double_value=value)
    else:
        any_value = AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def build_request(spans: int = SPANS, seed: int = 7) -> ExportTraceServiceRequest:
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend([
        kv("service.name", "batch-inference-service"),
        kv("k8s.namespace.name", "ai-ml-lab-3-1-paid"),
        kv("k8s.pod.name", "batch-inference-paid-once-x7k2p"),
        kv("host.name", "kind-worker"),
    ])
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "batch-inference"
    scope_spans.scope.version = "1.0.0"
    trace_id = rng.randbytes(16)
    root_id = rng.randbytes(8)
    for i in range(spans):
        span = scope_spans.spans.add()
        span.trace_id = trace_id if i % 10 else rng.randbytes(16)
        span.span_id = root_id if i == 0 else rng.randbytes(8)
        if i:
            span.parent_span_id = root_id
        span.name = "process_record" if i else "batch_job"
        span.kind = Span.SPAN_KIND_INTERNAL
        start = BASE_NANOS + i * 1_000_000 + rng.randrange(1000)
        span.start_time_unix_nano = start
        span.end_time_unix_nano = start + 45_000_000 + rng.randrange(1_000_000)
        latency = round(rng.uniform(1, 50), 3)
        span.attributes.extend([
            kv("record.id", i + 1),
            kv("prediction", round(rng.uniform(0, 40), 4)),
            kv("latency_ms", latency),
            kv("cost_usd", latency * 6.25e-9),
            kv("cpu_cores", 0.5),
            kv("memory_mb", 512.0),
            kv("model.name", "linear-sum"),
            kv("record.ok", True),
        ])
        assert len(span.attributes) == ATTRIBUTES_PER_SPAN
        span.status.code = Status.STATUS_CODE_OK
    return request


def to_otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON: lowerCamelCase keys, enums as integers, trace/span ids as hex (not base64)."""
    document = json_format.MessageToDict(request, use_integers_for_enums=True)
    for resource_spans in document["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return json.dumps(document, separators=(",", ":")).encode()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_WORK") or Path(__file__).parent / ".work")
    out.mkdir(parents=True, exist_ok=True)
    request = build_request()
    protobuf = request.SerializeToString()
    files = {
        "protobuf": (out / "traces-100.pb", protobuf),
        "gzip": (out / "traces-100.pb.gz", gzip.compress(protobuf, compresslevel=6, mtime=0)),
        "json": (out / "traces-100.json", to_otlp_json(request)),
    }
    # The JSON body must decode to the same request (ids back to bytes), or the benchmark compares different work.
    assert len(json.loads(files["json"][1])["resourceSpans"][0]["scopeSpans"][0]["spans"]) == SPANS
    result = {}
    for name, (path, body) in files.items():
        path.write_bytes(body)
        result[name] = {"path": str(path), "bytes": len(body), "spans": SPANS}
    print(json.dumps({"payloads": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
