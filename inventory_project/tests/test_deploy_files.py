"""The deployment files, checked: docker-compose.yml, deploy/Dockerfile, deploy/nginx.conf,
deploy/prometheus/, deploy/grafana/ and deploy/k8s/ parse, hold together and agree with the
app: the same commands, ports, health URLs and environment variables the code reads. nginx
runs its own syntax check and then serves the config for real in front of a recording
upstream; promtool (Debian's prometheus package, `make ops-tools`) checks the scrape config,
the alert rules and every dashboard query. Each check is a function returning what it found
wrong, shown to find nothing in the files and something in a broken copy."""

import copy
import http.server
import json
import re
import runpy
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.urls import Resolver404, resolve

from inventory_project.tests.helpers import free_port
from stock.imports import MAX_BYTES as IMPORT_MAX_BYTES

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
NGINX = DEPLOY / "nginx.conf"
GUNICORN = DEPLOY / "gunicorn.conf.py"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
GRAFANA = DEPLOY / "grafana"
K8S = DEPLOY / "k8s"

NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
needs_nginx = pytest.mark.skipif(
    not Path(NGINX_BIN).exists(), reason="Debian's nginx is not installed (make ops-tools)"
)
needs_promtool = pytest.mark.skipif(
    not Path(PROMTOOL).exists(), reason="promtool is not installed (make ops-tools)"
)

# The processes of the image, by compose service and by the k8s workload running them.
PROCESSES = {
    "migrate": "inventory-migrate",
    "web": "inventory-web",
    "ws": "inventory-ws",
    "worker": "inventory-worker",
    "beat": "inventory-beat",
}
# What the app cannot run without in production (the rest have defaults).
REQUIRED_ENV = {
    "DJANGO_ENV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    # Prometheus scrapes with it; without it /metrics answers no one in production.
    "METRICS_TOKEN",
}
# Read by libraries rather than by our code (prometheus_client reads its directory itself).
LIBRARY_ENV = {"PROMETHEUS_MULTIPROC_DIR"}


# Reading the files -------------------------------------------------------------------------


def yaml_files() -> list[Path]:
    return sorted([COMPOSE, *DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")])


def load_compose(text: str | None = None) -> dict:
    return yaml.safe_load(COMPOSE.read_text() if text is None else text)


def load_k8s(texts: list[str] | None = None) -> list[dict]:
    texts = texts if texts is not None else [p.read_text() for p in sorted(K8S.rglob("*.yml"))]
    return [doc for text in texts for doc in yaml.safe_load_all(text) if doc]


def pod_spec(obj: dict) -> dict | None:
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    return spec.get("template", {}).get("spec")


def k8s_container(objects: list[dict], workload: str) -> dict:
    (obj,) = [o for o in objects if o["metadata"]["name"] == workload and pod_spec(o)]
    return pod_spec(obj)["containers"][0]


def dockerfile_cmd(text: str) -> list[str]:
    match = re.search(r"^CMD (\[.*?\])\s*$", text.replace("\\\n", " "), re.M | re.S)
    return json.loads(match.group(1)) if match else []


def env_names_read_by_app() -> set[str]:
    """Every environment variable our code reads: settings' env.*("NAME") and os.environ
    look-ups in the project's modules and gunicorn.conf.py."""
    names = set(LIBRARY_ENV)
    packages = [d for d in ROOT.iterdir() if (d / "__init__.py").exists()]
    sources = [GUNICORN, *(p for d in packages for p in d.rglob("*.py"))]
    for path in sources:
        if "tests" in path.parts:
            continue
        text = path.read_text()
        names |= set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
        names |= set(
            re.findall(r"(?:environ\.get|environ\[|getenv)\(?\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text)
        )
    return names


def duration_seconds(value) -> float:
    if isinstance(value, int | float):
        return float(value)
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(value))
    return sum(float(n) * units[u] for n, u in parts)


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def metrics_defined_by_app() -> set[str]:
    """The inventory_* metric names our code defines (counters keep their _total)."""
    names = set()
    for path in (
        p for d in ROOT.iterdir() if (d / "__init__.py").exists() for p in d.rglob("*.py")
    ):
        if "tests" not in path.parts:
            names |= set(re.findall(r"[\"'](inventory_[a-z_]+)[\"']", path.read_text()))
    return names


# The checks ---------------------------------------------------------------------------------


def yaml_problems(text: str) -> list[str]:
    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        return [str(error)]
    return []


API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "PersistentVolumeClaim": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "Ingress": "networking.k8s.io/v1",
}
LONG_RUNNING = {"Deployment", "StatefulSet"}


def k8s_problems(objects: list[dict]) -> list[str]:
    """Each object is a known kind at its API version with a name in the namespace; each
    container has resources, and each long-running one liveness and readiness probes; the
    selectors of Services, HPAs, PDBs and the Ingress find what they point at."""
    problems = []
    labels_of: dict[str, dict] = {}
    ports_of: dict[str, set] = {}
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata") or {}
        name = meta.get("name")
        if API_VERSIONS.get(kind) != obj.get("apiVersion"):
            problems.append(f"{kind} {name}: apiVersion {obj.get('apiVersion')}")
        if not name:
            problems.append(f"{kind} without metadata.name")
        if kind != "Namespace" and meta.get("namespace") != "inventory":
            problems.append(f"{kind} {name}: not in namespace inventory")
        spec = pod_spec(obj) if kind in API_VERSIONS else None
        if spec is None:
            continue
        template = (
            obj["spec"]["jobTemplate"]["spec"]["template"]
            if kind == "CronJob"
            else obj["spec"]["template"]
        )
        labels_of[name] = template["metadata"]["labels"]
        selector = obj["spec"].get("selector", {}).get("matchLabels", {})
        if any(labels_of[name].get(k) != v for k, v in selector.items()):
            problems.append(f"{kind} {name}: selector does not match its pods")
        for container in spec.get("containers", []):
            where = f"{kind} {name} container {container.get('name')}"
            resources = container.get("resources", {})
            if not resources.get("requests") or "memory" not in resources.get("limits", {}):
                problems.append(f"{where}: no resource requests and memory limit")
            if kind in LONG_RUNNING:
                for probe in ("livenessProbe", "readinessProbe"):
                    if probe not in container:
                        problems.append(f"{where}: no {probe}")
            ports_of.setdefault(name, set()).update(
                p
                for port in container.get("ports", [])
                for p in (port["name"], port["containerPort"])
            )

    def workloads_matching(selector: dict) -> list[str]:
        return [
            n
            for n, labels in labels_of.items()
            if all(labels.get(k) == v for k, v in selector.items())
        ]

    services = {}
    for obj in objects:
        kind, name = obj.get("kind"), obj.get("metadata", {}).get("name")
        if kind == "Service":
            matched = workloads_matching(obj["spec"]["selector"])
            if not matched:
                problems.append(f"Service {name}: selects no pods")
            services[name] = {p.get("name") for p in obj["spec"]["ports"]}
            for port in obj["spec"]["ports"]:
                if matched and port["targetPort"] not in ports_of.get(matched[0], set()):
                    problems.append(f"Service {name}: targetPort {port['targetPort']} not exposed")
        if kind == "PodDisruptionBudget" and not workloads_matching(
            obj["spec"]["selector"]["matchLabels"]
        ):
            problems.append(f"PodDisruptionBudget {name}: selects no pods")
        if (
            kind == "HorizontalPodAutoscaler"
            and obj["spec"]["scaleTargetRef"]["name"] not in labels_of
        ):
            problems.append(f"HorizontalPodAutoscaler {name}: scales nothing")
    for obj in objects:
        if obj.get("kind") != "Ingress":
            continue
        for rule in obj["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                if backend["port"].get("name") not in services.get(backend["name"], set()):
                    problems.append(f"Ingress: {path['path']} goes to no service port")
    return problems


def compose_health_problems(compose: dict) -> list[str]:
    """Every long-running service has a health check; the one-shot migrate is exempt."""
    problems = []
    for name, service in compose["services"].items():
        check = service.get("healthcheck") or {}
        if name == "migrate":
            continue
        if check.get("disable") or not check.get("test"):
            problems.append(f"{name}: no health check")
    return problems


def command_problems(compose: dict, objects: list[dict], dockerfile: str) -> list[str]:
    """Compose and Kubernetes run each process with the same argv; the web one is the
    image's CMD."""
    problems = []
    for service, workload in PROCESSES.items():
        ours = compose["services"][service]["command"]
        theirs = k8s_container(objects, workload)["command"]
        if ours != theirs:
            problems.append(f"{service}: compose runs {ours}, k8s runs {theirs}")
    if compose["services"]["web"]["command"] != dockerfile_cmd(dockerfile):
        problems.append("web: compose's command is not the image's CMD")
    return problems


def env_problems(compose: dict, objects: list[dict], read: set[str]) -> list[str]:
    """Every variable handed to an app process is one the app reads, and every one it
    cannot do without is handed to each (in production)."""
    problems = []
    config = {}
    for obj in objects:
        if (
            obj["kind"] in {"ConfigMap", "Secret"}
            and obj["metadata"]["name"] != "inventory-postgres"
        ):
            config[obj["metadata"]["name"]] = set(obj.get("data") or obj.get("stringData") or {})
    for service in PROCESSES:
        given = compose["services"][service].get("environment") or {}
        for name in sorted(set(given) - read):
            problems.append(f"compose {service}: {name} is read by nothing")
        for name in sorted(REQUIRED_ENV - set(given)):
            problems.append(f"compose {service}: {name} is missing")
        if given.get("DJANGO_ENV") != "production":
            problems.append(f"compose {service}: DJANGO_ENV is not production")
    for workload in PROCESSES.values():
        container = k8s_container(objects, workload)
        given = {e["name"] for e in container.get("env", [])}
        for source in container.get("envFrom", []):
            ref = source.get("configMapRef") or source.get("secretRef")
            given |= config.get(ref["name"], set())
        for name in sorted(given - read):
            problems.append(f"k8s {workload}: {name} is read by nothing")
        for name in sorted(REQUIRED_ENV - given):
            problems.append(f"k8s {workload}: {name} is missing")
    return problems


def nginx_upstreams(text: str) -> dict[str, str]:
    return dict(re.findall(r"upstream\s+(\w+)\s*{[^}]*?server\s+([\w.:-]+)", text))


def port_problems(
    compose: dict, objects: list[dict], nginx: str, prometheus: dict, dockerfile: str
) -> list[str]:
    """gunicorn's port, daphne's and the worker's metrics port are the same in compose,
    the image, Kubernetes, nginx's upstreams and Prometheus's targets."""
    problems = []
    services = compose["services"]
    web_port = option(services["web"]["command"], "--bind").rsplit(":", 1)[1]
    ws_port = option(services["ws"]["command"], "-p")
    metrics_port = str(services["worker"]["environment"]["CELERY_METRICS_PORT"])
    bind = runpy.run_path(str(GUNICORN)).get("bind")
    if bind and not str(bind).endswith(f":{web_port}"):
        problems.append(f"gunicorn.conf.py binds {bind}, the command port {web_port}")
    if f"EXPOSE {web_port}" not in dockerfile:
        problems.append(f"the image does not expose {web_port}")
    upstreams = nginx_upstreams(nginx)
    if upstreams.get("http_app") != f"web:{web_port}":
        problems.append(f"nginx sends HTTP to {upstreams.get('http_app')}, not web:{web_port}")
    if upstreams.get("websocket_app") != f"ws:{ws_port}":
        problems.append(f"nginx sends /ws/ to {upstreams.get('websocket_app')}, not ws:{ws_port}")
    targets = {
        job["job_name"]: target
        for job in prometheus["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    for job, want in (("web", web_port), ("ws", ws_port), ("worker", metrics_port)):
        if targets.get(job) != f"{job}:{want}":
            problems.append(f"Prometheus scrapes {job} at {targets.get(job)}, not {job}:{want}")
    for workload, want in (
        ("inventory-web", web_port),
        ("inventory-ws", ws_port),
        ("inventory-worker", metrics_port),
    ):
        container = k8s_container(objects, workload)
        ports = {str(p["containerPort"]) for p in container.get("ports", [])}
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        if want not in ports:
            problems.append(f"k8s {workload} exposes {ports}, not {want}")
        if workload == "inventory-worker" and env.get("CELERY_METRICS_PORT") != want:
            problems.append("k8s worker's CELERY_METRICS_PORT differs from compose's")
    for obj in objects:
        if obj["kind"] == "Service" and obj["metadata"]["name"] in {
            "inventory-web",
            "inventory-ws",
        }:
            want = web_port if obj["metadata"]["name"] == "inventory-web" else ws_port
            if str(obj["spec"]["ports"][0]["port"]) != want:
                problems.append(f"Service {obj['metadata']['name']} listens elsewhere than {want}")
    return problems


def url_problems(
    compose: dict, objects: list[dict], prometheus: dict, dockerfile: str
) -> list[str]:
    """The health and metrics URLs the probes, health checks and scrapes ask for exist."""
    paths = set(re.findall(r"http://[\w.]+(?::\d+)?(/[\w/]+)", dockerfile))
    for service in compose["services"].values():
        test = " ".join(map(str, (service.get("healthcheck") or {}).get("test") or []))
        paths |= set(re.findall(r"http://127\.0\.0\.1(?::(?:8000|8001))(/[\w/]+)", test))
    for obj in objects:
        spec = pod_spec(obj)
        for container in (spec or {}).get("containers", []):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if "httpGet" in container.get(probe, {}):
                    paths.add(container[probe]["httpGet"]["path"])
    paths |= {
        job["metrics_path"]
        for job in prometheus["scrape_configs"]
        if job["job_name"] != "prometheus" and "metrics_path" in job
    }
    problems = []
    for path in sorted(paths):
        try:
            resolve(path)
        except Resolver404:
            problems.append(f"{path} is no URL of the app")
    return problems if paths else ["no health or metrics URL found"]


def host_problems(compose: dict, objects: list[dict], prometheus: dict) -> list[str]:
    """The Host the health checks, probes and scrapes send is one ALLOWED_HOSTS lets in
    (else Django answers 400 and the process looks dead)."""
    problems = []
    given = compose["services"]["web"]["environment"]["ALLOWED_HOSTS"]
    allowed = {h for h in re.sub(r"\$\{[^}]*\}", "", given).split(",") if h}
    asked = {"127.0.0.1"}  # the health checks' http://127.0.0.1:<port>/...
    asked |= {
        t.split(":")[0]
        for j in prometheus["scrape_configs"]
        if j["job_name"] != "prometheus" and "metrics_path" in j
        for g in j["static_configs"]
        for t in g["targets"]
    }
    problems += [f"compose: ALLOWED_HOSTS lacks {h}" for h in sorted(asked - allowed)]
    config = next(
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "inventory-config"
    )
    allowed = set(config["data"]["ALLOWED_HOSTS"].split(","))
    for obj in objects:
        for container in (pod_spec(obj) or {}).get("containers", []):
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                http = container.get(probe, {}).get("httpGet")
                if not http:
                    continue
                hosts = {h["value"] for h in http.get("httpHeaders", []) if h["name"] == "Host"}
                if not hosts & allowed:
                    problems.append(
                        f"k8s {obj['metadata']['name']} {probe}: its Host is not allowed"
                    )
    return problems


def grace_problems(compose: dict, objects: list[dict]) -> list[str]:
    """Processes are given time to stop gracefully: gunicorn's graceful_timeout, daphne's
    application close timeout, a Celery task's time limit, each after the preStop pause."""
    gunicorn = runpy.run_path(str(GUNICORN))
    ws_close = float(
        option(compose["services"]["ws"]["command"], "--application-close-timeout") or 0
    )
    needs = {
        "web": gunicorn["graceful_timeout"],
        "ws": ws_close,
        "worker": settings.CELERY_TASK_TIME_LIMIT,
    }
    problems = []
    if not ws_close:
        problems.append("daphne runs without --application-close-timeout")
    for service, need in needs.items():
        grace = duration_seconds(compose["services"][service].get("stop_grace_period", "10s"))
        if grace <= need:
            problems.append(f"compose {service}: stop_grace_period {grace}s <= {need}s")
        workload = PROCESSES[service]
        (obj,) = [
            o for o in objects if o["metadata"]["name"] == workload and o["kind"] == "Deployment"
        ]
        container = k8s_container(objects, workload)
        pre_stop = (
            container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        )
        pause = float(pre_stop[-1]) if pre_stop[:1] == ["sleep"] else 0
        if service in {"web", "ws"} and not pause:
            problems.append(f"k8s {workload}: no preStop pause before SIGTERM")
        grace = obj["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        if grace <= pause + need:
            problems.append(
                f"k8s {workload}: terminationGracePeriodSeconds {grace} <= {pause + need}"
            )
    beat = [
        o
        for o in objects
        if o["metadata"]["name"] == "inventory-beat" and o["kind"] == "Deployment"
    ]
    if beat and (
        beat[0]["spec"]["replicas"] != 1 or beat[0]["spec"]["strategy"]["type"] != "Recreate"
    ):
        problems.append("k8s beat: not one replica replaced by Recreate")
    return problems


def nginx_text_problems(text: str) -> list[str]:
    """The scheme a TLS-terminating balancer reports is passed on, import uploads fit, and
    /metrics stays inside."""
    problems = []
    if "X-Forwarded-Proto $scheme" in text:
        problems.append("X-Forwarded-Proto is nginx's own $scheme")
    if not re.search(r"map \$http_x_forwarded_proto \$forwarded_proto", text):
        problems.append("no map from the balancer's X-Forwarded-Proto")
    locations = re.findall(r"location\s+[^{]*{[^}]*}", text)
    for location in locations:
        if "proxy_pass" in location and "X-Forwarded-Proto $forwarded_proto" not in location:
            problems.append(f"{location.splitlines()[0]} passes no X-Forwarded-Proto")
    imports = [loc for loc in locations if re.match(r"location\s+/import/", loc)]
    size = re.search(r"client_max_body_size\s+(\d+)m", imports[0]) if imports else None
    if not size or int(size.group(1)) * 1024 * 1024 <= IMPORT_MAX_BYTES:
        problems.append("/import/ refuses uploads the page accepts")
    if not re.search(r"location\s+=\s*/metrics\s*{[^}]*(deny all|return 40\d)", text):
        problems.append("/metrics is open to the public")
    return problems


def metric_name_problems(queries: list[str], defined: set[str]) -> list[str]:
    """Every inventory_* series a rule or panel asks for is one the app exports."""
    suffixes = ("_bucket", "_count", "_sum")
    problems = []
    for name in sorted({n for q in queries for n in re.findall(r"\binventory_[a-z_]+", q)}):
        base = next((name[: -len(s)] for s in suffixes if name.endswith(s)), name)
        if name not in defined and base not in defined:
            problems.append(f"{name} is no metric of the app")
    return problems


def rule_queries(text: str) -> list[str]:
    return [r["expr"] for g in yaml.safe_load(text)["groups"] for r in g["rules"]]


def dashboard_queries(boards: dict[str, dict]) -> list[str]:
    return [t["expr"] for b in boards.values() for p in b["panels"] for t in p["targets"]]


def grafana_problems(dashboards: dict[str, dict], datasource_uids: set[str]) -> list[str]:
    problems = []
    for name, board in dashboards.items():
        if not board.get("uid") or not board.get("title"):
            problems.append(f"{name}: no uid or title")
        panels = board.get("panels") or []
        if not panels:
            problems.append(f"{name}: no panels")
        ids = [p.get("id") for p in panels]
        if len(set(ids)) != len(ids):
            problems.append(f"{name}: panel ids repeat")
        for panel in panels:
            where = f"{name}: panel {panel.get('title')!r}"
            if not panel.get("type") or not panel.get("gridPos"):
                problems.append(f"{where}: no type or position")
            if panel.get("datasource", {}).get("uid") not in datasource_uids:
                problems.append(f"{where}: unknown datasource")
            if not [t for t in panel.get("targets", []) if t.get("expr")]:
                problems.append(f"{where}: no query")
    return problems


def dashboards() -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text()) for p in sorted((GRAFANA / "dashboards").glob("*.json"))
    }


def datasource_uids() -> set[str]:
    uids = set()
    for path in (GRAFANA / "provisioning" / "datasources").glob("*.yml"):
        uids |= {d["uid"] for d in yaml.safe_load(path.read_text())["datasources"]}
    return uids


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


def prometheus_config_for_promtool(folder: Path, text: str, rules: str) -> Path:
    """The scrape config with the container's paths (rules, token secret) pointing at
    copies in ``folder``."""
    (folder / "alerts.yml").write_text(rules)
    (folder / "token").write_text("token\n")
    text = text.replace("/etc/prometheus/alerts.yml", str(folder / "alerts.yml"))
    text = text.replace("/run/secrets/metrics_token", str(folder / "token"))
    path = folder / "prometheus.yml"
    path.write_text(text)
    return path


def queries_as_rules(folder: Path, exprs: list[str]) -> Path:
    """Dashboard queries as recording rules, so promtool parses each one."""
    rules = [{"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)]
    path = folder / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return path


def nginx_config(folder: Path, site: str, port: int, upstream_port: int) -> Path:
    """A whole nginx.conf around ours (as the image's conf.d includes it): upstreams on
    loopback, listening on ``port``, every path inside ``folder``, one process as us."""
    site = re.sub(r"server\s+web:\d+", f"server 127.0.0.1:{upstream_port}", site)
    site = re.sub(r"server\s+ws:\d+", f"server 127.0.0.1:{upstream_port}", site)
    site = re.sub(r"listen\s+80;", f"listen 127.0.0.1:{port};", site)
    (folder / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    path = folder / "nginx.conf"
    path.write_text(
        f"master_process off;\ndaemon off;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n  access_log off;\n  {temp}\n  include {folder / 'site.conf'};\n}}\n"
    )
    return path


def nginx_check(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NGINX_BIN, "-t", "-q", "-e", str(config.parent / "error.log"), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )


# YAML ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_deployment_parses(path):
    assert yaml_problems(path.read_text()) == []


def test_a_yaml_file_with_a_broken_indent_is_reported():
    assert yaml_problems("services:\n  web:\n    image: x\n   command: [\n")


# Kubernetes ---------------------------------------------------------------------------------


def test_the_kubernetes_objects_are_complete_and_point_at_each_other():
    assert k8s_problems(load_k8s()) == []


def test_the_manifests_hold_what_the_topology_needs():
    objects = load_k8s()
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert {
        ("Deployment", "inventory-web"),
        ("Deployment", "inventory-ws"),
        ("Deployment", "inventory-worker"),
        ("Deployment", "inventory-beat"),
        ("StatefulSet", "inventory-postgres"),
        ("HorizontalPodAutoscaler", "inventory-web"),
        ("PodDisruptionBudget", "inventory-web"),
        ("PodDisruptionBudget", "inventory-ws"),
        ("Ingress", "inventory"),
        ("Job", "inventory-migrate"),
        ("CronJob", "inventory-backup"),
        ("Secret", "inventory-app"),
        ("ConfigMap", "inventory-config"),
    } <= kinds
    replicas = {
        o["metadata"]["name"]: o["spec"].get("replicas")
        for o in objects
        if o["kind"] == "Deployment"
    }
    assert replicas["inventory-web"] == 3
    assert replicas["inventory-ws"] == 2
    (postgres,) = [
        o
        for o in objects
        if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "inventory-postgres"
    ]
    assert postgres["spec"]["volumeClaimTemplates"]
    (ingress,) = [o for o in objects if o["kind"] == "Ingress"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "21m"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def test_a_container_without_probes_or_resources_is_reported():
    objects = copy.deepcopy(load_k8s())
    container = k8s_container(objects, "inventory-ws")
    del container["readinessProbe"], container["resources"]
    problems = k8s_problems(objects)
    assert "Deployment inventory-ws container ws: no readinessProbe" in problems
    assert "Deployment inventory-ws container ws: no resource requests and memory limit" in problems


def test_an_object_without_a_version_or_a_service_selecting_nothing_is_reported():
    objects = copy.deepcopy(load_k8s())
    web_service = next(
        o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "inventory-web"
    )
    web_service["spec"]["selector"] = {"app.kubernetes.io/name": "inventory-wbe"}
    next(o for o in objects if o["kind"] == "CronJob")["apiVersion"] = "batch/v1beta1"
    problems = k8s_problems(objects)
    assert "Service inventory-web: selects no pods" in problems
    assert "CronJob inventory-backup: apiVersion batch/v1beta1" in problems


# Compose ------------------------------------------------------------------------------------


def test_every_long_running_compose_service_has_a_health_check():
    compose = load_compose()
    assert compose_health_problems(compose) == []
    assert {
        "postgres",
        "redis",
        "migrate",
        "web",
        "ws",
        "worker",
        "beat",
        "nginx",
        "prometheus",
        "grafana",
    } <= set(compose["services"])


def test_a_compose_service_without_a_health_check_is_reported():
    compose = load_compose()
    del compose["services"]["beat"]["healthcheck"]
    compose["services"]["worker"]["healthcheck"] = {"disable": True}
    assert compose_health_problems(compose) == ["worker: no health check", "beat: no health check"]


# Commands, environment, ports, URLs ---------------------------------------------------------


def test_compose_kubernetes_and_the_image_run_the_same_commands():
    assert command_problems(load_compose(), load_k8s(), DOCKERFILE.read_text()) == []


def test_a_command_that_differs_between_compose_and_kubernetes_is_reported():
    compose = load_compose()
    compose["services"]["worker"]["command"] = [
        *compose["services"]["worker"]["command"],
        "--concurrency",
        "2",
    ]
    dockerfile = DOCKERFILE.read_text().replace(
        '"--bind", "0.0.0.0:8000"', '"--bind", "0.0.0.0:9000"'
    )
    problems = command_problems(compose, load_k8s(), dockerfile)
    assert [p.split(":")[0] for p in problems] == ["worker", "web"]


def test_every_variable_given_to_the_app_is_one_it_reads_and_none_it_needs_is_missing():
    assert env_problems(load_compose(), load_k8s(), env_names_read_by_app()) == []


def test_a_misspelt_or_missing_variable_is_reported():
    compose = load_compose()
    environment = compose["services"]["web"]["environment"]
    environment["REDIS_ULR"] = environment.pop("REDIS_URL")
    objects = copy.deepcopy(load_k8s())
    secret = next(o for o in objects if o["metadata"]["name"] == "inventory-app")
    del secret["stringData"]["SECRET_KEY"]
    problems = env_problems(compose, objects, env_names_read_by_app())
    assert "compose web: REDIS_ULR is read by nothing" in problems
    assert "compose web: REDIS_URL is missing" in problems
    assert "k8s inventory-web: SECRET_KEY is missing" in problems


def test_ports_agree_between_compose_the_image_kubernetes_nginx_and_prometheus():
    problems = port_problems(
        load_compose(),
        load_k8s(),
        NGINX.read_text(),
        yaml.safe_load(PROMETHEUS.read_text()),
        DOCKERFILE.read_text(),
    )
    assert problems == []


def test_a_port_that_differs_anywhere_is_reported():
    nginx = NGINX.read_text().replace("server ws:8001", "server ws:8002")
    prometheus = yaml.safe_load(PROMETHEUS.read_text().replace("worker:9808", "worker:9809"))
    problems = port_problems(load_compose(), load_k8s(), nginx, prometheus, DOCKERFILE.read_text())
    assert problems == [
        "nginx sends /ws/ to ws:8002, not ws:8001",
        "Prometheus scrapes worker at worker:9809, not worker:9808",
    ]


def test_the_health_and_metrics_urls_probed_and_scraped_are_the_apps():
    problems = url_problems(
        load_compose(), load_k8s(), yaml.safe_load(PROMETHEUS.read_text()), DOCKERFILE.read_text()
    )
    assert problems == []


def test_a_probe_on_a_url_the_app_does_not_have_is_reported():
    objects = copy.deepcopy(load_k8s())
    k8s_container(objects, "inventory-web")["livenessProbe"]["httpGet"]["path"] = "/health/alive"
    problems = url_problems(
        load_compose(), objects, yaml.safe_load(PROMETHEUS.read_text()), DOCKERFILE.read_text()
    )
    assert problems == ["/health/alive is no URL of the app"]


def test_each_process_is_given_longer_to_stop_than_it_needs_to_finish_its_work():
    assert grace_problems(load_compose(), load_k8s()) == []


def test_a_grace_period_shorter_than_the_work_in_flight_is_reported():
    compose = load_compose()
    compose["services"]["worker"]["stop_grace_period"] = "30s"
    objects = copy.deepcopy(load_k8s())
    del k8s_container(objects, "inventory-web")["lifecycle"]
    problems = grace_problems(compose, objects)
    assert (
        f"compose worker: stop_grace_period 30.0s <= {settings.CELERY_TASK_TIME_LIMIT}s" in problems
    )
    assert "k8s inventory-web: no preStop pause before SIGTERM" in problems


# nginx --------------------------------------------------------------------------------------


def test_nginx_passes_the_balancers_scheme_takes_imports_and_keeps_metrics_inside():
    assert nginx_text_problems(NGINX.read_text()) == []


def test_nginx_passing_its_own_scheme_or_refusing_imports_is_reported():
    broken = NGINX.read_text().replace("$forwarded_proto;", "$scheme;").replace("21m", "1m")
    problems = nginx_text_problems(broken)
    assert "X-Forwarded-Proto is nginx's own $scheme" in problems
    assert "/import/ refuses uploads the page accepts" in problems


@needs_nginx
def test_nginx_accepts_the_config(tmp_path):
    done = nginx_check(nginx_config(tmp_path, NGINX.read_text(), free_port(), free_port()))
    assert done.returncode == 0, done.stderr


@needs_nginx
def test_nginx_refuses_a_broken_config(tmp_path):
    broken = NGINX.read_text().replace("keepalive 32;", "keepalive 32")
    done = nginx_check(nginx_config(tmp_path, broken, free_port(), free_port()))
    assert done.returncode != 0


class Recorder(http.server.BaseHTTPRequestHandler):
    """The upstream: answers every request with the headers and body size it got."""

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(
            {"path": self.path, "headers": dict(self.headers), "length": length}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


@pytest.fixture
def nginx_in_front(tmp_path):
    """Our nginx.conf served by Debian's nginx on loopback, in front of a Recorder."""
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    config = nginx_config(tmp_path, NGINX.read_text(), port, upstream.server_address[1])
    process = subprocess.Popen(
        [NGINX_BIN, "-e", str(tmp_path / "error.log"), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/health/live", timeout=1)
            break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                pytest.fail(process.stderr.read().decode())
            threading.Event().wait(0.05)
    yield base
    process.terminate()
    process.wait(timeout=10)
    upstream.shutdown()


def fetch(url: str, body: bytes | None = None, **headers: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


@needs_nginx
def test_behind_a_tls_balancer_the_app_hears_https(nginx_in_front):
    status, seen = fetch(f"{nginx_in_front}/stock/", **{"X-Forwarded-Proto": "https"})
    assert (status, seen["headers"]["X-Forwarded-Proto"]) == (200, "https")


@needs_nginx
def test_without_a_balancer_the_app_hears_nginxs_own_scheme(nginx_in_front):
    status, seen = fetch(f"{nginx_in_front}/stock/")
    assert (status, seen["headers"]["X-Forwarded-Proto"]) == (200, "http")
    assert seen["headers"]["X-Real-IP"] == "127.0.0.1"


@needs_nginx
def test_an_import_upload_of_twenty_megabytes_reaches_the_app(nginx_in_front):
    status, seen = fetch(f"{nginx_in_front}/import/", body=b"x" * IMPORT_MAX_BYTES)
    assert (status, seen["length"]) == (200, IMPORT_MAX_BYTES)


@needs_nginx
def test_a_two_megabyte_body_elsewhere_is_refused_by_nginx(nginx_in_front):
    status, _ = fetch(f"{nginx_in_front}/api/v1/movements/", body=b"x" * (2 * 1024 * 1024))
    assert status == 413


@needs_nginx
def test_metrics_are_not_served_to_the_public(nginx_in_front):
    status, _ = fetch(f"{nginx_in_front}/metrics", Authorization="Bearer token")
    assert status == 404


# Prometheus ---------------------------------------------------------------------------------


@needs_promtool
def test_promtool_accepts_the_scrape_config_and_the_alert_rules(tmp_path):
    config = prometheus_config_for_promtool(tmp_path, PROMETHEUS.read_text(), ALERTS.read_text())
    done = promtool("check", "config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_refuses_a_rule_that_does_not_parse(tmp_path):
    broken = ALERTS.read_text().replace("> 0.05", "> > 0.05")
    config = prometheus_config_for_promtool(tmp_path, PROMETHEUS.read_text(), broken)
    assert promtool("check", "config", str(config)).returncode != 0
    assert promtool("check", "rules", str(tmp_path / "alerts.yml")).returncode != 0


def test_the_rules_alert_on_what_the_issue_names():
    rules = {
        r["alert"]: r["expr"]
        for g in yaml.safe_load(ALERTS.read_text())["groups"]
        for r in g["rules"]
    }
    assert "> 0.05" in rules["HighErrorRate"]
    assert "histogram_quantile(0.95" in rules["HighLatencyP95"]
    assert rules["HighLatencyP95"].rstrip().endswith("> 1")
    assert 'up{job="worker"}' in rules["WorkersDown"]
    assert "inventory_alert_mail" in rules["AlertMailFailing"]
    assert "inventory_stock_levels_below_threshold" in rules["LowStock"]


ERROR_RATE_TEST = """
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'django_http_responses_total_by_status_view_method_total{{status="200"}}'
        values: '0+90x20'
      - series: 'django_http_responses_total_by_status_view_method_total{{status="500"}}'
        values: '0+{errors}x20'
    alert_rule_test:
      - eval_time: 15m
        alertname: HighErrorRate
        exp_alerts:{expected}
"""
FIRING = """
          - exp_labels: {severity: page}
            exp_annotations:
              summary: More than 5 % of requests fail with a server error
              description: 10% of responses were 5xx over the last 5 minutes.
"""


@needs_promtool
@pytest.mark.parametrize(("errors", "fires"), [(10, True), (2, False)])
def test_the_error_rate_alert_fires_above_five_percent_only(tmp_path, errors, fires):
    expected = FIRING if fires else " []"
    test = tmp_path / "test.yml"
    test.write_text(ERROR_RATE_TEST.format(rules=ALERTS, errors=errors, expected=expected))
    done = promtool("test", "rules", str(test))
    assert done.returncode == 0, done.stdout + done.stderr


# Grafana ------------------------------------------------------------------------------------


def test_the_grafana_dashboards_are_valid_models_with_panels():
    boards = dashboards()
    assert set(boards) == {"system", "inventory", "api", "realtime"}
    assert grafana_problems(boards, datasource_uids()) == []


def test_a_dashboard_without_panels_or_with_an_unknown_datasource_is_reported():
    boards = copy.deepcopy(dashboards())
    boards["system"]["panels"] = []
    boards["api"]["panels"][0]["datasource"]["uid"] = "elsewhere"
    problems = grafana_problems(boards, datasource_uids())
    assert "system: no panels" in problems
    assert f"api: panel {boards['api']['panels'][0]['title']!r}: unknown datasource" in problems


@needs_promtool
def test_every_dashboard_query_parses(tmp_path):
    done = promtool(
        "check", "rules", str(queries_as_rules(tmp_path, dashboard_queries(dashboards())))
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_a_dashboard_query_that_does_not_parse_is_refused(tmp_path):
    done = promtool("check", "rules", str(queries_as_rules(tmp_path, ["sum(rate(up[5m])"])))
    assert done.returncode != 0


def test_every_inventory_metric_the_rules_and_dashboards_ask_for_is_exported():
    queries = rule_queries(ALERTS.read_text()) + dashboard_queries(dashboards())
    assert metric_name_problems(queries, metrics_defined_by_app()) == []


def test_a_misnamed_metric_in_a_rule_is_reported():
    queries = rule_queries(
        ALERTS.read_text().replace("inventory_alert_mail_total", "inventory_alert_emails_total")
    )
    problems = metric_name_problems(queries, metrics_defined_by_app())
    assert problems == ["inventory_alert_emails_total is no metric of the app"]


def test_health_checks_probes_and_scrapes_send_a_host_the_app_allows():
    problems = host_problems(load_compose(), load_k8s(), yaml.safe_load(PROMETHEUS.read_text()))
    assert problems == []


def test_a_probe_or_scrape_with_a_host_the_app_refuses_is_reported():
    compose = load_compose()
    environment = compose["services"]["web"]["environment"]
    environment["ALLOWED_HOSTS"] = environment["ALLOWED_HOSTS"].replace(",web", "")
    objects = copy.deepcopy(load_k8s())
    probe = k8s_container(objects, "inventory-ws")["readinessProbe"]["httpGet"]
    probe["httpHeaders"] = [h for h in probe["httpHeaders"] if h["name"] != "Host"]
    problems = host_problems(compose, objects, yaml.safe_load(PROMETHEUS.read_text()))
    assert problems == [
        "compose: ALLOWED_HOSTS lacks web",
        "k8s inventory-ws readinessProbe: its Host is not allowed",
    ]
