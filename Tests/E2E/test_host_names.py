"""Endpoints given by host name (`localhost:PORT`, as configs often write them): the release collector is a static
executable, so its resolver is glibc's static one, which still reads /etc/hosts through the name-service modules of
the system it runs on. The receivers bind the resolved address and answer there."""
from __future__ import annotations

import re

from collector_process import Collector, config


def test_receivers_bind_localhost_and_answer():
    text = config(verbosity="basic", grpc="").replace("127.0.0.1:0", "localhost:0")
    assert text.count("localhost:0") == 2
    with Collector(text) as collector:
        # The bound address is an IP address of localhost (IPv4 or IPv6), not the name.
        assert re.fullmatch(r"(127\.0\.0\.1|\[::1\]):\d+", collector.endpoint), collector.endpoint
        assert re.fullmatch(r"(127\.0\.0\.1|\[::1\]):\d+", collector.grpc_endpoint), collector.grpc_endpoint
        status, _, _ = collector.post("/v1/traces", b"", "application/x-protobuf")
        assert status == 200
        assert collector.stop() == 0
