"""The audit ledger page (/audit/) and its CSV export (/audit/export.csv)."""

import csv
import datetime
import io
import re
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client
from stock import services
from stock.services import MovementLine
from stock.views.audit import PER_PAGE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def page(user, **params):
    return page_client(user).get(reverse("audit"), params)


def export(user, **params):
    return page_client(user).get(reverse("audit-export"), params)


def movement_ids(response) -> list[str]:
    return re.findall(r'<tr id="movement-([0-9a-f-]+)"', response.content.decode())


def exported(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def receive(actor, branch, product, quantity="1", note=""):
    return services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity, note=note
    )


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def elsewhere():
    return BranchFactory(code="HAM-01")


@pytest.fixture
def ledger(admin, branch, elsewhere, product):
    """A receipt at each branch: here first, then elsewhere."""
    here = receive(admin, branch, product, "5")
    there = receive(admin, elsewhere, product, "7")
    return here, there


# Who may see it --------------------------------------------------------------------------


def test_an_admin_sees_every_branchs_movements_newest_first(admin, ledger):
    response = page(admin)

    assert movement_ids(response) == [str(ledger[1].pk), str(ledger[0].pk)]


def test_a_manager_sees_only_their_branchs_movements(manager, ledger):
    response = page(manager)

    assert movement_ids(response) == [str(ledger[0].pk)]


def test_staff_are_refused_in_words(staff, ledger):
    response = page(staff)

    assert response.status_code == 403
    assert b"Only managers and administrators audit." in response.content


def test_staff_are_refused_the_export(staff, ledger):
    response = export(staff)

    assert response.status_code == 403


def test_a_hidden_branch_in_the_filter_is_not_found(manager, ledger, elsewhere):
    response = page(manager, branch=elsewhere.code)

    assert response.status_code == 404


def test_a_hidden_branch_in_the_export_filter_is_not_found(manager, ledger, elsewhere):
    response = export(manager, branch=elsewhere.code)

    assert response.status_code == 404


def test_the_sign_in_page_comes_first(client):
    response = client.get(reverse("audit"))

    assert response.status_code == 302
    assert "/account/sign-in/" in response["Location"]


# Filters ---------------------------------------------------------------------------------


def test_the_branch_filter_keeps_one_branch(admin, ledger, elsewhere):
    response = page(admin, branch=elsewhere.code)

    assert movement_ids(response) == [str(ledger[1].pk)]


def test_the_product_filter_matches_a_sku(admin, branch):
    wanted, other = ProductFactory(sku="AUD-7"), ProductFactory(sku="AUD-70")
    movement = receive(admin, branch, wanted)
    receive(admin, branch, other)

    response = page(admin, product="aud-7")

    assert movement_ids(response) == [str(movement.pk)]


def test_the_product_filter_matches_part_of_a_name(admin, branch):
    wanted, other = ProductFactory(name="Apple juice"), ProductFactory(name="Bread")
    movement = receive(admin, branch, wanted)
    receive(admin, branch, other)

    response = page(admin, product="JUICE")

    assert movement_ids(response) == [str(movement.pk)]


def test_the_kind_filter_keeps_one_kind(admin, branch, product):
    receive(admin, branch, product, "5")
    issued = services.issue_stock(
        actor=admin, branch_id=branch.pk, product_id=product.pk, quantity="2"
    )

    response = page(admin, kind="ISSUE")

    assert movement_ids(response) == [str(issued.pk)]


def test_the_actor_filter_keeps_one_persons_movements(admin, manager, branch, product):
    receive(admin, branch, product)
    theirs = receive(manager, branch, product)

    response = page(admin, actor=str(manager.pk))

    assert movement_ids(response) == [str(theirs.pk)]


def test_the_actor_filter_offers_the_people_of_the_managers_branches(manager, staff, elsewhere):
    stranger = MembershipFactory(branch=elsewhere, role=Role.STAFF).user

    content = page(manager).content.decode()

    assert staff.email in content
    assert stranger.email not in content


def test_a_date_range_keeps_the_days_of_the_branch(admin, branch, product):
    branch.timezone = "Europe/Berlin"
    branch.save()
    berlin = ZoneInfo("Europe/Berlin")
    # 23:30 in Berlin on the 1st is 22:30 UTC: a day of the branch, not of UTC.
    moments = [
        datetime.datetime(2026, 3, 1, 23, 30, tzinfo=berlin),
        datetime.datetime(2026, 3, 2, 0, 30, tzinfo=berlin),
    ]
    made = []
    for moment in moments:
        with mock.patch("django.utils.timezone.now", return_value=moment):
            made.append(receive(admin, branch, product))

    response = page(admin, branch=branch.code, **{"from": "2026-03-01", "to": "2026-03-01"})

    assert movement_ids(response) == [str(made[0].pk)]


def test_a_range_that_ends_before_it_starts_is_an_error_beside_its_field(admin, ledger):
    response = page(admin, **{"from": "2026-03-05", "to": "2026-03-01"})

    content = response.content.decode()
    assert re.search(r'id="error-from"[^>]*>This is after the last day asked for\.<', content)
    assert 'value="2026-03-05"' in content
    assert 'value="2026-03-01"' in content


def test_a_date_that_does_not_parse_is_an_error_beside_its_field(admin, ledger):
    response = page(admin, to="yesterday")

    assert response.status_code == 200
    assert re.search(r'id="error-to"[^>]*>Enter a valid date\.<', response.content.decode())


@pytest.mark.parametrize(
    ("name", "value"), [("from", "0001-01-01"), ("to", "9999-12-31"), ("to", "0001-01-01")]
)
def test_a_day_at_the_calendars_end_is_an_error_not_a_crash(admin, ledger, name, value):
    response = page(admin, **{name: value})

    assert response.status_code == 200
    assert re.search(rf'id="error-{name}"[^>]*>Enter a day between', response.content.decode())


def test_a_product_search_with_a_nul_character_is_an_error_not_a_crash(admin, ledger):
    response = page(admin, product="ab\x00c")

    assert response.status_code == 200
    assert re.search(r'id="error-product"[^>]*>Null characters', response.content.decode())


def test_an_htmx_request_gets_the_results_and_the_tidy_address(admin, ledger):
    response = page_client(admin).get(reverse("audit"), {"kind": "RECEIPT", "cursor": ""}, **HTMX)

    assert response.content.decode().startswith('<section id="audit-results"')
    assert response["HX-Push-Url"] == "/audit/?kind=RECEIPT"


# Pages -----------------------------------------------------------------------------------


def test_next_and_previous_walk_the_whole_ledger_once(admin, branch, product):
    made = [receive(admin, branch, product) for _ in range(PER_PAGE * 2 + 3)]
    client = page_client(admin)

    seen, response = [], client.get(reverse("audit"))
    while True:
        seen += movement_ids(response)
        found = re.search(r'id="audit-next" rel="next" href="([^"]+)"', response.content.decode())
        if not found:
            break
        response = client.get(reverse("audit") + found.group(1).replace("&amp;", "&"))
    back = re.search(r'id="audit-previous" rel="prev" href="([^"]+)"', response.content.decode())
    previous = client.get(reverse("audit") + back.group(1).replace("&amp;", "&"))

    assert seen == [str(m.pk) for m in reversed(made)]
    assert movement_ids(previous) == seen[PER_PAGE : PER_PAGE * 2]


def test_a_tampered_cursor_means_the_first_page(admin, ledger):
    response = page(admin, cursor="nonsense.abc")

    assert movement_ids(response) == [str(ledger[1].pk), str(ledger[0].pk)]


@pytest.mark.parametrize("count", [3, PER_PAGE + 10])
@pytest.mark.parametrize("who", ["admin", "manager"])
def test_a_page_costs_the_same_queries_however_long_the_ledger(
    admin, manager, branch, product, count, who
):
    for _ in range(count):
        receive(admin, branch, product)
    client = page_client({"admin": admin, "manager": manager}[who])
    client.get(reverse("audit"))  # the session's first request

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("audit"), {"branch": branch.code, "kind": "RECEIPT"})

    assert len(queries) == QUERIES_PER_PAGE[who]


QUERIES_PER_PAGE = {"admin": 7, "manager": 9}


# The export ------------------------------------------------------------------------------


def test_the_export_streams_a_csv_attachment(admin, ledger):
    response = export(admin)

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="ledger-{day}.csv"'


def test_the_export_holds_what_the_page_lists_on_all_its_pages(admin, branch, product):
    made = [receive(admin, branch, product) for _ in range(PER_PAGE + 5)]
    receive(admin, BranchFactory(), product)

    rows = exported(export(admin, branch=branch.code))

    assert [row["movement"] for row in rows] == [str(m.pk) for m in reversed(made)]


def test_the_export_writes_plain_decimals_and_iso_times(admin, branch):
    product = ProductFactory(unit="kg")
    movement = receive(admin, branch, product, "2.5")
    issued = services.issue_stock(
        actor=admin, branch_id=branch.pk, product_id=product.pk, quantity="1"
    )

    rows = exported(export(admin))

    assert rows[0]["delta"] == "-1.000"
    assert rows[0]["on_hand_after"] == "1.500"
    assert rows[1]["delta"] == "2.500"
    assert datetime.datetime.fromisoformat(rows[1]["created_at"]) == movement.created_at
    assert rows[0]["kind"] == "ISSUE"
    assert rows[0]["movement"] == str(issued.pk)
    assert rows[0]["branch"] == branch.code
    assert rows[0]["sku"] == product.sku


@pytest.mark.parametrize("note", ["=HYPERLINK(1)", "+1+1", "-2+3", "@SUM(A1)"])
def test_a_note_that_starts_like_a_formula_is_written_as_text(admin, branch, product, note):
    receive(admin, branch, product, note=note)

    rows = exported(export(admin))

    assert rows[0]["note"] == "'" + note


def test_the_export_keeps_quotes_commas_and_line_breaks(admin, branch, product):
    receive(admin, branch, product, note='a "big", odd\nnote')

    rows = exported(export(admin))

    assert rows[0]["note"] == 'a "big", odd\nnote'


def test_the_export_follows_the_filters(admin, branch, product):
    receive(admin, branch, product, "5")
    issued = services.issue_stock(
        actor=admin, branch_id=branch.pk, product_id=product.pk, quantity="2"
    )

    rows = exported(export(admin, kind="ISSUE"))

    assert [row["movement"] for row in rows] == [str(issued.pk)]


def test_the_export_of_a_manager_leaves_out_hidden_branches(manager, ledger):
    rows = exported(export(manager))

    assert [row["movement"] for row in rows] == [str(ledger[0].pk)]


@pytest.mark.parametrize("count", [3, 2100])
def test_the_export_costs_the_same_queries_however_many_rows(admin, branch, count):
    _receipts(admin, branch, count)
    client = page_client(admin)
    client.get(reverse("audit"))  # the session's first request

    with CaptureQueriesContext(connection) as queries:
        rows = exported(client.get(reverse("audit-export")))

    assert len(rows) == count
    assert len(queries) == EXPORT_QUERIES


EXPORT_QUERIES = 5


@pytest.mark.django_db(transaction=True)
def test_the_export_reads_by_cursor_outside_a_transaction(branch):
    """As served: no transaction around the request, the cursor held across commits."""
    admin = AdminFactory()
    _receipts(admin, branch, 2100)

    rows = exported(export(admin))

    assert len(rows) == 2100
    assert len({row["movement"] for row in rows}) == 2100


def _receipts(admin, branch, count):
    """``count`` receipts, written in batches of up to 300 lines (one transaction each)."""
    products = ProductFactory.create_batch(min(count, 300))
    for start in range(0, count, len(products)):
        lines = [MovementLine(p.pk, Decimal("1")) for p in products[: count - start]]
        services.record_stock_batch(actor=admin, branch_id=branch.pk, kind="RECEIPT", lines=lines)
