"""Settings of the server the browser tests start: the app's own, with its live events under a
channel-layer prefix of the test run's own (as conftest.py gives its workers), so that another
run's events on the same Redis never reach the pages under test, and the application of
browser_asgi."""

import os

from inventory_project.settings import *  # noqa: F403
from inventory_project.settings import CHANNEL_LAYERS

if "CONFIG" in CHANNEL_LAYERS["default"]:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ["BROWSER_CHANNEL_PREFIX"]

ASGI_APPLICATION = "inventory_project.tests.browser_asgi.application"
