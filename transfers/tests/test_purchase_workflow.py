"""The purchase order workflow table: which steps each kind of user may take from each
state, as the API and the pages list them."""

import pytest

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from transfers import purchase_selectors, purchase_workflow
from transfers.models import PurchaseOrderStatus, PurchaseOrderStep
from transfers.tests.factories import PurchaseOrderFactory

pytestmark = pytest.mark.django_db

S = PurchaseOrderStatus


@pytest.mark.parametrize(
    ("status", "manager_steps", "staff_steps"),
    [
        (S.DRAFT, ["edit", "send", "cancel"], []),
        (S.SENT, ["receive", "cancel"], ["receive"]),
        (S.PARTIALLY_RECEIVED, ["receive", "close"], ["receive"]),
        (S.RECEIVED, [], []),
        (S.CANCELLED, [], []),
    ],
)
def test_the_steps_each_role_may_take_from_each_state(
    actor, branch, status, manager_steps, staff_steps
):
    order = PurchaseOrderFactory(branch=branch, status=status)
    manager = MembershipFactory(branch=branch, role=Role.MANAGER).user
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user
    stranger = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    assert purchase_selectors.available_steps(manager, order) == manager_steps
    assert purchase_selectors.available_steps(staff, order) == staff_steps
    assert purchase_selectors.available_steps(stranger, order) == []
    assert purchase_selectors.available_steps(actor, order) == manager_steps


def test_every_step_but_drafting_has_an_api_name_and_states_it_is_taken_from():
    assert purchase_workflow.STEP_NAMES == ("edit", "send", "receive", "close", "cancel")
    for step, entry in purchase_workflow.STEPS.items():
        assert entry.starts == (step == PurchaseOrderStep.DRAFT)
        assert set(entry.targets) <= set(S.values)


def test_only_receiving_leads_to_more_than_one_state():
    several = [entry.name for entry in purchase_workflow.STEPS.values() if len(entry.targets) > 1]

    assert several == ["receive"]
