"""The permission module's answers for a switched-off ADMIN: a superuser whose account was
deactivated may do nothing, anywhere, whichever function is asked."""

import pytest

from accounts import permissions
from accounts.models import Membership
from accounts.permissions import Action
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.errors import UnknownBranch
from inventory_project.kernel import access

pytestmark = pytest.mark.django_db


@pytest.fixture
def inactive_admin():
    return AdminFactory(is_active=False)


def test_an_inactive_admin_is_no_admin_to_the_permission_module(inactive_admin):
    assert not permissions.is_admin(inactive_admin)


def test_an_inactive_admin_is_no_admin_to_the_kernel(inactive_admin):
    assert not access.is_admin(inactive_admin)


def test_an_inactive_admin_may_do_nothing_at_a_branch(inactive_admin, branch):
    assert permissions.actions_at(inactive_admin, branch) == frozenset()
    assert not any(permissions.can(inactive_admin, action, branch) for action in Action)


def test_an_inactive_admin_sees_no_branch(inactive_admin, branch):
    assert not permissions.visible_branches(inactive_admin).exists()


def test_an_inactive_admin_is_scoped_to_no_row(inactive_admin, branch):
    MembershipFactory(branch=branch)

    assert not permissions.scope(Membership.objects.all(), inactive_admin).exists()


def test_an_inactive_admin_is_refused_as_if_the_branch_did_not_exist(inactive_admin, branch):
    with pytest.raises(UnknownBranch):
        permissions.check(inactive_admin, Action.VIEW, branch.pk)
