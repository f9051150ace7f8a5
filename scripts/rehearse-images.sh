#!/usr/bin/env bash
# Rehearses both container images without a registry or a Docker engine (issue 4), with Debian's
# podman (runc, host/none network, explicit ulimits, vfs storage of its own, cgroupfs):
#
#   1. builds the release binaries with the build stage's own RUN line, taken from each Dockerfile
#      (`swift build -c release --static-swift-stdlib --product NAME --scratch-path .build-static`,
#      install, strip, and the libz.so.1 the runner's image ships), with /src → the repository and
#      /out → a scratch folder;
#   2. checks every binary's shared-library needs (readelf -d NEEDED) against what the runtime base
#      holds: distroless cc-debian12 (glibc, libgcc_s, libstdc++, libgomp, libssl3) plus what the
#      Dockerfile copies in itself (libz.so.1); any other library fails, by name. ldd must resolve
#      every one of them. The collector is a static executable: it needs none;
#   3. assembles a rootfs of the same kind as distroless cc-debian12:nonroot from this Debian 12
#      host's packages (libc6, libgcc-s1, libstdc++6, libgomp1, libssl3, CA certificates, tzdata,
#      netbase, os-release, passwd/group with nonroot 65532, /tmp 1777, /home/nonroot, no shell),
#      imports it as the base image, and builds each Dockerfile's final stage on it (FROM
#      ${RUNTIME_IMAGE} = that base, `COPY --from=build /out/` = the folder of step 1);
#   4. runs the collector image as the Deployment does: read-only root, 65532:65532, all
#      capabilities dropped, no-new-privileges, 512 MiB / 0.5 CPU, the ConfigMap's config mounted
#      read-only at /etc/otelcol plus an override that puts the receiver and the health check on
#      free ports of 127.0.0.1 (host network); waits for the health check; posts a span (OTLP/JSON)
#      and finds its trace id on the container's stdout;
#   5. runs the runner image as manifests/job-batch-once.yaml does (the same restrictions, the
#      Job's environment as the kubelet would compute it, emptyDirs as tmpfs), against that
#      collector: the job exits 0 and a trace id from its log is in the collector's stdout; then
#      stops the collector (SIGTERM, it drains) and expects exit 0;
#   6. prints the binary and image sizes; removes the containers and images, stops everything by
#      name and PID.
#
#   scripts/rehearse-images.sh          # as root (apt-get and podman); ~1 min after the build
#
# Needs: Debian 12, root, Swift 6.3.1, python3 with PyYAML and pytest (Tests/requirements.txt).
# Installs podman and runc with apt-get when missing. Exit status 0 only when every check passed;
# last line: `rehearse-images: N passed, M failed`.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD

COLLECTOR_IMAGE=ai-lab-3-1-paid-collector:v1
RUNNER_IMAGE=ai-lab-3-1-paid:v1
BASE_IMAGE=localhost/otel-batch-lab-rehearsal/cc-debian12:nonroot
UID_GID=65532:65532
PRODUCTS="collector runner"
# Debian 12 packages distroless cc-debian12 is made of (base: libc6, libssl3; cc: libgcc-s1,
# libstdc++6, libgomp1, gcc-12-base; static: base-files, netbase, tzdata, ca-certificates).
BASE_PACKAGES="libc6 libssl3 libgcc-s1 libstdc++6 libgomp1 gcc-12-base netbase tzdata ca-certificates base-files"
# Sonames those packages provide, and so the only ones a binary may need from the base image.
BASE_SONAMES="ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libresolv.so.2 libutil.so.1 libanl.so.1 libmvec.so.1 libnss_dns.so.2 libnss_files.so.2 libgcc_s.so.1 libstdc++.so.6 libgomp.so.1 libssl.so.3 libcrypto.so.3"
# Libraries the Dockerfiles copy into the image themselves (cc-debian12 has no zlib1g; Debian 13's cc has): the runner's.
SHIPPED_SONAMES="libz.so.1"

passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL  %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'; return 0; }
summary() {
  if [ "$failed" -gt 0 ]; then
    echo
    echo "rehearse-images: failed:"
    printf '  - %s\n' "${failures[@]}"
  fi
  printf 'rehearse-images: %d passed, %d failed\n' "$passed" "$failed"
}
# A failure the later steps cannot go on from.
die() { fail "$1" "${2:-}"; summary; exit 1; }
step() { printf '\n== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "rehearse-images: needs root (apt-get, podman with its own storage)" >&2; exit 2; }
[ -r /etc/debian_version ] && grep -q '^12\.' /etc/debian_version \
  || echo "rehearse-images: warning: not Debian 12; the rootfs is made of this host's packages" >&2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rehearse-images.XXXXXX") || exit 2
TAG=$$
COLLECTOR_CTR=rehearse-collector-$TAG
RUNNER_CTR=rehearse-runner-$TAG
collector_pid=""
# podman with everything of its own under $WORK: no shared state with other podman users.
PODMAN=(podman --root "$WORK/storage" --runroot "$WORK/runroot" --tmpdir "$WORK/libpod"
  --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime runc)
podman_() { "${PODMAN[@]}" "$@"; }
cleanup() {
  if command -v podman >/dev/null 2>&1 && [ -d "$WORK/storage" ]; then
    for ctr in "$RUNNER_CTR" "$COLLECTOR_CTR"; do
      podman_ container exists "$ctr" 2>/dev/null && podman_ rm -f -t 5 "$ctr" >/dev/null 2>&1
    done
    for image in "$RUNNER_IMAGE" "$COLLECTOR_IMAGE" "$BASE_IMAGE"; do
      podman_ image exists "$image" 2>/dev/null && podman_ rmi -f "$image" >/dev/null 2>&1
    done
  fi
  if [ -n "$collector_pid" ] && kill -0 "$collector_pid" 2>/dev/null; then
    kill -TERM "$collector_pid" 2>/dev/null
    wait "$collector_pid" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "rehearse-images: interrupted" >&2; exit 130' INT TERM

# --- 0. tools ------------------------------------------------------------------------
step "tools: podman, runc (Debian), readelf/strip (binutils)"
need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v readelf >/dev/null 2>&1 || need+=(binutils)
for pkg in $BASE_PACKAGES zlib1g; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } \
    || die "apt-get install ${need[*]}"
fi
python3 -c 'import yaml' 2>/dev/null || die "python3 has no PyYAML (pip install -r Tests/requirements.txt)"
echo "$(podman --version), $(runc --version | head -n 1)"

# --- 1. release binaries, as the Dockerfiles' build stages make them ------------------
# The build stage's RUN line that holds `swift build`, run here with /src → the repository and
# /out → $WORK/out-NAME, in bash -o pipefail as the Dockerfile's SHELL says.
build_line() {  # name
  python3 - "$ROOT/Dockerfiles/$1.Dockerfile" <<'EOF'
import re, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())
runs = [l.strip()[4:] for l in text.splitlines() if l.strip().startswith("RUN ") and "swift build" in l]
assert len(runs) == 1, f"expected one RUN with swift build, found {len(runs)}"
print(runs[0])
EOF
}
for name in $PRODUCTS; do
  step "release build: $name (the build stage of Dockerfiles/$name.Dockerfile)"
  line=$(build_line "$name") || die "cannot read the build RUN line of Dockerfiles/$name.Dockerfile"
  out="$WORK/out-$name"
  cmd=${line//\/out/$out}
  cmd=${cmd//\/src\//$ROOT/}
  echo "+ $cmd"
  start=$(date +%s)
  if ! bash -o pipefail -c "$cmd" >"$WORK/build-$name.log" 2>&1; then
    tail -n 40 "$WORK/build-$name.log"
    die "release build of $name"
  fi
  tail -n 12 "$WORK/build-$name.log" | grep -vE '^\[[0-9]+/[0-9]+\]' || true
  [ -x "$out/usr/local/bin/$name" ] || die "the build left no $out/usr/local/bin/$name"
  pass "release build of $name ($(( $(date +%s) - start )) s, stripped)"
done
# Foundation's ICU data (~34 MB, the `icudt76l` blob) must stay out of both binaries: neither links the full
# Foundation API (README, "Image sizes"; the collector reads YAML with libyaml and serves HTTP with HummingbirdCore).
for name in $PRODUCTS; do
  bin="$WORK/out-$name/usr/local/bin/$name"
  [ -x "$bin" ] || continue
  icu=$(grep -c -a icudt76l "$bin" || true)
  [ "$icu" = 0 ] && pass "the $name binary holds no ICU data" \
    || fail "the $name binary holds ICU data ($icu matches of icudt76l): something links full Foundation again" \
      "find it with -Xlinker --why-extract=FILE (lld) or -Xlinker --trace-symbol=SYMBOL (README, Image sizes)"
done
# The collector's release link (Package.swift, collectorLinking): a static executable (no interpreter, no dynamic
# section) whose executed functions (Sources/Collector/Linker/collector.order) lie side by side: of the file's first
# 1,000 Swift functions, at least 800 in one 4 MiB window (the rest sit in objects compiled without a section per
# function; read from the unstripped build the image's binary was stripped from). Each costs resident memory and
# start-up time when it goes missing (BENCHMARKS.md).
collector_bin="$WORK/out-collector/usr/local/bin/collector"
if [ -x "$collector_bin" ]; then
  interp=$(readelf -l "$collector_bin" | grep -c 'INTERP' || true)
  dynamic=$(readelf -S "$collector_bin" | grep -c ' \.dynamic ' || true)
  clustered=$(python3 - "$ROOT/Sources/Collector/Linker/collector.order" "$ROOT/.build-static/release/collector" <<'PY'
import subprocess, sys
names = [l.strip()[len(".text."):] for l in open(sys.argv[1]) if l.startswith(".text.$s")][:1000]
where = {}
for line in subprocess.run(["nm", sys.argv[2]], capture_output=True, text=True).stdout.splitlines():
    fields = line.split()
    if len(fields) == 3:
        where[fields[2]] = int(fields[0], 16)
found = sorted(where[n] for n in names if n in where)
# The most of them any 4 MiB window holds.
print(max(sum(1 for a in found if start <= a < start + (4 << 20)) for start in found) if found else 0)
PY
)
  if [ "$interp" = 0 ] && [ "$dynamic" = 0 ] && [ "${clustered:-0}" -ge 800 ]; then
    pass "the collector's link: static, $clustered of its first 1,000 ordered functions in one 4 MiB window"
  else
    fail "the collector's link lost its layout (interpreter: $interp, .dynamic: $dynamic, ordered functions in one 4 MiB window: ${clustered:-?} of 1,000)" \
      "see Package.swift, collectorLinking"
  fi
fi

# --- 2. shared-library needs ------------------------------------------------------------
step "shared libraries the binaries need vs. the runtime base"
# The sonames BIN needs (readelf -d NEEDED) that neither the base nor the image's own copies provide.
unprovided_libs() {  # bin out-folder
  local lib
  for lib in $(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | sort -u); do
    case " $BASE_SONAMES " in *" $lib "*) continue ;; esac
    case " $SHIPPED_SONAMES " in
      *" $lib "*) find "$2" -name "$lib" | grep -q . && continue
                  echo "$lib(not-copied-into-the-image)"; continue ;;
    esac
    echo "$lib"
  done
}
# The check itself, on a host binary that needs more than the base has (podman: libseccomp, libgpgme, ...).
probe=$(unprovided_libs "$(command -v podman)" /nonexistent | tr '\n' ' ')
[ -n "$probe" ] && pass "the library check names what a binary needs beyond the base (podman: ${probe% })" \
  || fail "the library check found nothing missing for podman, which needs libraries cc-debian12 lacks"
for name in $PRODUCTS; do
  bin="$WORK/out-$name/usr/local/bin/$name"
  needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | sort -u | tr '\n' ' ')
  echo "$name NEEDED: $needed"
  extra=$(unprovided_libs "$bin" "$WORK/out-$name" | tr '\n' ' ')
  if [ -z "$extra" ]; then
    pass "$name needs only libraries distroless cc-debian12 holds or the image ships ($(wc -w <<<"$needed") libraries)"
  else
    fail "$name needs libraries the runtime image does not have: ${extra% }"
  fi
  if ldd "$bin" | grep -q 'not found'; then
    fail "ldd $name: unresolved libraries" "$(ldd "$bin" | grep 'not found')"
  fi
  # The runner is a glibc dynamic executable; the collector a static one (checked above).
  if [ "$name" = runner ]; then
    readelf -l "$bin" | grep -q 'Requesting program interpreter' \
      || fail "$name has no ELF interpreter (expected a glibc dynamic executable)"
  fi
done

# --- 3. the runtime base and the images ------------------------------------------------
step "rootfs of the cc-debian12:nonroot kind from this host's Debian packages"
rootfs="$WORK/rootfs"
mkdir -p "$rootfs"/usr/{bin,sbin,lib,lib64} "$rootfs"/{etc,tmp,home/nonroot,root,var}
ln -s usr/bin "$rootfs/bin"; ln -s usr/sbin "$rootfs/sbin"; ln -s usr/lib "$rootfs/lib"; ln -s usr/lib64 "$rootfs/lib64"
for pkg in libc6 libssl3 libgcc-s1 libstdc++6 libgomp1 gcc-12-base netbase tzdata; do
  # Files and symlinks of each package; documentation, manuals, locales and lintian data left out.
  dpkg -L "$pkg" | grep -vE '^/usr/share/(doc|man|locale|lintian|bug)/' | while read -r path; do
    if [ -f "$path" ] || [ -L "$path" ]; then
      # A path behind a symlinked folder (zoneinfo/posix -> .) is there once its folder is.
      cp -a --parents "$path" "$rootfs/" 2>/dev/null || [ -e "$rootfs$path" ] || echo "cannot copy $path" >&2
    fi
  done
done
# CA certificates as one bundle (distroless's cacerts rule), os-release of base-files.
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
cp -a --parents /usr/lib/os-release "$rootfs/" && ln -sf ../usr/lib/os-release "$rootfs/etc/os-release"
cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' >"$rootfs/etc/nsswitch.conf"
chmod 1777 "$rootfs/tmp"; chmod 0700 "$rootfs/root"
chown 65532:65532 "$rootfs/home/nonroot"; chmod 0700 "$rootfs/home/nonroot"
shells=$(find "$rootfs" \( -name sh -o -name bash -o -name dash -o -name busybox \) -print | sed "s#^$rootfs##")
[ -z "$shells" ] && pass "base rootfs: $(find "$rootfs" -type f | wc -l) files, $(du -sh "$rootfs" | cut -f1), no shell" \
  || fail "base rootfs holds a shell" "$shells"
for soname in $BASE_SONAMES; do
  case $soname in ld-linux-aarch64.so.1) [ "$(uname -m)" = x86_64 ] && continue ;; ld-linux-x86-64.so.2) [ "$(uname -m)" = x86_64 ] || continue ;; esac
  [ -e "$rootfs/usr/lib/$(uname -m)-linux-gnu/$soname" ] || [ -e "$rootfs/usr/lib64/$soname" ] \
    || fail "base rootfs lacks $soname"
done

step "images (podman, vfs storage in $WORK, no registry)"
tar -C "$rootfs" --numeric-owner -cf "$WORK/rootfs.tar" . || die "tar of the rootfs"
# The nonroot variant's settings (user 65532, /home/nonroot, PATH and SSL_CERT_FILE of distroless).
podman_ import \
  --change 'USER 65532' --change 'WORKDIR /home/nonroot' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  "$WORK/rootfs.tar" "$BASE_IMAGE" >/dev/null 2>"$WORK/import.err" \
  || die "podman import of the base rootfs" "$(cat "$WORK/import.err")"
rm -f "$WORK/rootfs.tar"

# Each Dockerfile's final stage, as written: the global ARGs and everything after the last FROM;
# `COPY --from=build /out/` reads the folder step 1 filled.
final_stage() {  # name
  python3 - "$ROOT/Dockerfiles/$1.Dockerfile" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
froms = [i for i, l in enumerate(lines) if re.match(r"\s*FROM\s", l, re.I)]
global_args = [l for l in lines[: froms[0]] if re.match(r"\s*ARG\s", l, re.I)]
stage = lines[froms[-1]:]
text = "\n".join(global_args + stage) + "\n"
n = len(re.findall(r"COPY\s+--from=build\s+/out/", text))
assert n >= 1, "the final stage copies nothing from the build stage's /out/"
assert "--from=" not in re.sub(r"COPY\s+--from=build\s+/out/", "", text), "the final stage copies from elsewhere than /out/ of the build stage"
print(re.sub(r"COPY\s+--from=build\s+/out/", "COPY out/", text), end="")
EOF
}
for name in $PRODUCTS; do
  ctx="$WORK/context-$name"
  mkdir -p "$ctx"
  cp -a "$WORK/out-$name" "$ctx/out"
  cp collector.yaml "$ctx/collector.yaml"
  final_stage "$name" >"$ctx/Containerfile" || die "cannot take the final stage of Dockerfiles/$name.Dockerfile"
  image=$COLLECTOR_IMAGE; [ "$name" = runner ] && image=$RUNNER_IMAGE
  if podman_ build --pull=never --network none --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" \
       -f "$ctx/Containerfile" -t "$image" "$ctx" >"$WORK/image-$name.log" 2>&1; then
    pass "image $image: the final stage of Dockerfiles/$name.Dockerfile on the rehearsal base"
  else
    die "podman build of $image" "$(tail -n 20 "$WORK/image-$name.log")"
  fi
  rm -rf "$ctx"
done

# --- 4. the collector container --------------------------------------------------------
# The restrictions of the manifests' securityContext, the containers' limits, explicit ulimits.
RESTRICTED=(--read-only --read-only-tmpfs=false --user "$UID_GID" --cap-drop=ALL
  --security-opt no-new-privileges --memory 512m --cpus 0.5 --pids-limit 256
  --ulimit nofile=8192:8192 --ulimit nproc=4096:4096 --network host)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
health_port=$(free_port)
step "collector container on 127.0.0.1:$port (health 127.0.0.1:$health_port)"
# /etc/otelcol as the Deployment mounts it (the ConfigMap's config.yaml), plus an override file.
confdir="$WORK/otelcol"
mkdir -p "$confdir"
python3 -c 'import sys, yaml; sys.stdout.write(yaml.safe_load(open("manifests/otel-collector-config.yaml"))["data"]["config.yaml"])' \
  >"$confdir/config.yaml" || die "cannot read the ConfigMap's config"
cat >"$confdir/loopback.yaml" <<YAML
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$port
extensions:
  health_check:
    endpoint: 127.0.0.1:$health_port
YAML
chmod -R a+rX "$confdir"
podman_ run --rm --name "$COLLECTOR_CTR" "${RESTRICTED[@]}" \
  -v "$confdir:/etc/otelcol:ro" --tmpfs /tmp:rw,size=64m,mode=1777 \
  "$COLLECTOR_IMAGE" --config /etc/otelcol/config.yaml --config /etc/otelcol/loopback.yaml \
  >"$WORK/collector.out" 2>"$WORK/collector.err" </dev/null &
collector_pid=$!

health() { python3 -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$health_port/', timeout=1).status == 200 else 1)" 2>/dev/null; }
ready=0
for _ in $(seq 1 300); do
  if health; then ready=1; break; fi
  kill -0 "$collector_pid" 2>/dev/null || break
  sleep 0.1
done
if [ "$ready" = 1 ]; then
  pass "collector container healthy (health check 200 on 127.0.0.1:$health_port)"
else
  die "collector container not healthy within 30 s" "$(tail -n 20 "$WORK/collector.err")"
fi
user_line=$(podman_ inspect -f '{{.Config.User}} readonly={{.HostConfig.ReadonlyRootfs}} capdrop={{.HostConfig.CapDrop}} secopt={{.HostConfig.SecurityOpt}}' "$COLLECTOR_CTR" 2>&1)
echo "collector container: user $user_line"

# A span with a fresh trace id, as OTLP/JSON, to the receiver; then its trace id on stdout.
span_trace_id=$(python3 - "$port" <<'EOF'
import json, os, sys, time, urllib.request
trace_id, span_id = os.urandom(16).hex(), os.urandom(8).hex()
now = time.time_ns()
body = {"resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "rehearse-images"}}]},
    "scopeSpans": [{"scope": {"name": "rehearse-images"}, "spans": [{
        "traceId": trace_id, "spanId": span_id, "name": "rehearsal-span", "kind": 1,
        "startTimeUnixNano": str(now - 1_000_000), "endTimeUnixNano": str(now),
        "attributes": [{"key": "rehearsal", "value": {"boolValue": True}}]}]}]}]}
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/traces", data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"}, method="POST")
with urllib.request.urlopen(req, timeout=10) as resp:
    assert resp.status == 200, resp.status
print(trace_id)
EOF
) || fail "POST of a span to the collector container's /v1/traces"
wait_for_stdout() {  # pattern seconds
  local i
  for i in $(seq 1 $(( $2 * 10 ))); do
    grep -q -- "$1" "$WORK/collector.out" && return 0
    sleep 0.1
  done
  return 1
}
if [ -n "$span_trace_id" ]; then
  if wait_for_stdout "$span_trace_id" 15; then
    pass "posted span (trace $span_trace_id) is on the collector container's stdout"
  else
    fail "posted span (trace $span_trace_id) not on the collector container's stdout within 15 s" "$(tail -n 20 "$WORK/collector.out")"
  fi
fi

# --- 5. the runner container: the one-off Job against that collector -------------------
step "runner container with the environment of manifests/job-batch-once.yaml"
python3 - "$WORK/job.env" "$RUNNER_CTR" <<'EOF' || die "cannot compute the Job's environment"
import sys
sys.path.insert(0, "Tests/K8s")
from test_manifests import MANIFESTS, fake_pod, load_all, resolve_env  # the kubelet rules the contract tests use
(job,) = load_all(MANIFESTS / "job-batch-once.yaml")
meta, spec = fake_pod(job, index=0)
meta["name"] = sys.argv[2]
spec["nodeName"] = "podman"
(container,) = spec["containers"]
env = resolve_env(container, meta, spec)
with open(sys.argv[1], "w") as f:
    for k, v in env.items():
        assert "\n" not in v
        f.write(f"{k}={v}\n")
EOF
# The Service's address is the collector container's loopback port here.
sed -i "s#^OTEL_EXPORTER_OTLP_ENDPOINT=.*#OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$port#" "$WORK/job.env"
sed 's/^/      /' "$WORK/job.env"
job_status=0
timeout 300 "${PODMAN[@]}" run --rm --name "$RUNNER_CTR" "${RESTRICTED[@]}" --env-file "$WORK/job.env" \
  --tmpfs /data/output:rw,size=256m,mode=1777 --tmpfs /tmp:rw,size=64m,mode=1777 \
  "$RUNNER_IMAGE" >"$WORK/job.log" 2>"$WORK/job.err" </dev/null || job_status=$?
if [ "$job_status" = 0 ]; then
  pass "runner container (the Job) exited 0"
else
  fail "runner container (the Job) exited $job_status" "$(tail -n 20 "$WORK/job.err"; tail -n 5 "$WORK/job.log")"
fi
job_trace_id=$(grep -oE '"trace_id": ?"[0-9a-f]{32}"' "$WORK/job.log" | grep -oE '[0-9a-f]{32}' | head -n 1)
if [ -z "$job_trace_id" ]; then
  fail "no trace id in the runner container's log" "$(head -n 5 "$WORK/job.log")"
elif wait_for_stdout "$job_trace_id" 15; then
  pass "trace $job_trace_id from the job's log is on the collector container's stdout"
else
  fail "trace $job_trace_id from the job's log not on the collector container's stdout within 15 s"
fi
grep -E '"(Batch job completed|Connected to OTLP collector)"' "$WORK/job.log" | head -n 2 | cut -c1-400 | sed 's/^/      /'

# Optional: the cost/performance trade-off, the runner container with N generated records at three CPU
# limits (podman --cpus, and the same CPU_LIMIT for the cost model), exporting to the same collector.
# REHEARSE_COST_RECORDS=N turns it on (off by default: CI time). Prints the job's own summary numbers.
cost_records=${REHEARSE_COST_RECORDS:-0}
if [ "$cost_records" -gt 0 ] 2>/dev/null; then
  step "cost/performance: $cost_records generated records at CPU limits 250m, 500m, 1000m"
  printf '%-8s %10s %14s %14s %16s %14s\n' cpu records/s avg_latency_ms job_cost_usd usd_per_million wall_time_s
  for millicores in 250 500 1000; do
    sed -e "s/^CPU_LIMIT=.*/CPU_LIMIT=${millicores}m/" -e "s/^K8S_CPU_LIMIT_MILLICORES=.*/K8S_CPU_LIMIT_MILLICORES=$millicores/" \
      "$WORK/job.env" >"$WORK/cost.env"
    printf 'GENERATE_RECORDS=%s\nLOG_RECORDS=none\nOUTPUT_PATH=/data/output/predictions.jsonl\n' "$cost_records" >>"$WORK/cost.env"
    cpus=$(awk -v m="$millicores" 'BEGIN { printf "%.3f", m / 1000 }')
    opts=()
    prev=""
    for a in "${RESTRICTED[@]}"; do
      if [ "$prev" = --cpus ]; then opts+=("$cpus"); else opts+=("$a"); fi
      prev=$a
    done
    rc=0
    timeout 900 "${PODMAN[@]}" run --rm --name "$RUNNER_CTR" "${opts[@]}" --env-file "$WORK/cost.env" \
      --tmpfs /data/output:rw,size=256m,mode=1777 --tmpfs /tmp:rw,size=64m,mode=1777 \
      "$RUNNER_IMAGE" >"$WORK/cost.log" 2>"$WORK/cost.err" </dev/null || rc=$?
    if [ "$rc" != 0 ]; then fail "cost run at ${millicores}m exited $rc" "$(tail -n 5 "$WORK/cost.err")"; continue; fi
    python3 - "$WORK/cost.log" "${millicores}m" <<'PYEOF' || fail "cost run at ${millicores}m: no summary"
import json, sys
for line in open(sys.argv[1]):
    if '"Batch job completed"' in line:
        s = json.loads(line)["summary"]
        print(f"{sys.argv[2]:<8} {s['records_per_second']:10.0f} {s['avg_latency_ms']:14.4f} {s['job_cost_usd']:14.3e} {s['cost_per_million_records_usd']:16.4f} {s['wall_time_ms'] / 1000:14.2f}")
        break
else:
    sys.exit(1)
PYEOF
  done
fi

step "stopping the collector container (SIGTERM by name, then its podman process by PID $collector_pid)"
podman_ stop -t 20 "$COLLECTOR_CTR" >/dev/null 2>&1
collector_status=0
wait "$collector_pid" || collector_status=$?
collector_pid=""
if [ "$collector_status" = 0 ]; then
  pass "collector container drained and exited 0 on SIGTERM"
else
  fail "collector container exited $collector_status on SIGTERM" "$(tail -n 10 "$WORK/collector.err")"
fi
echo "collector stdout: $(grep -cE 'TracesExporter|MetricsExporter|LogsExporter' "$WORK/collector.out") exporter lines ($(grep -c TracesExporter "$WORK/collector.out") traces, $(grep -c MetricsExporter "$WORK/collector.out") metrics, $(grep -c LogsExporter "$WORK/collector.out") logs)"

# --- 6. sizes --------------------------------------------------------------------------
step "sizes"
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
for name in $PRODUCTS; do
  bin="$WORK/out-$name/usr/local/bin/$name"
  printf '%-28s %s (%s bytes, stripped)\n' "binary $name" "$(mb "$(stat -c %s "$bin")")" "$(stat -c %s "$bin")"
done
for image in "$BASE_IMAGE" "localhost/$COLLECTOR_IMAGE" "localhost/$RUNNER_IMAGE"; do
  size=$(podman_ image inspect -f '{{.Size}}' "$image" 2>/dev/null)
  gz=$(podman_ save --format oci-archive "$image" 2>/dev/null | gzip -1 | wc -c)
  printf '%-28s %s uncompressed (%s as a gzip of its OCI archive)\n' "image ${image##*/}" "$(mb "$size")" "$(mb "$gz")"
done

summary
[ "$failed" -eq 0 ]
