import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts import permissions, services
from accounts.models import ApiToken, BranchPermission, Membership, Role
from accounts.permissions import ROLE_ACTIONS, Action
from accounts.tests.factories import AdminFactory, MembershipFactory, UserFactory
from branches.tests.factories import BranchFactory
from inventory_project.kernel.errors import Conflict, InvalidInput, NotFound, NotPermitted

pytestmark = pytest.mark.django_db


def held(user):
    return set(
        BranchPermission.objects.filter(user=user).values_list(
            "content_object__code", "permission__codename"
        )
    )


def test_a_role_grants_exactly_its_actions_at_its_branch():
    membership = MembershipFactory(role=Role.STAFF)

    assert held(membership.user) == {
        (membership.branch.code, action.value) for action in ROLE_ACTIONS[Role.STAFF]
    }


def test_roles_at_two_branches_are_kept_apart():
    user = UserFactory()
    managed = MembershipFactory(user=user, role=Role.MANAGER).branch
    staffed = MembershipFactory(user=user, role=Role.STAFF).branch

    assert permissions.actions_at(user, managed) == ROLE_ACTIONS[Role.MANAGER]
    assert permissions.actions_at(user, staffed) == ROLE_ACTIONS[Role.STAFF]
    assert set(permissions.visible_branches(user)) == {managed, staffed}


def test_syncing_again_changes_nothing():
    membership = MembershipFactory(role=Role.MANAGER)

    result = services.sync_branch_permissions(user=membership.user)

    assert (result.granted, result.revoked) == (0, 0)


def test_a_changed_role_swaps_the_permissions():
    membership = MembershipFactory(role=Role.MANAGER)

    services.change_membership_role(actor=AdminFactory(), membership_id=membership.pk, role="STAFF")

    assert permissions.actions_at(membership.user, membership.branch) == ROLE_ACTIONS[Role.STAFF]


def test_a_removed_membership_takes_its_permissions_along():
    membership = MembershipFactory(role=Role.MANAGER)

    services.remove_membership(actor=AdminFactory(), membership_id=membership.pk)

    assert held(membership.user) == set()


def test_sync_all_repairs_drift_for_everyone():
    memberships = [MembershipFactory(role=Role.STAFF) for _ in range(3)]
    BranchPermission.objects.filter(user=memberships[0].user).delete()
    stray = BranchFactory()
    BranchPermission.objects.create(
        user=memberships[1].user,
        content_object=stray,
        permission=BranchPermission.objects.first().permission,
    )

    result = services.sync_all_branch_permissions()

    assert result.granted == len(ROLE_ACTIONS[Role.STAFF])
    assert result.revoked == 1
    for membership in memberships:
        assert permissions.actions_at(membership.user, membership.branch) == ROLE_ACTIONS["STAFF"]
    assert not permissions.can(memberships[1].user, Action.VIEW, stray)


def test_an_admin_sees_and_may_do_everything_without_memberships():
    admin = AdminFactory()
    branches = [BranchFactory() for _ in range(2)]

    assert set(permissions.visible_branches(admin)) == set(branches)
    assert all(permissions.can(admin, action, branches[0]) for action in Action)


def test_an_inactive_user_sees_nothing_even_with_permissions_stored():
    membership = MembershipFactory(role=Role.MANAGER)
    membership.user.is_active = False

    assert not permissions.visible_branches(membership.user).exists()
    assert permissions.actions_at(membership.user, membership.branch) == frozenset()


def test_require_answers_unknown_for_hidden_and_missing_branches_alike():
    staff = MembershipFactory(role=Role.STAFF).user
    hidden = BranchFactory()

    with pytest.raises(NotFound) as for_hidden:
        permissions.require(staff, Action.VIEW, hidden.pk)
    with pytest.raises(NotFound) as for_garbage:
        permissions.require(staff, Action.VIEW, "not-a-uuid")

    assert str(for_hidden.value) == f"No branch with id {hidden.pk}."
    assert str(for_garbage.value) == "No branch with id not-a-uuid."


def test_require_refuses_a_visible_branch_with_a_clear_message():
    membership = MembershipFactory(role=Role.STAFF)

    with pytest.raises(NotPermitted, match=f"You may not issue stock at {membership.branch.code}"):
        permissions.require(membership.user, Action.ISSUE_STOCK, membership.branch.pk)


def test_deactivating_revokes_api_tokens_and_reactivating_keeps_them_revoked():
    staff = MembershipFactory(role=Role.STAFF)
    services.sign_in_device(user=staff.user, device="Scanner")
    admin = AdminFactory()

    services.deactivate_user(actor=admin, user_id=staff.user.pk)
    services.reactivate_user(actor=admin, user_id=staff.user.pk)

    staff.user.refresh_from_db()
    assert staff.user.is_active
    assert not ApiToken.objects.filter(user=staff.user).exists()


def test_nobody_deactivates_themselves():
    admin = AdminFactory()

    with pytest.raises(NotPermitted):
        services.deactivate_user(actor=admin, user_id=admin.pk)


def test_adding_an_unknown_person_by_email_says_so():
    manager = MembershipFactory(role=Role.MANAGER)

    with pytest.raises(NotFound, match=r"No user with the e-mail address nobody@example\.com"):
        services.add_membership(
            actor=manager.user,
            email="nobody@example.com",
            branch_id=manager.branch.pk,
            role="STAFF",
        )


def test_a_second_role_at_the_same_branch_is_a_conflict():
    membership = MembershipFactory(role=Role.STAFF)

    with pytest.raises(Conflict):
        services.add_membership(
            actor=AdminFactory(),
            email=membership.user.email,
            branch_id=membership.branch.pk,
            role="MANAGER",
        )


def test_an_unknown_role_is_invalid_input():
    with pytest.raises(InvalidInput, match="Role 'OWNER' is not one of"):
        services.add_membership(
            actor=AdminFactory(),
            email=UserFactory().email,
            branch_id=BranchFactory().pk,
            role="OWNER",
        )


def test_the_first_admin_is_created_once():
    first = services.create_first_admin(email="Root@Example.com", password="a-long-passphrase")
    second = services.create_first_admin(email="other@example.com", password="a-long-passphrase")

    assert first.is_superuser
    assert first.email == "root@example.com"
    assert first.check_password("a-long-passphrase")
    assert second is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_concurrent_role_changes_for_one_person_all_land(postgres):
    admin = AdminFactory()
    user = UserFactory()
    branches = [BranchFactory() for _ in range(8)]
    start = threading.Barrier(len(branches))

    def add(branch):
        try:
            start.wait()
            services.add_membership(
                actor=admin, email=user.email, branch_id=branch.pk, role="STAFF"
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(branches)) as pool:
        list(pool.map(add, branches))

    assert Membership.objects.filter(user=user).count() == len(branches)
    assert set(permissions.visible_branches(user)) == set(branches)
    in_step = services.sync_branch_permissions(user=user)
    assert (in_step.granted, in_step.revoked) == (0, 0)


# Passwords and devices, from the back office ----------------------------------------------


def test_an_admin_sets_someones_password():
    user = UserFactory()

    services.set_user_password(
        actor=AdminFactory(), user_id=user.pk, password="a-new-long-passphrase"
    )

    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")


def test_no_password_switches_signing_in_with_one_off():
    user = UserFactory()

    services.set_user_password(actor=AdminFactory(), user_id=user.pk, password=None)

    user.refresh_from_db()
    assert not user.has_usable_password()


def test_a_password_the_validators_refuse_is_not_set():
    user = UserFactory()

    with pytest.raises(InvalidInput, match="too short"):
        services.set_user_password(actor=AdminFactory(), user_id=user.pk, password="short")

    user.refresh_from_db()
    assert user.has_usable_password()
    assert not user.check_password("short")


def test_only_an_admin_sets_someone_elses_password():
    manager = MembershipFactory(role=Role.MANAGER)
    staff = MembershipFactory(branch=manager.branch, role=Role.STAFF).user

    with pytest.raises(NotPermitted):
        services.set_user_password(
            actor=manager.user, user_id=staff.pk, password="a-new-long-passphrase"
        )


def test_an_admin_signs_anyones_device_out():
    token, _ = services.sign_in_device(user=UserFactory(), device="Lost scanner")
    kept, _ = services.sign_in_device(user=UserFactory(), device="Desk")

    services.sign_out_device(actor=AdminFactory(), token_id=token.pk)

    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_only_an_admin_signs_others_devices_out():
    token, _ = services.sign_in_device(user=UserFactory(), device="Scanner")

    with pytest.raises(NotPermitted):
        services.sign_out_device(actor=UserFactory(), token_id=token.pk)

    assert ApiToken.objects.filter(pk=token.pk).exists()


@pytest.mark.parametrize("token_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_signing_out_an_unknown_device_is_refused(token_id):
    with pytest.raises(NotFound):
        services.sign_out_device(actor=AdminFactory(), token_id=token_id)


def test_a_reset_password_replaces_the_old_and_signs_every_device_out():
    user = UserFactory()
    services.sign_in_device(user=user, device="Scanner")

    services.reset_password(user_id=user.pk, password="a-new-long-passphrase")

    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase")
    assert not ApiToken.objects.filter(user=user).exists()


def test_a_reset_for_someone_unknown_is_not_found():
    with pytest.raises(NotFound):
        services.reset_password(user_id="not-an-id", password="a-new-long-passphrase")
