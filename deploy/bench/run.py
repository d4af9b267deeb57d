"""``make bench``: how fast the app answers, next to how fast its database could.

1. A database of its own (``inv_bench``) migrated, filled by dataset.sql (50 branches x
   20,000 products = 1,000,000 stock levels; kept when it already has that size), and
   branch permissions synced from the memberships.
2. gunicorn started exactly as deploy/Dockerfile's CMD starts it (read from there; only
   the address changes to 127.0.0.1 and a free port), with the production settings.
3. prepare.py signs a device in and captures the SQL of one request of each operation as a
   pgbench script.
4. Per operation: pgbench with that SQL (the database alone), then wrk with a Lua script
   (the app), the same connections and duration.
5. An open-loop paced client (paced.py), then ``bench_realtime`` against 1, 2 and 4 daphne
   processes on the same Redis.
6. One table, printed and written to deploy/bench/last-run.md. Asserts nothing.

Environment: BENCH_DATABASE (inv_bench), BENCH_POSTGRES (postgres://postgres@127.0.0.1:5432),
BENCH_REDIS_URL (redis://127.0.0.1:6379/10), BENCH_BROKER_URL (.../11), BENCH_SECONDS (10;
QUICK=1 makes it 3), BENCH_CONNECTIONS (50), BENCH_THREADS (2), BENCH_PACED_USERS (200),
BENCH_PACED_SECONDS (20), BENCH_WS_CLIENTS (1000), BENCH_WS_EVENTS (20),
BENCH_BRANCHES (50), BENCH_PRODUCTS (20000), BENCH_REGENERATE=1 to rebuild the dataset,
BENCH_ONLY (comma-separated operation names, to run some only), BENCH_PROFILE
(comma-separated operation names, or 1 for receive_alone: py-spy samples gunicorn's workers
during that operation's wrk run; the collapsed stacks go to work/profile_<name>.txt and a
summary of where the workers' time went is printed after the table).
"""

import contextlib
import datetime
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYTHON = sys.executable
QUICK = os.environ.get("QUICK", "") not in ("", "0")


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


SECONDS = int(setting("BENCH_SECONDS", "3" if QUICK else "10"))
CONNECTIONS = int(setting("BENCH_CONNECTIONS", "50"))
THREADS = int(setting("BENCH_THREADS", "2"))
BRANCHES = int(setting("BENCH_BRANCHES", "50"))
PRODUCTS = int(setting("BENCH_PRODUCTS", "20000"))
DATABASE = setting("BENCH_DATABASE", "inv_bench")
POSTGRES = setting("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE_URL = f"{POSTGRES}/{DATABASE}"
REDIS_URL = setting("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
BROKER_URL = setting("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11")
PACED_USERS = int(setting("BENCH_PACED_USERS", "200"))
PACED_SECONDS = int(setting("BENCH_PACED_SECONDS", "5" if QUICK else "20"))
WS_CLIENTS = int(setting("BENCH_WS_CLIENTS", "1000"))
WS_EVENTS = int(setting("BENCH_WS_EVENTS", "10" if QUICK else "20"))
ONLY = {name for name in setting("BENCH_ONLY", "").split(",") if name}
PROFILE = {
    "receive_alone" if name == "1" else name
    for name in setting("BENCH_PROFILE", "").split(",")
    if name and name != "0"
}
WORK = Path(setting("BENCH_WORK", str(HERE / "work")))
PER_PAGE = 50
PAGES = PRODUCTS // PER_PAGE
WORDS = ["bolt", "valve", "brass", "lamp 12", "BENCH-0042", "zinc"]
SORTS = ["name", "-name", "sku", "-sku", "on_hand", "-on_hand", "updated", "-updated"]
MOVEMENT_PATH = "/api/v1/movements/receive/"
LEVELS_PATH = "/api/v1/stock-levels/"

# Every process this run starts, each in a process group of its own, ended at exit.
STARTED: list[subprocess.Popen] = []


def log(message: str) -> None:
    sys.stdout.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()


# Environment -------------------------------------------------------------------------------


def server_env() -> dict[str, str]:
    """The production settings, on loopback, with this run's database and Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "API_"))
    }
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=BROKER_URL,
        STATIC_ROOT=str(WORK / "static"),
        # One user sends every request: the per-user limit (1200/min) would answer most
        # of them 429. Raised out of reach, so that counting requests is still measured.
        API_USER_RATE="1000000000/min",
        API_ANON_RATE="1000000000/min",
        PYTHONUNBUFFERED="1",
    )
    return env


SECRET_KEY = "bench-" + secrets.token_urlsafe(48)


def manage(*args: str, env: dict | None = None, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env or server_env(),
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def psql(sql: str, database: str = DATABASE) -> str:
    return subprocess.run(
        ["psql", f"{POSTGRES}/{database}", "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    ).stdout.strip()


def start(command: list[str], log_name: str, env: dict) -> subprocess.Popen:
    output = open(WORK / log_name, "w")  # noqa: SIM115 -- the server's, for its lifetime
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    STARTED.append(process)
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    if process in STARTED:
        STARTED.remove(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The server stopped; see {WORK}/{process.args[0]}*.log")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"No answer from {url} within {seconds} s.")


# 1. Dataset --------------------------------------------------------------------------------


def dataset() -> None:
    if not psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", "postgres"):
        psql(f'CREATE DATABASE "{DATABASE}"', "postgres")
    log(f"migrate {DATABASE}")
    manage("migrate", "--noinput", "-v", "0")
    # Only the generated branches: bench_realtime adds a branch (BENCH-WS) of its own.
    levels = psql(
        "SELECT (SELECT count(*) FROM stock_stocklevel l JOIN branches_branch b"
        "        ON b.id = l.branch_id WHERE b.code ~ '^BENCH-[0-9]+$'),"
        " (SELECT count(*) FROM branches_branch WHERE code ~ '^BENCH-[0-9]+$'),"
        " (SELECT count(*) FROM accounts_user WHERE email = 'bench-manager@example.com')"
    )
    wanted = f"{BRANCHES * PRODUCTS}|{BRANCHES}|1"
    if levels == wanted and not os.environ.get("BENCH_REGENERATE"):
        log(f"dataset kept: {BRANCHES * PRODUCTS:,} stock levels (BENCH_REGENERATE=1 rebuilds)")
    else:
        log(f"generating {BRANCHES} branches x {PRODUCTS:,} products")
        started = time.monotonic()
        subprocess.run(
            [
                "psql",
                DATABASE_URL,
                "-q",
                "-v",
                f"branches={BRANCHES}",
                "-v",
                f"products={PRODUCTS}",
                "-f",
                str(HERE / "dataset.sql"),
            ],
            check=True,
        )
        log(f"dataset generated in {time.monotonic() - started:.0f} s")
    manage("sync_branch_permissions")


# 2.-3. Server and captured SQL --------------------------------------------------------------


def gunicorn_command(port: int) -> list[str]:
    """deploy/Dockerfile's CMD, with its --bind pointed at loopback."""
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    found = re.search(r"^CMD\s+(\[.*?\])\s*$", text, re.MULTILINE | re.DOTALL)
    if not found:
        raise SystemExit("deploy/Dockerfile has no CMD [...] to start gunicorn with.")
    command = json.loads(found.group(1).replace("\\\n", " "))
    if command[0] != "gunicorn" or "--bind" not in command:
        raise SystemExit(f"deploy/Dockerfile's CMD is not a gunicorn --bind ...: {command}")
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[0] = str(Path(PYTHON).parent / "gunicorn")
    return command


def list_paging(port: int) -> tuple[str, set[str]]:
    """How the stock-level list pages (offset, page or cursor), from the served schema."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/?format=json") as answer:
        schema = json.load(answer)
    parameters = {
        parameter["name"] for parameter in schema["paths"][LEVELS_PATH]["get"].get("parameters", [])
    }
    for style in ("cursor", "offset", "page"):
        if style in parameters:
            return style, parameters
    return "none", parameters


def operations(paging: str, parameters: set[str]) -> list[dict]:
    """What is measured: each with its wrk script and environment, and the request(s)
    prepare.py captures for pgbench."""
    branch = "md5-branch-1"  # replaced below; the list is of branch 1 (20,000 levels)
    page_arg = {"offset": "limit=50&offset={offset}", "page": "page={page}"}.get(paging, "")
    base = f"{LEVELS_PATH}?branch={branch}" + (f"&{page_arg}" if page_arg else "")

    def capture(path: str, **extra) -> dict:
        page = 7
        return {
            "path": path.format(
                page=page, offset=(page - 1) * PER_PAGE, word="valve", sort="-on_hand"
            ),
            "offset": (page - 1) * PER_PAGE if "{offset}" in path or "{page}" in path else None,
            **extra,
        }

    movement = {"method": "POST", "auth": "token", "script": "movement.lua", "path": MOVEMENT_PATH}
    ops = [
        {
            **movement,
            "name": "receive",
            "label": "receive a movement, random level",
            "level": "random",
        },
        {
            **movement,
            "name": "receive_key",
            "label": "the same with an Idempotency-Key",
            "level": "random",
            "idempotent": True,
        },
        {**movement, "name": "receive_hot", "label": "receive on one hot level", "level": "hot"},
        {
            **movement,
            "name": "receive_hot_key",
            "label": "one hot level, Idempotency-Key",
            "level": "hot",
            "idempotent": True,
        },
        {
            **movement,
            "name": "receive_alone",
            "label": "one movement alone (c=1)",
            "level": "random",
            "connections": 1,
        },
    ]
    lists = [
        (
            "list_pages",
            "stock list API, paging by next"
            if paging == "cursor"
            else "stock list API, random page",
            base,
            {},
        ),
        # A search's first page: a word matches a tenth of the products or fewer.
        (
            "list_search",
            "stock list API, search",
            f"{LEVELS_PATH}?branch={branch}&q={{word}}",
            {"words": WORDS},
        ),
    ]
    if "ordering" in parameters:
        lists.append(("list_sort", "stock list API, sorted", base + "&ordering={sort}", {}))
    for name, label, path, extra in lists:
        captures = [capture(path, **extra)]
        if name == "list_sort":
            captures = [capture(path.replace("{sort}", sort)) for sort in SORTS]
        ops.append(
            {
                "name": name,
                "label": label,
                "method": "GET",
                "auth": "token",
                "script": "list.lua",
                "path": path,
                "captures": captures,
                "paging": paging,
                **extra,
            }
        )
    # As people page through it: the first page, then each one's Next link.
    html = "/stock/?branch=BENCH-01"
    ops += [
        {
            "name": "page_list",
            "label": "stock list page (HTML), paging by Next",
            "method": "GET",
            "auth": "session",
            "script": "list.lua",
            "path": html,
            "captures": [capture(html)],
            "paging": "cursor",
        },
        {
            "name": "page_dashboard",
            "label": "dashboard page (HTML)",
            "method": "GET",
            "auth": "session",
            "script": "list.lua",
            "path": "/?branch=BENCH-01",
            "captures": [capture("/?branch=BENCH-01")],
        },
    ]
    branch_id = prepare_ids()["branches"][0]
    for op in ops:
        op["path"] = op["path"].replace(branch, branch_id)
        for one in op.get("captures", []):
            one["path"] = one["path"].replace(branch, branch_id)
    if ONLY:
        ops = [op for op in ops if op["name"] in ONLY]
    return ops


def prepare_ids() -> dict:
    import hashlib
    import uuid

    def md5_uuid(name: str) -> str:
        return str(uuid.UUID(hashlib.md5(name.encode()).hexdigest()))

    return {
        "branches": [md5_uuid(f"bench-branch-{b}") for b in range(1, BRANCHES + 1)],
        "products": [md5_uuid(f"bench-product-{p}") for p in range(1, PRODUCTS + 1)],
    }


def prepare(ops: list[dict]) -> None:
    (WORK / "operations.json").write_text(json.dumps(ops, indent=1))
    env = {
        **server_env(),
        "BENCH_WORK": str(WORK),
        "BENCH_BRANCHES": str(BRANCHES),
        "BENCH_PRODUCTS": str(PRODUCTS),
    }
    manage("shell", "-c", "import runpy; runpy.run_path('deploy/bench/prepare.py')", env=env)


# 4.-5. Load ---------------------------------------------------------------------------------


def pgbench(op: dict) -> dict | None:
    scripts = sorted(WORK.glob(f"pg_{op['name']}.*.sql"))
    if not scripts:
        return None
    connections = op.get("connections", CONNECTIONS)
    command = [
        "pgbench",
        "-n",
        # Prepared, as the app's connections send their statements.
        "-M",
        "prepared",
        "-c",
        str(connections),
        "-j",
        str(min(THREADS, connections)),
        "-T",
        str(SECONDS),
    ]
    for script in scripts:
        command += ["-f", str(script)]
    result = subprocess.run([*command, DATABASE_URL], text=True, capture_output=True)
    output = result.stdout + result.stderr
    (WORK / f"pgbench_{op['name']}.log").write_text(output)
    tps = re.search(r"tps = ([\d.]+) \(without", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    failed = len(re.findall(r"client \d+ aborted", output))
    failed_tx = re.search(r"number of failed transactions: (\d+)", output)
    if failed_tx:
        failed += int(failed_tx.group(1))
    if not tps:
        log(f"pgbench {op['name']} gave no figures; see {WORK}/pgbench_{op['name']}.log")
        return {"tps": None, "latency_ms": None, "errors": max(failed, 1)}
    return {
        "tps": float(tps.group(1)),
        "latency_ms": float(latency.group(1)) if latency else None,
        "errors": failed,
    }


def wrk(op: dict, port: int) -> dict:
    connections = op.get("connections", CONNECTIONS)
    env = {
        **os.environ,
        "BENCH_DIR": str(HERE),
        "BENCH_IDS": str(WORK / "ids.lua"),
        "BENCH_PATH": op["path"],
        "BENCH_LEVEL": op.get("level", ""),
        "BENCH_IDEMPOTENT": "1" if op.get("idempotent") else "0",
        "BENCH_AUTH": op["auth"],
        "BENCH_PAGES": str(PAGES),
        "BENCH_PER_PAGE": str(PER_PAGE),
        "BENCH_PAGING": op.get("paging", ""),
        "BENCH_WORDS": ",".join(op.get("words", [])).replace(" ", "%20"),
        "BENCH_SORTS": ",".join(SORTS),
    }
    command = [
        "wrk",
        "-t",
        str(min(THREADS, connections)),
        "-c",
        str(connections),
        "-d",
        f"{SECONDS}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / op["script"]),
        f"http://127.0.0.1:{port}",
    ]
    result = subprocess.run(command, env=env, text=True, capture_output=True)
    (WORK / f"wrk_{op['name']}.log").write_text(result.stdout + result.stderr)
    return parse_result(result.stdout, f"wrk {op['name']}")


@contextlib.contextmanager
def profiled(op: dict, server: subprocess.Popen):
    """Sample gunicorn's workers with py-spy while ``op`` runs, when BENCH_PROFILE names it."""
    if op["name"] not in PROFILE:
        yield
        return
    py_spy = Path(PYTHON).parent / "py-spy"
    output = WORK / f"profile_{op['name']}.txt"
    # Sampling reads the workers' memory (ptrace): root, or kernel.yama.ptrace_scope=0.
    command = [str(py_spy), "record", "--pid", str(server.pid), "--subprocesses"]
    command += ["--rate", "200", "--duration", str(SECONDS), "--format", "raw"]
    command += ["--output", str(output), "--nonblocking"]
    with open(WORK / "py-spy.log", "w") as errors:
        sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            yield
        finally:
            try:
                sampler.wait(timeout=SECONDS + 30)
            except subprocess.TimeoutExpired:
                sampler.kill()
        if not output.exists():
            log(f"py-spy wrote no profile for {op['name']}: see {WORK / 'py-spy.log'}")


# Where a worker's samples are counted: the first part (in this order) with a frame anywhere
# in the sample's stack. Waiting on PostgreSQL or Redis counts as such wherever it happens;
# the rest is the Python of each part.
PROFILE_PARTS = [
    ("logging", ("logging/__init__", "kernel/logging.py")),
    ("PostgreSQL round trips (psycopg)", ("psycopg/", "psycopg_pool/")),
    ("Redis round trips", ("redis/",)),
    ("live events (after commit)", ("kernel/realtime",)),
    ("metrics", ("prometheus", "kernel/metrics", "inventory_project/metrics")),
    ("the stock service (its Python and ORM use)", ("stock/services.py", "stock/quantities.py")),
    ("authentication and permissions", ("authentication", "accounts/permissions", "knox/")),
    ("throttling", ("throttling",)),
    ("JSON parsing and rendering", ("json/", "rest_framework/renderers", "rest_framework/parsers")),
    ("DRF request, serializers, validation", ("rest_framework/",)),
    # Last among the app's parts: it wraps the whole view, so only its own work counts here.
    ("idempotency", ("kernel/idempotency",)),
    ("Django ORM elsewhere", ("django/db/",)),
    ("Django middleware, URL routing, request and response", ("django/",)),
    ("gunicorn (HTTP parsing, keep-alive, threads)", ("gunicorn/", "selectors.py", "socket.py")),
]


# A sample inside a request: gunicorn's gthread (or sync) worker handling one. The rest are
# the workers' loops and the publisher thread waiting for work.
REQUEST_FRAMES = ("ThreadWorker.handle (", "SyncWorker.handle (")


def profile_summary(name: str, collapsed: str) -> str:
    """Shares of the time spent in requests by part, from py-spy's collapsed stacks."""
    parts: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not any(frame in stack for frame in REQUEST_FRAMES):
            continue
        samples = int(count)
        total += samples
        part = next(
            (label for label, marks in PROFILE_PARTS if any(mark in stack for mark in marks)),
            "other",
        )
        parts[part] = parts.get(part, 0) + samples
    if not total:
        return f"Profile of {name}: no samples."
    lines = [
        f"Where requests spent their time during {name} ({total:,} samples at 200 Hz of",
        "threads serving a request, waiting on PostgreSQL or Redis included):",
        "",
        "| part | share |",
        "|---|---|",
    ]
    for label, samples in sorted(parts.items(), key=lambda item: -item[1]):
        lines.append(f"| {label} | {100 * samples / total:.1f} % |")
    return "\n".join(lines)


def parse_result(output: str, what: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    log(f"{what} gave no figures:\n{output[-2000:]}")
    return {}


def paced(port: int, list_path: str) -> dict:
    log(f"paced: {PACED_USERS} users, one request a second each, {PACED_SECONDS} s")
    (WORK / "ids.json").write_text(
        json.dumps({**prepare_ids(), **json.loads((WORK / "auth.json").read_text())})
    )
    result = subprocess.run(
        [
            PYTHON,
            str(HERE / "paced.py"),
            "--port",
            str(port),
            "--ids",
            str(WORK / "ids.json"),
            "--users",
            str(PACED_USERS),
            "--seconds",
            str(PACED_SECONDS),
            "--list-path",
            list_path,
            "--pages",
            str(PAGES),
            "--per-page",
            str(PER_PAGE),
            "--movement-path",
            MOVEMENT_PATH,
        ],
        text=True,
        capture_output=True,
    )
    (WORK / "paced.log").write_text(result.stdout + result.stderr)
    return parse_result(result.stdout, "paced")


def realtime() -> list[tuple[str, dict]]:
    rows = []
    env = server_env()
    # bench_realtime writes its own stock and so refuses production; it shares the
    # database and Redis with the servers.
    command_env = {**env, "DJANGO_ENV": "development"}
    for servers in (1, 2, 4):
        ports = [free_port() for _ in range(servers)]
        daphnes = [
            start(
                [
                    str(Path(PYTHON).parent / "daphne"),
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "inventory_project.asgi:application",
                ],
                f"daphne-{port}.log",
                env,
            )
            for port in ports
        ]
        try:
            for process, port in zip(daphnes, ports, strict=True):
                wait_for(f"http://127.0.0.1:{port}/healthz", process)
            for clients in (1, WS_CLIENTS):
                log(f"websocket: {clients} clients, {servers} daphne process(es)")
                try:
                    output = manage(
                        "bench_realtime",
                        "--json",
                        "--clients",
                        str(clients),
                        "--events",
                        str(WS_EVENTS),
                        "--interval",
                        "0.2",
                        "--url",
                        ",".join(f"ws://127.0.0.1:{port}" for port in ports),
                        env=command_env,
                        capture=True,
                    )
                except subprocess.CalledProcessError as error:
                    output = error.stdout or ""
                figures = parse_result(output, "bench_realtime")
                if figures:
                    figures["non2xx"] = figures["expected"] - figures["delivered"]
                rows.append(
                    (f"websocket commit → client, {clients} clients, {servers} daphne", figures)
                )
        finally:
            for process in daphnes:
                stop(process)
    return rows


# 6. Table -----------------------------------------------------------------------------------


def figure(value, unit: str = "", digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{value:,.{digits}f}{unit}"


def ms(value) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def table(rows: list[tuple[str, dict | None, dict]]) -> str:
    lines = [
        "| operation | database limit (pgbench tps / latency) | app (req/s) | ratio app/db "
        "| p50 | p95 | p99 | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, db, app in rows:
        db_text = "—"
        ratio = "—"
        if db and db.get("tps"):
            db_text = f"{db['tps']:,.0f} tps / {ms(db['latency_ms'])}"
            if db["errors"]:
                db_text += f" ({db['errors']} failed)"
            if app.get("rps"):
                ratio = f"{app['rps'] / db['tps']:.2f}"
        rps = figure(app.get("rps"), "", 0)
        if "offered_rps" in app:
            rps += f" of {app['offered_rps']} offered"
        if "delivered" in app:
            rps = f"{app['delivered']:,} of {app['expected']:,} delivered"
        errors = (app.get("non2xx") or 0) + (app.get("socket_errors") or 0) if app else "—"
        lines.append(
            f"| {label} | {db_text} | {rps} | {ratio} | {ms(app.get('p50_ms'))} "
            f"| {ms(app.get('p95_ms'))} | {ms(app.get('p99_ms'))} | {errors} |"
        )
    return "\n".join(lines)


def git_commit() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True, capture_output=True
            ).stdout.strip()
            or "?"
        )
    except OSError:
        return "?"


def main() -> None:
    for tool in ("wrk", "pgbench", "psql"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            raise SystemExit(f"{tool} is missing: make bench installs it (as root).")
    WORK.mkdir(parents=True, exist_ok=True)
    for old in WORK.glob("pg_*.sql"):
        old.unlink()
    began = time.monotonic()
    commit = git_commit()  # what the servers start from
    dataset()
    log("collectstatic")
    manage("collectstatic", "--noinput", "-v", "0")
    port = free_port()
    command = gunicorn_command(port)
    log("gunicorn: " + " ".join(command[1:]))
    server = start(command, "gunicorn.log", server_env())
    rows: list[tuple[str, dict | None, dict]] = []
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        paging, parameters = list_paging(port)
        ops = operations(paging, parameters)
        log(f"capturing the SQL of {len(ops)} operations (the list pages by {paging})")
        prepare(ops)
        for op in ops:
            log(f"{op['label']}: pgbench, then wrk, {SECONDS} s each")
            db = pgbench(op)
            with profiled(op, server):
                app = wrk(op, port)
            rows.append((op["label"], db, app))
        if not ONLY or "paced" in ONLY:
            list_op = next(
                op for op in operations(paging, parameters) if op["name"] == "list_pages"
            )
            rows.append(
                (
                    f"{PACED_USERS} users, one request a second each, half lists",
                    None,
                    paced(port, list_op["path"]),
                )
            )
    finally:
        stop(server)
    if not ONLY or "realtime" in ONLY:
        rows += [(label, None, figures) for label, figures in realtime()]
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    heading = (
        f"make bench, {stamp}, commit {commit}: {SECONDS} s per run, "
        f"{CONNECTIONS} connections, {BRANCHES} x {PRODUCTS:,} levels, "
        f"took {time.monotonic() - began:.0f} s"
    )
    text = f"{heading}\n\n{table(rows)}\n"
    for name in sorted(PROFILE):
        path = WORK / f"profile_{name}.txt"
        if path.exists():
            text += "\n" + profile_summary(name, path.read_text()) + "\n"
    (HERE / "last-run.md").write_text(text)
    sys.stdout.write("\n" + text)


def interrupted(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, interrupted)
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    finally:
        for process in list(STARTED):
            stop(process)
