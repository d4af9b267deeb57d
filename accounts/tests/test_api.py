"""The user-management API: ADMINs manage everyone, MANAGERs the STAFF of their branch."""

import logging

import pytest
from django.urls import reverse

from accounts import permissions
from accounts.models import Membership, Role, User
from accounts.permissions import Action
from accounts.tests.factories import AdminFactory, MembershipFactory, UserFactory
from inventory_project.tests.helpers import api_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def manager():
    return MembershipFactory(role=Role.MANAGER)


def test_a_manager_adds_staff_to_their_branch(manager):
    response = api_client(manager.user).post(
        reverse("api-users"),
        {
            "email": "New.Hire@Example.com",
            "full_name": "New Hire",
            "password": NEW_PASSWORD,
            "branch": str(manager.branch.pk),
            "role": "STAFF",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "new.hire@example.com"
    assert body["is_admin"] is False
    assert [(m["branch_code"], m["role"]) for m in body["memberships"]] == [
        (manager.branch.code, "STAFF")
    ]
    hire = User.objects.get(email="new.hire@example.com")
    assert hire.check_password(NEW_PASSWORD)
    assert permissions.can(hire, Action.RECEIVE_STOCK, manager.branch)
    assert not permissions.can(hire, Action.ISSUE_STOCK, manager.branch)


@pytest.mark.parametrize(
    ("extra", "status", "message"),
    [
        ({"role": "MANAGER"}, 403, "Only an administrator can appoint managers."),
        ({"is_admin": True}, 403, "Only an administrator can create administrators."),
        ({"is_superuser": True}, 400, None),
        ({"is_active": False}, 400, None),
        ({"memberships": []}, 400, None),
    ],
    ids=["role", "is_admin", "is_superuser", "is_active", "memberships"],
)
def test_a_manager_cannot_grant_more_than_staff(manager, extra, status, message):
    data = {
        "email": "sneaky@example.com",
        "password": NEW_PASSWORD,
        "branch": str(manager.branch.pk),
        "role": "STAFF",
        **extra,
    }

    response = api_client(manager.user).post(reverse("api-users"), data, format="json")

    assert response.status_code == status
    if message:
        assert response.json()["message"] == message
    else:
        (field,) = set(extra)
        assert response.json()["code"] == "not_accepted"
        assert response.json()["fields"] == {field: ["This field is not accepted here."]}
    assert not User.objects.filter(email="sneaky@example.com").exists()


def test_a_manager_cannot_add_staff_to_another_branch(manager):
    other = MembershipFactory(role=Role.MANAGER).branch

    response = api_client(manager.user).post(
        reverse("api-users"),
        {
            "email": "x@example.com",
            "password": NEW_PASSWORD,
            "branch": str(other.pk),
            "role": "STAFF",
        },
        format="json",
    )

    assert response.status_code == 404
    assert response.json() == {
        "code": "unknown_branch",
        "message": f"No branch with id {other.pk}.",
        "fields": {},
    }
    assert not User.objects.filter(email="x@example.com").exists()


def test_a_manager_must_name_the_branch_of_new_staff(manager):
    response = api_client(manager.user).post(
        reverse("api-users"), {"email": "x@example.com", "password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()


def test_a_weak_password_is_refused_with_the_reasons(manager):
    response = api_client(manager.user).post(
        reverse("api-users"),
        {
            "email": "x@example.com",
            "password": "1234",
            "branch": str(manager.branch.pk),
            "role": "STAFF",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "too short" in response.json()["message"]


def test_staff_are_refused_before_their_input_is_judged():
    staff = MembershipFactory(role=Role.STAFF)

    response = api_client(staff.user).post(
        reverse("api-users"),
        {
            "email": "x@example.com",
            "password": "1",
            "branch": str(staff.branch.pk),
            "role": "STAFF",
        },
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["message"] == f"You may not manage staff at {staff.branch.code}."


def test_an_email_address_is_used_once_whatever_its_case(manager):
    UserFactory(email="taken@example.com")

    response = api_client(manager.user).post(
        reverse("api-users"),
        {
            "email": "TAKEN@example.com",
            "password": NEW_PASSWORD,
            "branch": str(manager.branch.pk),
            "role": "STAFF",
        },
        format="json",
    )

    assert response.status_code == 409
    assert Membership.objects.filter(branch=manager.branch).count() == 1


def test_an_admin_creates_an_administrator_without_a_branch():
    response = api_client(AdminFactory()).post(
        reverse("api-users"),
        {"email": "boss@example.com", "password": NEW_PASSWORD, "is_admin": True},
        format="json",
    )

    assert response.status_code == 201
    assert User.objects.get(email="boss@example.com").is_superuser


def test_a_manager_lists_the_people_of_their_branch_only(manager):
    colleague = MembershipFactory(branch=manager.branch, role=Role.STAFF).user
    MembershipFactory(role=Role.STAFF)  # someone elsewhere

    response = api_client(manager.user).get(reverse("api-users"))

    assert response.status_code == 200
    emails = [u["email"] for u in response.json()["results"]]
    assert emails == sorted([manager.user.email, colleague.email])
    assert response.json()["count"] == 2


def test_staff_may_not_list_people():
    staff = MembershipFactory(role=Role.STAFF).user

    response = api_client(staff).get(reverse("api-users"))

    assert response.status_code == 403
    assert response.json()["message"] == "You do not manage anyone's access."


def test_the_people_list_takes_a_fixed_number_of_queries(django_assert_num_queries):
    admin = AdminFactory()
    for _ in range(5):
        MembershipFactory(role=Role.STAFF)
    client = api_client(admin)

    with django_assert_num_queries(3):  # page, count, memberships with their branches
        response = client.get(reverse("api-users"), {"limit": 3})

    assert response.json()["count"] == 6
    for _ in range(5):
        MembershipFactory(role=Role.MANAGER)
    with django_assert_num_queries(3):
        client.get(reverse("api-users"), {"limit": 10})


def test_a_short_people_page_needs_no_count_query(django_assert_num_queries):
    admin = AdminFactory()
    MembershipFactory(role=Role.STAFF)
    client = api_client(admin)

    with django_assert_num_queries(2):  # page, memberships with their branches
        response = client.get(reverse("api-users"))

    assert response.json()["count"] == 2


def test_a_manager_deactivates_and_reactivates_their_staff(manager):
    staff = MembershipFactory(branch=manager.branch, role=Role.STAFF).user
    client = api_client(manager.user)

    response = client.post(reverse("api-user-deactivate", args=[staff.pk]))

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    staff.refresh_from_db()
    assert not staff.is_active

    assert client.post(reverse("api-user-reactivate", args=[staff.pk])).status_code == 200
    staff.refresh_from_db()
    assert staff.is_active


@pytest.mark.parametrize(
    "role_elsewhere", [Role.STAFF, Role.MANAGER], ids=["staff-elsewhere", "manager-elsewhere"]
)
def test_a_manager_cannot_deactivate_someone_who_also_works_elsewhere(manager, role_elsewhere):
    person = MembershipFactory(branch=manager.branch, role=Role.STAFF).user
    MembershipFactory(user=person, role=role_elsewhere)

    response = api_client(manager.user).post(reverse("api-user-deactivate", args=[person.pk]))

    assert response.status_code == 403
    assert response.json()["message"] == f"You may not deactivate {person.email}."
    person.refresh_from_db()
    assert person.is_active


def test_a_manager_cannot_deactivate_a_fellow_manager_or_themselves(manager):
    fellow = MembershipFactory(branch=manager.branch, role=Role.MANAGER).user
    client = api_client(manager.user)

    assert client.post(reverse("api-user-deactivate", args=[fellow.pk])).status_code == 403
    assert client.post(reverse("api-user-deactivate", args=[manager.user.pk])).status_code == 403
    assert User.objects.filter(pk__in=[fellow.pk, manager.user.pk], is_active=True).count() == 2


def test_a_manager_addressing_someone_of_another_branch_gets_404(manager):
    stranger = MembershipFactory(role=Role.STAFF).user
    client = api_client(manager.user)

    assert client.get(reverse("api-user", args=[stranger.pk])).status_code == 404
    assert client.post(reverse("api-user-deactivate", args=[stranger.pk])).status_code == 404
    assert client.get(reverse("api-user", args=["not-a-uuid"])).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active


def test_only_an_admin_changes_an_account(manager):
    response = api_client(manager.user).patch(
        reverse("api-user", args=[manager.user.pk]), {"is_admin": True}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["message"] == "Only an administrator can change accounts."
    manager.user.refresh_from_db()
    assert not manager.user.is_superuser


def test_an_admin_changes_name_email_and_admin_status():
    person = UserFactory()

    response = api_client(AdminFactory()).patch(
        reverse("api-user", args=[person.pk]),
        {"full_name": "Renamed", "email": "Renamed@Example.com", "is_admin": True},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["is_admin"] is True
    person.refresh_from_db()
    assert (person.full_name, person.email, person.is_superuser) == (
        "Renamed",
        "renamed@example.com",
        True,
    )


def test_an_admin_cannot_take_away_their_own_admin_rights():
    admin = AdminFactory()

    response = api_client(admin).patch(
        reverse("api-user", args=[admin.pk]), {"is_admin": False}, format="json"
    )

    assert response.status_code == 400
    admin.refresh_from_db()
    assert admin.is_superuser


def test_a_manager_adds_an_existing_person_as_staff_by_email(manager):
    person = MembershipFactory(role=Role.STAFF).user  # works at another branch

    response = api_client(manager.user).post(
        reverse("api-memberships"),
        {"email": person.email.upper(), "branch": str(manager.branch.pk), "role": "STAFF"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["branch_code"] == manager.branch.code
    assert permissions.can(person, Action.RECEIVE_STOCK, manager.branch)


def test_a_manager_cannot_promote_themselves(manager):
    client = api_client(manager.user)
    other_branch = MembershipFactory(role=Role.STAFF).branch

    promote_here = client.patch(
        reverse("api-membership", args=[manager.pk]), {"role": "STAFF"}, format="json"
    )
    manage_elsewhere = client.post(
        reverse("api-memberships"),
        {"email": manager.user.email, "branch": str(other_branch.pk), "role": "MANAGER"},
        format="json",
    )

    assert promote_here.status_code == 403
    assert manage_elsewhere.status_code == 404
    assert list(manager.user.memberships.values_list("branch", "role")) == [
        (manager.branch.pk, Role.MANAGER)
    ]
    assert not permissions.can(manager.user, Action.VIEW, other_branch)


def test_removing_staff_from_a_branch_takes_their_permissions_there(manager):
    membership = MembershipFactory(branch=manager.branch, role=Role.STAFF)

    response = api_client(manager.user).delete(reverse("api-membership", args=[membership.pk]))

    assert response.status_code == 204
    assert not permissions.can(membership.user, Action.VIEW, manager.branch)
    assert permissions.visible_branches(membership.user).count() == 0


def test_an_admin_changes_a_role_and_the_permissions_follow():
    membership = MembershipFactory(role=Role.STAFF)

    response = api_client(AdminFactory()).patch(
        reverse("api-membership", args=[membership.pk]), {"role": "MANAGER"}, format="json"
    )

    assert response.status_code == 200
    assert permissions.can(membership.user, Action.ISSUE_STOCK, membership.branch)


def test_refusals_are_logged_with_who_tried(manager, caplog):
    with caplog.at_level(logging.WARNING, logger="accounts.permissions"):
        api_client(manager.user).post(
            reverse("api-memberships"),
            {"email": manager.user.email, "branch": str(manager.branch.pk), "role": "MANAGER"},
            format="json",
        )

    assert any(
        manager.user.email in record.getMessage() and "appoint managers" in record.getMessage()
        for record in caplog.records
    )


def test_me_describes_the_callers_branches_and_actions():
    membership = MembershipFactory(role=Role.STAFF)

    response = api_client(membership.user).get(reverse("api-me"))

    assert response.status_code == 200
    (branch,) = response.json()["branches"]
    assert branch["code"] == membership.branch.code
    assert sorted(branch["actions"]) == sorted(["view_branch", "receive_stock", "receive_transfer"])


def test_refused_fields_are_logged_with_who_sent_them(manager, caplog):
    with caplog.at_level(logging.WARNING, logger="inventory_project.kernel.api"):
        api_client(manager.user).post(
            reverse("api-users"),
            {"email": "x@example.com", "password": NEW_PASSWORD, "is_superuser": True},
            format="json",
        )

    (record,) = [r for r in caplog.records if r.name == "inventory_project.kernel.api"]
    assert record.levelno == logging.WARNING
    assert manager.user.email in record.getMessage()
    assert "is_superuser" in record.getMessage()


def test_addressing_another_branchs_person_is_logged(manager, caplog):
    stranger = MembershipFactory(role=Role.STAFF).user

    with caplog.at_level(logging.WARNING):
        api_client(manager.user).post(reverse("api-user-deactivate", args=[stranger.pk]))

    messages = [r.getMessage() for r in caplog.records if r.name == "inventory_project.kernel.api"]
    assert len(messages) == 1
    assert str(stranger.pk) in messages[0]
    assert manager.user.email in messages[0]


def test_a_refusal_the_permission_module_logged_is_not_logged_twice(manager, caplog):
    with caplog.at_level(logging.WARNING):
        api_client(manager.user).post(
            reverse("api-memberships"),
            {"email": manager.user.email, "branch": str(manager.branch.pk), "role": "MANAGER"},
            format="json",
        )

    assert [r.name for r in caplog.records if r.name != "django.request"] == [
        "accounts.permissions"
    ]
