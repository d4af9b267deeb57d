"""The permission module's answers for a switched-off ADMIN (a superuser whose account was
deactivated may do nothing, anywhere, whichever function is asked), and how often it asks the
database."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import permissions, services
from accounts.models import BranchPermission, Membership, Role, User
from accounts.permissions import Action
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.errors import UnknownBranch
from branches.tests.factories import BranchFactory
from inventory_project.kernel import access
from stock import services as stock

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


# One question per user object and branch ------------------------------------------------------


def permission_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if BranchPermission._meta.db_table in q["sql"]]


@pytest.fixture
def manager(branch):
    return MembershipFactory(branch=branch, role=Role.MANAGER).user


def test_asking_twice_about_one_branch_costs_one_query(manager, branch):
    with CaptureQueriesContext(connection) as queries:
        permissions.check(manager, Action.RECEIVE_STOCK, branch.pk)
        permissions.check(manager, Action.ISSUE_STOCK, str(branch.pk))
        assert permissions.can(manager, Action.COUNT_STOCK, branch)

    assert len(permission_queries(queries)) == 1


def test_two_services_for_one_user_and_branch_ask_once(manager, branch, product):
    with CaptureQueriesContext(connection) as queries:
        stock.receive_stock(actor=manager, branch_id=branch.pk, product_id=product.pk, quantity=5)
        stock.issue_stock(actor=manager, branch_id=branch.pk, product_id=product.pk, quantity=2)

    assert len(permission_queries(queries)) == 1


def test_each_branch_is_asked_about_once(manager, branch):
    other = BranchFactory()

    with CaptureQueriesContext(connection) as queries:
        for each in (branch, other, branch, other):
            permissions.actions_at(manager, each)

    assert len(permission_queries(queries)) == 2


def test_another_user_object_asks_again(manager, branch):
    permissions.check(manager, Action.VIEW, branch.pk)
    next_request = User.objects.get(pk=manager.pk)

    with CaptureQueriesContext(connection) as queries:
        permissions.check(next_request, Action.VIEW, branch.pk)

    assert len(permission_queries(queries)) == 1


def test_a_role_changed_meanwhile_is_seen_by_the_same_user_object(branch):
    staff = MembershipFactory(branch=branch, role=Role.STAFF)
    acting = staff.user
    assert not permissions.can(acting, Action.ISSUE_STOCK, branch)

    services.change_membership_role(actor=AdminFactory(), membership_id=staff.pk, role=Role.MANAGER)

    assert permissions.can(acting, Action.ISSUE_STOCK, branch)


def test_a_role_taken_away_meanwhile_is_refused_to_the_same_user_object(manager, branch):
    admin = AdminFactory()
    assert permissions.can(manager, Action.ISSUE_STOCK, branch)

    services.remove_membership(actor=admin, membership_id=Membership.objects.get(user=manager).pk)

    with pytest.raises(UnknownBranch):
        permissions.check(manager, Action.ISSUE_STOCK, branch.pk)
