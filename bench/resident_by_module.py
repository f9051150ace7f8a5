#!/usr/bin/env python3
"""Which modules the idle collector's resident executable pages belong to.

    bench/resident_by_module.py [--top 25]

Relinks the release collector (the link command of `.build-static/release.yaml`, as `scripts/build-release.sh` made
it) with a link map (`-Map`) into $BENCH_WORK, starts that binary with the benchmarks' configuration, sends one request,
waits a second, reads /proc/PID/pagemap, and gives every resident page of the executable to the input sections (object
files, grouped by Swift module or static library) that lie on it, split evenly when several do. Text pages are touched
by the code that runs; `.rodata`/`.data.rel.ro` pages mostly by the Swift runtime's protocol-conformance scans, which
read every module's descriptors: a linked module costs resident pages even when none of its code runs.
"""
from __future__ import annotations

import argparse
import bisect
import collections
import http.client
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
from resident import resident_vaddrs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Families of modules that one decision would keep or drop.
FAMILIES = [
    ("Foundation, FoundationEssentials, CoreFoundation, ICU", r"Foundation|CoreFoundation|ICU|_CF"),
    ("TLS and crypto: BoringSSL, X509, swift-crypto, NIOSSL, ASN.1", r"BoringSSL|X509|Crypto|NIOSSL|ASN1"),
    ("gRPC: grpc-swift, NIOHTTP2", r"GRPC|NIOHTTP2"),
    ("Swift runtime and standard library", r"^libswift"),
    ("C libraries: glibc, libstdc++, libm, zlib, libyaml", r"^(libc|libstdc\+\+|libm-|libm\.|libz|libyaml|libgcc)"),
]


def link_with_map(work: Path) -> tuple[Path, Path]:
    """The collector relinked from its objects with a map; (binary, map)."""
    manifest = (ROOT / ".build-static" / "release.yaml").read_text()
    start = manifest.find('"C.collector-')
    if start < 0:
        bl.die("no collector link in .build-static/release.yaml: run scripts/build-release.sh collector first")
    line = manifest[manifest.find("args:", start) + 5:manifest.find("\n", manifest.find("args:", start))]
    args = json.loads(line)
    binary, link_map = work / "collector-with-map", work / "collector.map"
    args[args.index("-o") + 1] = str(binary)
    subprocess.run([*args, "-Xlinker", f"-Map={link_map}"], check=True, cwd=ROOT)
    return binary, link_map


def input_sections(link_map: Path) -> list[tuple[int, int, str]]:
    """(start, end, owner) of every allocated input section of a GNU-style map (gold's `-Map`: ` NAME 0xADDR 0xSIZE
    FILE`, or NAME alone on a line when it is long); owner = Swift module or static library."""
    sections = []
    pending = False
    for line in link_map.open():
        line = line.rstrip("\n")
        m = re.match(r"^ \S+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line) or \
            (re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line) if pending else None)
        pending = bool(re.match(r"^ \S+$", line))
        if not m:
            continue
        start, size, name = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        if not size or not start:
            continue
        module = re.search(r"/release/([^/]+)\.build/", name)
        library = re.search(r"([^/()]+\.a)\(", name)
        owner = module.group(1) if module else library.group(1) if library else re.sub(r"^.*/", "", name)
        sections.append((start, start + size, owner))
    return sorted(sections)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args()
    work = bl.work_dir()
    binary, link_map = link_with_map(work)
    sections = input_sections(link_map)
    starts = [s[0] for s in sections]
    port = bl.free_port()
    config = work / "resident-by-module.yaml"
    config.write_text(bl.collector_config(port))
    process = subprocess.Popen([str(binary), "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        payload = (work / "traces-100.pb")
        if not payload.exists():
            subprocess.run([sys.executable, str(ROOT / "bench" / "payloads.py"), str(work)], check=True, stdout=subprocess.DEVNULL)
        data = payload.read_bytes()
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("POST", "/v1/traces", data, {"Content-Type": "application/x-protobuf"})
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                bl.die("the collector did not answer")
            time.sleep(0.005)
        time.sleep(1.0)
        owners: collections.Counter = collections.Counter()
        for vaddr in resident_vaddrs(process.pid, binary):
            on_page = set()
            index = bisect.bisect_right(starts, vaddr + 4095) - 1
            while index >= 0 and len(on_page) < 64 and sections[index][0] > vaddr - (1 << 20):
                if sections[index][1] > vaddr:
                    on_page.add(sections[index][2])
                index -= 1
            for owner in on_page or {"(no input section)"}:
                owners[owner] += 1 / max(1, len(on_page))
    finally:
        bl.stop(process, "collector")
    total = sum(owners.values())
    print(f"Idle collector ({binary.name}, relinked with a map): {total * 4 / 1024:.2f} MiB of resident executable pages\n")
    print("| MiB | module or library |\n| ---: | --- |")
    for owner, pages in owners.most_common(options.top):
        print(f"| {pages * 4 / 1024:.2f} | {owner} |")
    print("\nBy family (all modules, not only the rows above):\n\n| MiB | family |\n| ---: | --- |")
    for family, pattern in FAMILIES:
        pages = sum(count for owner, count in owners.items() if re.search(pattern, owner))
        print(f"| {pages * 4 / 1024:.2f} | {family} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
