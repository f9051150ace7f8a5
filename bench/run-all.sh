#!/usr/bin/env bash
# Every benchmark, in one command: builds the release binaries, installs the peer (rotel), runs the collector load
# benchmark (ours vs rotel) and the runner benchmark (runner vs the Python job), writes their results under
# bench/results/ and rewrites the results section of BENCHMARKS.md (between its BEGIN/END RESULTS markers).
#
#   bench/run-all.sh                      # the full run (≈ 15 min on 2 cores, most of it the Python job)
#   BENCH_RUNS=5 bench/run-all.sh         # more runs per figure
#   SKIP_BUILD=1 bench/run-all.sh         # use the existing binaries (.build-static/release, or COLLECTOR_BIN/RUNNER_BIN)
#   RUNNER_RECORDS=1000000 PYTHON_RECORDS=100000 bench/run-all.sh
#   PROFILE=1 bench/run-all.sh            # also the callgrind/perf profiles (bench/profiles/*.txt, ≈ 10 more min)
#
# Run it on a quiet machine: the numbers are CPU-bound and every other process on the two cores moves them
# (the load average at the start of each benchmark is printed next to its table).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(nproc)" -lt 2 ]; then echo "run-all: needs 2 CPUs (collector/job on CPU 0, load generator on CPU 1)" >&2; exit 1; fi
for tool in wrk taskset python3; do command -v "$tool" >/dev/null || { echo "run-all: $tool not found" >&2; exit 1; }; done
python3 -c 'import opentelemetry.sdk, opentelemetry.proto, opentelemetry.exporter.otlp.proto.http' \
  || { echo "run-all: pip install -r Tests/requirements.txt (OpenTelemetry Python SDK 1.45.2)" >&2; exit 1; }

# The binaries the images ship (scripts/build-release.sh: static Swift runtime, the collector's ordered link).
if [ -z "${SKIP_BUILD:-}" ]; then
  scripts/build-release.sh collector runner >/dev/null
fi
export COLLECTOR_BIN="${COLLECTOR_BIN:-$PWD/.build-static/release/collector}" RUNNER_BIN="${RUNNER_BIN:-$PWD/.build-static/release/runner}"
bench/setup-rotel.sh

results=bench/results
mkdir -p "$results"
rm -f "$results/collector_load.jsonl" "$results/runner.jsonl"
python3 bench/collector_load.py --results "$results/collector_load.jsonl" --markdown "$results/collector_load.md"
python3 bench/runner_bench.py --results "$results/runner.jsonl" --markdown "$results/runner.md"
if [ -n "${PROFILE:-}" ]; then
  python3 bench/profile.py collector
  python3 bench/profile.py runner
  python3 bench/profile.py perf || echo "run-all: perf profile failed (perf may not work on this machine)" >&2
fi

# The results section of BENCHMARKS.md: exactly the tables the scripts printed.
python3 bench/update_benchmarks_md.py "$results"
