"""The production topology of docker-compose.yml, run natively on loopback: every app process
started with the very argv its compose service gives it (read from the file, so that a test
breaks when they drift), only the hosts, ports and /tmp paths made the test's own, and the
environment the compose file hands them, interpolated as compose would from the test's own
".env". nginx is Debian's, serving deploy/nginx.conf with its upstreams on loopback."""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from inventory_project.tests.helpers import free_port

ROOT = Path(settings.BASE_DIR)
COMPOSE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
VENV_BIN = Path(sys.executable).parent

# What an operator puts in the .env beside the compose file.
PUBLIC_HOST = "inventory.example.com"
ADMIN_EMAIL = "admin@inventory.example.com"
ADMIN_PASSWORD = "a long passphrase for the topology"
METRICS_TOKEN = "topology-metrics-token-" + "x7Qp" * 8


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error}, from ``variables``."""

    def one(match: re.Match) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3) or ""
        if variables.get(name):
            return variables[name]
        if operator == ":?":
            raise KeyError(f"compose needs {name}: {rest}")
        return rest if operator == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, str(value))


def service_environment(compose: dict, service: str, variables: dict[str, str]) -> dict:
    given = compose["services"][service].get("environment") or {}
    return {name: interpolate(value, variables) for name, value in given.items()}


def loopback_argv(argv: list[str], ports: dict[str, int], folder: Path) -> list[str]:
    """``argv`` with 0.0.0.0 made 127.0.0.1, the compose ports ``ports`` maps made the
    test's, and paths in /tmp made ``folder``'s; the programs are the virtualenv's."""
    changed = []
    for arg in argv:
        arg = re.sub(r"(?<![\w/])/tmp(?=/|\s|$)", str(folder), arg.replace("0.0.0.0", "127.0.0.1"))
        for theirs, ours in ports.items():
            arg = re.sub(rf"(?<![\d]){theirs}(?![\d])", str(ours), arg)
        changed.append(arg)
    return changed


def nginx_config(folder: Path, site: str, port: int, web_port: int, ws_port: int) -> Path:
    """A whole nginx.conf around ours (as the image's conf.d includes it): the upstreams
    on loopback, listening on ``port``, every path inside ``folder``, one process as us."""
    site = re.sub(r"server\s+web:\d+", f"server 127.0.0.1:{web_port}", site)
    site = re.sub(r"server\s+ws:\d+", f"server 127.0.0.1:{ws_port}", site)
    site = re.sub(r"listen\s+80;", f"listen 127.0.0.1:{port};", site)
    (folder / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    path = folder / "nginx.conf"
    path.write_text(
        f"master_process off;\ndaemon off;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log {folder / 'access.log'};\n  {temp}\n"
        f"  include {folder / 'site.conf'};\n}}\n"
    )
    return path


class Process:
    """One process of the topology, in a process group of its own, its output in ``log``."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.log = name, argv, log
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_for(self, ready, timeout: float = 60) -> None:
        """Until ``ready()`` is true; fails with the log if the process exits first."""
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.running():
                raise RuntimeError(f"{self.name} exited:\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.output()[-4000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if not self.running():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def answers(url: str, **headers: str) -> bool:
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2)
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def start_nginx(folder: Path, site: str, web_port: int, ws_port: int) -> tuple[Process, str]:
    """Debian's nginx serving ``site`` as a non-daemon; its base URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = nginx_config(folder, site, port, web_port, ws_port)
    process = Process(
        "nginx",
        [NGINX_BIN, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(config)],
        dict(os.environ),
        folder / "nginx.out",
    )
    base = f"http://127.0.0.1:{port}"
    process.wait_for(lambda: answers(f"{base}/health/live"), timeout=20)
    return process, base


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples carrying ``labels`` in a Prometheus exposition."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def shell_quote(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
