"""Start the real `collector` binary on 127.0.0.1 with random ports, and stop it by PID."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT_LINE = re.compile(r'Starting HTTP server\t\{"endpoint": "([^"]+)"')
METRICS_LINE = re.compile(r'Serving metrics\t\{"address": "([^"]+)"')
# The collector's own metrics on a free loopback port (the default, localhost:8888, would clash between tests).
LOOPBACK_METRICS = "  telemetry:\n    metrics:\n      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: 0}}}}]\n"
GRPC_ENDPOINT_LINE = re.compile(r'Starting GRPC server\t\{"endpoint": "([^"]+)"')
ENTRY_START = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t(\w+)\t", re.M)


def collector_binary() -> Path:
    """`$COLLECTOR_BIN`, else the debug build; fails loudly when it is missing."""
    path = Path(os.environ.get("COLLECTOR_BIN") or ROOT / ".build" / "debug" / "collector")
    if not path.exists():
        raise FileNotFoundError(f"collector binary not found at {path}: run `swift build --product collector` first")
    return path


def fixtures_dir() -> Path | None:
    path = Path(os.environ.get("OTLP_FIXTURES_DIR") or ROOT.parent / "shared" / "fixtures" / "otlp")
    return path if path.is_dir() else None


class Collector:
    """A running collector: `endpoint` is its bound HTTP host:port, `grpc_endpoint` its gRPC one (when the
    config serves gRPC), `stdout()`/`stderr()` what it printed."""

    def __init__(self, config: str, extra_args: list[str] | None = None, wait: bool = True):
        self.dir = Path(tempfile.mkdtemp(prefix="collector-e2e-"))
        self.config_path = self.dir / "config.yaml"
        self.config_path.write_text(config)
        self.out_path = self.dir / "stdout"
        self.err_path = self.dir / "stderr"
        self._out = open(self.out_path, "wb")
        self._err = open(self.err_path, "wb")
        self.process = subprocess.Popen(
            [str(collector_binary()), "--config", str(self.config_path), *(extra_args or [])],
            stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL,
        )
        self.endpoint: str | None = None
        self.grpc_endpoint: str | None = None
        if wait:
            self.endpoint = self.wait_for_endpoint()

    def wait_for_endpoint(self, timeout: float = 20.0) -> str | None:
        """Waits for `Everything is ready`; returns the HTTP endpoint (None when only gRPC is served)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            err = self.stderr()
            if "Everything is ready" in err:
                match, grpc = ENDPOINT_LINE.search(err), GRPC_ENDPOINT_LINE.search(err)
                self.grpc_endpoint = grpc.group(1) if grpc else None
                if match or grpc:
                    return match.group(1) if match else None
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited with {self.process.returncode}:\n{self.stderr()}")
            time.sleep(0.02)
        raise TimeoutError(f"collector did not report its endpoint:\n{self.stderr()}")

    @property
    def base_url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def metrics_endpoint(self) -> str:
        """Where the collector serves its own metrics (from its `Serving metrics` line)."""
        match = METRICS_LINE.search(self.stderr())
        if not match:
            raise RuntimeError(f"the collector serves no metrics:\n{self.stderr()}")
        return match.group(1)

    def scrape(self) -> str:
        """`GET /metrics`: the Prometheus text of the collector's own metrics."""
        with urllib.request.urlopen(f"http://{self.metrics_endpoint}/metrics", timeout=10) as response:
            assert response.status == 200
            return response.read().decode()

    def post(self, path: str, body: bytes, content_type: str, encoding: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base_url + path, data=body, method="POST")
        request.add_header("Content-Type", content_type)
        if encoding:
            request.add_header("Content-Encoding", encoding)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signals the process by PID and waits for it; returns the exit status."""
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        self._out.close()
        self._err.close()
        return self.process.returncode

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def __enter__(self) -> "Collector":
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.stop()


def entries(text: str) -> list[tuple[str, str]]:
    """Splits console output into (level, rest-of-entry) pairs; an entry may span several lines."""
    starts = list(ENTRY_START.finditer(text))
    out = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        out.append((match.group(1), text[match.end():end]))
    return out


def config(verbosity: str = "detailed", batch: str | None = None, extra_http: str = "", telemetry: str = LOOPBACK_METRICS,
           grpc: str | None = None) -> str:
    """A collector config on 127.0.0.1:0 with a debug exporter for all three signals (own metrics on a free port);
    `grpc` (the extra keys of `protocols.grpc`, "" for none) serves OTLP/gRPC on another 127.0.0.1:0 port too."""
    processors = f"processors:\n  batch:\n{batch}\n" if batch is not None else ""
    uses = "      processors: [batch]\n" if batch is not None else ""
    pipelines = "".join(
        f"    {signal}:\n      receivers: [otlp]\n{uses}      exporters: [debug]\n" for signal in ("traces", "metrics", "logs")
    )
    return (
        "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\n" + extra_http
        + ("" if grpc is None else "      grpc:\n        endpoint: 127.0.0.1:0\n" + grpc)
        + processors
        + f"exporters:\n  debug:\n    verbosity: {verbosity}\n"
        + "service:\n" + telemetry + "  pipelines:\n" + pipelines
    )
