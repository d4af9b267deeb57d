"""The branch directory API: every active branch, by code, with only its public fields,
for anyone signed in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import api_client
from stock.services import receive_stock

pytestmark = pytest.mark.django_db

URL = reverse("api-branch-directory")


@pytest.fixture
def staff():
    return MembershipFactory(role=Role.STAFF, branch__code="BER-01").user


def codes(response) -> list[str]:
    return [branch["code"] for branch in response.json()["results"]]


def test_anonymous_callers_are_refused():
    response = api_client().get(URL)

    assert response.status_code == 401


def test_staff_of_one_branch_list_every_active_branch_by_code(staff):
    BranchFactory(code="MUC-01")
    BranchFactory(code="HAM-01")

    response = api_client(staff).get(URL)

    assert codes(response) == ["BER-01", "HAM-01", "MUC-01"]


def test_inactive_branches_are_left_out(staff):
    BranchFactory(code="OLD-01", is_active=False)

    response = api_client(staff).get(URL)

    assert codes(response) == ["BER-01"]


def test_a_branch_answers_only_its_public_fields(staff):
    other = BranchFactory(
        code="HAM-01", name="Hamburg", kind="WAREHOUSE", city="Hamburg", address="Hafenstraße 1"
    )
    receive_stock(
        actor=MembershipFactory(branch=other, role=Role.MANAGER).user,
        branch_id=other.pk,
        product_id=ProductFactory().pk,
        quantity=5,
    )

    response = api_client(staff).get(URL, {"q": "HAM"})

    assert response.json()["results"] == [
        {
            "id": str(other.pk),
            "code": "HAM-01",
            "name": "Hamburg",
            "kind": "WAREHOUSE",
            "city": "Hamburg",
            "address": "Hafenstraße 1",
        }
    ]


@pytest.mark.parametrize("q", ["ham", "Hansestadt", "HAMBURG"])
def test_q_searches_code_name_and_city_whatever_its_case(staff, q):
    BranchFactory(code="HAM-01", name="Hansestadt", city="Hamburg")
    BranchFactory(code="MUC-01", name="München")

    response = api_client(staff).get(URL, {"q": q})

    assert codes(response) == ["HAM-01"]


def test_kind_lists_only_shops_or_warehouses(staff):
    BranchFactory(code="WH-01", kind="WAREHOUSE")

    response = api_client(staff).get(URL, {"kind": "WAREHOUSE"})

    assert codes(response) == ["WH-01"]


def test_an_unknown_kind_is_refused(staff):
    response = api_client(staff).get(URL, {"kind": "KIOSK"})

    assert response.status_code == 400


def test_the_directory_is_paginated(staff):
    for number in range(3):
        BranchFactory(code=f"X-{number}")

    response = api_client(staff).get(URL, {"limit": 2})

    assert response.json()["next"] is not None


def test_the_directory_takes_as_many_queries_for_many_branches_as_for_one(
    staff, django_assert_num_queries
):
    client = api_client(staff)
    with CaptureQueriesContext(connection) as one_branch:
        assert client.get(URL).status_code == 200
    for number in range(30):
        BranchFactory(code=f"X-{number:02d}")

    with django_assert_num_queries(len(one_branch)):
        response = client.get(URL)

    assert response.json()["count"] == 31
