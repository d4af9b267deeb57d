import pytest
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.tests.factories import AdminFactory, UserFactory
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
