import os
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings

SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DJANGO_ENV", "SECRET_KEY")


def embedded_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh checkout: no services configured, a private SQLite file."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_client(user=None):
    """An API client signed in as ``user`` (anonymous without one)."""
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def page_client(user):
    """A browser's test client, signed in as ``user``."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def database_url() -> str:
    """The test database, as another process (a worker, a server) must reach it."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
