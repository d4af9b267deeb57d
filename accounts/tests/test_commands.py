"""Management commands: repairing branch permissions and creating the first administrator."""

from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from accounts.models import BranchPermission, Role, User
from accounts.permissions import ROLE_ACTIONS, Action, can
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory, UserFactory
from branches.tests.factories import BranchFactory

pytestmark = pytest.mark.django_db

ADMIN_EMAIL = "boss@example.com"
ADMIN_PASSWORD = "a long admin passphrase 42"


def run(command, *args, **options):
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def sign_in_to_the_back_office(client):
    return client.post(
        f"{reverse('admin:login')}?next={reverse('admin:index')}",
        {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )


def branch_permission(codename):
    return Permission.objects.get(content_type__app_label="branches", codename=codename)


# sync_branch_permissions ------------------------------------------------------------------


def test_sync_restores_permissions_deleted_behind_the_services_back():
    membership = ManagerFactory()
    BranchPermission.objects.filter(
        user=membership.user, permission__codename__in=[Action.ISSUE_STOCK, Action.MANAGE_STAFF]
    ).delete()
    assert not can(membership.user, Action.ISSUE_STOCK, membership.branch)

    output = run("sync_branch_permissions")

    assert "2 granted, 0 revoked" in output
    assert can(membership.user, Action.ISSUE_STOCK, membership.branch)
    assert can(membership.user, Action.MANAGE_STAFF, membership.branch)


def test_sync_restores_every_permission_of_a_role_when_all_were_lost():
    membership = MembershipFactory(role=Role.STAFF)
    BranchPermission.objects.all().delete()

    output = run("sync_branch_permissions")

    assert f"{len(ROLE_ACTIONS[Role.STAFF])} granted, 0 revoked" in output
    assert can(membership.user, Action.RECEIVE_STOCK, membership.branch)


def test_sync_removes_a_permission_at_a_branch_without_a_membership():
    membership = MembershipFactory(role=Role.STAFF)
    elsewhere = BranchFactory()
    BranchPermission.objects.create(
        user=membership.user,
        content_object=elsewhere,
        permission=branch_permission(Action.ISSUE_STOCK),
    )
    assert can(membership.user, Action.ISSUE_STOCK, elsewhere)

    output = run("sync_branch_permissions")

    assert "0 granted, 1 revoked" in output
    assert not can(membership.user, Action.ISSUE_STOCK, elsewhere)
    assert can(membership.user, Action.RECEIVE_STOCK, membership.branch)


def test_sync_removes_a_permission_beyond_what_the_role_grants():
    membership = MembershipFactory(role=Role.STAFF)
    BranchPermission.objects.create(
        user=membership.user,
        content_object=membership.branch,
        permission=branch_permission(Action.ISSUE_STOCK),
    )

    run("sync_branch_permissions")

    assert not can(membership.user, Action.ISSUE_STOCK, membership.branch)
    assert can(membership.user, Action.RECEIVE_STOCK, membership.branch)


def test_sync_removes_the_permissions_of_a_user_without_any_membership():
    user = UserFactory()
    branch = BranchFactory()
    BranchPermission.objects.create(
        user=user, content_object=branch, permission=branch_permission(Action.VIEW)
    )

    output = run("sync_branch_permissions")

    assert "0 granted, 1 revoked" in output
    assert not BranchPermission.objects.filter(user=user).exists()


def test_sync_leaves_other_users_alone():
    drifted = ManagerFactory()
    intact = ManagerFactory()
    held = set(BranchPermission.objects.filter(user=intact.user).values_list("pk", flat=True))
    BranchPermission.objects.filter(user=drifted.user).delete()

    run("sync_branch_permissions")

    assert set(BranchPermission.objects.filter(user=intact.user).values_list("pk", flat=True)) == (
        held
    )


def test_running_sync_a_second_time_changes_nothing():
    membership = ManagerFactory()
    BranchPermission.objects.filter(user=membership.user).first().delete()
    BranchPermission.objects.create(
        user=membership.user,
        content_object=BranchFactory(),
        permission=branch_permission(Action.VIEW),
    )
    first = run("sync_branch_permissions")
    rows = BranchPermission.objects.count()

    second = run("sync_branch_permissions")

    assert "1 granted, 1 revoked" in first
    assert "0 granted, 0 revoked" in second
    assert BranchPermission.objects.count() == rows


def test_sync_with_nothing_to_do_says_so():
    ManagerFactory()
    MembershipFactory(role=Role.STAFF)

    output = run("sync_branch_permissions")

    assert output.strip() == "Branch permissions in step with memberships: 0 granted, 0 revoked."


# create_first_admin -----------------------------------------------------------------------


@pytest.fixture
def admin_env(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_FULL_NAME", "The Boss")


@pytest.fixture
def no_admin_env(monkeypatch):
    for name in ("EMAIL", "PASSWORD", "FULL_NAME"):
        monkeypatch.delenv(f"DJANGO_SUPERUSER_{name}", raising=False)


@pytest.mark.usefixtures("admin_env")
def test_create_first_admin_creates_an_active_administrator():
    output = run("create_first_admin")

    assert f"Created the administrator {ADMIN_EMAIL}." in output
    user = User.objects.get()
    assert user.email == ADMIN_EMAIL
    assert user.full_name == "The Boss"
    assert user.is_active
    assert user.is_superuser


@pytest.mark.usefixtures("admin_env")
def test_the_first_admin_signs_in_with_the_password_from_the_environment(client):
    run("create_first_admin")

    response = sign_in_to_the_back_office(client)

    assertRedirects(response, reverse("admin:index"))


@pytest.mark.usefixtures("admin_env")
def test_create_first_admin_does_nothing_the_second_time():
    run("create_first_admin")

    output = run("create_first_admin")

    assert "An administrator exists already; nothing to do." in output
    assert User.objects.count() == 1


def test_create_first_admin_does_nothing_once_any_admin_exists(monkeypatch, admin_env):
    existing = AdminFactory()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another long passphrase 7")

    output = run("create_first_admin")

    assert "nothing to do" in output
    assert list(User.objects.all()) == [existing]


@pytest.mark.usefixtures("no_admin_env")
def test_create_first_admin_without_the_environment_creates_no_one():
    output = run("create_first_admin")

    assert "DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD are not both set" in output
    assert not User.objects.exists()


@pytest.mark.usefixtures("no_admin_env")
def test_create_first_admin_with_an_email_but_no_password_creates_no_one(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", ADMIN_EMAIL)

    output = run("create_first_admin")

    assert "not both set" in output
    assert not User.objects.exists()


@pytest.mark.usefixtures("admin_env")
def test_create_first_admin_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "123")

    with pytest.raises(CommandError, match="too short"):
        run("create_first_admin")

    assert not User.objects.exists()


@pytest.mark.usefixtures("admin_env")
def test_create_first_admin_refuses_an_invalid_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "not-an-address")

    with pytest.raises(CommandError, match="not a valid e-mail address"):
        run("create_first_admin")

    assert not User.objects.exists()


@pytest.mark.usefixtures("admin_env")
def test_create_first_admin_does_not_promote_an_existing_user():
    user = UserFactory(email=ADMIN_EMAIL)

    with pytest.raises(CommandError, match="already exists but is not an administrator"):
        run("create_first_admin")

    user.refresh_from_db()
    assert not user.is_superuser
    assert User.objects.count() == 1


# Django's createsuperuser -----------------------------------------------------------------


@pytest.mark.usefixtures("admin_env")
def test_createsuperuser_without_input_creates_an_admin():
    run("createsuperuser", interactive=False)

    user = User.objects.get()
    assert user.email == ADMIN_EMAIL
    assert user.full_name == "The Boss"
    assert user.is_superuser
    assert user.is_staff
    assert user.is_active
    assert user.check_password(ADMIN_PASSWORD)


@pytest.mark.usefixtures("admin_env")
def test_createsuperuser_stores_the_email_address_in_lower_case(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Example.COM")

    run("createsuperuser", interactive=False)

    assert User.objects.get().email == ADMIN_EMAIL


@pytest.mark.usefixtures("admin_env")
def test_an_admin_made_by_createsuperuser_reaches_the_back_office(client):
    run("createsuperuser", interactive=False)

    response = sign_in_to_the_back_office(client)

    assertRedirects(response, reverse("admin:index"))
