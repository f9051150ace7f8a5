#!/usr/bin/env bash
# Micro-benchmarks of the OTLP hot paths in Shared (Benchmarks/OTLPBenchmarks, ordo-one/benchmark): protobuf decode
# vs the wire scanner, OTLP/JSON decode, gzip inflate, protobuf encode, hex ids. Release build of the benchmark
# target (the first one takes minutes), then one run of the suite (≈ 20 s), written as markdown to
# bench/results/micro.md (or $1) with the load average at the top and the scan-vs-decode ratio at the end.
#
#   bench/micro.sh                         # → bench/results/micro.md
#   bench/micro.sh /tmp/micro.md           # elsewhere
#   MICRO_FILTER='Scan.*' bench/micro.sh   # only the benchmarks whose name matches (the plugin's --filter)
#
# Run it on a quiet machine: the figures are CPU-bound, and every other process on the cores moves them.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-bench/results/micro.md}"
mkdir -p "$(dirname "$out")"
raw="$(mktemp)"
trap 'rm -f "$raw"' EXIT

filter=()
if [ -n "${MICRO_FILTER:-}" ]; then filter=(--filter "$MICRO_FILTER"); fi

load_before="$(uptime)"
# --disable-sandbox: the plugin starts the benchmark executable (and preloads the malloc interposer) itself.
# --path stdout: the markdown tables go to stdout instead of a file in the package directory.
if ! swift package --disable-sandbox benchmark run --target OTLPBenchmarks "${filter[@]}" \
  --format markdown --path stdout --no-progress >"$raw"; then
  cat "$raw" >&2
  echo "FAILED: swift package benchmark (OTLPBenchmarks)" >&2
  exit 1
fi
load_after="$(uptime)"

python3 - "$raw" "$out" "$load_before" "$load_after" <<'PY'
import re, subprocess, sys
raw, out, load_before, load_after = sys.argv[1:5]
text = re.sub(r"\x1b\[[0-9;]*m", "", open(raw).read())  # the plugin colours its warnings

# "### OTLPBenchmarks:<name>" followed by a pipe table: metric rows with p0 p25 p50 p75 p90 p99 p100 Samples.
p50, p0 = {}, {}
for block in re.split(r"^### ", text, flags=re.M)[1:]:
    name = block.splitlines()[0].strip().split(":", 1)[-1]
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[2].lstrip("-").replace(".", "").isdigit():
            p50[(name, cells[0])] = float(cells[3])
            p0[(name, cells[0])] = float(cells[1])
if not p50:
    sys.exit(f"FAILED: no benchmark table in the plugin's output:\n{text}")

def value(name_prefix, metric_prefix, table=p50):
    for (name, metric), v in table.items():
        if name.startswith(name_prefix) and metric.startswith(metric_prefix):
            return v
    return None

def run(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "?"

head = [
    "# Micro-benchmarks (bench/micro.sh)",
    "",
    f"- load before: `{load_before.strip()}`",
    f"- load after: `{load_after.strip()}`",
    f"- commit {run('git', 'rev-parse', '--short', 'HEAD')}, {run('swift', '--version').splitlines()[0] if run('swift', '--version') != '?' else '?'}, {run('nproc')} CPUs",
    "- input: one ExportTraceServiceRequest, 100 spans × 8 attributes (bench/payloads.py's shape); "
    "time in ns per operation (Hex.encode: per encoding, 1,000 per sample, `*`); p50 is the median sample",
    "- Malloc (total) includes the harness's own 16 mallocs per sample (the scanner's 16 are all the harness's: "
    "`--allocation-stacks` counts 0); Hex.encode's 18 per encoding are its own (16 of 40 B, one per input byte). "
    "Time (total CPU) comes in 10 ms ticks: per operation it reads 0 or 1e+07; use wall clock",
    "",
]
decode, scan = value("Decode protobuf", "Time (wall clock)"), value("Scan protobuf", "Time (wall clock)")
decode_cpu, scan_cpu = value("Decode protobuf", "Time (total CPU)"), value("Scan protobuf", "Time (total CPU)")
decode_malloc, scan_malloc = value("Decode protobuf", "Malloc (total)"), value("Scan protobuf", "Malloc (total)")
if decode and scan:
    line = f"**Scan vs decode (protobuf, 100 spans), p50:** wall clock {decode:g} ns vs {scan:g} ns = {decode / scan:.1f}× faster"
    decode_min, scan_min = value("Decode protobuf", "Time (wall clock)", p0), value("Scan protobuf", "Time (wall clock)", p0)
    if decode_min and scan_min:
        line += f"; fastest sample (p0) {decode_min:g} ns vs {scan_min:g} ns = {decode_min / scan_min:.1f}×"
    if decode_cpu and scan_cpu:
        line += f"; CPU {decode_cpu:g} ns vs {scan_cpu:g} ns = {decode_cpu / scan_cpu:.1f}×"
    if decode_malloc is not None and scan_malloc is not None:
        line += f"; mallocs {decode_malloc:g} vs {scan_malloc:g}"
    head += [line, ""]
body = text.strip()
open(out, "w").write("\n".join(head) + "\n" + body + "\n")
print("\n".join(head))
print(f"micro: wrote {out}")
PY
