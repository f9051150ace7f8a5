"""Hostile input against the real collector: each bad request gets the status README's table documents
(400, 413, 415, 404, 405), and the collector keeps serving — after every case a valid request still
returns 200, and at the end the process is alive and exits 0 on SIGTERM."""
from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
import time
import zlib

import pytest

from collector_process import Collector, config

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

LIMIT = 64 * 1024
PB = "application/x-protobuf"
JSON = "application/json"


# --- protobuf building blocks (raw, so that malformed messages can be written) ---------------------------

def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, wire_type: int, payload: bytes) -> bytes:
    key = varint(number << 3 | wire_type)
    if wire_type == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def msg(number: int, payload: bytes) -> bytes:
    return field(number, 2, payload)


def span_request(span: bytes) -> bytes:
    """ExportTraceServiceRequest{resource_spans{scope_spans{spans: span}}}."""
    return msg(1, msg(2, msg(2, span)))


def valid_span(name: bytes = b"ok", trace_id: bytes = bytes(range(1, 17)), span_id: bytes = bytes(range(1, 9))) -> bytes:
    return msg(1, trace_id) + msg(2, span_id) + msg(5, name)


VALID_PB = span_request(valid_span())
VALID_JSON = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
    "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0102030405060708", "name": "ok"}]}]}]}).encode()


# --- the collector under test -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def collector():
    c = Collector(config("basic", extra_http=f"        max_request_body_size: {LIMIT}\n"))
    yield c
    alive = c.process.poll() is None
    code = c.stop()
    assert alive, f"the collector died during the hostile-input tests:\n{c.stderr()}"
    assert code == 0, c.stderr()


def still_serving(c: Collector) -> None:
    """The liveness check after every case: both encodings are still accepted."""
    assert c.process.poll() is None, f"collector exited with {c.process.returncode}:\n{c.stderr()}"
    status, _, body = c.post("/v1/traces", VALID_PB, PB)
    assert status == 200, body
    status, _, body = c.post("/v1/traces", VALID_JSON, JSON)
    assert status == 200, body


def expect(c: Collector, status: int, body: bytes, content_type: str = PB, encoding: str | None = None,
           path: str = "/v1/traces") -> bytes:
    got, headers, response = c.post(path, body, content_type, encoding)
    assert got == status, (got, response[:300])
    if status in (400, 413):
        # A google.rpc.Status in the request's encoding.
        assert headers.get("Content-Type") == content_type, headers
    still_serving(c)
    return response


# --- malformed protobuf -----------------------------------------------------------------------------------

@pytest.mark.parametrize("cut", [1, 5, len(VALID_PB) // 2, len(VALID_PB) - 1])
def test_truncated_protobuf(collector, cut):
    expect(collector, 400, VALID_PB[:cut])


@pytest.mark.parametrize("body", [
    field(1, 3, b""),                               # a group that never ends
    field(1, 4, b""),                               # an end-group without a start
    field(1, 6, b""),                               # wire types 6 and 7 do not exist
    field(1, 7, b""),
    span_request(field(0, 0, varint(1))),           # field number 0
    field(1, 5, b"\0\0"),                           # fixed32 cut short
], ids=["unterminated-group", "stray-end-group", "wire-type-6", "wire-type-7", "field-0", "short-fixed32"])
def test_invalid_wire_types(collector, body):
    expect(collector, 400, body)


@pytest.mark.parametrize("body", [
    field(1, 0, varint(5)),                         # resource_spans as a varint
    field(1, 5, b"\0\0\0\0"),                       # resource_spans as fixed32
    span_request(field(5, 1, b"\0" * 8)),           # span.name as fixed64
], ids=["varint-for-message", "fixed32-for-message", "fixed64-for-string"])
def test_known_field_with_another_wire_type_is_an_unknown_field(collector, body):
    # Well-formed wire data whose type does not match the field's: protobuf decoders (Go's, as upstream uses, and
    # swift-protobuf) keep it as an unknown field rather than fail, so the request is valid.
    expect(collector, 200, body)


def test_huge_declared_lengths(collector):
    # A length prefix far beyond the body must fail without allocating it.
    expect(collector, 400, b"\x0a" + varint(1 << 40) + b"abc")
    # A packed repeated field (histogram bucket_counts) claiming 2^31 bytes.
    expect(collector, 400, msg(1, msg(2, msg(2, msg(9, msg(1, b"\x32" + varint(1 << 31) + b"\x01\x02"))))), path="/v1/metrics")


def test_huge_repeated_field_count(collector):
    # 30 000 empty resource_spans: a valid request with no items (200); over the limit it is 413.
    many = msg(1, b"") * 30_000
    assert len(many) < LIMIT
    expect(collector, 200, many)
    expect(collector, 413, msg(1, b"") * (LIMIT // 2 + 1))
    # 10 000 spans in one scope: accepted.
    expect(collector, 200, msg(1, msg(2, b"".join(msg(2, msg(5, b"s")) for _ in range(10_000)))))


def test_invalid_utf8_protobuf(collector):
    expect(collector, 400, span_request(valid_span(name=b"bad \xff\xfe name")))
    attribute = msg(9, msg(1, b"key") + msg(2, msg(1, b"\xc3\x28")))  # span attribute with a bad string value
    expect(collector, 400, span_request(valid_span() + attribute))


# --- malformed JSON ---------------------------------------------------------------------------------------

def test_invalid_utf8_json(collector):
    expect(collector, 400, b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"\xff\xfe"}]}]}]}', JSON)


@pytest.mark.parametrize("body", [
    {"resourceSpans": "not a list"},
    {"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 5}]}]}]},
    {"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": "not a kind"}]}]}]},
    {"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]},
    {"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [{"key": "k", "value": {"intValue": "1.5"}}]}]}]}]},
    [1, 2, 3],
], ids=["list-as-string", "name-as-number", "unknown-kind-name", "time-as-word", "int-as-fraction", "top-level-array"])
def test_json_wrong_types(collector, body):
    expect(collector, 400, json.dumps(body).encode(), JSON)


def test_malformed_json_text(collector):
    for body in (b"{", b'{"resourceSpans":[', b"nul", b'{"resourceSpans":[]}}', b"\x00\x01"):
        expect(collector, 400, body, JSON)


# --- ids of the wrong length ------------------------------------------------------------------------------

@pytest.mark.parametrize("trace_id,span_id", [
    ("0102030405060708090a0b0c0d0e0f", "0102030405060708"),          # 15-byte hex trace id
    ("0102030405060708090a0b0c0d0e0f1011", "0102030405060708"),      # 17-byte hex trace id
    ("0102030405060708090a0b0c0d0e0f10", "01020304050607"),          # 7-byte hex span id
    ("0102030405060708090a0b0c0d0e0f1g", "0102030405060708"),        # not hex
    ("AQIDBAUGBwgJCgsMDQ4P", "AQIDBAUGBwg="),                        # base64 of 15 bytes / 8 bytes
    ("AQIDBAUGBwgJCgsMDQ4PEA==", "AQIDBAUGBw=="),                    # base64 of 16 bytes / 7 bytes
], ids=["hex-15", "hex-17", "hex-span-7", "not-hex", "base64-15", "base64-span-7"])
def test_json_ids_of_wrong_length(collector, trace_id, span_id):
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": trace_id, "spanId": span_id, "name": "x"}]}]}]}
    expect(collector, 400, json.dumps(body).encode(), JSON)


def test_json_base64_ids_of_right_length_accepted(collector):
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "AQIDBAUGBwgJCgsMDQ4PEA==", "spanId": "AQIDBAUGBwg=", "name": "x"}]}]}]}
    expect(collector, 200, json.dumps(body).encode(), JSON)


@pytest.mark.parametrize("trace_id,span_id", [(bytes(15), bytes(8)), (bytes(16), bytes(9)), (bytes(1), b"")])
def test_protobuf_ids_of_wrong_length(collector, trace_id, span_id):
    expect(collector, 400, span_request(valid_span(trace_id=trace_id, span_id=span_id)))


# --- compression ------------------------------------------------------------------------------------------

def test_gzip_bomb(collector):
    bomb = gzip.compress(bytes(32 * 1024 * 1024), 9)
    assert len(bomb) < LIMIT
    expect(collector, 413, bomb, encoding="gzip")
    expect(collector, 413, zlib.compress(bytes(16 * 1024 * 1024), 9), JSON, encoding="deflate")


def test_inflated_exactly_at_limit_is_accepted(collector):
    padding = msg(1, b"") * ((LIMIT - len(VALID_PB)) // 2)
    body = VALID_PB + padding
    assert len(body) <= LIMIT
    expect(collector, 200, gzip.compress(body), encoding="gzip")


@pytest.mark.parametrize("encoding,body", [
    ("deflate", bytes(range(7, 250, 3))),
    ("deflate", zlib.compress(VALID_PB)[:-3]),
    ("deflate", zlib.compress(VALID_PB) + b"trailing garbage"),
    ("gzip", b"\x1f\x8b\x08\x00garbage-after-a-gzip-magic"),
    ("gzip", gzip.compress(VALID_PB)[:-6]),
    ("gzip", b"not gzip at all"),
], ids=["deflate-garbage", "deflate-truncated", "deflate-trailing", "gzip-bad-header", "gzip-truncated", "gzip-no-magic"])
def test_corrupt_compressed_bodies(collector, encoding, body):
    expect(collector, 400, body, encoding=encoding)


def test_unsupported_encoding(collector):
    response = expect(collector, 400, VALID_PB, JSON, encoding="br")
    assert b"unsupported Content-Encoding: br" in response


# --- empty bodies -----------------------------------------------------------------------------------------

def test_empty_bodies(collector):
    expect(collector, 200, b"", PB)
    expect(collector, 400, b"", JSON)
    expect(collector, 200, b"{}", JSON)
    expect(collector, 400, b"", PB, encoding="gzip")  # an empty body is not a gzip stream


# --- routing and headers ----------------------------------------------------------------------------------

def test_documented_routing_statuses(collector):
    expect(collector, 404, VALID_PB, path="/v1/traces/")
    expect(collector, 404, VALID_PB, path="/v2/traces")
    expect(collector, 415, VALID_PB, "text/plain")
    expect(collector, 415, VALID_PB, "application/protobuf")
    conn = http.client.HTTPConnection(collector.endpoint, timeout=10)
    conn.request("GET", "/v1/traces")
    assert conn.getresponse().status == 405
    conn.close()
    still_serving(collector)


# --- sizes and transfer modes -----------------------------------------------------------------------------

def raw_request(endpoint: str, head: bytes, chunks, pause: float = 0.0, shut_write: bool = False,
                timeout: float = 15.0) -> bytes:
    """Sends `head` then every chunk (ignoring a peer that closed early), reads until the peer closes."""
    host, port = endpoint.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        try:
            sock.sendall(head)
            for chunk in chunks:
                sock.sendall(chunk)
                if pause:
                    time.sleep(pause)
            if shut_write:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
                if b"\r\n\r\n" in response and not shut_write and response_complete(response):
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        return response
    finally:
        sock.close()


def response_complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


def chunked(data: bytes, size: int = 8192):
    for start in range(0, len(data), size):
        piece = data[start:start + size]
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def test_chunked_body_beyond_limit(collector):
    head = (f"POST /v1/traces HTTP/1.1\r\nHost: {collector.endpoint}\r\nContent-Type: {PB}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    response = raw_request(collector.endpoint, head, chunked(msg(1, b"") * (LIMIT // 2 + 4096)))
    assert status_of(response) == 413
    still_serving(collector)


def test_chunked_body_within_limit(collector):
    head = (f"POST /v1/traces HTTP/1.1\r\nHost: {collector.endpoint}\r\nContent-Type: {PB}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    assert status_of(raw_request(collector.endpoint, head, chunked(VALID_PB, 7))) == 200
    still_serving(collector)


def test_content_length_beyond_limit_is_refused_before_the_body(collector):
    # Only the head is sent: the answer must not wait for a body it will never read.
    head = (f"POST /v1/traces HTTP/1.1\r\nHost: {collector.endpoint}\r\nContent-Type: {PB}\r\n"
            f"Content-Length: {LIMIT * 100}\r\n\r\n").encode()
    assert status_of(raw_request(collector.endpoint, head, [], timeout=10)) == 413
    still_serving(collector)


# --- deep nesting -----------------------------------------------------------------------------------------

DEPTH = 10_000


def nested_any_value_pb(depth: int) -> bytes:
    value = msg(1, b"leaf")  # AnyValue{string_value}
    for _ in range(depth):
        # AnyValue{kvlist_value: KeyValueList{values: [KeyValue{key: "k", value: <value>}]}}
        value = msg(6, msg(1, msg(1, b"k") + msg(2, value)))
    return value


def test_deeply_nested_anyvalue_within_the_limit(collector):
    # 3 000 levels fit in the module's 64 KiB limit; the decoder's depth limit (100) refuses them.
    body = span_request(valid_span() + msg(9, msg(1, b"deep") + msg(2, nested_any_value_pb(3_000))))
    assert len(body) <= LIMIT
    expect(collector, 400, body)


def test_deeply_nested_anyvalue_10000(collector):
    value = '{"stringValue":"leaf"}'
    for _ in range(DEPTH):
        value = '{"kvlistValue":{"values":[{"key":"k","value":' + value + '}]}}'
    body = ('{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":' + value + '}]}]}]}').encode()
    # 10 000 levels are too big for the module's 64 KiB limit: a collector with 4 MiB takes them.
    assert len(body) < 4194304 and len(nested_any_value_logs_pb(DEPTH)) < 4194304
    big = Collector(config("basic", extra_http="        max_request_body_size: 4194304\n"))
    try:
        status, _, response = big.post("/v1/logs", body, JSON)
        assert status == 400, response[:300]
        status, _, response = big.post("/v1/logs", nested_any_value_logs_pb(DEPTH), PB)
        assert status == 400, response[:300]
        status, _, _ = big.post("/v1/traces", VALID_PB, PB)
        assert status == 200
        assert big.process.poll() is None
    finally:
        assert big.stop() == 0, big.stderr()
    still_serving(collector)


def nested_any_value_logs_pb(depth: int) -> bytes:
    # ExportLogsServiceRequest{resource_logs{scope_logs{log_records{body(5): AnyValue}}}}
    return msg(1, msg(2, msg(2, msg(5, nested_any_value_pb(depth)))))


def test_moderate_nesting_is_accepted(collector):
    body = span_request(valid_span() + msg(9, msg(1, b"nested") + msg(2, nested_any_value_pb(20))))
    expect(collector, 200, body)


# --- slow and half-closed connections ---------------------------------------------------------------------

def test_slow_client_does_not_block_others(collector):
    request = (f"POST /v1/traces HTTP/1.1\r\nHost: {collector.endpoint}\r\nContent-Type: {PB}\r\n"
               f"Content-Length: {len(VALID_PB)}\r\nConnection: close\r\n\r\n").encode() + VALID_PB
    result = {}

    def trickle():
        # One byte every 10 ms: about two seconds for the whole request.
        result["response"] = raw_request(collector.endpoint, b"", [request[i:i + 1] for i in range(len(request))], pause=0.01)

    slow = threading.Thread(target=trickle)
    slow.start()
    # While it trickles, other clients are served promptly.
    started = time.monotonic()
    for _ in range(5):
        status, _, _ = collector.post("/v1/traces", VALID_PB, PB)
        assert status == 200
    assert time.monotonic() - started < 5
    slow.join(timeout=30)
    assert status_of(result["response"]) == 200
    still_serving(collector)


def test_idle_and_silent_connections_do_not_block_others(collector):
    host, port = collector.endpoint.rsplit(":", 1)
    idle = [socket.create_connection((host, int(port)), timeout=5) for _ in range(20)]
    try:
        # Half a request head on a few of them.
        for sock in idle[:5]:
            sock.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-")
        still_serving(collector)
    finally:
        for sock in idle:
            sock.close()
    still_serving(collector)


def test_half_closed_connections(collector):
    full = (f"POST /v1/traces HTTP/1.1\r\nHost: {collector.endpoint}\r\nContent-Type: {PB}\r\n"
            f"Content-Length: {len(VALID_PB)}\r\n\r\n").encode() + VALID_PB
    # A complete request, then the client stops writing: the answer still arrives.
    assert status_of(raw_request(collector.endpoint, full, [], shut_write=True)) == 200
    # Half a head, then EOF; half a body, then EOF: the server gives up on them without harm.
    raw_request(collector.endpoint, full[:20], [], shut_write=True)
    raw_request(collector.endpoint, full[:-3], [], shut_write=True)
    # A body that promises more than it sends, then a reset.
    host, port = collector.endpoint.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(full[:-3])
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()
    still_serving(collector)


def test_many_bad_requests_in_a_row_on_one_connection(collector):
    conn = http.client.HTTPConnection(collector.endpoint, timeout=10)
    for body in (VALID_PB[:3], b"\xff" * 100, VALID_PB):
        conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": PB})
        response = conn.getresponse()
        response.read()
        assert response.status in (200, 400)
    conn.close()
    still_serving(collector)
