#!/usr/bin/env bash
# The lab, rehearsed on loopback: the collector runs with the repository's collector.yaml as the
# "Service", the runner runs once with the Job's environment as the "Job", then the job's log and the
# collector's stdout are shown and every record's trace id is looked up in the collector's output.
#
#   scripts/demo.sh            # release build, then the run (the run itself takes seconds)
#   DEMO_BUILD=debug scripts/demo.sh
#   DEMO_PROTOCOL=grpc scripts/demo.sh   # the job exports over OTLP/gRPC (default: http/protobuf)
#   DEMO_BIN_DIR=.build-static/release scripts/demo.sh   # binaries already built there (no build)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${DEMO_BIN_DIR:-}" ]; then
  bin=$DEMO_BIN_DIR
  echo "== using the collector and runner in $bin"
  test -x "$bin/collector" && test -x "$bin/runner"
else
  config=${DEMO_BUILD:-release}
  echo "== building collector and runner ($config)"
  swift build -c "$config" --product collector
  swift build -c "$config" --product runner
  bin=$(swift build -c "$config" --show-bin-path)
fi

work=$(mktemp -d)
collector_pid=""
cleanup() {
  if [ -n "$collector_pid" ] && kill -0 "$collector_pid" 2>/dev/null; then
    kill -TERM "$collector_pid" 2>/dev/null || true
    wait "$collector_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# collector.yaml listens on 0.0.0.0:4317 (gRPC) and 0.0.0.0:4318 (HTTP) as in the cluster; here a second
# config, merged over it, moves both to free loopback ports (later --config files win, as upstream).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
grpc_port=$(free_port)
health_port=$(free_port)
metrics_port=$(free_port)
cat > "$work/loopback.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$grpc_port
      http:
        endpoint: 127.0.0.1:$port
extensions:
  health_check:
    endpoint: 127.0.0.1:$health_port
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: $metrics_port
YAML

echo "== starting the collector (the \"Service\") on 127.0.0.1:$port (OTLP/HTTP) and 127.0.0.1:$grpc_port (OTLP/gRPC)"
"$bin/collector" --config collector.yaml --config "$work/loopback.yaml" >"$work/collector.out" 2>"$work/collector.err" &
collector_pid=$!
# The readiness probe: the health check answers 200 once every pipeline runs.
health() { python3 -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$health_port/', timeout=1).status == 200 else 1)" 2>/dev/null; }
for _ in $(seq 1 200); do
  health && break
  kill -0 "$collector_pid" 2>/dev/null || { cat "$work/collector.err"; echo "collector exited" >&2; exit 1; }
  sleep 0.05
done
health || { cat "$work/collector.err"; echo "collector not ready (health check on 127.0.0.1:$health_port)" >&2; exit 1; }
echo "health check: 200 on 127.0.0.1:$health_port"

protocol=${DEMO_PROTOCOL:-http/protobuf}
job_port=$port
[ "$protocol" = grpc ] && job_port=$grpc_port
echo "== running the batch job (the \"Job\") with the Job's environment, $protocol to 127.0.0.1:$job_port"
job_status=0
(
  cd "$work"
  env ENV_FILE="$OLDPWD/.env.example" \
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$job_port" OTEL_EXPORTER_OTLP_PROTOCOL="$protocol" \
    OTEL_SERVICE_NAME=batch-inference-service \
    OTEL_RESOURCE_ATTRIBUTES="k8s.namespace.name=ai-ml-lab-3-1-paid,k8s.job.name=batch-inference-paid-once,k8s.pod.name=demo" \
    CPU_LIMIT=500m MEMORY_LIMIT=512Mi CPU_REQUEST=250m MEMORY_REQUEST=256Mi \
    "$bin/runner"
) >"$work/job.log" 2>"$work/job.err" || job_status=$?

echo "== the collector's own metrics (the Service's 8888 port; here GET 127.0.0.1:$metrics_port/metrics)"
python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$metrics_port/metrics', timeout=5).read().decode(), end='')" \
  >"$work/metrics.txt" || { echo "metrics endpoint not answering" >&2; exit 1; }
grep -E '^otelcol_(receiver_(accepted|refused)|exporter_sent|processor_batch_(batch_size|timeout)_trigger|process_memory_rss)' "$work/metrics.txt" || true

echo "== stopping the collector (SIGTERM to PID $collector_pid): it drains before exiting"
kill -TERM "$collector_pid"
collector_status=0
wait "$collector_pid" || collector_status=$?
collector_pid=""

echo
echo "---------------- job log (kubectl logs job/batch-inference-paid-once) ----------------"
cat "$work/job.log"
[ -s "$work/job.err" ] && { echo "(stderr)"; cat "$work/job.err"; }
echo
echo "---------------- collector stdout (kubectl logs -l app=otel-collector-paid) ----------------"
cat "$work/collector.out"
echo
echo "---------------- collector stderr ----------------"
cat "$work/collector.err"
echo
echo "---------------- verification ----------------"
echo "job exit status: $job_status; collector exit status: $collector_status"
grep -E 'TracesExporter|MetricsExporter|LogsExporter' "$work/collector.out" | cut -f3- | sort | uniq -c || true
ids=$(grep -oE '"trace_id": ?"[0-9a-f]{32}"' "$work/job.log" | grep -oE '[0-9a-f]{32}' | sort -u || true)
[ -n "$ids" ] || { echo "no trace ids in the job log" >&2; exit 1; }
missing=0
for id in $ids; do
  if grep -q "$id" "$work/collector.out"; then echo "trace $id: in the job log and in the collector's output"; else echo "trace $id: MISSING from the collector's output"; missing=1; fi
done
grep -qE '^otelcol_receiver_accepted_spans\{receiver="otlp",transport="(http|grpc)"\} [1-9]' "$work/metrics.txt" \
  && echo "collector metrics: accepted spans counted" || { echo "collector metrics: no accepted spans counted"; missing=1; }
for metric in batch_total_records record_latency_ms; do
  grep -q -- "-> Name: $metric" "$work/collector.out" && echo "metric $metric: received" || { echo "metric $metric: MISSING"; missing=1; }
done
[ "$job_status" = 0 ] && [ "$collector_status" = 0 ] && [ "$missing" = 0 ] && echo "demo: OK" || { echo "demo: FAILED" >&2; exit 1; }
