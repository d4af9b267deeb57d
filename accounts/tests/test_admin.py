from unittest import mock

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts import services
from accounts.admin import MembershipInline, UserAdmin
from accounts.models import ApiToken, Membership, Role, User
from accounts.permissions import Action, can
from accounts.tests.factories import (
    PASSWORD,
    AdminFactory,
    ManagerFactory,
    MembershipFactory,
    UserFactory,
)
from branches.tests.factories import BranchFactory


@pytest.fixture
def admin_client(client, db):
    client.force_login(AdminFactory())
    return client


def test_an_admin_adds_a_user_with_an_email_login(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.com",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(full_name="New Person")
    assert user.email == "new.person@example.com"
    assert user.check_password("a-long-enough-passphrase")
    assert not user.is_superuser


def test_an_admin_gives_a_user_a_role_at_a_branch(admin_client):
    user = UserFactory()
    branch = BranchFactory()
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "alert_mail": user.alert_mail,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-branch": str(branch.pk),
        "memberships-0-role": Role.MANAGER,
    }

    response = admin_client.post(reverse("admin:accounts_user_change", args=[user.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Membership.objects.get(user=user).role == Role.MANAGER


def test_the_user_changelist_filters_by_branch(admin_client):
    membership = Membership.objects.create(
        user=UserFactory(), branch=BranchFactory(), role=Role.STAFF
    )
    Membership.objects.create(user=UserFactory(), branch=BranchFactory(), role=Role.STAFF)

    response = admin_client.get(
        reverse("admin:accounts_user_changelist"),
        {"memberships__branch__id__exact": str(membership.branch_id)},
    )

    assert list(response.context["cl"].result_list) == [membership.user]


# Who reaches the back office ------------------------------------------------------------


def admin_login_url(next_url):
    return f"{reverse('admin:login')}?next={next_url}"


def test_an_admin_reaches_the_back_office(admin_client):
    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_a_manager_is_sent_to_the_back_office_sign_in(client, db):
    client.force_login(ManagerFactory().user)

    response = client.get(reverse("admin:index"))

    assertRedirects(response, admin_login_url(reverse("admin:index")))


def test_a_manager_cannot_open_an_admin_page_directly(client, db):
    client.force_login(ManagerFactory().user)

    response = client.get(reverse("admin:accounts_user_changelist"))

    assertRedirects(response, admin_login_url(reverse("admin:accounts_user_changelist")))


def test_a_manager_cannot_sign_in_to_the_back_office(client, db):
    manager = ManagerFactory().user

    response = client.post(
        admin_login_url(reverse("admin:index")), {"username": manager.email, "password": PASSWORD}
    )

    assert response.status_code == 200
    assertContains(response, "for a staff account")
    assert "_auth_user_id" not in client.session


def test_an_admin_signs_in_to_the_back_office(client, db):
    admin = AdminFactory()

    response = client.post(
        admin_login_url(reverse("admin:index")), {"username": admin.email, "password": PASSWORD}
    )

    assertRedirects(response, reverse("admin:index"))


def test_an_inactive_admin_is_sent_to_the_back_office_sign_in(client, db):
    client.force_login(AdminFactory(is_active=False))

    response = client.get(reverse("admin:index"))

    assertRedirects(response, admin_login_url(reverse("admin:index")))


def test_an_admin_is_also_staff_as_django_sees_it(db):
    assert AdminFactory().is_staff
    assert not ManagerFactory().user.is_staff


# Roles given in the user admin ----------------------------------------------------------


def user_change_data(user, *, memberships=(), initial=0, is_active=True, is_superuser=False):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "alert_mail": user.alert_mail,
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(initial),
    }
    if is_active:
        data["is_active"] = "on"
    if is_superuser:
        data["is_superuser"] = "on"
    for n, membership in enumerate(memberships):
        data.update({f"memberships-{n}-{key}": value for key, value in membership.items()})
    return data


def change_user(admin_client, user, **data):
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]), user_change_data(user, **data)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_a_manager_role_given_in_the_user_admin_grants_the_managers_permissions(admin_client):
    user = UserFactory()
    branch = BranchFactory()

    change_user(admin_client, user, memberships=[{"branch": str(branch.pk), "role": Role.MANAGER}])

    assert can(user, Action.ISSUE_STOCK, branch)
    assert can(user, Action.MANAGE_STAFF, branch)


def test_a_staff_role_given_in_the_user_admin_grants_receiving_but_not_issuing(admin_client):
    user = UserFactory()
    branch = BranchFactory()

    change_user(admin_client, user, memberships=[{"branch": str(branch.pk), "role": Role.STAFF}])

    assert can(user, Action.RECEIVE_STOCK, branch)
    assert not can(user, Action.ISSUE_STOCK, branch)


def test_a_role_grants_nothing_at_other_branches(admin_client):
    user = UserFactory()
    branch = BranchFactory()
    elsewhere = BranchFactory()

    change_user(admin_client, user, memberships=[{"branch": str(branch.pk), "role": Role.MANAGER}])

    assert not can(user, Action.VIEW, elsewhere)


def test_demoting_a_manager_in_the_user_admin_takes_the_managers_permissions_away(admin_client):
    membership = ManagerFactory()

    change_user(
        admin_client,
        membership.user,
        initial=1,
        memberships=[
            {
                "id": str(membership.pk),
                "user": str(membership.user.pk),
                "branch": str(membership.branch.pk),
                "role": Role.STAFF,
            }
        ],
    )

    assert not can(membership.user, Action.ISSUE_STOCK, membership.branch)
    assert can(membership.user, Action.RECEIVE_STOCK, membership.branch)


def test_removing_a_role_in_the_user_admin_takes_its_permissions_away(admin_client):
    membership = ManagerFactory()

    change_user(
        admin_client,
        membership.user,
        initial=1,
        memberships=[
            {
                "id": str(membership.pk),
                "user": str(membership.user.pk),
                "branch": str(membership.branch.pk),
                "role": Role.MANAGER,
                "DELETE": "on",
            }
        ],
    )

    assert not Membership.objects.exists()
    assert not can(membership.user, Action.VIEW, membership.branch)


# The membership admin -------------------------------------------------------------------


def test_adding_a_membership_in_the_membership_admin_grants_its_permissions(admin_client):
    user = UserFactory()
    branch = BranchFactory()

    response = admin_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": str(user.pk), "branch": str(branch.pk), "role": Role.MANAGER},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert can(user, Action.ISSUE_STOCK, branch)


def test_a_role_changed_in_the_membership_admin_re_derives_the_permissions(admin_client):
    membership = ManagerFactory()

    with mock.patch.object(
        services, "sync_branch_permissions", wraps=services.sync_branch_permissions
    ) as sync:
        response = admin_client.post(
            reverse("admin:accounts_membership_change", args=[membership.pk]),
            {"role": Role.STAFF},
        )

    assert response.status_code == 302, response.context["adminform"].form.errors
    sync.assert_called_once_with(user=membership.user)
    assert not can(membership.user, Action.ISSUE_STOCK, membership.branch)
    assert can(membership.user, Action.RECEIVE_STOCK, membership.branch)


def test_a_memberships_person_and_branch_stay_on_its_change_page(admin_client):
    membership = ManagerFactory()
    someone_else, elsewhere = UserFactory(), BranchFactory()

    response = admin_client.post(
        reverse("admin:accounts_membership_change", args=[membership.pk]),
        {"user": str(someone_else.pk), "branch": str(elsewhere.pk), "role": Role.MANAGER},
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.user != someone_else
    assert membership.branch != elsewhere
    assert not can(someone_else, Action.VIEW, elsewhere)


def test_a_second_role_at_the_same_branch_is_refused_on_the_membership_form(admin_client):
    membership = ManagerFactory()

    response = admin_client.post(
        reverse("admin:accounts_membership_add"),
        {
            "user": str(membership.user.pk),
            "branch": str(membership.branch.pk),
            "role": Role.STAFF,
        },
    )

    assert response.status_code == 200
    assert "already has a role at" in str(response.context["adminform"].form.non_field_errors())
    assert Membership.objects.filter(user=membership.user).count() == 1


def test_deleting_a_membership_in_the_membership_admin_revokes_its_permissions(admin_client):
    membership = ManagerFactory()

    response = admin_client.post(
        reverse("admin:accounts_membership_delete", args=[membership.pk]), {"post": "yes"}
    )

    assertRedirects(response, reverse("admin:accounts_membership_changelist"))
    assert not can(membership.user, Action.ISSUE_STOCK, membership.branch)
    assert not can(membership.user, Action.VIEW, membership.branch)


def test_deleting_memberships_in_bulk_revokes_their_permissions(admin_client):
    first = ManagerFactory()
    second = MembershipFactory(role=Role.STAFF)
    kept = ManagerFactory()

    response = admin_client.post(
        reverse("admin:accounts_membership_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(first.pk), str(second.pk)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not can(first.user, Action.VIEW, first.branch)
    assert not can(second.user, Action.VIEW, second.branch)
    assert can(kept.user, Action.ISSUE_STOCK, kept.branch)


# Switching accounts off -----------------------------------------------------------------


def test_unchecking_active_in_the_user_admin_deactivates_the_user(admin_client):
    user = UserFactory()

    change_user(admin_client, user, is_active=False)

    user.refresh_from_db()
    assert not user.is_active


def test_unchecking_active_in_the_user_admin_signs_all_the_users_devices_out(admin_client):
    user = UserFactory()
    services.sign_in_device(user=user, device="Scanner 1")
    services.sign_in_device(user=user, device="Phone")
    other, _ = services.sign_in_device(user=UserFactory(), device="Someone else's")

    change_user(admin_client, user, is_active=False)

    assert list(ApiToken.objects.values_list("pk", flat=True)) == [other.pk]


def test_saving_an_active_user_keeps_their_devices_signed_in(admin_client):
    user = UserFactory()
    services.sign_in_device(user=user, device="Scanner 1")

    change_user(admin_client, user, is_active=True)

    assert ApiToken.objects.filter(user=user).count() == 1


def test_checking_administrator_in_the_user_admin_opens_the_back_office(admin_client, client):
    user = UserFactory()

    change_user(admin_client, user, is_superuser=True)

    client.force_login(user)
    assert client.get(reverse("admin:index")).status_code == 200


def test_an_admins_own_page_shows_active_and_administrator_read_only(client, db):
    admin = AdminFactory()
    client.force_login(admin)

    response = client.get(reverse("admin:accounts_user_change", args=[admin.pk]))

    assert response.status_code == 200
    assertNotContains(response, 'name="is_active"')
    assertNotContains(response, 'name="is_superuser"')
    assertContains(response, "<label>Active:</label>", html=True)
    assertContains(response, "<label>Administrator:</label>", html=True)


def test_another_users_page_lets_an_admin_change_active_and_administrator(admin_client):
    user = UserFactory()

    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    assertContains(response, 'name="is_active"')
    assertContains(response, 'name="is_superuser"')


def test_an_admin_cannot_switch_themselves_off_through_their_own_page(client, db):
    admin = AdminFactory()
    client.force_login(admin)

    response = client.post(
        reverse("admin:accounts_user_change", args=[admin.pk]),
        user_change_data(admin, is_active=False, is_superuser=False),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    admin.refresh_from_db()
    assert admin.is_active
    assert admin.is_superuser


# API tokens -----------------------------------------------------------------------------


def test_the_token_admin_lists_devices_and_their_users(admin_client):
    user = UserFactory(email="walter@example.com")
    services.sign_in_device(user=user, device="Scanner 1")

    response = admin_client.get(reverse("admin:accounts_apitoken_changelist"))

    assertContains(response, "Scanner 1")
    assertContains(response, user.full_name)


def test_the_token_admin_signs_a_device_out_by_deleting_its_token(admin_client):
    token, _ = services.sign_in_device(user=UserFactory(), device="Lost scanner")
    kept, _ = services.sign_in_device(user=UserFactory(), device="Desk")

    response = admin_client.post(
        reverse("admin:accounts_apitoken_delete", args=[token.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_apitoken_changelist")
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_token_admin_issues_no_tokens(admin_client):
    services.sign_in_device(user=UserFactory(), device="Scanner 1")

    changelist = admin_client.get(reverse("admin:accounts_apitoken_changelist"))
    add = admin_client.get(reverse("admin:accounts_apitoken_add"))

    assertNotContains(changelist, reverse("admin:accounts_apitoken_add"))
    assert add.status_code == 403


def test_a_tokens_admin_page_is_read_only(admin_client):
    token, _ = services.sign_in_device(user=UserFactory(), device="Scanner 1")

    response = admin_client.post(
        reverse("admin:accounts_apitoken_change", args=[token.pk]), {"device": "Renamed"}
    )

    assert response.status_code == 403
    token.refresh_from_db()
    assert token.device == "Scanner 1"


# Accounts changed through the account services -------------------------------------------


def test_a_user_added_in_the_admin_goes_through_the_service(admin_client):
    create = mock.Mock(wraps=services.create_user)
    with mock.patch.dict(UserAdmin.services, create=create):
        admin_client.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "new@example.com",
                "password1": "a-long-enough-passphrase",
                "password2": "a-long-enough-passphrase",
            },
        )

    create.assert_called_once()
    assert User.objects.filter(email="new@example.com").exists()


def test_an_email_taken_whatever_its_case_is_refused_on_the_add_form(admin_client):
    UserFactory(email="taken@example.com")

    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Taken@Example.com",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )

    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors)
    assert "already exists" in errors
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_a_changed_email_goes_through_the_service(admin_client):
    user = UserFactory()
    update = mock.Mock(wraps=services.update_user)

    with mock.patch.dict(UserAdmin.services, update=update):
        admin_client.post(
            reverse("admin:accounts_user_change", args=[user.pk]),
            {**user_change_data(user), "email": "Renamed@Example.com"},
        )

    update.assert_called_once()
    user.refresh_from_db()
    assert user.email == "renamed@example.com"


def test_every_branchs_mail_for_someone_not_an_admin_is_refused_beside_the_field(admin_client):
    user = UserFactory()

    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {**user_change_data(user), "full_name": "Renamed", "alert_mail_all_branches": "on"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["alert_mail_all_branches"] == [
        "Only administrators get the low-stock e-mail of every branch."
    ]
    user.refresh_from_db()
    assert user.full_name != "Renamed"  # nothing of the refused save stays
    assert not user.alert_mail_all_branches


def test_reactivating_in_the_user_admin_lets_the_user_sign_in_again(admin_client):
    user = UserFactory()
    services.deactivate_user(actor=AdminFactory(), user_id=user.pk)

    change_user(admin_client, user, is_active=True)

    user.refresh_from_db()
    assert user.is_active


def test_users_are_deactivated_not_deleted_in_the_admin(admin_client):
    user = UserFactory()

    response = admin_client.post(
        reverse("admin:accounts_user_delete", args=[user.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert User.objects.filter(pk=user.pk).exists()


def test_a_password_set_in_the_admin_goes_through_the_service(admin_client):
    user = UserFactory()

    with mock.patch.object(
        services, "set_user_password", wraps=services.set_user_password
    ) as set_password:
        response = admin_client.post(
            reverse("admin:auth_user_password_change", args=[user.pk]),
            {
                "set_usable_password": "true",
                "password1": "another-long-passphrase",
                "password2": "another-long-passphrase",
            },
        )

    assert response.status_code == 302
    set_password.assert_called_once()
    user.refresh_from_db()
    assert user.check_password("another-long-passphrase")


def test_a_password_the_validators_refuse_is_shown_on_the_password_page(admin_client):
    user = UserFactory()

    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"set_usable_password": "true", "password1": "short", "password2": "short"},
    )

    assert response.status_code == 200
    assert "too short" in response.text
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_role_given_in_the_user_admin_goes_through_the_membership_service(admin_client):
    user = UserFactory()
    branch = BranchFactory()

    add = mock.Mock(wraps=services.add_membership)
    with mock.patch.dict(MembershipInline.services, create=add):
        change_user(
            admin_client, user, memberships=[{"branch": str(branch.pk), "role": Role.STAFF}]
        )

    add.assert_called_once()
    assert Membership.objects.get(user=user).role == Role.STAFF


def test_an_existing_roles_branch_cannot_be_switched_in_the_user_admin(admin_client):
    membership = ManagerFactory()
    elsewhere = BranchFactory()

    change_user(
        admin_client,
        membership.user,
        initial=1,
        memberships=[
            {
                "id": str(membership.pk),
                "user": str(membership.user.pk),
                "branch": str(elsewhere.pk),
                "role": Role.MANAGER,
            }
        ],
    )

    membership.refresh_from_db()
    assert membership.branch != elsewhere
    assert not can(membership.user, Action.VIEW, elsewhere)
