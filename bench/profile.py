#!/usr/bin/env python3
"""Instruction-count profiles with valgrind's callgrind (repeatable whatever else the machine is doing).

    bench/profile.py collector [--requests 2000] [--encodings protobuf,gzip,json]
    bench/profile.py runner [--records 100000]
    bench/profile.py perf [--seconds 8] [--encodings …]     # sampled (perf cpu-clock) under the wrk load

collector: our collector (release build, the load benchmark's pipeline: otlp http → memory_limiter → batch → debug
basic) runs under callgrind; once it answers, N requests of the benchmark's 100-span payload are sent one after
another on one keep-alive connection (every answer must be 200), then SIGTERM. The whole process is counted, start-up
and drain included (zeroing the counters after start-up with `callgrind_control -z` crashed valgrind 3.19 here).
runner: `runner --generate N` under callgrind, exporting to our collector (running natively on CPU 1).

Each profile leaves the raw callgrind file in $BENCH_WORK/profiles and writes a small text summary to
bench/profiles/<name>.txt: total instructions (Ir), Ir per request/span/record, the top functions by inclusive and by
self cost (names demangled with `swift demangle --simplified`), and the share of a few entry points.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
from collector_load import ENCODINGS, EMPTY_POST  # noqa: E402
from runner_bench import runner_env  # noqa: E402

TOP = 40
# Entry points whose inclusive share is reported (regular expressions over demangled names); first match per group.
GROUPS = [
    ("protobuf decode (swift-protobuf BinaryDecoder)", r"SwiftProtobuf\.BinaryDecoder"),
    ("OTLP/JSON decode", r"JSON(Decod|Scann)"),
    ("gzip inflate (zlib)", r"\binflate\b"),
    ("debug exporter", r"DebugExporter"),
    ("batch processor", r"BatchProcessor"),
    ("memory limiter", r"MemoryLimiter"),
    ("HTTP server (hummingbird)", r"Hummingbird"),
    ("NIO", r"^NIO|NIOPosix|NIOCore"),
    ("malloc", r"^malloc$|_int_malloc"),
    ("free", r"^free$|_int_free"),
    ("swift_retain/release", r"swift_(retain|release)$"),
    ("memcpy/memmove", r"memcpy|memmove"),
]


def valgrind_copy(product: str, raw: Path) -> Path:
    """A copy of the release binary without its DWARF (symbols kept): valgrind 3.19 cannot read the DWARF 5 that
    Swift 6.3's clang writes ("unhandled dwarf2 abbrev form code 0x25 … Possibly corrupted debuginfo file")."""
    copy = raw / f"{product}.nodebug"
    subprocess.run(["objcopy", "--strip-debug", str(bl.release_bin(product)), str(copy)], check=True)
    return copy


def valgrind_env(raw: Path, base: dict | None = None) -> dict:
    """The environment for a Swift executable under valgrind 3.19: bench/valgrind/sigsuspend_shim.c preloaded (valgrind
    writes into rt_sigsuspend's mask, which libdispatch keeps in read-only memory, and crashes without it)."""
    shim = raw / "sigsuspend_shim.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(shim), str(bl.BENCH / "valgrind" / "sigsuspend_shim.c"), "-ldl"], check=True)
    env = dict(base if base is not None else os.environ)
    env["LD_PRELOAD"] = str(shim)
    return env


def demangle(text: str) -> str:
    done = subprocess.run(["swift", "demangle", "--simplified"], input=text, capture_output=True, text=True)
    if done.returncode != 0:
        bl.die(f"swift demangle failed: {done.stderr}")
    return done.stdout


def annotate(path: Path, inclusive: bool) -> str:
    argv = ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        bl.die(f"callgrind_annotate failed: {done.stderr}")
    return demangle(done.stdout)


LINE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*?)\s*$")


def parse(annotated: str) -> tuple[int, list[tuple[int, str]]]:
    """(total Ir, [(Ir, 'file:function')]) from callgrind_annotate's text."""
    total = 0
    rows: list[tuple[int, str]] = []
    for line in annotated.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(?:\(.*?\)\s+)?PROGRAM TOTALS", line)
        if m:
            total = int(m.group(1).replace(",", ""))
            continue
        m = LINE.match(line)
        if m and total and ":" in m.group(2) and not m.group(2).endswith("PROGRAM TOTALS"):
            rows.append((int(m.group(1).replace(",", "")), m.group(2)))
    if not total:
        bl.die("no PROGRAM TOTALS in callgrind_annotate's output")
    return total, rows


def function_name(entry: str) -> str:
    # "file:function [object]" → the function, without the object and without a leading "???:"
    name = entry.split(":", 1)[1] if ":" in entry else entry
    return re.sub(r"\s+\[[^\]]*\]$", "", name).strip()


def shorten(name: str, width: int = 150) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def summary_text(title: str, path: Path, units: list[tuple[str, int]]) -> str:
    total, inclusive = parse(annotate(path, True))
    _, self_rows = parse(annotate(path, False))
    out = [title, f"raw file: {path.name} (callgrind, Ir = instructions executed)", f"total Ir: {total:,}"]
    for unit, count in units:
        if count:
            out.append(f"Ir per {unit}: {total / count:,.0f}")
    out.append("\nShare of some entry points (inclusive; groups overlap, e.g. decode runs inside the HTTP handler):")
    for label, pattern in GROUPS:
        matches = [(ir, function_name(e)) for ir, e in inclusive
                   if re.search(pattern, function_name(e)) and not re.search(r"'\d+$", function_name(e)) and ir <= total]
        if matches:
            ir, name = max(matches)
            out.append(f"  {100 * ir / total:6.2f}%  {label}: {shorten(name, 110)}")
    out.append(f"\nTop {TOP} functions by inclusive Ir:")
    # Recursion cycles appear as extra "name'2" entries whose inclusive cost counts nested calls again: left out.
    inclusive = [(ir, e) for ir, e in inclusive if not re.search(r"'\d+$", function_name(e)) and ir <= total]
    for ir, entry in inclusive[:TOP]:
        out.append(f"  {100 * ir / total:6.2f}%  {ir:>16,}  {shorten(function_name(entry))}")
    out.append(f"\nTop {TOP} functions by self Ir:")
    for ir, entry in self_rows[:TOP]:
        out.append(f"  {100 * ir / total:6.2f}%  {ir:>16,}  {shorten(function_name(entry))}")
    return "\n".join(out) + "\n" + callers_text(path, total)


# Runtime functions whose callers tell where the cost comes from (generic metadata, exclusivity checks, strings, casts).
CALLERS_OF = [
    "type metadata accessor for Optional", "type metadata accessor for Array", "type metadata accessor for _ContiguousArrayStorage",
    "swift_beginAccess", "utf8ToString(bytes:count:)", "swift_dynamicCast", "swift_conformsToProtocolMaybeInstantiateSuperclasses",
    "malloc", "swift_retain", "swift_release",
]


def callers_text(path: Path, total: int, per_callee: int = 4) -> str:
    done = subprocess.run(["callgrind_annotate", "--tree=caller", "--inclusive=yes", "--threshold=100", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        bl.die(f"callgrind_annotate --tree=caller failed: {done.stderr}")
    lines = demangle(done.stdout).split("\n")
    out = ["\nWho calls the runtime hot spots (inclusive Ir of the callee under each caller, calls):"]
    for target in CALLERS_OF:
        index = next((k for k, l in enumerate(lines) if re.search(r"\*  [^:]*:" + re.escape(target) + r"(\(.*\))? \[", l)), None)
        if index is None:
            continue
        m = re.match(r"\s*([\d,]+)", lines[index])
        own = int(m.group(1).replace(",", "")) if m else 0
        rows = []
        j = index - 1
        while j >= 0 and lines[j].strip():
            m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+<\s+[^:]*:(.*?) \(([\d,]+)x\)", lines[j])
            if m:
                rows.append((int(m.group(1).replace(",", "")), m.group(2), int(m.group(3).replace(",", ""))))
            j -= 1
        out.append(f"  {100 * own / total:6.2f}%  {shorten(target, 110)}")
        for ir, caller, calls in sorted(rows, reverse=True)[:per_callee]:
            out.append(f"      {100 * ir / total:6.2f}%  {calls:>9,}×  from {shorten(caller, 120)}")
    return "\n".join(out) + "\n"


def wait_2xx(process: subprocess.Popen, port: int, timeout: float) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            bl.die(f"collector exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(EMPTY_POST)
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    bl.die("the collector under valgrind did not answer")


def profile_collector(args, raw: Path, out_dir: Path) -> None:
    work = bl.work_dir()
    payloads = __import__("json").loads(subprocess.run([sys.executable, str(bl.BENCH / "payloads.py"), str(work)],
                                                       capture_output=True, text=True, check=True).stdout)["payloads"]
    for encoding in args.encodings.split(","):
        spec = ENCODINGS[encoding]
        body = Path(payloads[encoding]["path"]).read_bytes()
        port = bl.free_port()
        config = raw / f"collector-{encoding}.yaml"
        config.write_text(bl.collector_config(port))
        name = f"collector-{encoding}{args.label}"
        out_file = raw / f"callgrind.{name}.out"
        out_file.unlink(missing_ok=True)
        argv = ["taskset", "-c", "0", "valgrind", "--tool=callgrind", "--vgdb=no", f"--callgrind-out-file={out_file}",
                str(valgrind_copy("collector", raw)), "--config", str(config)]
        with open(raw / f"collector-{encoding}.stdout", "wb") as o, open(raw / f"collector-{encoding}.stderr", "wb") as e:
            process = subprocess.Popen(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=valgrind_env(raw))
        try:
            wait_2xx(process, port, 300)
            bl.log(f"collector {encoding}: sending {args.requests} requests under callgrind")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            headers = {"Content-Type": spec["content_type"]}
            if spec["encoding"]:
                headers["Content-Encoding"] = spec["encoding"]
            started = time.monotonic()
            for i in range(args.requests):
                conn.request("POST", "/v1/traces", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bl.die(f"request {i}: status {response.status}")
            conn.close()
            bl.log(f"collector {encoding}: {args.requests} requests in {time.monotonic() - started:.1f} s")
        finally:
            bl.stop(process, "collector under valgrind", timeout=300)
        text = summary_text(
            f"collector, {encoding}: {args.requests} requests × 100 spans ({len(body):,}-byte body), one keep-alive connection, "
            f"whole process (start-up and SIGTERM drain included); pipeline memory_limiter → batch → debug basic",
            out_file, [("request", args.requests), ("span", args.requests * 100)])
        (out_dir / f"{name}.txt").write_text(text)
        print(text)


def profile_runner(args, raw: Path, out_dir: Path) -> None:
    from runner_bench import Collector
    collector = Collector(raw, "profile-runner")
    out_file = raw / "callgrind.runner.out"
    out_file.unlink(missing_ok=True)
    try:
        argv = ["taskset", "-c", "0", "valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                str(valgrind_copy("runner", raw)), "--generate", str(args.records)]
        bl.log(f"runner --generate {args.records} under callgrind")
        with open(os.devnull, "wb") as devnull, open(raw / "runner.stderr", "wb") as err:
            done = subprocess.run(argv, stdout=devnull, stderr=err, env=valgrind_env(raw, runner_env(collector.endpoint)), cwd=raw)
        if done.returncode != 0:
            bl.die(f"runner under valgrind exited with {done.returncode}: {(raw / 'runner.stderr').read_text()[-2000:]}")
    finally:
        counts = collector.stop_and_count()
    text = summary_text(
        f"runner --generate {args.records} (telemetry to our collector; whole process: start-up, job, flush); "
        f"spans counted at the collector: {counts['spans']} of {args.records + 3}",
        out_file, [("record", args.records)])
    (out_dir / "runner.txt").write_text(text)
    print(text)


def profile_perf(args, raw: Path, out_dir: Path) -> None:
    """Sampled CPU profile (perf's cpu-clock software event: hardware counters are not available here) of the collector
    under the load benchmark's wrk load; flat self-time by symbol."""
    from collector_load import run_wrk, start_collector, first_2xx
    work = bl.work_dir()
    payloads = __import__("json").loads(subprocess.run([sys.executable, str(bl.BENCH / "payloads.py"), str(work)],
                                                       capture_output=True, text=True, check=True).stdout)["payloads"]
    for encoding in args.encodings.split(","):
        port = bl.free_port()
        process, out, t0 = start_collector("ours", port, f"perf-{encoding}", raw)
        data = raw / f"perf.collector-{encoding}.data"
        try:
            first_2xx(process, port, t0)
            wrk = subprocess.Popen([sys.executable, "-c", f"""
import sys; sys.path.insert(0, {str(bl.BENCH)!r})
from pathlib import Path
from collector_load import run_wrk, ENCODINGS
run_wrk({port}, Path({payloads[encoding]['path']!r}), ENCODINGS[{encoding!r}], {args.seconds + 2}, "perf-{encoding}", Path({str(raw)!r}))
"""])
            time.sleep(1)
            subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", "999", "-o", str(data), "-p", str(process.pid),
                            "--", "sleep", str(args.seconds)], check=True, capture_output=True)
            if wrk.wait() != 0:
                bl.die("wrk failed under perf")
        finally:
            bl.stop(process, "collector")
            out.unlink(missing_ok=True)
        report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "dso,symbol",
                                 "--percent-limit", "0.5"], capture_output=True, text=True)
        if report.returncode != 0:
            bl.die(f"perf report failed: {report.stderr}")
        lines = [l for l in demangle(report.stdout).splitlines() if l.strip() and (not l.startswith("#") or "Samples" in l)]
        text = (f"collector, {encoding}: perf record -e cpu-clock -F 999 for {args.seconds} s of the load benchmark's wrk load "
                f"(-t2 -c16, collector on CPU 0); self time by shared object and symbol (>= 0.5 %)\n" + "\n".join(shorten(re.sub(r"\s+", " ", l.strip()), 170) for l in lines) + "\n")
        (out_dir / f"perf-collector-{encoding}.txt").write_text(text)
        print(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("collector")
    c.add_argument("--requests", type=int, default=2000)  # ≈ 30 min per encoding on a loaded 2-core machine: use fewer there
    c.add_argument("--encodings", default="protobuf,gzip,json")
    c.add_argument("--label", default="", help="suffix of the output names (e.g. -startup with --requests 0)")
    p = sub.add_parser("perf")
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--encodings", default="protobuf,gzip,json")
    r = sub.add_parser("runner")
    r.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    bl.pin_self(1)
    raw = bl.work_dir() / "profiles"
    raw.mkdir(parents=True, exist_ok=True)
    out_dir = bl.BENCH / "profiles"
    out_dir.mkdir(exist_ok=True)
    {"collector": profile_collector, "runner": profile_runner, "perf": profile_perf}[args.what](args, raw, out_dir)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except bl.BenchError as error:
        print(f"profile: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
