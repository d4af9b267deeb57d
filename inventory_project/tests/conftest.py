"""Fixtures of the browser tests (test_browser.py): the live server, pages in Chromium, one
browser context per person, and the folder the screenshots go to."""

import os
from pathlib import Path

import pytest
from django.db import connection, connections

from inventory_project.tests.browser import (
    CHROMIUM,
    NO_CHROMIUM,
    WIDE,
    LiveServer,
    launch_chromium,
    session_cookie,
)


@pytest.fixture(scope="session")
def browser_server(django_db_setup, tmp_path_factory, worker_id):
    """The app served by daphne against the test database; tests that use it commit their
    data (``django_db(transaction=True)``) so that the server sees it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run through `make test` or set DATABASE_URL")
    log = tmp_path_factory.mktemp("browser-server") / "server.log"
    server = LiveServer(log, channel_prefix=f"browser-{worker_id}-{os.getpid()}")
    yield server
    server.stop()


@pytest.fixture
def open_page(browser_server, transactional_db, monkeypatch):
    """``open_page(user, path)``: a page in a browser context of its own (a person at their
    device), signed in as ``user``, at ``path``.

    Chromium starts with the test's first page, after the test has written what it needs,
    and stops with the test: Playwright's synchronous API keeps an event loop running in
    this thread while it is started, so Django takes the thread for an async context (the
    ORM is let through meanwhile; a live event published here would be lost)."""
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(NO_CHROMIUM)
    expect.set_options(timeout=10_000)
    started = []
    contexts = []

    def open_page(user, path: str | None = "/", viewport: dict = WIDE):
        cookie = session_cookie(user, browser_server)
        if not started:
            monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
            playwright = sync_playwright().start()
            started.append(playwright)
            started.append(launch_chromium(playwright))
        context = started[1].new_context(
            base_url=browser_server.url, viewport=viewport, locale="en-US"
        )
        contexts.append(context)
        context.add_cookies([cookie])
        page = context.new_page()
        if path is not None:
            page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()
    if started:
        # What the test asked the database meanwhile went through connections of the
        # "async context" (Django keeps connections per context then): closed in it.
        connections.close_all()
    if len(started) == 2:
        started[1].close()
    if started:
        started[0].stop()


@pytest.fixture(scope="session")
def screenshot_folder(tmp_path_factory) -> Path:
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    path = Path(folder).resolve() if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshots(screenshot_folder, record_property) -> Path:
    """Where the run's screenshots go: $BROWSER_SCREENSHOTS, or a folder of pytest's; the
    run names it at its end."""
    record_property("screenshots", str(screenshot_folder))
    return screenshot_folder


def pytest_terminal_summary(terminalreporter):
    # The reports carry the folder from xdist's workers to the run that prints the summary.
    folders = {
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == "screenshots"
    }
    for folder in sorted(folders):
        terminalreporter.write_line(f"Screenshots: {folder}")
