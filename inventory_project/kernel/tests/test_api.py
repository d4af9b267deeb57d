"""The API's shared conventions against what a hostile client sends: paging parameters of
any shape, and fields refused inside the lines of a body."""

import logging

import pytest
from django.urls import reverse

from inventory_project.tests.helpers import api_client
from stock.models import StockMovement
from transfers.models import Transfer

pytestmark = pytest.mark.django_db

LISTS = ["api-stock-levels", "api-movements", "api-transfers"]


# Paging ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("offset", ["99999999999999999999", str(10**15 + 1)])
def test_an_offset_beyond_any_list_is_refused_naming_it(actor, name, offset):
    response = api_client(actor).get(reverse(name), {"offset": offset})

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "offset must be at most 1000000000000000.",
        "fields": {"offset": ["offset must be at most 1000000000000000."]},
    }


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize(
    ("limit", "offset"),
    [("0", "-1"), ("-5", "abc"), ("many", "1.5"), ("2.0", "1e3"), ("", " 2"), ("٣", "9" * 5000)],
)
def test_malformed_paging_parameters_mean_the_defaults_as_ever(actor, name, limit, offset):
    response = api_client(actor).get(reverse(name), {"limit": limit, "offset": offset})

    assert response.status_code == 200
    assert response.json()["results"] == []
    assert "offset=" not in (response.json()["next"] or "")


@pytest.mark.parametrize("name", LISTS)
def test_a_huge_limit_is_capped(actor, name):
    response = api_client(actor).get(reverse(name), {"limit": "9" * 5000})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("name", LISTS)
def test_an_offset_past_the_end_is_an_empty_page_with_the_total(actor, name):
    response = api_client(actor).get(reverse(name), {"offset": str(10**15)})

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_empty_paging_parameters_mean_the_defaults(actor):
    response = api_client(actor).get(reverse("api-stock-levels"), {"limit": "", "offset": ""})

    assert response.status_code == 200


# Fields refused inside lines ------------------------------------------------------------


def test_a_field_refused_inside_a_batch_line_is_not_accepted(actor, branch, product, caplog):
    body = {
        "kind": "RECEIPT",
        "branch": str(branch.pk),
        "lines": [{"product": str(product.pk), "quantity": "1", "on_hand": "500"}],
    }

    with caplog.at_level(logging.INFO, logger="inventory_project.kernel.api"):
        response = api_client(actor).post(reverse("api-stock-batch"), body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "not_accepted",
        "message": "lines.0.on_hand: This field is not accepted here.",
        "fields": {"lines.0.on_hand": ["This field is not accepted here."]},
    }
    assert levels_logged(caplog) == [logging.WARNING]
    assert not StockMovement.objects.exists()


def test_a_field_refused_inside_a_transfer_line_is_not_accepted(actor, product, caplog):
    from branches.tests.factories import BranchFactory

    body = {
        "from_branch": str(BranchFactory().pk),
        "to_branch": str(BranchFactory().pk),
        "lines": [{"product": str(product.pk), "quantity": "1", "shipped": "1"}],
    }

    with caplog.at_level(logging.INFO, logger="inventory_project.kernel.api"):
        response = api_client(actor).post(reverse("api-transfer-request"), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "not_accepted"
    assert response.json()["fields"] == {"lines.0.shipped": ["This field is not accepted here."]}
    assert levels_logged(caplog) == [logging.WARNING]
    assert not Transfer.objects.exists()


def test_a_bad_value_inside_a_line_stays_invalid_and_is_logged_at_info(
    actor, branch, product, caplog
):
    body = {
        "kind": "RECEIPT",
        "branch": str(branch.pk),
        "lines": [{"product": str(product.pk), "quantity": "lots"}],
    }

    with caplog.at_level(logging.INFO, logger="inventory_project.kernel.api"):
        response = api_client(actor).post(reverse("api-stock-batch"), body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert levels_logged(caplog) == [logging.INFO]


def levels_logged(caplog) -> list[int]:
    return [r.levelno for r in caplog.records if r.name == "inventory_project.kernel.api"]
