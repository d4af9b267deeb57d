"""Publishing live events after commit, through the real channel layer (Redis)."""

import pytest
from django.db import transaction

from branches.tests.factories import BranchFactory
from inventory_project.kernel import realtime
from inventory_project.tests.helpers import GroupListener

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.synthetic_events]


class Abandoned(Exception):
    pass


@pytest.fixture
def listener():
    branch = BranchFactory()
    listening = GroupListener(realtime.branch_group(branch.pk))
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
