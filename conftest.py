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


@pytest.fixture(autouse=True)
def live_events_out_at_commit(settings):
    """The live events of a commit have gone out (or met the outage that drops them) once
    the code that committed goes on, so that a test reads them right after; the servers
    the tests start publish in the background, as in production."""
    settings.REALTIME_WAIT_FOR_DELIVERY = True


# The live-event catalogue ------------------------------------------------------------------


@pytest.fixture(scope="session")
def frame_validator():
    import jsonschema

    from inventory_project.kernel.events import frame_schema

    schema = frame_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(autouse=True)
def published_events(request, monkeypatch, frame_validator):
    """Every live event the test publishes, in order (whether or not its transaction
    commits); and, after the test, every event and socket frame it produced is checked
    against the websocket protocol's description (``/api/schema/websocket/``): a payload
    or frame that strays from its declaration fails the test that produced it."""
    from inventory_project.kernel import realtime
    from inventory_project.kernel.consumers import InventoryConsumer

    published: list[dict] = []
    checked: list[dict] = []
    if request.node.get_closest_marker("synthetic_events"):
        yield published
        return

    publish_after_commit, event_message = realtime.publish_after_commit, realtime.event_message
    send_frame = InventoryConsumer._send

    def recording_publish(*events):
        # Numbered only once they go out: checked as the first of their branch.
        published.extend(events)
        checked.extend({"version": 1, **event} for event in events)
        return publish_after_commit(*events)

    def recording_message(stamped):
        checked.append(stamped)
        return event_message(stamped)

    async def recording_send(self, frame):
        checked.append(frame.model_dump(mode="json"))
        return await send_frame(self, frame)

    monkeypatch.setattr(realtime, "publish_after_commit", recording_publish)
    monkeypatch.setattr(realtime, "event_message", recording_message)
    monkeypatch.setattr(InventoryConsumer, "_send", recording_send)
    yield published
    problems = [
        f"{frame.get('type')!r}: {error.message} at {'/'.join(map(str, error.absolute_path))}"
        for frame in checked
        for error in [jsonschema_best_match(frame_validator, frame)]
        if error is not None
    ]
    if problems:
        pytest.fail("Events or frames that stray from their declaration:\n" + "\n".join(problems))


def jsonschema_best_match(validator, instance):
    from jsonschema.exceptions import best_match

    return best_match(validator.iter_errors(instance))
