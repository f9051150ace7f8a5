"""The receiver's protections against clients that misbehave on purpose or by accident, against the real
collector: bearer-token authentication (`auth.authenticator` with the `bearertokenauth` extension),
`read_header_timeout`, `read_timeout`, `idle_timeout` and `max_concurrent_connections`."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from collector_process import Collector, config
from test_hostile_input import PB, JSON, VALID_PB, status_of, raw_request

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from google.rpc import status_pb2

TOKEN = "s3cr3t-t0ken-value"


def auth_config(extension: str) -> str:
    base = config(verbosity="basic", extra_http="        auth:\n          authenticator: bearertokenauth\n")
    return (base.replace("service:\n", "extensions:\n  bearertokenauth:\n" + extension + "service:\n  extensions: [bearertokenauth]\n", 1))


def decode_status(body: bytes, content_type: str) -> tuple[int, str]:
    if content_type == JSON:
        parsed = json.loads(body)
        return parsed["code"], parsed["message"]
    status = status_pb2.Status()
    status.ParseFromString(body)
    return status.code, status.message


# --- bearertokenauth --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def authed():
    with Collector(auth_config(f"    token: {TOKEN}\n")) as c:
        yield c
    assert c.process.returncode == 0
    # The token never reaches the collector's logs.
    assert TOKEN not in c.stderr() and TOKEN not in c.stdout()


@pytest.mark.parametrize("content_type", [PB, JSON])
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, ""])
def test_missing_or_wrong_token_is_401(authed, content_type, header):
    headers = {} if header is None else {"Authorization": header}
    body = VALID_PB if content_type == PB else b"{}"
    status, response_headers, response = authed.post("/v1/traces", body, content_type, headers=headers)
    assert status == 401
    assert response_headers["Content-Type"] == content_type
    code, message = decode_status(response, content_type)
    assert code == 16  # UNAUTHENTICATED
    assert message in ("missing or empty authorization header", "the bearer token does not match")
    assert TOKEN not in message


def test_auth_is_checked_before_routing(authed):
    # As upstream: an unauthenticated client learns nothing about the paths served.
    status, _, _ = authed.post("/no/such/path", VALID_PB, PB)
    assert status == 401


def test_right_token_is_accepted(authed):
    status, _, body = authed.post("/v1/traces", VALID_PB, PB, headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    ExportTraceServiceResponse().ParseFromString(body)
    # Header names are case-insensitive.
    status, _, _ = authed.post("/v1/traces", VALID_PB, PB, headers={"authorization": f"Bearer {TOKEN}"})
    assert status == 200


def test_token_file_is_reloaded_when_it_changes(tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    with Collector(auth_config(f"    filename: {token_file}\n    scheme: Token\n")) as c:
        assert c.post("/v1/traces", VALID_PB, PB, headers={"Authorization": "Token first-token"})[0] == 200
        assert c.post("/v1/traces", VALID_PB, PB, headers={"Authorization": "Bearer first-token"})[0] == 401
        token_file.write_text("second-token\n")
        deadline = time.monotonic() + 10
        while c.post("/v1/traces", VALID_PB, PB, headers={"Authorization": "Token second-token"})[0] != 200:
            assert time.monotonic() < deadline, "the new token was not picked up"
            time.sleep(0.2)
        assert c.post("/v1/traces", VALID_PB, PB, headers={"Authorization": "Token first-token"})[0] == 401
        assert c.stop() == 0
        assert "first-token" not in c.stderr() and "second-token" not in c.stderr()


def test_missing_token_file_fails_startup_naming_the_setting(tmp_path: Path):
    c = Collector(auth_config(f"    filename: {tmp_path / 'absent'}\n"), wait=False)
    assert c.process.wait(timeout=20) == 1
    assert "extensions::bearertokenauth::filename" in c.stderr()
    c.stop()


def test_authenticator_must_be_configured_and_enabled():
    text = config(verbosity="basic", extra_http="        auth:\n          authenticator: bearertokenauth\n")
    c = Collector(text, wait=False)
    assert c.process.wait(timeout=20) == 1
    assert ("receivers::otlp::protocols::http::auth::authenticator: failed to resolve authenticator "
            "\"bearertokenauth\": authenticator not found") in c.stderr()
    c.stop()


# --- timeouts and connection limits -----------------------------------------------------------------------

def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the peer closed `sock` (recv returns b"" or resets), or None if it stayed open."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while True:
            if not sock.recv(4096):
                return time.monotonic() - started
    except ConnectionResetError:
        return time.monotonic() - started
    except socket.timeout:
        return None


def limits_config(**keys: str) -> str:
    extra = "".join(f"        {key}: {value}\n" for key, value in keys.items())
    return config(verbosity="basic", extra_http=extra)


def test_slow_loris_headers_are_cut_at_read_header_timeout():
    with Collector(limits_config(read_header_timeout="1s", idle_timeout="30s")) as c:
        host, port = c.endpoint.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
        started = time.monotonic()
        closed = None
        # A byte of the head every 200 ms: the connection is busy but never delivers a request.
        for byte in b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = time.monotonic() - started
                break
            if closed_within(sock, 0.2) is not None:
                closed = time.monotonic() - started
                break
        sock.close()
        assert closed is not None and 0.8 <= closed < 4, closed
        # A normal client is served.
        assert c.post("/v1/traces", VALID_PB, PB)[0] == 200


def test_slow_body_is_cut_at_read_timeout():
    with Collector(limits_config(read_timeout="1s", idle_timeout="30s")) as c:
        host, port = c.endpoint.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
        sock.sendall((f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PB}\r\n"
                      f"Content-Length: {len(VALID_PB)}\r\n\r\n").encode() + VALID_PB[:3])
        closed = closed_within(sock, 5)
        sock.close()
        assert closed is not None and 0.8 <= closed < 4, closed
        assert c.post("/v1/traces", VALID_PB, PB)[0] == 200


def test_idle_keep_alive_connection_is_closed_at_idle_timeout():
    with Collector(limits_config(idle_timeout="1s")) as c:
        host, port = c.endpoint.rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
        sock.sendall((f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PB}\r\n"
                      f"Content-Length: {len(VALID_PB)}\r\n\r\n").encode() + VALID_PB)
        response = b""
        while b"\r\n\r\n" not in response:
            response += sock.recv(4096)
        assert status_of(response) == 200
        closed = closed_within(sock, 5)
        sock.close()
        assert closed is not None and closed < 4, closed


def test_connections_beyond_max_concurrent_connections_wait_their_turn():
    with Collector(limits_config(max_concurrent_connections="2", idle_timeout="30s")) as c:
        host, port = c.endpoint.rsplit(":", 1)
        held = [socket.create_connection((host, int(port))) for _ in range(2)]
        time.sleep(0.3)  # both accepted
        request = (f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {PB}\r\nConnection: close\r\n"
                   f"Content-Length: {len(VALID_PB)}\r\n\r\n").encode() + VALID_PB
        third = socket.create_connection((host, int(port)))  # completes in the kernel's backlog
        third.sendall(request)
        third.settimeout(1.0)
        with pytest.raises(socket.timeout):
            third.recv(4096)  # not served while two connections are open
        held[0].close()
        third.settimeout(10)
        response = b""
        while True:
            data = third.recv(4096)
            if not data:
                break
            response += data
        assert status_of(response) == 200
        third.close()
        held[1].close()


def test_invalid_limit_settings_name_the_key():
    c = Collector(limits_config(max_concurrent_connections="-1", read_header_timeout="soon"), wait=False)
    assert c.process.wait(timeout=20) == 1
    err = c.stderr()
    assert "receivers::otlp::protocols::http::max_concurrent_connections: must be 0 (no limit) or more" in err
    assert "receivers::otlp::protocols::http::read_header_timeout: cannot parse \"soon\"" in err
    c.stop()
