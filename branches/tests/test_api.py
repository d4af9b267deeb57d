"""The branches API: everyone reads the branches they may see; ADMINs change them."""

import uuid

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.models import Branch
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import api_client
from stock.services import receive_stock

pytestmark = pytest.mark.django_db


def detail(branch_id) -> str:
    return reverse("api-branch", args=[branch_id])


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def manager():
    return MembershipFactory(role=Role.MANAGER)


def codes(response) -> list[str]:
    return [branch["code"] for branch in response.json()["results"]]


# Reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", reverse("api-branches")), ("post", reverse("api-branches"))],
    ids=["list", "create"],
)
def test_anonymous_callers_are_refused(method, url):
    response = getattr(api_client(), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_anonymous_callers_cannot_read_a_branch():
    response = api_client().get(detail(BranchFactory().pk))

    assert response.status_code == 401


def test_an_admin_lists_every_branch_by_code(admin):
    BranchFactory(code="MUC-01")
    BranchFactory(code="BER-01")

    response = api_client(admin).get(reverse("api-branches"))

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert codes(response) == ["BER-01", "MUC-01"]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_others_list_only_the_branches_where_they_have_a_role(role):
    membership = MembershipFactory(role=role, branch__code="BER-01")
    MembershipFactory(user=membership.user, role=Role.STAFF, branch__code="HAM-01")
    BranchFactory(code="MUC-01")

    response = api_client(membership.user).get(reverse("api-branches"))

    assert codes(response) == ["BER-01", "HAM-01"]


def test_branches_are_described_in_full(admin):
    branch = BranchFactory(code="BER-01", name="Berlin", address="Unter den Linden 1")

    response = api_client(admin).get(reverse("api-branches"))

    assert response.json()["results"] == [
        {
            "id": str(branch.pk),
            "code": "BER-01",
            "name": "Berlin",
            "kind": "SHOP",
            "city": "",
            "address": "Unter den Linden 1",
            "timezone": "Europe/Berlin",
            "is_active": True,
            "created_at": response.json()["results"][0]["created_at"],
        }
    ]


def test_branches_are_filtered_by_state(admin):
    BranchFactory(code="BER-01")
    BranchFactory(code="OLD-01", is_active=False)

    client = api_client(admin)

    assert codes(client.get(reverse("api-branches"), {"is_active": "false"})) == ["OLD-01"]
    assert codes(client.get(reverse("api-branches"), {"is_active": "true"})) == ["BER-01"]


def test_branches_are_searched_by_code_or_name_whatever_the_case(admin):
    BranchFactory(code="BER-01", name="Berlin Mitte")
    BranchFactory(code="HAM-01", name="Hamburg Mitte")
    BranchFactory(code="MUC-01", name="München")

    client = api_client(admin)

    assert codes(client.get(reverse("api-branches"), {"q": "ber"})) == ["BER-01"]
    assert codes(client.get(reverse("api-branches"), {"q": "MITTE"})) == ["BER-01", "HAM-01"]


def test_the_search_stays_within_the_branches_the_caller_may_see(manager):
    BranchFactory(code="BER-99", name="Elsewhere")

    response = api_client(manager.user).get(reverse("api-branches"), {"q": "BR-"})

    assert codes(response) == [manager.branch.code]


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_the_branch_list_takes_a_fixed_number_of_queries(who, django_assert_num_queries):
    user = AdminFactory() if who == "admin" else MembershipFactory(role=Role.MANAGER).user
    client = api_client(user)

    def add_branches(count):
        for _ in range(count):
            branch = BranchFactory()
            if who == "manager":
                MembershipFactory(user=user, branch=branch, role=Role.STAFF)

    add_branches(3)
    with django_assert_num_queries(2):  # page, count
        response = client.get(reverse("api-branches"), {"limit": 2})
    assert response.json()["count"] == (4 if who == "manager" else 3)

    add_branches(6)
    with django_assert_num_queries(2):
        response = client.get(reverse("api-branches"), {"limit": 5})
    assert len(response.json()["results"]) == 5


def test_a_caller_reads_a_branch_they_may_see(manager):
    response = api_client(manager.user).get(detail(manager.branch.pk))

    assert response.status_code == 200
    assert response.json()["code"] == manager.branch.code


def test_a_branch_the_caller_may_not_see_answers_as_one_that_does_not_exist(manager):
    hidden = BranchFactory()
    missing = uuid.uuid4()
    client = api_client(manager.user)

    hidden_response = client.get(detail(hidden.pk))
    missing_response = client.get(detail(missing))

    assert hidden_response.status_code == missing_response.status_code == 404
    assert hidden_response.json() == {
        "code": "unknown_branch",
        "message": f"No branch with id {hidden.pk}.",
        "fields": {},
    }
    assert missing_response.json()["code"] == "unknown_branch"


def test_a_malformed_branch_id_answers_404_in_the_error_shape(admin):
    response = api_client(admin).get(detail("not-a-uuid"))

    assert response.status_code == 404
    assert response.json() == {
        "code": "unknown_branch",
        "message": "No branch with id not-a-uuid.",
        "fields": {},
    }


# Writing ----------------------------------------------------------------------------------


def test_an_admin_opens_a_branch(admin):
    response = api_client(admin).post(
        reverse("api-branches"),
        {"code": "BER-01", "name": "Berlin", "timezone": "Europe/Berlin"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    branch = Branch.objects.get(code="BER-01")
    assert response.json()["id"] == str(branch.pk)
    assert (response.json()["address"], branch.timezone) == ("", "Europe/Berlin")


def test_an_admin_opens_a_warehouse_in_a_city(admin):
    response = api_client(admin).post(
        reverse("api-branches"),
        {"code": "WH-01", "name": "Central", "kind": "WAREHOUSE", "city": "Berlin"},
        format="json",
    )

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["city"]) == ("WAREHOUSE", "Berlin")


def test_an_unknown_kind_is_refused_naming_the_field(admin):
    response = api_client(admin).post(
        reverse("api-branches"), {"code": "K-01", "name": "Kiosk", "kind": "KIOSK"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["kind"]


def test_an_admin_changes_a_branchs_kind_and_city(admin):
    branch = BranchFactory()

    response = api_client(admin).patch(
        detail(branch.pk), {"kind": "WAREHOUSE", "city": "Hamburg"}, format="json"
    )

    assert (response.json()["kind"], response.json()["city"]) == ("WAREHOUSE", "Hamburg")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_only_an_admin_opens_a_branch(role):
    user = MembershipFactory(role=role).user

    response = api_client(user).post(
        reverse("api-branches"), {"code": "BER-01", "name": "Berlin"}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {
        "code": "not_permitted",
        "message": "Only an administrator can open branches.",
        "fields": {},
    }
    assert not Branch.objects.filter(code="BER-01").exists()


def test_a_used_code_is_refused_naming_the_field(admin):
    BranchFactory(code="BER-01")

    response = api_client(admin).post(
        reverse("api-branches"), {"code": "BER-01", "name": "Berlin"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "A branch with the code BER-01 already exists.",
        "fields": {"code": ["A branch with the code BER-01 already exists."]},
    }


def test_an_invalid_code_is_refused_naming_the_field(admin):
    response = api_client(admin).post(
        reverse("api-branches"), {"code": "ber 01", "name": "Berlin"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["code"]


@pytest.mark.parametrize("field", ["id", "created_at", "is_active"])
def test_fields_that_cannot_be_set_on_opening_are_refused(admin, field):
    response = api_client(admin).post(
        reverse("api-branches"),
        {"code": "BER-01", "name": "Berlin", field: "x"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"
    assert response.json()["fields"] == {field: ["This field is not accepted here."]}
    assert not Branch.objects.exists()


def test_an_admin_changes_and_deactivates_a_branch(admin):
    branch = BranchFactory(code="BER-01", name="Berlin")

    response = api_client(admin).patch(
        detail(branch.pk), {"name": "Berlin Mitte", "is_active": False}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["is_active"]) == ("Berlin Mitte", False)
    branch.refresh_from_db()
    assert (branch.code, branch.name, branch.is_active) == ("BER-01", "Berlin Mitte", False)


def test_a_change_to_a_used_name_is_refused_naming_the_field(admin):
    BranchFactory(name="Hamburg")
    branch = BranchFactory()

    response = api_client(admin).patch(detail(branch.pk), {"name": "HAMBURG"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["name"]


def test_a_change_to_the_creation_time_is_refused(admin):
    branch = BranchFactory()

    response = api_client(admin).patch(
        detail(branch.pk), {"created_at": "2020-01-01T00:00:00Z"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"


def test_a_manager_cannot_change_their_own_branch(manager):
    response = api_client(manager.user).patch(
        detail(manager.branch.pk), {"name": "Mine now"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    manager.branch.refresh_from_db()
    assert manager.branch.name != "Mine now"


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_a_manager_addressing_another_branch_gets_404(manager, method):
    other = BranchFactory()

    response = getattr(api_client(manager.user), method)(
        detail(other.pk), {"name": "Taken"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_branch"
    assert Branch.objects.filter(pk=other.pk).exclude(name="Taken").exists()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_changing_an_unknown_branch_answers_404(admin, method):
    response = getattr(api_client(admin), method)(detail(uuid.uuid4()), {}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_branch"


def test_an_admin_removes_an_unused_branch(admin):
    branch = BranchFactory()

    response = api_client(admin).delete(detail(branch.pk))

    assert response.status_code == 204
    assert not Branch.objects.filter(pk=branch.pk).exists()


def test_a_manager_cannot_remove_their_own_branch(manager):
    response = api_client(manager.user).delete(detail(manager.branch.pk))

    assert response.status_code == 403
    assert Branch.objects.filter(pk=manager.branch.pk).exists()


def test_a_branch_with_stock_history_is_not_removed(admin):
    branch = BranchFactory(code="BER-01")
    receive_stock(actor=admin, branch_id=branch.pk, product_id=ProductFactory().pk, quantity="1")

    response = api_client(admin).delete(detail(branch.pk))

    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": "Branch BER-01 has stock, stock history or staff; deactivate it instead.",
        "fields": {},
    }
    assert Branch.objects.filter(pk=branch.pk).exists()


def test_a_branch_with_staff_is_not_removed(admin, manager):
    response = api_client(admin).delete(detail(manager.branch.pk))

    assert response.status_code == 409
    assert Branch.objects.filter(pk=manager.branch.pk).exists()


def test_an_unknown_state_filter_is_refused(admin):
    response = api_client(admin).get(reverse("api-branches"), {"is_active": "perhaps"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["is_active"]
