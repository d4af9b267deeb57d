"""``permissions.rights``: what someone may do at many branches, read at once."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import permissions
from accounts.models import Role
from accounts.permissions import Action
from accounts.tests.factories import AdminFactory, MembershipFactory, UserFactory
from branches.tests.factories import BranchFactory

pytestmark = pytest.mark.django_db


def test_rights_agree_with_the_permission_module_branch_by_branch(django_assert_num_queries):
    managed, staffed, unrelated = BranchFactory.create_batch(3)
    user = MembershipFactory(branch=managed, role=Role.MANAGER).user
    MembershipFactory(user=user, branch=staffed, role=Role.STAFF)

    with django_assert_num_queries(1):
        everywhere = permissions.rights(user)
    with django_assert_num_queries(1):
        two = permissions.rights(user, [managed.pk, unrelated])

    for branch in (managed, staffed, unrelated):
        assert everywhere.at(branch) == permissions.actions_at(user, branch)
        assert everywhere.at(branch.pk) == everywhere.at(branch)
    assert everywhere.at(managed) == frozenset(Action)
    assert everywhere.at(staffed) == {Action.VIEW, Action.RECEIVE_STOCK, Action.RECEIVE_TRANSFER}
    assert everywhere.at(unrelated) == frozenset()
    assert (two.at(managed), two.at(staffed)) == (frozenset(Action), frozenset())


def test_an_admin_may_do_everything_everywhere_without_a_query(django_assert_num_queries):
    admin, branch = AdminFactory(), BranchFactory()

    with django_assert_num_queries(0):
        assert permissions.rights(admin).at(branch) == frozenset(Action)


@pytest.mark.parametrize("who", ["anonymous", "inactive admin", "inactive manager"])
def test_someone_not_signed_in_or_inactive_may_do_nothing(who):
    branch = BranchFactory()
    user = {
        "anonymous": lambda: AnonymousUser(),
        "inactive admin": lambda: AdminFactory(is_active=False),
        "inactive manager": lambda: (
            MembershipFactory(
                branch=branch, role=Role.MANAGER, user=UserFactory(is_active=False)
            ).user
        ),
    }[who]()

    assert permissions.rights(user).at(branch) == frozenset()


def test_what_someone_may_do_anywhere_is_the_union_over_their_branches(
    django_assert_num_queries,
):
    staff_at = MembershipFactory(role=Role.STAFF)
    MembershipFactory(user=staff_at.user, role=Role.MANAGER)

    with django_assert_num_queries(1):
        anywhere = permissions.actions_anywhere(staff_at.user)

    everywhere = permissions.rights(staff_at.user)
    assert anywhere == everywhere.at(staff_at.branch) | everywhere.at(
        staff_at.user.memberships.exclude(pk=staff_at.pk).get().branch
    )
    assert Action.MANAGE_STAFF in anywhere
