import os

import pytest
from django.db import connection

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory


@pytest.fixture
def actor(db):
    """Someone who may do everything everywhere; tests of who may do what use roles."""
    return AdminFactory()


@pytest.fixture
def branch(db):
    return BranchFactory()


@pytest.fixture
def product(db):
    return ProductFactory()


@pytest.fixture
def postgres(db):
    """For tests of PostgreSQL behaviour (row locks, triggers); `make test` runs on it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run through `make test` or set DATABASE_URL")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The production hasher is deliberately slow; tests only need a working one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_request_throttling(settings):
    # Every test client comes from 127.0.0.1 and the counters live in the shared Redis;
    # the throttling tests set their own rates.
    settings.API_THROTTLE_RATES = {"user": None, "anon": None}


@pytest.fixture(autouse=True, scope="session")
def private_channel_layer(worker_id):
    """Each xdist worker's websocket groups apart, on the shared Redis: a product change
    committed by one worker's test must not reach another's connections."""
    from channels.layers import channel_layers
    from django.conf import settings

    layer = settings.CHANNEL_LAYERS["default"]
    if "CONFIG" in layer:
        # The process id too: two test runs on one machine share Redis's publish/subscribe.
        layer["CONFIG"]["prefix"] = f"test-{worker_id}-{os.getpid()}"
        channel_layers.backends.clear()
