#!/usr/bin/env python3
"""Rewrites the results section of BENCHMARKS.md (between its BEGIN/END RESULTS markers) from bench/results/*.md:
exactly the tables the benchmark scripts printed, nothing typed by hand.

    bench/update_benchmarks_md.py [RESULTS_DIR]      # default bench/results
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
results = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results"
doc = ROOT / "BENCHMARKS.md"
begin, end = "<!-- BEGIN RESULTS (bench/run-all.sh writes this section) -->", "<!-- END RESULTS -->"
text = doc.read_text()
if begin not in text or end not in text:
    sys.exit("update_benchmarks_md: BENCHMARKS.md has no results markers")
parts = []
for name, title in [("collector_load.md", "Collector load: ours vs rotel"), ("runner.md", "Runner vs the Python job")]:
    path = results / name
    body = path.read_text().strip() if path.exists() else f"(no results: {path.relative_to(ROOT)} was not written by this run)"
    parts.append(f"### {title}\n\n{body}")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
doc.write_text(head + begin + "\n\n" + "\n\n".join(parts) + "\n\n" + end + tail)
print(f"update_benchmarks_md: results section rewritten from {results}")
