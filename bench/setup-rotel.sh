#!/usr/bin/env bash
# Installs the peer collector, rotel (a Rust OTel collector, PyPI wheel with the rotel-agent binary), into a
# venv under ~/.cache (never into the repository). Idempotent.
#   bench/setup-rotel.sh        # then: ~/.cache/bench-rotel-venv/lib/python3*/site-packages/rotel/rotel-agent
set -euo pipefail
venv=${ROTEL_VENV:-$HOME/.cache/bench-rotel-venv}
version=0.0.1a15
if ! "$venv/bin/pip" show rotel 2>/dev/null | grep -qx "Version: $version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "rotel==$version"
fi
agent=$(ls "$venv"/lib/python3*/site-packages/rotel/rotel-agent)
"$agent" --version
