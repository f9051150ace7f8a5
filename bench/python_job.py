#!/usr/bin/env python3
"""The lab's Python batch job, as the reference the runner replaces (OpenTelemetry Python SDK 1.45.x).

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 bench/python_job.py N > /dev/null

Per record: a `process_record` span (its own trace, linked to the `batch_job` span, with the lab's attributes), a
JSON log line on stdout (`Record processed`, with trace and span ids), a counter (`batch_total_records`), a histogram
(`record_latency_ms`) and two gauges (`cost_per_record_usd`, `records_per_second`; a per-record CPU-time
reading was dropped: `time.process_time()` alone cost milliseconds per call on the loaded benchmark machine). Spans go through the SDK's
BatchSpanProcessor (its defaults: queue 2048, batch 512, 5 s) into the OTLP/HTTP protobuf exporter; metrics through a
PeriodicExportingMetricReader into the OTLP/HTTP protobuf metric exporter. The records are the runner's
`--generate N` records (same splitmix64 features, model = sum of the features).

At the end it flushes (provider shutdown) and prints one JSON line on stderr:
`PYJOB {"records": N, "spans_created": N + 1, "wall_s": …, "records_per_s": …}`.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link

MASK = (1 << 64) - 1
CPU_CORES = 0.5
MEMORY_GB = 0.5
COST_PER_CPU_HOUR = 0.04
COST_PER_MEMORY_GB_HOUR = 0.005


def features(position: int) -> list[float]:
    """The runner's GeneratedSource.record(at:): splitmix64 steps → values in 0.0 ..< 10.0 with two decimals."""
    state = (position * 0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D) & MASK
    out = []
    for _ in range(4):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        out.append((z % 1000) / 100)
    return out


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"timestamp": self.formatTime(record), "level": record.levelname, "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "batch-inference-service-python")})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(OTLPMetricExporter())
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    metrics.set_meter_provider(meter_provider)

    logger = logging.getLogger("batch-inference")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JSONFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    tracer = trace.get_tracer("batch-inference")
    meter = metrics.get_meter("batch-inference")
    records_counter = meter.create_counter("batch_total_records", unit="1", description="Records processed, by status")
    latency_histogram = meter.create_histogram("record_latency_ms", unit="ms", description="Model latency per record")
    cost_gauge = meter.create_gauge("cost_per_record_usd", unit="USD")
    rate_gauge = meter.create_gauge("records_per_second", unit="1/s")
    rate_per_second = (CPU_CORES * COST_PER_CPU_HOUR + MEMORY_GB * COST_PER_MEMORY_GB_HOUR) / 3600

    started = time.perf_counter()
    root = tracer.start_span("batch_job")
    root_link = Link(root.get_span_context())
    total_cost = 0.0
    for position in range(count):
        record_id = position + 1
        span = tracer.start_span("process_record", context=Context(), links=[root_link])
        span.set_attribute("record.id", record_id)
        begin = time.perf_counter()
        prediction = sum(features(position))
        latency_ms = (time.perf_counter() - begin) * 1000
        cost = rate_per_second * latency_ms / 1000
        total_cost += cost
        span.set_attribute("prediction", prediction)
        span.set_attribute("latency_ms", latency_ms)
        span.set_attribute("cost_usd", cost)
        span.set_attribute("cpu_cores", CPU_CORES)
        span.set_attribute("memory_mb", MEMORY_GB * 1024)
        span.end()
        context = span.get_span_context()
        logger.info("Record processed", extra={"fields": {
            "id": record_id, "prediction": prediction, "latency_ms": latency_ms, "cost_usd": cost,
            "trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}})
        records_counter.add(1, {"status": "success"})
        latency_histogram.record(latency_ms)
        cost_gauge.set(total_cost / record_id)
        elapsed = time.perf_counter() - started
        rate_gauge.set(record_id / elapsed if elapsed > 0 else 0.0)
    root.end()
    processing = time.perf_counter() - started
    tracer_provider.shutdown()
    meter_provider.shutdown()
    wall = time.perf_counter() - started
    print("PYJOB " + json.dumps({"records": count, "spans_created": count + 1, "processing_s": processing, "wall_s": wall,
                                 "records_per_s": count / wall}), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
