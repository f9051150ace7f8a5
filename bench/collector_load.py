#!/usr/bin/env python3
"""Collector load benchmark: our `collector` (release build) against the peer rotel, in the same run, alternating.

    bench/collector_load.py [--runs 3] [--duration 10] [--warmup 2] [--encodings protobuf,gzip,json]
                            [--only ours|rotel] [--results FILE] [--markdown FILE]

Per run, for each encoding and each collector (the order of the two alternates from run to run), a fresh process:
  1. started with `taskset -c 0` (the harness and wrk run on CPU 1) on a random free port of 127.0.0.1;
  2. start-up time: from just before the exec to the first 2xx answer to an empty ExportTraceServiceRequest, polled
     in a tight loop of fresh connections (an upper bound: it includes fork and the `taskset` exec);
  3. idle RSS: VmRSS 1 s after that first answer;
  4. warm-up: `wrk -t2 -c16 -d2s`; then the measured `wrk -t2 -c16 -d10s --latency` (both with bench/post.lua,
     which counts every non-2xx answer: any non-2xx, socket error or 10 s timeout fails the run);
  5. CPU-seconds: utime+stime of the collector process (all threads, /proc/PID/stat) over the measured wrk run;
  6. peak RSS: VmHWM (/proc/PID/status) at the end; peak anonymous RSS (RssAnon, the heap and stacks without the
     pages of the mapped binary) sampled every 50 ms from warm-up to the end; then SIGTERM by PID.
For our collector, the spans its debug exporter reported (basic lines, stdout to a file) must cover every span of
every 2xx answer (`spans_at_collector`), or the run fails.

Figures: spans/s = 2xx requests/s × 100; CPU-s per million spans; spans per CPU-second; p99 latency (wrk);
peak and idle RSS; start-up. Every run prints `RESULT {json}`; the end prints `SUMMARY {json}` and a markdown table
of median (min–max) and the ratio ours/rotel of the medians.

Our collector's pipeline: otlp (http) → memory_limiter (check_interval 1s, limit_mib 400, spike_limit_mib 100, the
lab's values) → batch (upstream defaults: 8192 items, 200 ms, as rotel's defaults) → debug (verbosity basic).
rotel: `rotel-agent start --otlp-http-endpoint 127.0.0.1:PORT --exporter blackhole` (its batching defaults).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

SPANS_PER_REQUEST = 100
CONNECTIONS = 16
# wrk's default 2 s request timeout was exceeded on a heavily loaded machine; a timeout still fails the run.
WRK_TIMEOUT_S = 10
ENCODINGS = {
    "protobuf": {"file": "traces-100.pb", "content_type": "application/x-protobuf", "encoding": ""},
    "gzip": {"file": "traces-100.pb.gz", "content_type": "application/x-protobuf", "encoding": "gzip"},
    "json": {"file": "traces-100.json", "content_type": "application/json", "encoding": ""},
}
TRACES_LINE = re.compile(r'"data_type": "traces", "name": "[^"]*", "resource spans": \d+, "spans": (\d+)\}')



def start_collector(kind: str, port: int, tag: str, work: Path) -> tuple[subprocess.Popen, Path, float]:
    """Starts `kind` pinned to CPU 0; returns the process, its stdout file and the monotonic time just before exec."""
    out = work / f"{tag}.stdout"
    err = work / f"{tag}.stderr"
    if kind == "ours":
        config = work / f"{tag}.yaml"
        config.write_text(bl.collector_config(port))
        argv = [str(bl.release_bin("collector")), "--config", str(config)]
    else:
        argv = [str(bl.rotel_bin()), "start", "--otlp-http-endpoint", f"127.0.0.1:{port}",
                "--otlp-grpc-endpoint", f"127.0.0.1:{bl.free_port()}", "--exporter", "blackhole",
                "--pid-file", str(work / f"{tag}.pid"), "--log-file", str(work / f"{tag}.log")]
    with open(out, "wb") as o, open(err, "wb") as e:
        t0 = time.perf_counter()
        process = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    return process, out, t0


EMPTY_POST = (b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n"
              b"Content-Length: 0\r\nConnection: close\r\n\r\n")


def first_2xx(process: subprocess.Popen, port: int, t0: float, timeout: float = 20.0) -> float:
    """Seconds from t0 to the first 2xx answer to an empty OTLP request; polls with fresh connections."""
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            bl.die(f"collector exited with {process.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
                s.sendall(EMPTY_POST)
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                now = time.perf_counter()
                status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else 0
                if 200 <= status < 300:
                    return now - t0
        except (ConnectionRefusedError, ConnectionResetError, socket.timeout, BrokenPipeError):
            pass
        time.sleep(0.0002)
    bl.die(f"no 2xx answer on port {port} within {timeout} s")


def run_wrk(port: int, payload: Path, spec: dict, seconds: int, tag: str, work: Path) -> dict:
    env = dict(os.environ, BODY_FILE=str(payload), CONTENT_TYPE=spec["content_type"], CONTENT_ENCODING=spec["encoding"])
    argv = ["taskset", "-c", "1", "wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT_S}s", "--latency",
            "-s", str(bl.BENCH / "post.lua"), f"http://127.0.0.1:{port}"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    (work / f"{tag}.wrk.txt").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        bl.die(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    lines = [l for l in done.stdout.splitlines() if l.startswith("WRK_RESULT ")]
    if len(lines) != 1:
        bl.die(f"wrk printed no WRK_RESULT line:\n{done.stdout}\n{done.stderr}")
    result = json.loads(lines[0][len("WRK_RESULT "):])
    errors = result["errors"]
    if result["non2xx"] or any(errors.values()):
        bl.die(f"{tag}: {result['non2xx']} non-2xx answers (first status {result['first_bad_status']}), socket errors {errors}")
    if result["ok2xx"] != result["requests"] or result["ok2xx"] == 0:
        bl.die(f"{tag}: {result['ok2xx']} 2xx of {result['requests']} requests")
    return result


class AnonSampler:
    """The highest RssAnon of a process (its heap and stacks, without the mapped binary), sampled every 50 ms
    from a thread of the harness until stop(); the kernel keeps a high-water mark only for the whole RSS."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, bl.status_kib(self.pid, "RssAnon"))
            except Exception:
                return
            self.done.wait(0.05)

    def stop(self) -> int:
        self.done.set()
        self.thread.join()
        return self.peak


def one_run(kind: str, encoding: str, run: int, args, work: Path, payloads: dict) -> dict:
    spec = ENCODINGS[encoding]
    payload = Path(payloads[encoding]["path"])
    port = bl.free_port()
    tag = f"{kind}-{encoding}-{run}"
    load_before = bl.loadavg()
    process, out, t0 = start_collector(kind, port, tag, work)
    try:
        startup = first_2xx(process, port, t0)
        time.sleep(1.0)
        idle_rss = bl.status_kib(process.pid, "VmRSS")
        idle_anon = bl.status_kib(process.pid, "RssAnon")
        anon = AnonSampler(process.pid)
        warm = run_wrk(port, payload, spec, args.warmup, tag + "-warmup", work)
        cpu_before = bl.cpu_seconds(process.pid)
        measured = run_wrk(port, payload, spec, args.duration, tag, work)
        cpu_used = bl.cpu_seconds(process.pid) - cpu_before
        peak_anon = anon.stop()
        peak_rss = bl.status_kib(process.pid, "VmHWM")
        rss_end = bl.status_kib(process.pid, "VmRSS")
        if process.poll() is not None:
            bl.die(f"{tag}: the collector exited with {process.returncode} during the run")
    finally:
        bl.stop(process, tag)
    spans = measured["ok2xx"] * SPANS_PER_REQUEST
    seconds = measured["duration_us"] / 1e6
    if cpu_used <= 0:
        bl.die(f"{tag}: no CPU time measured")
    record = {
        "bench": "collector_load", "collector": kind, "encoding": encoding, "run": run,
        "body_bytes": measured["body_bytes"], "requests_2xx": measured["ok2xx"], "duration_s": seconds,
        "spans_per_s": spans / seconds,
        "cpu_share": cpu_used / seconds,
        "cpu_s": cpu_used,
        "cpu_s_per_million_spans": cpu_used / (spans / 1e6),
        "spans_per_cpu_s": spans / cpu_used,
        "p50_ms": measured["latency_us"]["p50"] / 1000, "p99_ms": measured["latency_us"]["p99"] / 1000,
        "peak_rss_mib": peak_rss / 1024, "idle_rss_mib": idle_rss / 1024, "rss_end_mib": rss_end / 1024,
        "peak_anon_mib": peak_anon / 1024, "idle_anon_mib": idle_anon / 1024,
        "startup_ms": startup * 1000,
        "loadavg_1m": load_before,
    }
    if kind == "ours":
        # Every span answered 2xx must have reached the debug exporter (SIGTERM drains the batch processor).
        counted = sum(int(m.group(1)) for m in TRACES_LINE.finditer(out.read_text()))
        answered = (warm["ok2xx"] + measured["ok2xx"]) * SPANS_PER_REQUEST
        # wrk stops with up to one request per connection in flight, which the collector may still have accepted.
        slack = 2 * CONNECTIONS * SPANS_PER_REQUEST
        if not answered <= counted <= answered + slack:
            bl.die(f"{tag}: the debug exporter reported {counted} spans for {answered} answered 2xx (+ up to {slack} in flight)")
        record["spans_at_collector"] = counted
        record["spans_answered_2xx"] = answered
    out.unlink(missing_ok=True)  # the debug lines of a run can be large; the count above is what mattered
    return record


METRICS = [
    ("spans_per_s", "spans/s (2xx requests/s × 100)", 0, "ratio"),
    ("cpu_share", "collector CPU use during the 10 s (CPU-s / s; 1.0 = all of CPU 0)", 2, "ratio"),
    ("spans_per_cpu_s", "spans per CPU-second", 0, "ratio"),
    ("cpu_s_per_million_spans", "CPU-seconds per million spans", 3, "ratio"),
    ("p50_ms", "p50 latency (ms)", 2, "ratio"),
    ("p99_ms", "p99 latency (ms)", 2, "ratio"),
    ("peak_rss_mib", "peak RSS, VmHWM (MiB)", 1, "ratio"),
    ("idle_rss_mib", "idle RSS after start (MiB)", 1, "ratio"),
    ("peak_anon_mib", "peak anonymous RSS (heap, stacks; RssAnon sampled every 50 ms) (MiB)", 1, "ratio"),
    ("idle_anon_mib", "idle anonymous RSS after start (MiB)", 1, "ratio"),
    ("startup_ms", "exec → first 2xx (ms)", 1, "ratio"),
]


def summarize(records: list[dict], encodings: list[str]) -> tuple[dict, str]:
    for r in records:
        r.setdefault("cpu_share", r["cpu_s"] / r["duration_s"])
    summary: dict = {}
    lines = []
    for encoding in encodings:
        summary[encoding] = {}
        for kind in ("ours", "rotel"):
            rs = [r for r in records if r["encoding"] == encoding and r["collector"] == kind]
            if rs:
                summary[encoding][kind] = {m: bl.median_range([r[m] for r in rs]) for m, *_ in METRICS}
                summary[encoding][kind]["loadavg_1m"] = bl.median_range([r["loadavg_1m"] for r in rs])
        ours, rotel = summary[encoding].get("ours"), summary[encoding].get("rotel")
        if ours and rotel:
            summary[encoding]["ratio_ours_over_rotel"] = {m: ours[m]["median"] / rotel[m]["median"] for m, *_ in METRICS if rotel[m]["median"]}
        body = next(r["body_bytes"] for r in records if r["encoding"] == encoding)
        lines.append(f"\n**{encoding}** (100 spans × 8 attributes, {body:,}-byte body; median (min–max) of "
                     f"{(ours or rotel)['spans_per_s']['n']} runs)\n")
        lines.append("| metric | ours (`collector`) | rotel | ours / rotel |")
        lines.append("| --- | --- | --- | --- |")
        for m, label, digits, _ in METRICS:
            ratio = summary[encoding].get("ratio_ours_over_rotel", {}).get(m)
            lines.append(f"| {label} | {bl.fmt(ours and ours[m], digits)} | {bl.fmt(rotel and rotel[m], digits)} | "
                         f"{'—' if ratio is None else f'{ratio:.2f}×'} |")
    # The encodings relative to protobuf, per collector.
    if "protobuf" in summary and len(encodings) > 1:
        lines.append("\n**Relative to the same collector's protobuf rate** (spans/s, medians)\n")
        lines.append("| encoding | ours | rotel |")
        lines.append("| --- | --- | --- |")
        for encoding in encodings:
            cells = []
            for kind in ("ours", "rotel"):
                base = summary["protobuf"].get(kind)
                this = summary[encoding].get(kind)
                cells.append(f"{this['spans_per_s']['median'] / base['spans_per_s']['median']:.2f}×" if base and this else "—")
            lines.append(f"| {encoding} | {cells[0]} | {cells[1]} |")
    return summary, "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--encodings", default="protobuf,gzip,json")
    parser.add_argument("--only", choices=["ours", "rotel"])
    parser.add_argument("--results", type=Path, help="append the RESULT lines to this JSON Lines file")
    parser.add_argument("--markdown", type=Path, help="write the markdown table to this file")
    parser.add_argument("--summarize", type=Path, metavar="RESULTS_JSONL", help="only print the summary of a results file")
    args = parser.parse_args()
    if args.summarize:
        lines = [json.loads(l) for l in args.summarize.read_text().splitlines() if l.strip()]
        machine = next(l["machine"] for l in lines if "machine" in l)
        records = [l for l in lines if "machine" not in l]
        encodings = list(dict.fromkeys(r["encoding"] for r in records))
        return report(records, encodings, machine, args.markdown)
    encodings = args.encodings.split(",")
    for e in encodings:
        if e not in ENCODINGS:
            bl.die(f"unknown encoding {e}")
    if (os.cpu_count() or 1) < 2:
        bl.die("needs 2 CPUs: the collector on CPU 0, wrk and this harness on CPU 1")
    bl.pin_self(1)
    work = bl.work_dir() / "collector_load"
    work.mkdir(parents=True, exist_ok=True)
    generated = subprocess.run([sys.executable, str(bl.BENCH / "payloads.py"), str(bl.work_dir())], capture_output=True, text=True, check=True)
    payloads = json.loads(generated.stdout)["payloads"]
    kinds = [args.only] if args.only else ["ours", "rotel"]
    for kind in kinds:  # fail before the first run when a binary is missing
        bl.release_bin("collector") if kind == "ours" else bl.rotel_bin()
    machine = bl.machine()
    bl.emit({"bench": "collector_load", "machine": machine, "runs": args.runs, "duration_s": args.duration,
             "warmup_s": args.warmup, "connections": CONNECTIONS, "wrk_threads": 2}, args.results)
    records = []
    for run in range(1, args.runs + 1):
        for encoding in encodings:
            order = kinds if run % 2 else list(reversed(kinds))
            for kind in order:
                bl.log(f"run {run}/{args.runs} {encoding} {kind}")
                record = one_run(kind, encoding, run, args, work, payloads)
                records.append(record)
                bl.emit(record, args.results)
    return report(records, encodings, machine, args.markdown)


def report(records: list[dict], encodings: list[str], machine: dict, markdown: Path | None) -> int:
    summary, table = summarize(records, encodings)
    print("SUMMARY " + json.dumps({"bench": "collector_load", "machine": machine, "summary": summary}, sort_keys=True))
    header = (f"Collector load: {machine['date_utc']}, {machine['nproc']} × {machine['cpu_model']}, kernel {machine['kernel']}, "
              f"commit {machine['git_commit']}, load average at start {machine['loadavg_1m_at_start']}")
    print("\n" + header + "\n" + table)
    if markdown:
        markdown.write_text(header + "\n" + table + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bl.BenchError as error:
        print(f"collector_load: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
