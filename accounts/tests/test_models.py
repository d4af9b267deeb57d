import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction

from accounts.models import Membership, Role, User
from accounts.tests.factories import PASSWORD, UserFactory
from branches.tests.factories import BranchFactory

pytestmark = pytest.mark.django_db


def test_create_user_stores_the_email_lower_case():
    user = User.objects.create_user("Jane.Doe@Example.COM", "pw-1234567", full_name="Jane Doe")

    assert user.email == "jane.doe@example.com"
    assert not user.is_superuser


def test_create_user_requires_an_email():
    with pytest.raises(ValueError, match="e-mail"):
        User.objects.create_user("", "pw")


def test_only_an_admin_has_back_office_access():
    user = User.objects.create_superuser("root@example.com", "pw-1234567")

    assert user.is_superuser
    assert user.is_staff
    assert not UserFactory().is_staff


def test_login_matches_the_email_case_insensitively(rf):
    user = UserFactory(email="sam@example.com")

    signed_in = authenticate(rf.post("/"), username="SAM@example.com", password=PASSWORD)

    assert signed_in == user


def test_two_accounts_cannot_share_an_email_in_different_case():
    UserFactory(email="sam@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="Sam@Example.com")


def test_a_user_has_one_role_per_branch():
    membership = Membership.objects.create(
        user=UserFactory(), branch=BranchFactory(), role=Role.STAFF
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=membership.user, branch=membership.branch, role=Role.MANAGER)


def test_a_user_may_hold_different_roles_at_different_branches():
    user = UserFactory()
    Membership.objects.create(user=user, branch=BranchFactory(), role=Role.MANAGER)
    Membership.objects.create(user=user, branch=BranchFactory(), role=Role.STAFF)

    assert sorted(user.memberships.values_list("role", flat=True)) == ["MANAGER", "STAFF"]
