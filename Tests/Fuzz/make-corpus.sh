#!/usr/bin/env bash
# Regenerates the fuzz seed corpus (Tests/Fuzz/corpus) from the shared OTLP fixtures
# ($OTLP_FIXTURES_DIR, default ../shared/fixtures/otlp) plus handmade compression seeds.
#
# Each seed is 4 header bytes then the body, the layout Tests/Fuzz/OTLPFuzz/OTLPFuzz.swift reads:
#   byte 0 Content-Type index   (0 application/x-protobuf, 1 application/json)
#   byte 1 Content-Encoding index (0 none, 3 gzip, 4 deflate)
#   byte 2 signal                (0 traces, 1 metrics, 2 logs)
#   byte 3 limit index           (0 1 MiB, 1 64 KiB, 2 100 bytes, 3 8 MiB)
set -euo pipefail
cd "$(dirname "$0")/../.."
FIXTURES="${OTLP_FIXTURES_DIR:-$(pwd)/../shared/fixtures/otlp}"
OUT="Tests/Fuzz/corpus"
[ -d "$FIXTURES" ] || { echo "fixtures not found at $FIXTURES (set OTLP_FIXTURES_DIR)" >&2; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"

python3 - "$FIXTURES" "$OUT" <<'PY'
import gzip, os, sys, zlib

fixtures, out = sys.argv[1], sys.argv[2]
SIGNALS = {"traces": 0, "metrics": 1, "logs": 2}
EXAMPLES = {"trace": 0, "events": 2, "metrics": 1, "logs": 2}

def write(name, content_type, encoding, signal, limit, body):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([content_type, encoding, signal, limit]) + body)

def gz(body):
    return gzip.compress(body, mtime=0)

count = 0
for folder in ("traces", "metrics", "logs", "examples"):
    directory = os.path.join(fixtures, folder)
    for file in sorted(os.listdir(directory)):
        stem, ext = os.path.splitext(file)
        if ext not in (".pb", ".json"):
            continue
        signal = SIGNALS[folder] if folder in SIGNALS else EXAMPLES[stem]
        body = open(os.path.join(directory, file), "rb").read()
        content_type = 0 if ext == ".pb" else 1
        base = f"{folder}-{stem}-{ext[1:]}"
        write(base, content_type, 0, signal, 0, body)
        count += 1
        if folder == "examples":
            write(base + "-gzip", content_type, 3, signal, 0, gz(body))
            write(base + "-deflate", content_type, 4, signal, 0, zlib.compress(body))
            count += 2

# Handmade seeds for the compression paths.
trace_pb = open(os.path.join(fixtures, "examples", "trace.pb"), "rb").read()
raw = zlib.compressobj(wbits=-15)
write("hand-raw-deflate", 0, 4, 0, 0, raw.compress(trace_pb) + raw.flush())
write("hand-gzip-bomb-100b-limit", 0, 3, 0, 2, gz(bytes(1 << 20)))
write("hand-deflate-bomb-64k-limit", 1, 4, 1, 1, zlib.compress(bytes(1 << 20), 9))
write("hand-gzip-truncated", 0, 3, 0, 0, gz(trace_pb)[:-9])
write("hand-gzip-two-members", 0, 3, 0, 0, gz(trace_pb[:40]) + gz(trace_pb[40:]))
write("hand-gzip-empty-member", 0, 3, 2, 0, gz(b""))
write("hand-gzip-bad-crc", 0, 3, 0, 0, gz(trace_pb)[:-8] + b"\0\0\0\0" + gz(trace_pb)[-4:])
write("hand-deflate-garbage", 0, 4, 0, 0, bytes(range(7, 250, 3)))
write("hand-deflate-trailing", 0, 4, 0, 0, zlib.compress(trace_pb) + b"trailing")
write("hand-empty-protobuf", 0, 0, 0, 0, b"")
write("hand-empty-json", 1, 0, 2, 0, b"")
write("hand-json-hex-ids", 1, 0, 0, 0,
      b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C",'
      b'"spanId":"EEE19B7EC3C1B174","name":"x","attributes":[{"key":"k","value":{"intValue":"9"}}]}]}]}]}')
write("hand-json-base64-ids", 1, 0, 0, 0,
      b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ="}]}]}]}')
nested = b'{"stringValue":"leaf"}'
for _ in range(30):
    nested = b'{"kvlistValue":{"values":[{"key":"k","value":' + nested + b'}]}}'
write("hand-json-nested-kvlist", 1, 0, 2, 0,
      b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":' + nested + b'}]}]}]}')
print(f"{count} fixture seeds and {len(os.listdir(out)) - count} handmade seeds in {out}")
PY
