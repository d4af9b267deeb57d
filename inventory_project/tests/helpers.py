import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from channels.layers import get_channel_layer
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


class GroupListener:
    """A channel in ``group`` on the real channel layer, read by an event loop of its own in
    a thread, as the websocket consumers read it (the publish/subscribe layer keeps its
    channels per event loop)."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.events: list[dict] = []
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.run(),))
        self.thread.start()
        assert self.ready.wait(10)

    async def run(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self.ready.set()
        try:
            while True:
                message = await layer.receive(channel)
                self.events.append(json.loads(message["text"]))
        except asyncio.CancelledError:
            await layer.group_discard(self.group, channel)

    def received(self, quiet: float = 0.5) -> list[dict]:
        """What arrived, once nothing more has for ``quiet`` seconds."""
        count = -1
        while count != len(self.events):
            count = len(self.events)
            time.sleep(quiet)
        return list(self.events)

    def stop(self) -> None:
        for task in asyncio.all_tasks(self.loop):
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(10)
