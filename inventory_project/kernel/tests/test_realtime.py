"""Publishing live events after commit, through the real channel layer (Redis)."""

import asyncio
import json
import threading
import time

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from branches.tests.factories import BranchFactory
from inventory_project.kernel import realtime

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.synthetic_events]


class Abandoned(Exception):
    pass


class Listener:
    """A channel in ``branch``'s group, read by an event loop of its own in a thread (the
    publish/subscribe layer keeps its channels per event loop)."""

    def __init__(self, branch) -> None:
        self.group = realtime.branch_group(branch.pk)
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


@pytest.fixture
def listener():
    branch = BranchFactory()
    listening = Listener(branch)
    yield branch, listening.received
    listening.stop()


def numbered(branch, n: int) -> dict:
    return realtime.event("test.event", branch.pk, {"n": n})


def test_nothing_is_sent_before_commit_and_everything_after_in_order(listener):
    branch, received = listener

    with transaction.atomic():
        realtime.publish_after_commit(numbered(branch, 1))
        realtime.publish_after_commit(numbered(branch, 2), numbered(branch, 3))
        assert received() == []

    assert [event["data"]["n"] for event in received()] == [1, 2, 3]


def test_a_rolled_back_savepoints_events_are_dropped_and_the_others_sent(listener):
    branch, received = listener

    with transaction.atomic():
        realtime.publish_after_commit(numbered(branch, 1))
        try:
            with transaction.atomic():
                realtime.publish_after_commit(numbered(branch, 2))
                raise Abandoned
        except Abandoned:
            pass
        realtime.publish_after_commit(numbered(branch, 3))

    assert [event["data"]["n"] for event in received()] == [1, 3]


def test_a_rolled_back_transaction_sends_nothing(listener):
    branch, received = listener

    def publish_then_fail():
        with transaction.atomic():
            realtime.publish_after_commit(numbered(branch, 1))
            raise Abandoned

    with pytest.raises(Abandoned):
        publish_then_fail()

    assert received() == []


def test_a_branchs_events_are_numbered_without_gaps(listener):
    branch, received = listener

    for n in range(3):
        realtime.publish_after_commit(numbered(branch, n))

    versions = [event["version"] for event in received()]
    assert versions == [versions[0], versions[0] + 1, versions[0] + 2]


def test_a_ticket_is_spent_by_its_first_use():
    ticket = realtime.issue_ticket("00000000-0000-0000-0000-000000000001")

    assert realtime.redeem_ticket(ticket.value) == "00000000-0000-0000-0000-000000000001"
    assert realtime.redeem_ticket(ticket.value) is None
    assert realtime.redeem_ticket("made-up") is None
