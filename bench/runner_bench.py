#!/usr/bin/env python3
"""Runner benchmark: `runner --generate N` exporting to our collector, the same with ENABLE_TELEMETRY=false, and the
lab's Python job (bench/python_job.py) exporting to our collector, alternating, in one run.

    bench/runner_bench.py [--records 1000000] [--python-records 100000] [--runs 3] [--results FILE] [--markdown FILE]

Pinning: the job (runner or Python) on CPU 0 (`taskset -c 0`), the collector and this harness on CPU 1.
Per job run:
  - wall time from just before the exec to the exit (records/s = N / wall), CPU-seconds and peak RSS of the job from
    its rusage (wait4: ru_utime + ru_stime, ru_maxrss), stdout (the JSON log lines) to /dev/null;
  - with telemetry, a fresh collector (otlp http → memory_limiter → batch → debug basic, all three signals, debug
    lines to a file); after the job exits the collector gets SIGTERM (it drains its batches) and the spans in its
    `TracesExporter` lines are added up: spans lost = spans the job made − spans counted. The runner makes N record
    spans + `batch_job`, `read_input_data`, `batch_complete`; the Python job N + `batch_job`.
Telemetry overhead per record = (with − without) / N, in ns, from wall time and from CPU time.
Every run prints `RESULT {json}`; the end prints `SUMMARY {json}` and a markdown table, median (min–max).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

COUNTS = {
    "spans": re.compile(r'"data_type": "traces", "name": "[^"]*", "resource spans": \d+, "spans": (\d+)\}'),
    "log_records": re.compile(r'"data_type": "logs", "name": "[^"]*", "resource logs": \d+, "log records": (\d+)\}'),
    "data_points": re.compile(r'"data_type": "metrics", "name": "[^"]*", "resource metrics": \d+, "metrics": \d+, "data points": (\d+)\}'),
}
RUNNER_EXTRA_SPANS = 3  # batch_job, read_input_data, batch_complete
PYTHON_EXTRA_SPANS = 1  # batch_job


class Collector:
    def __init__(self, work: Path, tag: str):
        self.port = bl.free_port()
        self.config = work / f"{tag}.collector.yaml"
        self.config.write_text(bl.collector_config(self.port, ("traces", "metrics", "logs")))
        self.out = work / f"{tag}.collector.stdout"
        self.err = work / f"{tag}.collector.stderr"
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.process = subprocess.Popen(["taskset", "-c", "1", str(bl.release_bin("collector")), "--config", str(self.config)],
                                            stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        self.wait_ready()
        self.cpu_at_ready = bl.cpu_seconds(self.process.pid)

    def wait_ready(self, timeout: float = 30.0) -> None:
        import socket
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                bl.die(f"collector exited with {self.process.returncode}: {self.err.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.005)
        bl.die("collector did not listen")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop_and_count(self) -> dict:
        peak = bl.status_kib(self.process.pid, "VmHWM")
        cpu = bl.cpu_seconds(self.process.pid) - self.cpu_at_ready
        bl.stop(self.process, "collector", timeout=60)
        text = self.out.read_text()
        counts = {name: sum(int(m.group(1)) for m in pattern.finditer(text)) for name, pattern in COUNTS.items()}
        counts["collector_peak_rss_mib"] = peak / 1024
        counts["collector_cpu_s"] = cpu
        self.out.unlink()
        return counts


def run_job(argv: list[str], env: dict, work: Path, tag: str) -> dict:
    """Runs the job on CPU 0 with stdout to /dev/null; wall time, CPU time and peak RSS from wait4."""
    err_path = work / f"{tag}.stderr"
    with open(os.devnull, "wb") as devnull, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        process = subprocess.Popen(["taskset", "-c", "0", *argv], stdout=devnull, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=work)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - t0
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        bl.die(f"{tag}: exited with {process.returncode}:\n{err_path.read_text()[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024, "stderr": err_path}


def runner_env(endpoint: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(ENV_FILE="/dev/null", CPU_LIMIT="500m", MEMORY_LIMIT="512Mi", OTEL_SERVICE_NAME="batch-inference-service")
    if endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
        env["ENABLE_TELEMETRY"] = "true"
    else:
        env["ENABLE_TELEMETRY"] = "false"
    return env


def bench_runner(records: int, telemetry: bool, work: Path, run: int) -> dict:
    tag = f"runner-{'telemetry' if telemetry else 'notelemetry'}-{run}"
    collector = Collector(work, tag) if telemetry else None
    try:
        job = run_job([str(bl.release_bin("runner")), "--generate", str(records)], runner_env(collector and collector.endpoint), work, tag)
    finally:
        counts = collector.stop_and_count() if collector else None
    record = {"bench": "runner", "job": "runner", "telemetry": telemetry, "run": run, "records": records,
              "wall_s": job["wall_s"], "records_per_s": records / job["wall_s"], "cpu_s": job["cpu_s"],
              "records_per_cpu_s": records / job["cpu_s"], "peak_rss_mib": job["peak_rss_mib"], "loadavg_1m": bl.loadavg()}
    if counts:
        expected = records + RUNNER_EXTRA_SPANS
        if counts["spans"] > expected:
            bl.die(f"{tag}: the collector counted {counts['spans']} spans, more than the {expected} the runner makes")
        record.update(counts, spans_expected=expected, spans_lost=expected - counts["spans"])
    job["stderr"].unlink()
    return record


def bench_python(records: int, work: Path, run: int) -> dict:
    tag = f"python-{run}"
    collector = Collector(work, tag)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.endpoint
    try:
        job = run_job([sys.executable, str(bl.BENCH / "python_job.py"), str(records)], env, work, tag)
    finally:
        counts = collector.stop_and_count()
    lines = [l for l in job["stderr"].read_text().splitlines() if l.startswith("PYJOB ")]
    if not lines:
        bl.die(f"{tag}: no PYJOB line:\n{job['stderr'].read_text()[-2000:]}")
    own = json.loads(lines[-1][len("PYJOB "):])
    expected = records + PYTHON_EXTRA_SPANS
    if counts["spans"] > expected:
        bl.die(f"{tag}: the collector counted {counts['spans']} spans, more than the {expected} the job makes")
    record = {"bench": "runner", "job": "python", "telemetry": True, "run": run, "records": records,
              "wall_s": job["wall_s"], "records_per_s": records / job["wall_s"], "cpu_s": job["cpu_s"],
              "records_per_cpu_s": records / job["cpu_s"], "peak_rss_mib": job["peak_rss_mib"],
              "job_processing_s": own["processing_s"], "loadavg_1m": bl.loadavg(),
              **counts, "spans_expected": expected, "spans_lost": expected - counts["spans"]}
    job["stderr"].unlink()
    return record


def summarize(records: list[dict]) -> tuple[dict, str]:
    groups = {
        "runner": [r for r in records if r["job"] == "runner" and r["telemetry"]],
        "runner_no_telemetry": [r for r in records if r["job"] == "runner" and not r["telemetry"]],
        "python": [r for r in records if r["job"] == "python"],
    }
    metrics = ["records_per_s", "records_per_cpu_s", "wall_s", "cpu_s", "peak_rss_mib", "spans_lost", "spans", "spans_expected",
               "collector_peak_rss_mib", "collector_cpu_s", "log_records", "data_points"]
    summary: dict = {}
    for name, rs in groups.items():
        if rs:
            summary[name] = {m: bl.median_range([r[m] for r in rs]) for m in metrics if m in rs[0]}
            summary[name]["records"] = rs[0]["records"]
    runner, bare, python = summary.get("runner"), summary.get("runner_no_telemetry"), summary.get("python")
    if runner and bare:
        n = runner["records"]
        pairs = [(a, b) for a in groups["runner"] for b in groups["runner_no_telemetry"] if a["run"] == b["run"]]
        summary["telemetry_overhead_ns_per_record"] = {
            "wall": bl.median_range([(a["wall_s"] - b["wall_s"]) / n * 1e9 for a, b in pairs]),
            "cpu": bl.median_range([(a["cpu_s"] - b["cpu_s"]) / n * 1e9 for a, b in pairs]),
        }
    if runner and python:
        summary["ratio_runner_over_python"] = {
            "records_per_s": runner["records_per_s"]["median"] / python["records_per_s"]["median"],
            "records_per_cpu_s": runner["records_per_cpu_s"]["median"] / python["records_per_cpu_s"]["median"],
        }
    lines = ["| metric | runner (telemetry on) | runner (`ENABLE_TELEMETRY=false`) | Python job (SDK 1.45.2) | runner / Python |",
             "| --- | --- | --- | --- | --- |"]

    def row(label: str, metric: str, digits: int, ratio: str | None = None) -> None:
        cells = [bl.fmt(g[metric], digits) if g and metric in g else "—" for g in (runner, bare, python)]
        r = summary.get("ratio_runner_over_python", {}).get(ratio) if ratio else None
        lines.append(f"| {label} | {' | '.join(cells)} | {'—' if r is None else f'{r:.1f}×'} |")

    counts = [f"{g['records']:,}" if g else "—" for g in (runner, bare, python)]  # --skip-python: no Python group
    lines.append(f"| records per run | {' | '.join(counts)} | |")
    row("records/s (wall)", "records_per_s", 0, "records_per_s")
    row("records per CPU-second of the job", "records_per_cpu_s", 0, "records_per_cpu_s")
    row("job CPU-seconds", "cpu_s", 2)
    row("job peak RSS (MiB, ru_maxrss)", "peak_rss_mib", 1)
    row("spans lost (made − counted at the collector)", "spans_lost", 0)
    row("spans counted at the collector", "spans", 0)
    row("collector peak RSS (MiB)", "collector_peak_rss_mib", 1)
    row("collector CPU-seconds (from listening to the last export)", "collector_cpu_s", 2)
    overhead = summary.get("telemetry_overhead_ns_per_record")
    if overhead:
        lines.append(f"\nTelemetry overhead per record (runner with − without, / N): **{bl.fmt(overhead['wall'], 0)} ns** wall, "
                     f"**{bl.fmt(overhead['cpu'], 0)} ns** CPU (median (min–max) over runs).")
    return summary, "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=int(os.environ.get("RUNNER_RECORDS", 1_000_000)))
    parser.add_argument("--python-records", type=int, default=int(os.environ.get("PYTHON_RECORDS", 100_000)))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)))
    parser.add_argument("--skip-python", action="store_true")
    parser.add_argument("--results", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        bl.die("needs 2 CPUs: the job on CPU 0, the collector and this harness on CPU 1")
    bl.pin_self(1)
    bl.release_bin("runner"), bl.release_bin("collector")
    work = bl.work_dir() / "runner"
    work.mkdir(parents=True, exist_ok=True)
    (work / ".env").unlink(missing_ok=True)
    machine = bl.machine()
    bl.emit({"bench": "runner", "machine": machine, "runs": args.runs, "records": args.records, "python_records": args.python_records}, args.results)
    records = []
    for run in range(1, args.runs + 1):
        steps = [("runner", True), ("runner", False)] + ([] if args.skip_python else [("python", True)])
        if run % 2 == 0:
            steps.reverse()
        for job, telemetry in steps:
            bl.log(f"run {run}/{args.runs} {job} telemetry={telemetry}")
            record = bench_python(args.python_records, work, run) if job == "python" else bench_runner(args.records, telemetry, work, run)
            records.append(record)
            bl.emit(record, args.results)
    summary, table = summarize(records)
    print("SUMMARY " + json.dumps({"bench": "runner", "machine": machine, "summary": summary}, sort_keys=True))
    header = (f"Runner vs the Python job: {machine['date_utc']}, {machine['nproc']} × {machine['cpu_model']}, kernel {machine['kernel']}, "
              f"commit {machine['git_commit']}, load average at start {machine['loadavg_1m_at_start']}; median (min–max) of {args.runs} runs")
    print("\n" + header + "\n\n" + table)
    if args.markdown:
        args.markdown.write_text(header + "\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bl.BenchError as error:
        print(f"runner_bench: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
