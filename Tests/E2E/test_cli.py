"""The collector as a process: CLI exit codes and messages, bind failures, graceful drain on SIGTERM."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from collector_process import ROOT, Collector, collector_binary, config, entries


def run(*args: str, config_text: str | None = None) -> subprocess.CompletedProcess:
    argv = [str(collector_binary()), *args]
    if config_text is not None:
        path = Path(tempfile.mkdtemp()) / "c.yaml"
        path.write_text(config_text)
        argv += ["--config", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def test_validate_accepts_the_lab_config() -> None:
    result = run("validate", "--config", str(ROOT / "collector.yaml"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_validate_names_the_key_path() -> None:
    bad = config().replace("exporters:\n  debug:\n", "exporters:\n  debug:\n    verbosityy: detailed\n")
    result = run("validate", config_text=bad)
    assert result.returncode == 1
    assert result.stderr == "Error: exporters::debug: has invalid keys: verbosityy\n"


def test_a_bad_config_stops_before_binding() -> None:
    bad = config().replace("      http:\n", "      grpc:\n        endpoint: 127.0.0.1:0\n        auth:\n          authenticator: x\n      http:\n")
    result = run(config_text=bad)
    assert result.returncode == 1
    assert "Starting HTTP server" not in result.stderr and "Starting GRPC server" not in result.stderr
    assert result.stderr.startswith("Error: invalid configuration: receivers::otlp::protocols::grpc::auth: is not served by this collector yet")


def test_missing_config_flag_and_file() -> None:
    assert run().stderr.strip() == "Error: invalid configuration: at least one config flag must be provided"
    missing = run("--config", "/nonexistent/c.yaml")
    assert missing.returncode == 1
    assert 'cannot read config file "/nonexistent/c.yaml": no such file' in missing.stderr


def test_version_help_and_components() -> None:
    assert run("--version").stdout.strip() == "0.1.0"
    assert "validate" in run("--help").stdout
    components = run("components").stdout
    assert "    - name: otlp\n" in components and "    - name: batch\n" in components and "    - name: debug\n" in components


def test_port_in_use_exits_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        collector = Collector(config().replace("127.0.0.1:0", f"127.0.0.1:{port}"), wait=False)
        assert collector.process.wait(timeout=20) == 1
        collector.stop()
        assert "Collector stopped on an error" in collector.stderr()


def test_sigterm_drains_everything_accepted() -> None:
    """Spans held by a batch with a long timeout are all written when SIGTERM arrives right after the last 200."""
    n_requests, per_request = 40, 25
    with Collector(config("basic", batch="    timeout: 30s\n    send_batch_size: 100000\n")) as collector:
        for i in range(n_requests):
            body = {"resourceSpans": [{"scopeSpans": [{"spans": [
                {"traceId": f"{i:032x}", "spanId": f"{j + 1:016x}", "name": f"s{i}-{j}"} for j in range(per_request)]}]}]}
            status, _, _ = collector.post("/v1/traces", json.dumps(body).encode(), "application/json")
            assert status == 200
        assert collector.stdout() == ""  # still held by the batch processor
        assert collector.stop(signal.SIGTERM) == 0
        summaries = [rest for _, rest in entries(collector.stdout())]
        stderr = collector.stderr()
    total = sum(json.loads(s.split("\t", 1)[1])["spans"] for s in summaries)
    assert total == n_requests * per_request
    assert "Starting shutdown..." in stderr and "Shutdown complete." in stderr


def test_sigint_also_stops_gracefully() -> None:
    with Collector(config("basic")) as collector:
        assert collector.stop(signal.SIGINT) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_config_runs_with_health_check() -> None:
    """collector.yaml itself (endpoints moved to loopback by a second --config): health 200 once ready,
    the logging alias warns once, a span shows up as TracesExporter lines from both exporters."""
    import urllib.request

    health_port = _free_port()
    override = Path(tempfile.mkdtemp()) / "loopback.yaml"
    override.write_text(
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:0\n      http:\n        endpoint: 127.0.0.1:0\n"
        f"extensions:\n  health_check:\n    endpoint: 127.0.0.1:{health_port}\n"
        "service:\n  telemetry:\n    metrics:\n      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: 0}}}}]\n")
    lab = Collector((ROOT / "collector.yaml").read_text(), extra_args=["--config", str(override)])
    with lab:
        with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/", timeout=5) as response:
            assert response.status == 200
            assert json.loads(response.read())["status"] == "Server available"
        body = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c",
                                                              "spanId": "eee19b7ec3c1b174", "name": "lab-span"}]}]}]}
        status, _, _ = lab.post("/v1/traces", json.dumps(body).encode(), "application/json")
        assert status == 200
        assert lab.stop() == 0
        out, err = lab.stdout(), lab.stderr()
    summaries = [rest for _, rest in entries(out) if rest.startswith("TracesExporter")]
    assert sorted(json.loads(s.split("\t", 1)[1])["name"] for s in summaries) == ["debug", "logging"]
    assert "    Trace ID       : 5b8efff798038103d269b633813fc60c\n" in out  # logging: loglevel debug → detailed
    assert err.count("The logging exporter is deprecated") == 1


def test_memory_limiter_refuses_with_retry_after() -> None:
    """A limit far below the process's resident memory: every request is refused, retryably, and counted as such."""
    cfg = config("basic").replace(
        "\nexporters:\n", "\nprocessors:\n  memory_limiter:\n    check_interval: 100ms\n    limit_mib: 2\n    spike_limit_mib: 1\nexporters:\n")
    cfg = cfg.replace("      exporters: [debug]\n", "      processors: [memory_limiter]\n      exporters: [debug]\n")
    with Collector(cfg) as collector:
        body = {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "refused"}]}]}]}
        status, headers, response = collector.post("/v1/traces", json.dumps(body).encode(), "application/json")
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert json.loads(response) == {"code": 14, "message": "data refused due to high memory usage",
                                        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]}
        assert collector.stop() == 0
        assert "TracesExporter" not in collector.stdout()
        assert "Memory usage is above soft limit. Refusing data." in collector.stderr()
