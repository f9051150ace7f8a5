#!/usr/bin/env python3
"""Writes the collector's linker section-ordering file: every function the collector executes under the lab's
configuration shape (start-up, all three signals over HTTP and gRPC, protobuf/gzip/JSON, the debug and logging dumps,
errors, the metrics and health endpoints, SIGTERM drain), hottest first, as callgrind saw them.

The release link lays these functions out side by side (Package.swift: gold `--section-ordering-file`, with
`-function-sections`), so the pages the collector touches are a few MiB of its text instead of being spread over all
of it: resident memory and start-up page faults follow. A stale file only loses that locality (unknown names match
nothing); regenerate it after large changes:

    bench/order_file.py            # COLLECTOR_BIN=… to use another release binary

Needs valgrind and Python's grpcio (Tests/requirements.txt).
"""
import gzip
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import benchlib as bl
import profile as prof  # bench/profile.py: the valgrind workarounds

OUT = bl.ROOT / "Sources" / "Collector" / "Linker" / "collector.order"
FIXTURES = Path(os.environ.get("OTLP_FIXTURES", bl.ROOT.parent / "shared" / "fixtures" / "otlp"))


def config(http_port: int, grpc_port: int, prometheus: int, health: int) -> str:
    """collector.yaml's shape (the lab's ConfigMap) on loopback ports."""
    pipelines = "".join(
        f"    {s}:\n      receivers: [otlp]\n      processors: [memory_limiter, batch]\n      exporters: [logging, debug]\n"
        for s in ("traces", "metrics", "logs"))
    return (
        "receivers:\n  otlp:\n    protocols:\n"
        f"      grpc:\n        endpoint: 127.0.0.1:{grpc_port}\n      http:\n        endpoint: 127.0.0.1:{http_port}\n"
        "processors:\n  memory_limiter:\n    check_interval: 1s\n    limit_mib: 400\n    spike_limit_mib: 100\n"
        "  batch:\n    timeout: 1s\n    send_batch_size: 1024\n"
        "exporters:\n  logging:\n    loglevel: debug\n  debug:\n    verbosity: basic\n"
        f"extensions:\n  health_check:\n    endpoint: 127.0.0.1:{health}\n"
        "service:\n  extensions: [health_check]\n  telemetry:\n    logs:\n      level: info\n"
        "    metrics:\n      level: normal\n      readers:\n        - pull:\n            exporter:\n              prometheus:\n"
        f"                host: 127.0.0.1\n                port: {prometheus}\n"
        "  pipelines:\n" + pipelines)


def request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def traffic(http_port: int, grpc_port: int, prometheus: int, health: int, bench_bodies: dict) -> None:
    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as ls, logs_service_pb2_grpc as lsg
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms, metrics_service_pb2_grpc as msg
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts, trace_service_pb2_grpc as tsg

    protobuf = {"Content-Type": "application/x-protobuf"}
    for _ in range(3):
        for signal_name in ("traces", "metrics", "logs"):
            for body_file in sorted((FIXTURES / signal_name).glob("*.pb")):
                body = body_file.read_bytes()
                request(http_port, "POST", f"/v1/{signal_name}", body, protobuf)
                request(http_port, "POST", f"/v1/{signal_name}", gzip.compress(body), {**protobuf, "Content-Encoding": "gzip"})
            for body_file in sorted((FIXTURES / signal_name).glob("*.json")):
                request(http_port, "POST", f"/v1/{signal_name}", body_file.read_bytes(), {"Content-Type": "application/json"})
        for _ in range(20):
            request(http_port, "POST", "/v1/traces", bench_bodies["protobuf"], protobuf)
        for _ in range(5):
            request(http_port, "POST", "/v1/traces", bench_bodies["gzip"], {**protobuf, "Content-Encoding": "gzip"})
            request(http_port, "POST", "/v1/traces", bench_bodies["json"], {"Content-Type": "application/json"})
        request(http_port, "POST", "/v1/traces", b"not protobuf", protobuf)
        request(http_port, "POST", "/v1/unknown", b"", protobuf)
        request(prometheus, "GET", "/metrics")
        request(health, "GET", "/")
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            traces = ts.ExportTraceServiceRequest.FromString(bench_bodies["protobuf"])
            tsg.TraceServiceStub(channel).Export(traces, timeout=120)
            tsg.TraceServiceStub(channel).Export(traces, timeout=120, compression=grpc.Compression.Gzip)
            metrics = ms.ExportMetricsServiceRequest.FromString((FIXTURES / "metrics" / "five_metrics.pb").read_bytes())
            msg.MetricsServiceStub(channel).Export(metrics, timeout=120)
            logs = sorted((FIXTURES / "logs").glob("*.pb"))[-1].read_bytes()
            lsg.LogsServiceStub(channel).Export(ls.ExportLogsServiceRequest.FromString(logs), timeout=120)
        time.sleep(1.5)  # a batch timeout, so the batch processor's timer path runs too


def executed_functions(callgrind_out: Path) -> dict[str, int]:
    """The functions (mangled names) that executed in the profile, with their own instruction counts."""
    names: dict[str, str] = {}
    cost: dict[str, int] = {}
    current = None
    in_call = False
    for line in callgrind_out.read_text(errors="replace").splitlines():
        m = re.match(r"(c?)fn=\((\d+)\)(?: (.*))?$", line)
        if m:
            if m.group(3):
                names[m.group(2)] = re.sub(r"'\d+$", "", m.group(3).strip())
            if m.group(1):
                in_call = True
                cost.setdefault(names[m.group(2)], 0)
            else:
                current = names[m.group(2)]
                cost.setdefault(current, 0)
            continue
        if line.startswith("calls="):
            continue
        m = re.match(r"(?:[+-]?\d+|\*) (\d+)", line)
        if m and current is not None:
            if in_call:
                in_call = False  # the line after calls= is the call's inclusive cost, not the caller's own
            else:
                cost[current] += int(m.group(1))
    cost.pop("(below main)", None)
    return cost


def profiled_functions(raw: Path, binary: Path, name: str, config_text: str, ready, drive) -> dict[str, int]:
    """Runs the collector under callgrind with `config_text`, waits for `ready(process)`, runs `drive()`, stops it
    with SIGTERM; returns each executed function's own instruction count."""
    config_file = raw / f"{name}.yaml"
    config_file.write_text(config_text)
    out_file = raw / f"callgrind.{name}.out"
    out_file.unlink(missing_ok=True)
    argv = ["valgrind", "--tool=callgrind", "--vgdb=no", "--demangle=no", f"--callgrind-out-file={out_file}",
            str(binary), "--config", str(config_file)]
    with open(raw / f"{name}.stdout", "wb") as o, open(raw / f"{name}.stderr", "wb") as e:
        process = subprocess.Popen(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=prof.valgrind_env(raw))
    try:
        ready(process)
        bl.log(f"{name}: sending the traffic mix under callgrind")
        drive()
    finally:
        process.send_signal(signal.SIGTERM)
        if process.wait(timeout=300) != 0:
            bl.die(f"{name}: the collector exited with {process.returncode}: {(raw / f'{name}.stderr').read_text()[-2000:]}")
    return executed_functions(out_file)


# Sections laid out before the executed functions, by name pattern (gold matches globs): the functions the Swift
# compiler emits without a symbol (closures, object destroyers; `.text..L<n>`, 130 KB in all), which callgrind cannot
# name, and glibc's string functions, one variant per instruction set in `.text.<set>` sections (`__memmove_evex_…`),
# of which callgrind, on valgrind's virtual CPU, sees other variants than run natively.
LEADING_SECTIONS = [".text..L*", ".text.sse2", ".text.ssse3", ".text.sse4*", ".text.avx*", ".text.evex*",
                    # Static constructors (C++ in the Swift runtime, glibc): all of them run at start.
                    ".text.startup*"]
# A C or C++ function the compiler split into a hot and a cold part also has a `.text.unlikely.<symbol>` section;
# the cold part of a function that runs at start often runs too (the runtime's metadata instantiation).
COLD_PART = ".text.unlikely."


def main() -> int:
    if not FIXTURES.is_dir():
        bl.die(f"the OTLP fixtures are not at {FIXTURES} (set OTLP_FIXTURES)")
    raw = bl.work_dir() / "order-file"
    raw.mkdir(parents=True, exist_ok=True)
    payloads = __import__("json").loads(subprocess.run([sys.executable, str(bl.BENCH / "payloads.py"), str(bl.work_dir())],
                                                       capture_output=True, text=True, check=True).stdout)["payloads"]
    bench_bodies = {k: Path(v["path"]).read_bytes() for k, v in payloads.items()}
    binary = prof.valgrind_copy("collector", raw)

    # 1. The lab's configuration shape, every signal and transport.
    ports = [bl.free_port() for _ in range(4)]

    def healthy(process: subprocess.Popen) -> None:
        deadline = time.monotonic() + 300
        while True:
            try:
                if request(ports[3], "GET", "/") == 200:
                    return
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                bl.die("the collector under valgrind did not become healthy")
            time.sleep(0.2)

    lab = profiled_functions(raw, binary, "lab", config(*ports), healthy, lambda: traffic(*ports, bench_bodies))

    # 2. The benchmarks' configuration (bench/benchlib.py: traces only, own metrics off), their three bodies.
    port = bl.free_port()

    def bench_traffic() -> None:
        for _ in range(50):
            request(port, "POST", "/v1/traces", bench_bodies["protobuf"], {"Content-Type": "application/x-protobuf"})
        for _ in range(10):
            request(port, "POST", "/v1/traces", bench_bodies["gzip"],
                    {"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"})
            request(port, "POST", "/v1/traces", bench_bodies["json"], {"Content-Type": "application/json"})
        time.sleep(1.5)

    bench = profiled_functions(raw, binary, "bench", bl.collector_config(port), lambda p: prof.wait_2xx(p, port, 300), bench_traffic)

    costs = dict(lab)
    for name, cost in bench.items():
        costs[name] = costs.get(name, 0) + cost
    defined = set(subprocess.run(["nm", "--defined-only", "--format=just-symbols", str(binary)],
                                 capture_output=True, text=True, check=True).stdout.split())
    ordered = [name for name, _ in sorted(costs.items(), key=lambda item: -item[1]) if name in defined]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # One input section per function (`-function-sections`): `.text.<symbol>`. The first line is a comment to
    # people; to gold it is a section name that matches nothing.
    OUT.write_text(f"# Generated by bench/order_file.py from {bl.git_commit()}, the sections of the collector's executed "
                   f"functions, most instructions first, {len(ordered)} functions\n"
                   + "\n".join(LEADING_SECTIONS + [section for name in ordered
                                                    for section in (f".text.{name}", f"{COLD_PART}{name}")]) + "\n")
    bl.log(f"wrote {OUT.relative_to(bl.ROOT)}: {len(ordered)} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
