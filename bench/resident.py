#!/usr/bin/env python3
"""Where an idle collector's resident memory is: starts each given collector binary with the benchmarks' configuration
(bench/benchlib.py), waits for the first 2xx and one second more (the load benchmark's "idle RSS" moment), and prints
VmRSS, RssAnon and the resident MiB of each ELF section of the executable (from /proc/PID/pagemap), with the exec →
first 2xx time. Medians over --runs fresh processes; the section table is from the last one.

    bench/resident.py                                   # COLLECTOR_BIN or .build-static/release/collector
    bench/resident.py --runs 5 OLD_BINARY NEW_BINARY    # side by side
    bench/resident.py --cold OLD_BINARY NEW_BINARY      # each start with the binary out of the page cache

Which pages a fault maps depends on the page cache's folios, which depend on how the file was last read: a file just
written or copied maps differently from one read back by the loader (read_ahead_kb, large folios), by up to ±1 MiB
here. `--cold` drops the binary's cached pages before each start (`posix_fadvise(DONTNEED)`, no privilege needed),
as a node does on a pod's first start: its figures repeat to 0.01 MiB, but its start-up times include reading the file.

Reading /proc/PID/pagemap's present bits needs no privilege (frame numbers would).
"""
import argparse
import collections
import os
import re
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

import benchlib as bl
from collector_load import first_2xx


def sections(binary: Path) -> list[tuple[str, int, int]]:
    """(name, virtual address, size) of the allocated sections."""
    out = []
    for line in subprocess.run(["readelf", "-SW", str(binary)], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and int(m.group(2), 16):
            out.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
    return out


def first_load_vaddr(binary: Path) -> int:
    """The link address of the executable's first PT_LOAD segment."""
    for line in subprocess.run(["readelf", "-lW", str(binary)], capture_output=True, text=True, check=True).stdout.splitlines():
        fields = line.split()
        if fields[:1] == ["LOAD"]:
            return int(fields[2], 16) - int(fields[1], 16)
    bl.die(f"no PT_LOAD segment in {binary}")


def resident_vaddrs(pid: int, binary: Path):
    """The link-time addresses of the executable's resident 4 KiB pages in process `pid`."""
    real = str(binary.resolve())
    mappings = [line.split() for line in open(f"/proc/{pid}/maps") if line.rstrip().endswith(real)]
    if not mappings:
        bl.die(f"no mapping of {real} in /proc/{pid}/maps")
    # The first mapping is the first PT_LOAD segment (file offset 0): at link address 0 in a position-independent
    # executable, at its p_vaddr (0x200000 with lld) in a static one.
    base = int(mappings[0][0].split("-")[0], 16) - int(mappings[0][2], 16) - first_load_vaddr(binary)
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for fields in mappings:
            low, high = (int(x, 16) for x in fields[0].split("-"))
            for page in range(low, high, 4096):
                pagemap.seek(page // 4096 * 8)
                if struct.unpack("<Q", pagemap.read(8))[0] >> 63:
                    yield page - base


def resident_by_section(pid: int, binary: Path) -> collections.Counter:
    """Resident 4 KiB pages of the executable's mappings, by the section each page belongs to."""
    table = sections(binary)
    pages: collections.Counter = collections.Counter()
    for vaddr in resident_vaddrs(pid, binary):
        pages[next((n for n, a, s in table if a <= vaddr < a + max(s, 1)), "(between sections)")] += 1
    return pages


def drop_cached_pages(binary: Path) -> None:
    """Evicts the file's clean pages from the page cache."""
    fd = os.open(binary, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def measure(binary: Path, runs: int, work: Path, cold: bool = False) -> dict:
    startups, rss, anon = [], [], []
    pages: collections.Counter = collections.Counter()
    for run in range(runs):
        if cold:
            drop_cached_pages(binary)
        port = bl.free_port()
        config = work / f"resident-{run}.yaml"
        config.write_text(bl.collector_config(port))
        t0 = time.perf_counter()
        process = subprocess.Popen(["taskset", "-c", "0", str(binary), "--config", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            startups.append(first_2xx(process, port, t0) * 1000)
            time.sleep(1.0)
            rss.append(bl.status_kib(process.pid, "VmRSS") / 1024)
            anon.append(bl.status_kib(process.pid, "RssAnon") / 1024)
            pages = resident_by_section(process.pid, binary)
        finally:
            bl.stop(process, "collector")
    return {"startup": startups, "rss": rss, "anon": anon, "pages": pages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binaries", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="drop each binary's cached pages before every start")
    args = parser.parse_args()
    binaries = args.binaries or [bl.release_bin("collector")]
    work = bl.work_dir()
    print(f"load average at start: {bl.loadavg():.2f}; medians of {args.runs} fresh processes (min–max)"
          f"{', each started cold (binary out of the page cache)' if args.cold else ''}\n")
    results = {b: measure(b, args.runs, work, args.cold) for b in binaries}
    header = "| | " + " | ".join(f"`{b}`" for b in binaries) + " |"
    print(header + "\n|" + " --- |" * (len(binaries) + 1))
    for key, label in (("startup", "exec → first 2xx (ms)"), ("rss", "idle VmRSS (MiB)"), ("anon", "idle RssAnon (MiB)")):
        cells = [f"{statistics.median(r[key]):.1f} ({min(r[key]):.1f}–{max(r[key]):.1f})" for r in results.values()]
        print(f"| {label} | " + " | ".join(cells) + " |")
    names = sorted({n for r in results.values() for n in r["pages"]}, key=lambda n: -max(r["pages"][n] for r in results.values()))
    for name in names:
        if max(r["pages"][name] for r in results.values()) * 4 / 1024 < 0.05:
            continue
        print(f"| resident `{name}` (MiB) | " + " | ".join(f"{r['pages'][name] * 4 / 1024:.2f}" for r in results.values()) + " |")
    print("| resident executable, total (MiB) | " + " | ".join(f"{sum(r['pages'].values()) * 4 / 1024:.2f}" for r in results.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
