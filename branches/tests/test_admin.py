"""The back office opens, changes and removes branches through the branch services."""

from unittest import mock

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches import services
from branches.admin import BranchAdmin
from branches.models import Branch
from branches.tests.factories import BranchFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def url(view, *args):
    return reverse(f"admin:branches_branch_{view}", args=args)


def branch_data(branch, **changes):
    data = {
        "code": branch.code,
        "name": branch.name,
        "kind": branch.kind,
        "city": branch.city,
        "address": branch.address,
        "timezone": branch.timezone,
    }
    if branch.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return data


def test_a_branch_opened_in_the_admin_goes_through_the_service_and_is_active(admin_client):
    create = mock.Mock(wraps=services.create_branch)

    with mock.patch.dict(BranchAdmin.services, create=create):
        response = admin_client.post(
            url("add"),
            {"code": "BER-01", "name": "Berlin", "kind": "SHOP", "timezone": "Europe/Berlin"},
        )

    assert response.status_code == 302
    create.assert_called_once()
    branch = Branch.objects.get(code="BER-01")
    assert (branch.name, branch.timezone, branch.is_active) == ("Berlin", "Europe/Berlin", True)


def test_a_name_taken_whatever_its_case_is_refused_beside_the_name(admin_client, branch):
    response = admin_client.post(
        url("add"),
        {"code": "NEW-01", "name": branch.name.upper(), "kind": "SHOP", "timezone": "UTC"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["name"] == [f"A branch named {branch.name.upper()} already exists."]
    assert not Branch.objects.filter(code="NEW-01").exists()


def test_a_branch_changed_in_the_admin_takes_the_services_row_lock(admin_client, branch):
    with mock.patch.object(services, "_lock", wraps=services._lock) as lock:
        response = admin_client.post(
            url("change", branch.pk), branch_data(branch, name="Berlin Mitte")
        )

    assert response.status_code == 302
    lock.assert_called_once_with(branch.pk)
    branch.refresh_from_db()
    assert branch.name == "Berlin Mitte"


def test_a_branch_deactivated_in_the_admin_keeps_its_staff(admin_client, branch):
    MembershipFactory(branch=branch, role=Role.STAFF)
    data = branch_data(branch)
    del data["is_active"]

    response = admin_client.post(url("change", branch.pk), data)

    assert response.status_code == 302
    branch.refresh_from_db()
    assert not branch.is_active
    assert branch.memberships.count() == 1


def test_a_branch_with_staff_is_not_removed_in_the_admin(admin_client, branch):
    MembershipFactory(branch=branch, role=Role.STAFF)

    response = admin_client.post(url("delete", branch.pk), {"post": "yes"}, follow=True)

    assert f"Branch {branch.code} has stock, stock history or staff" in response.text
    assert "deleted successfully" not in response.text
    assert Branch.objects.filter(pk=branch.pk).exists()
    assert branch.memberships.count() == 1


def test_an_unused_branch_is_removed_in_the_admin(admin_client):
    unused = BranchFactory()

    response = admin_client.post(url("delete", unused.pk), {"post": "yes"})

    assert response["Location"] == url("changelist")
    assert not Branch.objects.filter(pk=unused.pk).exists()
