import uuid

import pytest

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches import services
from branches.errors import UnknownBranch
from branches.models import Branch, BranchKind
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.errors import Conflict, InvalidInput
from stock.services import receive_stock

pytestmark = pytest.mark.django_db


def test_a_branch_is_created_with_utc_and_no_address_unless_given(actor):
    branch = services.create_branch(actor=actor, code="BER-01", name="Berlin")

    branch.refresh_from_db()
    assert (branch.code, branch.name, branch.address, branch.timezone, branch.is_active) == (
        "BER-01",
        "Berlin",
        "",
        "UTC",
        True,
    )


def test_a_branch_opens_as_a_shop_in_no_city_unless_given(actor):
    branch = services.create_branch(actor=actor, code="BER-01", name="Berlin")

    branch.refresh_from_db()
    assert (branch.kind, branch.city) == (BranchKind.SHOP, "")


def test_a_warehouse_is_opened_in_its_city(actor):
    branch = services.create_branch(
        actor=actor, code="WH-01", name="Central", kind=BranchKind.WAREHOUSE, city="Berlin"
    )

    branch.refresh_from_db()
    assert (branch.kind, branch.city) == (BranchKind.WAREHOUSE, "Berlin")


def test_an_unknown_kind_is_refused_naming_the_field(actor):
    with pytest.raises(InvalidInput) as error:
        services.create_branch(actor=actor, code="BER-01", name="Berlin", kind="KIOSK")

    assert error.value.field == "kind"


def test_kind_and_city_are_changed(actor):
    branch = BranchFactory()

    services.update_branch(
        actor=actor, branch_id=branch.pk, kind=BranchKind.WAREHOUSE, city="Hamburg"
    )

    branch.refresh_from_db()
    assert (branch.kind, branch.city) == (BranchKind.WAREHOUSE, "Hamburg")


def test_a_used_code_is_refused_naming_the_field(actor):
    BranchFactory(code="BER-01")

    with pytest.raises(InvalidInput) as error:
        services.create_branch(actor=actor, code="BER-01", name="Berlin Mitte")

    assert error.value.field == "code"
    assert error.value.message == "A branch with the code BER-01 already exists."


def test_a_used_name_is_refused_whatever_its_case(actor):
    BranchFactory(name="Berlin Mitte")

    with pytest.raises(InvalidInput) as error:
        services.create_branch(actor=actor, code="BER-02", name="BERLIN mitte")

    assert error.value.field == "name"
    assert Branch.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("code", {"code": "ber-01"}),
        ("timezone", {"timezone": "Mars/Olympus"}),
        ("name", {"name": ""}),
    ],
    ids=["lower-case code", "unknown time zone", "blank name"],
)
def test_the_models_validators_are_applied_naming_the_field(field, changes, actor):
    data = {"code": "BER-01", "name": "Berlin", "timezone": "Europe/Berlin", **changes}

    with pytest.raises(InvalidInput) as error:
        services.create_branch(actor=actor, **data)

    assert error.value.field == field
    assert not Branch.objects.exists()


def test_a_code_taken_between_the_check_and_the_save_is_still_named(monkeypatch, actor):
    BranchFactory(code="BER-01")
    validate = services._validate
    calls = []

    def looks_too_early(branch):
        # The first look misses the other branch, as if it were committed just after.
        calls.append(branch)
        if len(calls) > 1:
            validate(branch)

    monkeypatch.setattr(services, "_validate", looks_too_early)

    with pytest.raises(InvalidInput) as error:
        services.create_branch(actor=actor, code="BER-01", name="Berlin Mitte")

    assert error.value.field == "code"
    assert len(calls) == 2


def test_a_branch_is_changed_and_deactivated(actor):
    branch = BranchFactory(code="BER-01", name="Berlin")

    services.update_branch(
        actor=actor,
        branch_id=branch.pk,
        code="BER-02",
        name="Berlin Mitte",
        address="Unter den Linden 1",
        timezone="Europe/Berlin",
        is_active=False,
    )

    branch.refresh_from_db()
    assert (branch.code, branch.name, branch.address, branch.is_active) == (
        "BER-02",
        "Berlin Mitte",
        "Unter den Linden 1",
        False,
    )


def test_a_branch_keeps_its_own_code_and_name_on_change(actor):
    branch = BranchFactory(code="BER-01", name="Berlin")

    services.update_branch(actor=actor, branch_id=branch.pk, code="BER-01", name="BERLIN")

    branch.refresh_from_db()
    assert branch.name == "BERLIN"


def test_a_change_to_another_branchs_code_is_refused(actor):
    BranchFactory(code="BER-01")
    branch = BranchFactory(code="BER-02")

    with pytest.raises(InvalidInput) as error:
        services.update_branch(actor=actor, branch_id=branch.pk, code="BER-01")

    assert error.value.field == "code"
    branch.refresh_from_db()
    assert branch.code == "BER-02"


def test_only_the_editable_fields_can_be_changed(actor):
    branch = BranchFactory()

    with pytest.raises(TypeError, match="cannot change created_at"):
        services.update_branch(actor=actor, branch_id=branch.pk, created_at=None)


@pytest.mark.parametrize("branch_id", [uuid.uuid4(), "not-a-uuid"], ids=["unknown", "malformed"])
def test_changing_an_unknown_branch_is_refused(branch_id, actor):
    with pytest.raises(UnknownBranch):
        services.update_branch(actor=actor, branch_id=branch_id, name="Anything")


def test_an_unused_branch_is_deleted(actor):
    branch = BranchFactory()

    services.delete_branch(actor=actor, branch_id=branch.pk)

    assert not Branch.objects.filter(pk=branch.pk).exists()


def test_a_branch_with_stock_history_is_not_deleted(actor):
    branch = BranchFactory(code="BER-01")
    receive_stock(
        actor=AdminFactory(), branch_id=branch.pk, product_id=ProductFactory().pk, quantity="1"
    )

    with pytest.raises(Conflict) as error:
        services.delete_branch(actor=actor, branch_id=branch.pk)

    assert error.value.message == (
        "Branch BER-01 has stock, stock history or staff; deactivate it instead."
    )
    assert Branch.objects.filter(pk=branch.pk).exists()


def test_a_branch_with_staff_is_not_deleted(actor):
    membership = MembershipFactory(role=Role.STAFF)

    with pytest.raises(Conflict):
        services.delete_branch(actor=actor, branch_id=membership.branch.pk)

    assert Branch.objects.filter(pk=membership.branch.pk).exists()
    assert membership.user.memberships.exists()


def test_deleting_an_unknown_branch_is_refused(actor):
    with pytest.raises(UnknownBranch):
        services.delete_branch(actor=actor, branch_id=uuid.uuid4())
