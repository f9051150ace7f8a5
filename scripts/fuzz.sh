#!/usr/bin/env bash
# Fuzzes the OTLP/HTTP decoding path (Tests/Fuzz/OTLPFuzz) with libFuzzer and AddressSanitizer for a bounded time.
#
#   scripts/fuzz.sh [seconds]      default 60; FUZZ_FORK=N runs N worker processes (libFuzzer -fork)
#
# Builds in its own scratch path (.build-fuzz) and runs on a copy of Tests/Fuzz/corpus, so the committed
# corpus only changes when someone copies new seeds on purpose. Exit 0: no crash. Exit 1: a crash, a leak,
# a timeout (-timeout=10 per input) or an out-of-memory (-rss_limit_mb=2048); the input is printed and kept.
#
# Why these build flags: SwiftPM's `--sanitize=fuzzer` compiles the executable as a library (libFuzzer
# supplies `main`), but `--sanitize=fuzzer --sanitize=address` reaches the compiler as two `-sanitize=` options
# of which only the last is kept, so the code would get no coverage instrumentation. `-Xswiftc
# -sanitize=fuzzer,address` alone instruments correctly, but then SwiftPM links the executable with
# `--defsym main=OTLPFuzz_main` (its entry-point renaming), which fails (`undefined symbol 'OTLPFuzz_main'`)
# or, with top-level code, replaces libFuzzer's `main`. Both together work. `-DOTLP_FUZZ` turns the replay
# tool of the normal build into the libFuzzer entry point.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
scratch=.build-fuzz
flags=(--product OTLPFuzz --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DOTLP_FUZZ)

echo "== build OTLPFuzz (libFuzzer + ASan) in $scratch"
swift build "${flags[@]}" 2>&1 | grep -v "Cannot export local symbol" || true
binary="$(swift build "${flags[@]}" --show-bin-path)/OTLPFuzz"
[ -x "$binary" ] || { echo "fuzz.sh: build failed, no $binary" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/otlp-fuzz.XXXXXX")"
mkdir -p "$work/corpus" "$work/artifacts"
cp Tests/Fuzz/corpus/* "$work/corpus/"
options=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 -print_final_stats=1
    -dict=Tests/Fuzz/otlp.dict -artifact_prefix="$work/artifacts/")
if [ -n "${FUZZ_FORK:-}" ]; then options+=(-fork="$FUZZ_FORK" -ignore_crashes=0); fi

echo "== fuzz for ${seconds}s (work dir $work)"
set +e
"$binary" "${options[@]}" "$work/corpus" 2>&1 | tee "$work/fuzz.log" \
    | grep --line-buffered -E "^#[0-9]+ +(INITED|DONE|pulse)|^#[0-9]+: cov|ERROR|SUMMARY|Test unit written|stat::"
status=${PIPESTATUS[0]}
set -e

crashes=("$work"/artifacts/*)
if [ "$status" -ne 0 ] || [ -e "${crashes[0]}" ]; then
    echo "FUZZ FAILED (exit $status). Log: $work/fuzz.log" >&2
    for input in "${crashes[@]}"; do
        [ -e "$input" ] && echo "crashing input: $input" >&2
    done
    echo "replay it without the sanitizer: swift run OTLPFuzz <input>" >&2
    exit 1
fi
# Executions: the final stats of a single process, or the last progress line of -fork mode.
executions=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$work/fuzz.log" | awk '{s+=$2} END {print s+0}' || true)
if [ "${executions:-0}" = 0 ]; then
    executions=$( (grep -oE "^#[0-9]+:" "$work/fuzz.log" || true) | tail -1 | tr -d '#:')
fi
echo "fuzz: no crash in ${seconds}s, ${executions} executions, corpus grew to $(ls "$work/corpus" | wc -l) inputs ($work/corpus)"
rm -rf "$work/artifacts"
