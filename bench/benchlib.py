"""Shared helpers of the bench/ scripts: free ports, /proc readings, process control by PID, statistics,
machine description and result output (JSON lines + a markdown table). Everything fails loudly."""
from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
ROTEL_VERSION = "0.0.1a15"


class BenchError(RuntimeError):
    """A benchmark that cannot give a trustworthy number: the run stops with this message."""


def die(message: str) -> None:
    raise BenchError(message)


def work_dir() -> Path:
    path = Path(os.environ.get("BENCH_WORK") or BENCH / ".work")
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def release_bin(product: str) -> Path:
    """`$COLLECTOR_BIN` / `$RUNNER_BIN`, else .build/release/<product>; fails when missing."""
    env = os.environ.get(f"{product.upper()}_BIN")
    path = Path(env) if env else ROOT / ".build" / "release" / product
    if not path.is_file():
        die(f"{path} not found: run `swift build -c release --product {product}` first")
    return path


def rotel_bin() -> Path:
    """rotel-agent from `$ROTEL_BIN`, else the venv made by bench/setup-rotel.sh."""
    env = os.environ.get("ROTEL_BIN")
    if env:
        path = Path(env)
    else:
        venv = Path(os.environ.get("ROTEL_VENV") or Path.home() / ".cache" / "bench-rotel-venv")
        found = sorted(venv.glob("lib/python3*/site-packages/rotel/rotel-agent"))
        if not found:
            die(f"rotel-agent not found under {venv}: run bench/setup-rotel.sh (pip install rotel=={ROTEL_VERSION})")
        path = found[0]
    if not path.is_file():
        die(f"{path} not found")
    return path


# MARK: - /proc readings

def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), from /proc/PID/stat."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    die(f"{key} not in /proc/{pid}/status")


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = status_like("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "mem_gib": round(mem_kib / 1048576, 1),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "loadavg_1m_at_start": loadavg(),
        "git_commit": git_commit(),
    }


def status_like(path: str, key: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return out + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# MARK: - Processes

def stop(process: subprocess.Popen, name: str, timeout: float = 20.0, expect_zero: bool = True) -> int:
    """SIGTERM by PID, wait; SIGKILL (by PID) after `timeout` and fail."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            die(f"{name} (PID {process.pid}) did not stop within {timeout} s of SIGTERM")
    if expect_zero and process.returncode not in (0, -signal.SIGTERM):
        die(f"{name} (PID {process.pid}) exited with {process.returncode}")
    return process.returncode


def pin_self(cpu: int) -> None:
    """Pins the harness (and the children it starts without taskset) to one CPU."""
    if os.cpu_count() and os.cpu_count() > cpu:
        os.sched_setaffinity(0, {cpu})


# MARK: - Statistics and output

def median_range(values: list[float]) -> dict:
    if not values:
        die("no values")
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def fmt(stat: dict | None, digits: int = 2, scale: float = 1.0) -> str:
    """`median (min–max)`."""
    if stat is None:
        return "—"
    f = lambda v: f"{v * scale:,.{digits}f}"
    if stat["n"] == 1:
        return f(stat["median"])
    return f"{f(stat['median'])} ({f(stat['min'])}–{f(stat['max'])})"


def emit(record: dict, results_file: Path | None) -> None:
    """One machine-readable line on stdout (prefixed RESULT) and appended to the results file."""
    line = json.dumps(record, sort_keys=True)
    print("RESULT " + line, flush=True)
    if results_file:
        with open(results_file, "a") as f:
            f.write(line + "\n")


def log(message: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def collector_config(port: int, signals: tuple[str, ...] = ("traces",)) -> str:
    """Our collector as both benchmarks run it: otlp (http, 127.0.0.1:port) → memory_limiter (the lab's
    settings) → batch (upstream's defaults) → debug (basic), for `signals`. Its own metrics are off: the
    default reader would bind localhost:8888 (clashing with anything else there), and rotel serves none."""
    pipelines = "".join(
        f"    {signal}:\n      receivers: [otlp]\n      processors: [memory_limiter, batch]\n      exporters: [debug]\n"
        for signal in signals)
    return (
        "receivers:\n  otlp:\n    protocols:\n      http:\n"
        f"        endpoint: 127.0.0.1:{port}\n"
        "processors:\n  memory_limiter:\n    check_interval: 1s\n    limit_mib: 400\n    spike_limit_mib: 100\n"
        "  batch: {}\n"
        "exporters:\n  debug:\n    verbosity: basic\n"
        "service:\n  telemetry:\n    logs:\n      level: warn\n    metrics:\n      level: none\n"
        "  pipelines:\n" + pipelines)
