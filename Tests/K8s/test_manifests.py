"""Contract tests for the Kubernetes manifests and the Dockerfiles (issue 4).

Run: `python3 -m pytest Tests/K8s` (PyYAML and pytest), or `scripts/check-k8s.sh` for all
offline checks. Every test reads the committed files; the checkers are plain functions
with their own negative tests below, so a manifest that loses a setting fails here.

After editing collector.yaml, rewrite the ConfigMap from it with
`python3 Tests/K8s/test_manifests.py --sync-configmap`.
"""

from __future__ import annotations

import copy
import math
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
COLLECTOR_YAML = ROOT / "collector.yaml"
CONFIGMAP_FILE = MANIFESTS / "otel-collector-config.yaml"

NAMESPACE = "ai-ml-lab-3-1-paid"
COLLECTOR_APP = "otel-collector-paid"
BATCH_APP = "batch-inference-paid"
SERVICE = "otel-collector-paid"
CONFIGMAP = "otel-collector-config"
CONFIG_KEY = "config.yaml"
COLLECTOR_IMAGE = "ai-lab-3-1-paid-collector:v1"
RUNNER_IMAGE = "ai-lab-3-1-paid:v1"
UID = 65532

# The lab's resource box (setup.md: 250m/500m CPU, 256Mi/512Mi memory).
LAB_RESOURCES = {
    "requests": {"cpu": "250m", "memory": "256Mi"},
    "limits": {"cpu": "500m", "memory": "512Mi"},
}

# Files holding Kubernetes API objects (kind-mcp-cluster.yaml and kustomization.yaml are
# tool configs, checked by their own tests).
OBJECT_FILES = [
    "namespace.yaml",
    "otel-collector-config.yaml",
    "otel-collector-deploy.yaml",
    "networkpolicy.yaml",
    "job-batch-once.yaml",
    "cronjob-batch.yaml",
    "job-batch-indexed.yaml",
]

EXPECTED_OBJECTS = {
    ("Namespace", NAMESPACE),
    ("ConfigMap", CONFIGMAP),
    ("Deployment", "otel-collector-paid"),
    ("Service", SERVICE),
    ("NetworkPolicy", "otel-collector-paid-otlp"),
    ("NetworkPolicy", "batch-inference-paid"),
    ("Job", "batch-inference-paid-once"),
    ("CronJob", "batch-inference-paid-scheduled"),
    ("Job", "batch-inference-paid-indexed"),
}

WORKLOADS = [
    ("Deployment", "otel-collector-paid"),
    ("Job", "batch-inference-paid-once"),
    ("CronJob", "batch-inference-paid-scheduled"),
    ("Job", "batch-inference-paid-indexed"),
]
JOB_WORKLOADS = [w for w in WORKLOADS if w[0] != "Deployment"]

# Ports the Deployment declares ahead of collector.yaml: the probes need the
# health_check extension's port, and the collector's own metrics are coming.
PLANNED_PORTS = {13133: "health_check extension", 8888: "collector's own metrics"}


# MARK: - Loading


def load_all(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def all_objects() -> list[dict]:
    return [obj for name in OBJECT_FILES for obj in load_all(MANIFESTS / name)]


def get_object(kind: str, name: str) -> dict:
    found = [o for o in all_objects() if o.get("kind") == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected exactly one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_template(obj: dict) -> dict:
    """The pod template of a Deployment, Job or CronJob."""
    kind = obj["kind"]
    if kind in ("Deployment", "Job", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return obj["spec"]["template"]
    if kind == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    if kind == "Pod":
        return obj
    raise AssertionError(f"{kind} has no pod template")


def job_spec(obj: dict) -> dict:
    return obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]


def containers(pod_spec: dict) -> list[dict]:
    return list(pod_spec.get("initContainers", [])) + list(pod_spec.get("containers", []))


def collector_config() -> dict:
    return yaml.safe_load(COLLECTOR_YAML.read_text())


def collector_container() -> dict:
    spec = pod_template(get_object("Deployment", "otel-collector-paid"))["spec"]
    (container,) = spec["containers"]
    return container


# MARK: - Quantities and the downward API


_SUFFIXES = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
    "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}


def parse_quantity(text) -> Fraction:
    """A Kubernetes resource quantity ("250m", "0.5", "512Mi", "1e3") as an exact number."""
    m = re.fullmatch(r"([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)", str(text).strip())
    if not m:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, exponent, suffix = m.groups()
    value = Fraction(number)
    if exponent:
        return value * Fraction(10) ** int(exponent[1:])
    return value * _SUFFIXES[suffix or ""]


def resolve_env(container: dict, pod_meta: dict, pod_spec: dict) -> dict[str, str]:
    """The container's environment as the kubelet would compute it.

    fieldRef and resourceFieldRef are evaluated against the given pod, resource values are
    divided by the divisor and rounded up (as the kubelet does), and `$(VAR)` references
    expand only to variables defined earlier in the list; `$$` escapes a dollar sign.
    """
    env: dict[str, str] = {}
    for var in container.get("env", []):
        if "value" in var:
            def expand(m: re.Match) -> str:
                if m.group(0) == "$$":
                    return "$"
                return env.get(m.group(1), m.group(0))

            env[var["name"]] = re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", expand, str(var["value"]))
            continue
        source = var["valueFrom"]
        if "fieldRef" in source:
            path = source["fieldRef"]["fieldPath"]
            m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
            if m:
                env[var["name"]] = pod_meta.get(m.group(1), {})[m.group(2)]
            elif path.startswith("metadata."):
                env[var["name"]] = pod_meta[path.split(".", 1)[1]]
            elif path.startswith("spec."):
                env[var["name"]] = pod_spec[path.split(".", 1)[1]]
            else:
                raise AssertionError(f"unsupported fieldPath {path}")
        elif "resourceFieldRef" in source:
            ref = source["resourceFieldRef"]
            target = ref.get("containerName", container["name"])
            (owner,) = [c for c in containers(pod_spec) if c["name"] == target]
            kind, resource = ref["resource"].split(".", 1)
            value = parse_quantity(owner["resources"][kind][resource])
            divisor = parse_quantity(ref.get("divisor", "1"))
            env[var["name"]] = str(math.ceil(value / divisor))
        else:
            raise AssertionError(f"{var['name']}: unsupported valueFrom {source}")
    return env


def fake_pod(obj: dict, index: int = 2) -> tuple[dict, dict]:
    """Metadata and spec of a pod the workload would create (as the controllers label it)."""
    template = copy.deepcopy(pod_template(obj))
    job_name = obj["metadata"]["name"] + ("-29000000" if obj["kind"] == "CronJob" else "")
    meta = {
        "name": f"{job_name}-{index}-abcde",
        "namespace": obj["metadata"]["namespace"],
        "uid": "0b6c1c9e-0000-4000-8000-000000000000",
        "labels": dict(template["metadata"].get("labels", {}), **{"batch.kubernetes.io/job-name": job_name}),
        "annotations": {"batch.kubernetes.io/job-completion-index": str(index)},
    }
    spec = dict(template["spec"], nodeName="mcp-cluster-control-plane")
    return meta, spec


# MARK: - Checkers (pure functions, each with a negative test below)


def security_violations(pod_spec: dict) -> list[str]:
    """What keeps a pod spec from the restricted Pod Security profile plus our own rules."""
    problems = []
    pod_sc = pod_spec.get("securityContext", {})
    if pod_sc.get("runAsNonRoot") is not True:
        problems.append("pod securityContext.runAsNonRoot is not true")
    if pod_sc.get("runAsUser") != UID:
        problems.append(f"pod securityContext.runAsUser is not {UID}")
    if pod_sc.get("runAsGroup") != UID:
        problems.append(f"pod securityContext.runAsGroup is not {UID}")
    if pod_sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("pod seccompProfile is not RuntimeDefault")
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(flag):
            problems.append(f"{flag} is set")
    if pod_spec.get("automountServiceAccountToken") is not False:
        problems.append("service account token is mounted")
    allowed_volumes = {"configMap", "emptyDir", "secret", "projected", "downwardAPI", "persistentVolumeClaim", "ephemeral", "csi"}
    for volume in pod_spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= allowed_volumes:
            problems.append(f"volume {volume['name']} has a type the restricted profile forbids: {kinds - allowed_volumes}")
    all_containers = containers(pod_spec)
    if not all_containers:
        problems.append("no containers")
    for c in all_containers:
        sc = c.get("securityContext", {})
        name = c.get("name", "?")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{name}: readOnlyRootFilesystem is not true")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        caps = sc.get("capabilities", {})
        if caps.get("drop") != ["ALL"]:
            problems.append(f"{name}: capabilities.drop is not [ALL]")
        if caps.get("add"):
            problems.append(f"{name}: capabilities added: {caps['add']}")
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) != UID:
            problems.append(f"{name}: runs as a user other than {UID}")
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type")
        if seccomp != "RuntimeDefault":
            problems.append(f"{name}: seccompProfile is {seccomp}, not RuntimeDefault")
        for port in c.get("ports", []):
            if "hostPort" in port:
                problems.append(f"{name}: hostPort {port['hostPort']}")
    return problems


def resource_violations(container: dict) -> list[str]:
    problems = []
    resources = container.get("resources", {})
    for kind, wanted in LAB_RESOURCES.items():
        for resource, quantity in wanted.items():
            got = resources.get(kind, {}).get(resource)
            if got is None:
                problems.append(f"{container['name']}: {kind}.{resource} missing")
            elif parse_quantity(got) != parse_quantity(quantity):
                problems.append(f"{container['name']}: {kind}.{resource} is {got}, the lab's is {quantity}")
    extra = set(resources) - set(LAB_RESOURCES)
    if extra:
        problems.append(f"{container['name']}: unexpected resources keys {extra}")
    return problems


def split_endpoint(endpoint: str, default_port: int) -> tuple[str, int]:
    """host and port of a collector endpoint ("0.0.0.0:4318", "[::]:4318", ":4318")."""
    m = re.fullmatch(r"(\[[^\]]*\]|[^:]*)(?::(\d+))?", str(endpoint))
    if not m:
        raise ValueError(f"bad endpoint {endpoint!r}")
    return m.group(1), int(m.group(2)) if m.group(2) else default_port


def reachable_host(host: str) -> bool:
    """Whether a listener on this host can be reached from outside the pod."""
    return host in ("", "0.0.0.0", "[::]", "::") or host.startswith("${")


def collector_endpoints(config: dict) -> dict[int, str]:
    """Every port collector.yaml listens on, with the key that declares it."""
    ports: dict[int, str] = {}
    for rid, receiver in (config.get("receivers") or {}).items():
        protocols = (receiver or {}).get("protocols") or {}
        for proto, default in (("http", 4318), ("grpc", 4317)):
            if proto in protocols:
                settings = protocols[proto] or {}
                host, port = split_endpoint(settings.get("endpoint", f"localhost:{default}"), default)
                ports[port] = f"receivers::{rid}::protocols::{proto} ({host or '*'}:{port})"
    service = config.get("service") or {}
    extensions = config.get("extensions") or {}
    for eid in service.get("extensions") or []:
        if eid.split("/")[0] == "health_check":
            host, port = split_endpoint((extensions.get(eid) or {}).get("endpoint", "localhost:13133"), 13133)
            ports[port] = f"extensions::{eid} ({host or '*'}:{port})"
    metrics = ((service.get("telemetry") or {}).get("metrics")) or {}
    if "address" in metrics:
        host, port = split_endpoint(metrics["address"], 8888)
        ports[port] = f"service::telemetry::metrics::address ({host}:{port})"
    for reader in metrics.get("readers") or []:
        prom = (((reader or {}).get("pull") or {}).get("exporter") or {}).get("prometheus")
        if prom:
            port = int(prom.get("port", 8888))
            ports[port] = f"service::telemetry::metrics::readers prometheus ({prom.get('host', 'localhost')}:{port})"
    return ports


def unreachable_endpoints(config: dict) -> list[str]:
    """Endpoints bound to loopback: probes and the Service could never reach them."""
    bad = []
    for receiver in (config.get("receivers") or {}).values():
        for proto, default in (("http", 4318), ("grpc", 4317)):
            protocols = (receiver or {}).get("protocols") or {}
            if proto in protocols:  # `http:` with no settings enables it with the defaults
                host, port = split_endpoint((protocols[proto] or {}).get("endpoint", f"localhost:{default}"), default)
                if not reachable_host(host):
                    bad.append(f"{proto} receiver on {host}:{port}")
    service = config.get("service") or {}
    for eid in service.get("extensions") or []:
        if eid.split("/")[0] == "health_check":
            endpoint = ((config.get("extensions") or {}).get(eid) or {}).get("endpoint", "localhost:13133")
            host, port = split_endpoint(endpoint, 13133)
            if not reachable_host(host):
                bad.append(f"{eid} on {host}:{port}")
    return bad


def port_violations(config: dict, container: dict, service: dict) -> list[str]:
    """Deployment container ports and Service ports against collector.yaml's endpoints."""
    problems = []
    container_ports = {p["containerPort"]: p for p in container.get("ports", [])}
    by_name = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    service_targets = {}
    for sp in service["spec"]["ports"]:
        target = sp.get("targetPort", sp["port"])
        service_targets[sp["port"]] = by_name.get(target, target) if isinstance(target, str) else target
    endpoints = collector_endpoints(config)
    for port, where in endpoints.items():
        if port not in container_ports:
            problems.append(f"{where}: no containerPort {port} on the collector")
        if port not in service_targets.values():
            problems.append(f"{where}: Service {service['metadata']['name']} does not forward to {port}")
    for port in container_ports:
        if port not in endpoints and port not in PLANNED_PORTS:
            problems.append(f"containerPort {port} is not an endpoint of collector.yaml")
    for sport, target in service_targets.items():
        if target not in container_ports:
            problems.append(f"Service port {sport} targets {target}, not a container port")
        elif sport != target:
            problems.append(f"Service port {sport} forwards to {target}: keep the collector's port numbers")
    if 4317 not in endpoints and (4317 in container_ports or 4317 in service_targets):
        problems.append("4317 (OTLP/gRPC) is exposed but collector.yaml does not serve gRPC")
    return problems


# MARK: - Objects, names, labels


API_VERSIONS = {
    "Namespace": "v1", "ConfigMap": "v1", "Service": "v1", "Deployment": "apps/v1",
    "Job": "batch/v1", "CronJob": "batch/v1", "NetworkPolicy": "networking.k8s.io/v1",
}


def test_every_file_parses_and_holds_the_expected_objects():
    objects = all_objects()
    found = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert found == EXPECTED_OBJECTS
    assert len(objects) == len(EXPECTED_OBJECTS), "an object is defined twice"
    for obj in objects:
        assert obj["apiVersion"] == API_VERSIONS[obj["kind"]], f"{obj['kind']}/{obj['metadata']['name']}"


def test_everything_lives_in_the_labs_namespace():
    for obj in all_objects():
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == NAMESPACE
        else:
            assert obj["metadata"].get("namespace") == NAMESPACE, f"{obj['kind']}/{obj['metadata']['name']}"


def test_namespace_enforces_the_restricted_pod_security_profile():
    labels = get_object("Namespace", NAMESPACE)["metadata"]["labels"]
    for mode in ("enforce", "warn", "audit"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    node_version = kind_node_version()
    major_minor = ".".join(node_version.split(".")[:2])
    assert labels["pod-security.kubernetes.io/enforce-version"] == f"v{major_minor}"


@pytest.mark.parametrize("kind,name", WORKLOADS)
def test_pods_carry_the_labs_app_label(kind, name):
    obj = get_object(kind, name)
    app = COLLECTOR_APP if kind == "Deployment" else BATCH_APP
    assert obj["metadata"]["labels"]["app"] == app
    assert pod_template(obj)["metadata"]["labels"]["app"] == app


def test_deployment_and_service_select_the_collector_pods():
    deploy = get_object("Deployment", "otel-collector-paid")
    template_labels = pod_template(deploy)["metadata"]["labels"]
    selector = deploy["spec"]["selector"]["matchLabels"]
    assert selector == {"app": COLLECTOR_APP}
    assert all(template_labels.get(k) == v for k, v in selector.items())
    service = get_object("Service", SERVICE)
    assert service["spec"]["selector"] == {"app": COLLECTOR_APP}
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"


# MARK: - Security


@pytest.mark.parametrize("kind,name", WORKLOADS)
def test_pod_security_settings(kind, name):
    spec = pod_template(get_object(kind, name))["spec"]
    assert security_violations(spec) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s["securityContext"].pop("runAsNonRoot"),
        lambda s: s["securityContext"].update(runAsUser=0),
        lambda s: s["securityContext"].pop("seccompProfile"),
        lambda s: s["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
        lambda s: s["containers"][0]["securityContext"].update(allowPrivilegeEscalation=True),
        lambda s: s["containers"][0]["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
        lambda s: s["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
        lambda s: s["containers"][0]["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        lambda s: s["containers"][0]["securityContext"].update(runAsUser=1000),
        lambda s: s.update(hostNetwork=True),
        lambda s: s.pop("automountServiceAccountToken"),
        lambda s: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
    ],
)
def test_security_checker_catches_a_weakened_pod(mutate):
    spec = copy.deepcopy(pod_template(get_object("Job", "batch-inference-paid-once"))["spec"])
    mutate(spec)
    assert security_violations(spec) != []


@pytest.mark.parametrize("kind,name", WORKLOADS)
def test_requests_and_limits_are_the_labs(kind, name):
    spec = pod_template(get_object(kind, name))["spec"]
    for container in containers(spec):
        assert resource_violations(container) == []


def test_resource_checker_catches_other_values():
    container = copy.deepcopy(collector_container())
    assert resource_violations(container) == []
    container["resources"]["limits"]["memory"] = "1Gi"
    assert resource_violations(container) != []
    container = copy.deepcopy(collector_container())
    del container["resources"]["requests"]["cpu"]
    assert resource_violations(container) != []
    # Same quantity, other spelling: still the lab's.
    container = copy.deepcopy(collector_container())
    container["resources"]["limits"]["cpu"] = "0.5"
    assert resource_violations(container) == []


@pytest.mark.parametrize("kind,name", WORKLOADS)
def test_images_are_the_kind_loaded_ones(kind, name):
    spec = pod_template(get_object(kind, name))["spec"]
    image = COLLECTOR_IMAGE if kind == "Deployment" else RUNNER_IMAGE
    for container in spec["containers"]:
        assert container["image"] == image
        assert container["imagePullPolicy"] == "IfNotPresent"


# MARK: - Collector config, ports, probes


def test_configmap_carries_collector_yaml_byte_for_byte():
    configmap = get_object("ConfigMap", CONFIGMAP)
    assert set(configmap["data"]) == {CONFIG_KEY}
    assert configmap["data"][CONFIG_KEY].encode() == COLLECTOR_YAML.read_bytes(), (
        "manifests/otel-collector-config.yaml differs from collector.yaml: "
        "run `python3 Tests/K8s/test_manifests.py --sync-configmap`"
    )


def test_collector_reads_the_mounted_configmap():
    container = collector_container()
    args = container.get("args", [])
    config_path = args[args.index("--config") + 1]
    spec = pod_template(get_object("Deployment", "otel-collector-paid"))["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = [m for m in container["volumeMounts"] if config_path.startswith(m["mountPath"].rstrip("/") + "/")]
    assert len(mounts) == 1, f"no volume mounted over {config_path}"
    mount = mounts[0]
    assert mount.get("readOnly") is True and "subPath" not in mount
    configmap = volumes[mount["name"]]["configMap"]
    assert configmap["name"] == CONFIGMAP
    relative = config_path[len(mount["mountPath"].rstrip("/")) + 1:]
    items = {i["path"]: i["key"] for i in configmap.get("items", [])} or {CONFIG_KEY: CONFIG_KEY}
    assert items.get(relative) == CONFIG_KEY
    # The image's own default (Dockerfile CMD) points at the same file.
    assert dockerfile_instructions("collector")["CMD"][-1] == ["--config", config_path]


def test_collector_yaml_listens_where_the_service_can_reach_it():
    assert unreachable_endpoints(collector_config()) == []
    assert unreachable_endpoints({"receivers": {"otlp": {"protocols": {"http": {"endpoint": "localhost:4318"}}}}}) != []
    assert unreachable_endpoints({"receivers": {"otlp": {"protocols": {"http": None}}}}) != []


def test_container_and_service_ports_match_collector_yaml():
    config = collector_config()
    endpoints = collector_endpoints(config)
    assert 4318 in endpoints, "collector.yaml no longer serves OTLP/HTTP on 4318"
    assert 4317 in endpoints, "collector.yaml no longer serves OTLP/gRPC on 4317"
    assert port_violations(config, collector_container(), get_object("Service", SERVICE)) == []


def test_port_checker_catches_mismatches():
    config = collector_config()
    service = get_object("Service", SERVICE)
    container = copy.deepcopy(collector_container())
    container["ports"] = [p for p in container["ports"] if p["containerPort"] != 4318]
    assert port_violations(config, container, service) != []
    container = copy.deepcopy(collector_container())
    container["ports"] = [p for p in container["ports"] if p["containerPort"] != 4317]
    assert port_violations(config, container, service) != []
    moved = copy.deepcopy(config)
    moved["receivers"]["otlp"]["protocols"]["http"]["endpoint"] = "0.0.0.0:4320"
    assert port_violations(moved, collector_container(), service) != []
    without_grpc = copy.deepcopy(config)
    without_grpc["receivers"]["otlp"]["protocols"].pop("grpc", None)
    assert port_violations(without_grpc, collector_container(), service) != []


def test_probes_use_the_health_check_port():
    container = collector_container()
    by_name = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        port = by_name.get(get["port"], get["port"])
        assert port == 13133, f"{probe} is not on the health_check port"
        assert get.get("path", "/") == "/"


def test_probe_port_matches_collector_yaml_health_check():
    config = collector_config()
    enabled = [e for e in (config.get("service") or {}).get("extensions") or [] if e.split("/")[0] == "health_check"]
    if not enabled:
        pytest.skip("collector.yaml does not enable the health_check extension yet: the probes on 13133 wait for it")
    settings = (config.get("extensions") or {}).get(enabled[0]) or {}
    _, port = split_endpoint(settings.get("endpoint", "localhost:13133"), 13133)
    container = collector_container()
    by_name = {p["name"]: p["containerPort"] for p in container["ports"]}
    get = container["readinessProbe"]["httpGet"]
    assert by_name.get(get["port"], get["port"]) == port
    assert get.get("path", "/") == settings.get("path", "/")


def test_memory_limiter_refuses_below_the_memory_limit():
    config = collector_config()
    limiters = {k: v or {} for k, v in (config.get("processors") or {}).items() if k.split("/")[0] == "memory_limiter"}
    if not limiters:
        pytest.skip("collector.yaml has no memory_limiter yet (suggested: limit_mib 400, spike_limit_mib 100)")
    limit_mib = parse_quantity(collector_container()["resources"]["limits"]["memory"]) / 2**20
    for name, settings in limiters.items():
        if "limit_mib" in settings:
            assert settings["limit_mib"] < limit_mib, f"{name}: limit_mib not below the container's {limit_mib}Mi"
            assert settings.get("spike_limit_mib", settings["limit_mib"] // 5) < settings["limit_mib"]
        else:
            assert 0 < settings.get("limit_percentage", 0) < 100


def test_collector_drains_within_its_grace_period():
    spec = pod_template(get_object("Deployment", "otel-collector-paid"))["spec"]
    pre_stop = collector_container()["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert 0 < pre_stop < spec["terminationGracePeriodSeconds"] - 15


# MARK: - Jobs


def test_every_job_runs_once_and_is_bounded():
    for kind, name in JOB_WORKLOADS:
        obj = get_object(kind, name)
        spec = job_spec(obj)
        assert isinstance(spec["backoffLimit"], int) and 0 <= spec["backoffLimit"] <= 6, name
        assert isinstance(spec["ttlSecondsAfterFinished"], int) and spec["ttlSecondsAfterFinished"] >= 600, name
        assert isinstance(spec["activeDeadlineSeconds"], int) and spec["activeDeadlineSeconds"] > 0, name
        pod = pod_template(obj)["spec"]
        assert pod["restartPolicy"] == "Never", name
        assert pod["terminationGracePeriodSeconds"] >= 15, name


@pytest.mark.parametrize("kind,name", JOB_WORKLOADS)
def test_job_environment(kind, name):
    obj = get_object(kind, name)
    meta, spec = fake_pod(obj)
    (container,) = spec["containers"]
    env = resolve_env(container, meta, spec)
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector-paid:4318"
    assert env["OTEL_SERVICE_NAME"] == "batch-inference-service"
    assert env["COST_PER_CPU_HOUR"] == "0.04"
    assert env["COST_PER_MEMORY_GB_HOUR"] == "0.005"
    assert env["BATCH_SIZE"] == "1000"
    # The downward API hands the container's own resources to the cost model.
    assert env["CPU_LIMIT"] == "500m" and env["CPU_REQUEST"] == "250m"
    assert env["MEMORY_LIMIT"] == "512Mi" and env["MEMORY_REQUEST"] == "256Mi"
    resources = container["resources"]
    assert parse_quantity(env["CPU_LIMIT"]) == parse_quantity(resources["limits"]["cpu"])
    assert parse_quantity(env["MEMORY_REQUEST"]) == parse_quantity(resources["requests"]["memory"])
    # k8s resource attributes, OTEL_RESOURCE_ATTRIBUTES-style.
    attributes = dict(pair.split("=", 1) for pair in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    assert attributes["k8s.pod.name"] == meta["name"]
    assert attributes["k8s.namespace.name"] == NAMESPACE
    assert attributes["k8s.job.name"] == meta["labels"]["batch.kubernetes.io/job-name"]
    assert not any("$(" in v for v in env.values()), "an unresolved $(VAR) reference"
    # Output goes to a writable volume (the root filesystem is read-only).
    mounts = [m["mountPath"].rstrip("/") + "/" for m in container["volumeMounts"]]
    assert any(env["OUTPUT_PATH"].startswith(m) for m in mounts)


@pytest.mark.parametrize("kind,name", JOB_WORKLOADS)
def test_downward_api_follows_the_resources(kind, name):
    """Change the limits and CPU_LIMIT/MEMORY_LIMIT follow: they are not literals."""
    obj = copy.deepcopy(get_object(kind, name))
    pod_template(obj)["spec"]["containers"][0]["resources"]["limits"] = {"cpu": "1500m", "memory": "1Gi"}
    meta, spec = fake_pod(obj)
    env = resolve_env(spec["containers"][0], meta, spec)
    assert env["CPU_LIMIT"] == "1500m"
    assert parse_quantity(env["MEMORY_LIMIT"]) == parse_quantity("1Gi")


def test_endpoint_targets_the_services_otlp_port():
    obj = get_object("Job", "batch-inference-paid-once")
    meta, spec = fake_pod(obj)
    endpoint = resolve_env(spec["containers"][0], meta, spec)["OTEL_EXPORTER_OTLP_ENDPOINT"]
    m = re.fullmatch(r"http://([a-z0-9-]+):(\d+)", endpoint)
    assert m and m.group(1) == SERVICE
    service_ports = {p["port"] for p in get_object("Service", SERVICE)["spec"]["ports"]}
    port = int(m.group(2))
    assert port in service_ports
    assert "protocols::http" in collector_endpoints(collector_config())[port]


def test_cronjob_schedule_and_policy():
    cron = get_object("CronJob", "batch-inference-paid-scheduled")["spec"]
    assert cron["schedule"] == "*/10 * * * *"
    assert cron["concurrencyPolicy"] == "Forbid"
    assert 0 < cron["startingDeadlineSeconds"] < 600
    assert 1 <= cron["successfulJobsHistoryLimit"] <= 5
    assert 1 <= cron["failedJobsHistoryLimit"] <= 5
    assert cron.get("suspend", False) is False
    # A stuck run must end before the next slot, or Forbid would skip every later run.
    assert cron["jobTemplate"]["spec"]["activeDeadlineSeconds"] < 600


def test_indexed_job_shards_over_its_completions():
    obj = get_object("Job", "batch-inference-paid-indexed")
    spec = obj["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] > 1
    assert 1 <= spec["parallelism"] <= spec["completions"]
    for index in range(spec["completions"]):
        meta, pod = fake_pod(obj, index)
        env = resolve_env(pod["containers"][0], meta, pod)
        assert int(env["JOB_COMPLETIONS"]) == spec["completions"]
        assert env["JOB_COMPLETION_INDEX"] == str(index)
        assert int(env["GENERATE_RECORDS"]) >= spec["completions"]


def test_other_jobs_do_not_shard():
    for kind, name in JOB_WORKLOADS:
        if name.endswith("-indexed"):
            continue
        env_names = {e["name"] for e in pod_template(get_object(kind, name))["spec"]["containers"][0]["env"]}
        assert "JOB_COMPLETIONS" not in env_names, name


# MARK: - Network policy


def test_only_the_namespaces_pods_reach_the_otlp_port():
    policy = get_object("NetworkPolicy", "otel-collector-paid-otlp")["spec"]
    template_labels = pod_template(get_object("Deployment", "otel-collector-paid"))["metadata"]["labels"]
    assert all(template_labels.get(k) == v for k, v in policy["podSelector"]["matchLabels"].items())
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"podSelector": {}}], "only pods of this namespace"
    otlp_ports = {p for p, where in collector_endpoints(collector_config()).items() if "receivers::" in where}
    assert {p["port"] for p in rule["ports"]} == otlp_ports


def test_batch_pods_reach_only_dns_and_the_collector():
    policy = get_object("NetworkPolicy", "batch-inference-paid")["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app": BATCH_APP}
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert policy.get("ingress", []) == []
    to_collector = [r for r in policy["egress"] if r["to"] == [{"podSelector": {"matchLabels": {"app": COLLECTOR_APP}}}]]
    assert len(to_collector) == 1
    assert {p["port"] for p in to_collector[0]["ports"]} == {4318}
    dns = [r for r in policy["egress"] if r is not to_collector[0]]
    assert {(p["protocol"], p["port"]) for r in dns for p in r["ports"]} == {("UDP", 53), ("TCP", 53)}


# MARK: - kind, kustomize, Dockerfiles


def kind_node_version() -> str:
    config = load_all(MANIFESTS / "kind-mcp-cluster.yaml")[0]
    (version,) = {re.fullmatch(r"kindest/node:v(\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}", n["image"]).group(1) for n in config["nodes"]}
    return version


def test_kind_cluster_is_pinned():
    (config,) = load_all(MANIFESTS / "kind-mcp-cluster.yaml")
    assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["name"] == "mcp-cluster"
    assert config["nodes"] and all(n["role"] in ("control-plane", "worker") for n in config["nodes"])
    assert kind_node_version()
    for node in config["nodes"]:
        for mapping in node.get("extraPortMappings", []):
            assert mapping.get("listenAddress") == "127.0.0.1"


def test_kustomization_deploys_namespace_collector_and_the_one_off_job():
    (k,) = load_all(MANIFESTS / "kustomization.yaml")
    assert k["kind"] == "Kustomization"
    assert set(k["resources"]) == {
        "namespace.yaml", "otel-collector-config.yaml", "otel-collector-deploy.yaml", "networkpolicy.yaml", "job-batch-once.yaml",
    }
    # No transformers that would rename objects or change the lab's selectors.
    assert not set(k) & {"commonLabels", "labels", "namePrefix", "nameSuffix", "namespace", "images", "patches"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH (scripts/check-k8s.sh installs one)")
def test_kustomize_output_is_the_files_objects():
    out = subprocess.run(["kubectl", "kustomize", str(MANIFESTS)], check=True, capture_output=True, text=True).stdout
    rendered = [d for d in yaml.safe_load_all(out) if d]
    (k,) = load_all(MANIFESTS / "kustomization.yaml")
    from_files = [o for name in k["resources"] for o in load_all(MANIFESTS / name)]
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    assert sorted(map(key, rendered)) == sorted(map(key, from_files))
    for obj in rendered:
        (same,) = [o for o in from_files if key(o) == key(obj)]
        assert obj == same, f"kustomize changed {key(obj)}"


def dockerfile_instructions(name: str) -> dict[str, list]:
    """Instructions of a Dockerfile (line continuations joined), JSON arguments decoded."""
    import json

    text = (ROOT / "Dockerfiles" / f"{name}.Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)
    result: dict[str, list] = {}
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, rest = line.partition(" ")
        rest = rest.strip()
        value = json.loads(rest) if rest.startswith("[") else rest
        result.setdefault(op.upper(), []).append(value)
    return result


@pytest.mark.parametrize("name", ["collector", "runner"])
def test_dockerfile_contract(name):
    ins = dockerfile_instructions(name)
    assert len(ins["FROM"]) >= 2, "multi-stage"
    args = dict(a.split("=", 1) for a in ins["ARG"] if "=" in a)
    assert args["SWIFT_IMAGE"].startswith("swift:6.3")
    assert "distroless/cc" in args["RUNTIME_IMAGE"]
    build = " ".join(r for r in ins["RUN"] if "swift build" in r)
    for flag in ("-c release", "--static-swift-stdlib", f"--product {name}", "--scratch-path"):
        assert flag in build
    assert ins["USER"][-1] == f"{UID}:{UID}"
    assert ins["ENTRYPOINT"][-1] == [f"/usr/local/bin/{name}"]
    if name == "collector":
        assert ins["CMD"][-1] == ["--config", "/etc/otelcol/config.yaml"]
        assert {4317, 4318} <= {int(p) for e in ins.get("EXPOSE", []) for p in e.split()}


def test_dockerignore_keeps_build_folders_out():
    lines = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert "**/.build*" in lines
    # Nothing re-includes a build folder after that.
    assert not [l for l in lines[lines.index("**/.build*"):] if l.startswith("!")]


# MARK: - Helper self-tests


def test_quantity_parser():
    assert parse_quantity("250m") == Fraction(1, 4)
    assert parse_quantity("0.5") == parse_quantity("500m")
    assert parse_quantity("512Mi") == 512 * 2**20
    assert parse_quantity("1G") == 10**9
    assert parse_quantity("1e3") == 1000
    with pytest.raises(ValueError):
        parse_quantity("12 cores")


def test_env_resolution_follows_kubelet_rules():
    container = {
        "name": "c",
        "resources": {"limits": {"cpu": "250m", "memory": "300M"}},
        "env": [
            {"name": "LATER", "value": "$(A)-x"},
            {"name": "A", "value": "a"},
            {"name": "B", "value": "$(A)$$(A)"},
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
        ],
    }
    env = resolve_env(container, {}, {"containers": [container]})
    assert env["LATER"] == "$(A)-x"  # defined before A: left as written
    assert env["B"] == "a$(A)"
    assert env["CPU"] == "1"  # rounded up to whole cores with the default divisor
    assert env["MEM"] == "287"  # 300M / 1Mi = 286.1 → 287


def sync_configmap() -> None:
    """Rewrite the ConfigMap's config.yaml block from collector.yaml (keeps the header)."""
    text = COLLECTOR_YAML.read_text()
    indicator = "|-" if not text.endswith("\n") else ("|+" if text.endswith("\n\n") else "|")
    block = "".join(("    " + line if line.strip() else "") + "\n" for line in text.splitlines())
    current = CONFIGMAP_FILE.read_text()
    head = current[: current.index(f"  {CONFIG_KEY}: ")]
    CONFIGMAP_FILE.write_text(f"{head}  {CONFIG_KEY}: {indicator}\n{block}")
    assert get_object("ConfigMap", CONFIGMAP)["data"][CONFIG_KEY] == text, "collector.yaml does not survive a YAML block scalar"


if __name__ == "__main__":
    if sys.argv[1:] == ["--sync-configmap"]:
        sync_configmap()
        print(f"wrote {CONFIGMAP_FILE.relative_to(ROOT)} from collector.yaml")
    else:
        sys.exit(pytest.main([__file__, *sys.argv[1:]]))
