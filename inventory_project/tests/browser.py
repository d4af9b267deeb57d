"""What the browser tests stand on: the app served by a real daphne on a loopback port against
the test database and the run's Redis, and Debian's Chromium driven by Playwright.

The server is daphne's ``runserver`` (as ``make run`` serves the app): plain ``daphne`` serves
no static files, and the pages need their stylesheet and live script; ``--insecure`` has
runserver serve them whatever ``DJANGO_DEBUG`` says, and ``--noreload`` keeps it one process.
"""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.test import Client

from inventory_project.tests.helpers import database_url, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
NO_CHROMIUM = (
    f"The browser tests drive Debian's Chromium ({CHROMIUM}), which is not installed: "
    "`make browser` installs it (as root: apt-get install chromium fonts-dejavu-core)."
)

WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 375, "height": 800}


class LiveServer:
    """The app on a free loopback port: HTTP, websockets and static files."""

    def __init__(self, log: Path, channel_prefix: str) -> None:
        self.port = free_port()
        self.log = log
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env.update(
            DJANGO_SETTINGS_MODULE="inventory_project.tests.browser_settings",
            BROWSER_CHANNEL_PREFIX=channel_prefix,
            DATABASE_URL=database_url(),
            REDIS_URL=settings.REDIS_URL,
            PYTHONUNBUFFERED="1",
        )
        self.process = subprocess.Popen(
            [
                *(sys.executable, "manage.py", "runserver", "--noreload", "--insecure"),
                f"127.0.0.1:{self.port}",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server exited:\n{self.log.read_text()}")
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"The server did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )


def session_cookie(user, server: LiveServer) -> dict:
    """A session of ``user`` in the test database, as the sign-in page would start one."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": server.url,
        "httpOnly": True,
        "sameSite": "Lax",
    }


def horizontal_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0: it fits the window)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


class CeleryWorker:
    """``celery worker`` with ``env``, one process in a process group of its own, named
    ``name`` (its node name), its output in ``log``; ready once it says so."""

    def __init__(self, env: dict[str, str], log: Path, name: str) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "--app", "inventory_project", "worker"),
                *("--concurrency=1", "--without-gossip", "--without-mingle"),
                *("--without-heartbeat", f"--hostname={name}-{os.getpid()}@%h"),
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The worker did not start:\n{log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
