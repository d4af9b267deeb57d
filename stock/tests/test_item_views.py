"""The item page's ledger, chart and levels elsewhere, its live partials, and the forms that
receive, issue, adjust and count: per role, with bad input, refusals and double submits."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import Role
from accounts.permissions import Action
from accounts.tests.factories import AdminFactory, MembershipFactory
from alerts.models import AlertStatus
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import CategoryFactory, ProductFactory
from inventory_project.tests.helpers import page_client
from stock import services
from stock.models import AdjustmentReason, MovementKind, StockLevel, StockMovement
from stock.views import item as item_views

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def receive(actor, branch, product, quantity, note="") -> StockLevel:
    services.receive_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity, note=note
    )
    return StockLevel.objects.get(branch=branch, product=product)


def issue(actor, branch, product, quantity, note="") -> StockLevel:
    services.issue_stock(
        actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity, note=note
    )
    return StockLevel.objects.get(branch=branch, product=product)


def page(level: StockLevel, query: str = "") -> str:
    url = reverse("stock-level", args=[level.pk])
    return f"{url}?{query}" if query else url


def form_url(level: StockLevel, kind: str) -> str:
    return reverse("stock-level-move", args=[level.pk, kind])


def once_key(response, kind: str) -> str:
    """The one-time key rendered with the ``kind`` form."""
    match = re.search(rf'name="once" value="([0-9a-f]+)" id="{kind}-once"', response.text)
    assert match, f"no {kind} form in the answer"
    return match.group(1)


def post_form(client, level, kind, data, **extra):
    """Post the ``kind`` form as a browser would: with the key the form was rendered with."""
    key = once_key(client.get(form_url(level, kind)), kind)
    return client.post(form_url(level, kind), {"once": key, **data}, **extra)


def movements(level: StockLevel) -> list[StockMovement]:
    return list(StockMovement.objects.filter(stock_level=level).order_by("version"))


def ledger_rows(response) -> int:
    return response.text.count('<td data-label="Kind">')


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# The page -----------------------------------------------------------------------------------


def test_the_page_describes_the_product(actor, staff, branch):
    product = ProductFactory(
        name="Rye flour",
        sku="RYE-1KG",
        barcode="4006040000017",
        unit=Unit.KILOGRAM,
        category=CategoryFactory(name="Baking"),
    )
    level = receive(actor, branch, product, "12.5")

    response = page_client(staff).get(page(level))

    assertContains(response, '<dd class="code">4006040000017</dd>', html=True)
    assertContains(response, "<dd>Baking</dd>", html=True)
    assertContains(response, "<dd><strong>12.5</strong> kilograms</dd>", html=True)


def test_the_figures_and_the_ledger_follow_this_levels_live_events(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)

    response = page_client(staff).get(page(level))

    figures = re.search(r'<div id="level-figures"[^>]*>', response.text).group(0)
    live_on = "stock.changed stock.threshold_changed alert.raised alert.resolved alert.acknowledged"
    assert f'data-live-on="{live_on}"' in figures
    assert f'data-live-level="{level.pk}"' in figures
    assert f'hx-get="{page(level)}?part=figures"' in figures
    ledger = re.search(r'<section id="level-ledger"[^>]*>', response.text).group(0)
    assert 'data-live-on="stock.changed"' in ledger
    assert f'data-live-level="{level.pk}"' in ledger


def test_the_figures_partial_shows_what_is_on_hand_now(actor, staff, branch, product):
    """An open item page refreshes its figures after a receipt elsewhere: the partial it
    fetches holds the new quantity."""
    level = receive(actor, branch, product, 12)
    client = page_client(staff)
    assertContains(client.get(page(level)), "<dd><strong>12</strong> pieces</dd>", html=True)
    receive(actor, branch, product, 5)  # in another tab

    response = client.get(page(level, "part=figures"), **HTMX)

    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="level-figures"')
    assertContains(response, "<dd><strong>17</strong> pieces</dd>", html=True)
    assertNotContains(response, 'id="level-ledger"')


def test_the_figures_partial_shows_an_alert_raised_meanwhile(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)
    client = page_client(manager)
    assertContains(client.get(page(level, "part=figures"), **HTMX), "No open alert.")
    issue(actor, branch, product, 5)

    response = client.get(page(level, "part=figures"), **HTMX)

    assertContains(response, "7 on hand, threshold 10")
    assertContains(response, 'name="note"')  # the manager may acknowledge it


def test_the_ledger_partial_is_served_alone(actor, staff, branch, product):
    level = receive(actor, branch, product, 12, note="first delivery")

    by_part = page_client(staff).get(page(level, "part=ledger"), **HTMX)
    by_target = page_client(staff).get(page(level), HTTP_HX_TARGET="level-ledger", **HTMX)

    for response in (by_part, by_target):
        assert response.text.lstrip().startswith('<section id="level-ledger"')
        assertContains(response, "first delivery")
        assertNotContains(response, 'id="level-figures"')


def test_a_full_page_answers_a_plain_request_whatever_its_part(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)

    response = page_client(staff).get(page(level, "part=figures"))

    assertContains(response, "<html")
    assertContains(response, 'id="level-ledger"')


# The ledger: filters and pages ------------------------------------------------------------------


def test_the_ledger_filters_by_kind(actor, staff, branch, product):
    level = receive(actor, branch, product, 12, note="a delivery")
    level = issue(actor, branch, product, 2, note="a sale")

    response = page_client(staff).get(page(level, "kind=ISSUE"))

    assertContains(response, "a sale")
    assertNotContains(response, "a delivery")
    assertContains(response, '<option value="ISSUE" selected>issue</option>', html=True)


def test_the_ledger_filters_by_day(actor, staff, branch, product):
    level = receive(actor, branch, product, 12, note="a delivery")
    today = timezone.localdate()
    client = page_client(staff)

    def rows(query: str) -> int:
        return ledger_rows(client.get(page(level, query), **HTMX, HTTP_HX_TARGET="level-ledger"))

    assert rows(f"since={today}&until={today}") == 1
    assert rows(f"since={today + timedelta(days=1)}") == 0
    assert rows(f"until={today - timedelta(days=1)}") == 0


def test_a_filter_that_is_not_a_date_is_said_and_left_out(actor, staff, branch, product):
    level = receive(actor, branch, product, 12, note="a delivery")

    response = page_client(staff).get(page(level, "since=someday&kind=RECEIPT"))

    assertContains(response, "Enter a valid date.")
    assertContains(response, "a delivery")


def test_a_last_day_before_the_first_is_said(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)

    response = page_client(staff).get(page(level, "since=2025-03-10&until=2025-03-01"))

    assertContains(response, "The last day is before the first.")


def test_the_ledger_pages_by_twenty_five_newest_first(actor, staff, branch, product):
    for number in range(1, 31):
        level = receive(actor, branch, product, 1, note=f"delivery {number:02d}")
    client = page_client(staff)

    first = client.get(page(level))
    second = client.get(page(level, "page=2"))

    assert ledger_rows(first) == 25
    assertContains(first, "delivery 30")
    assertContains(first, "delivery 06")
    assertNotContains(first, "delivery 05")
    assertContains(first, f'href="{page(level, "page=2")}"')
    assertNotContains(first, 'rel="prev"')
    assert ledger_rows(second) == 5
    assertContains(second, "delivery 05")
    assertContains(second, "delivery 01")
    assertContains(second, f'href="{page(level)}?"')  # back to the first page
    assertNotContains(second, 'rel="next"')


def test_the_ledger_pages_keep_the_filters(actor, staff, branch, product):
    for _ in range(26):
        level = receive(actor, branch, product, 1)
    level = issue(actor, branch, product, 1, note="a sale")
    client = page_client(staff)

    response = client.get(page(level, "kind=RECEIPT"))

    assertNotContains(response, "a sale")
    assertContains(response, f'href="{page(level, "kind=RECEIPT&amp;page=2")}"')
    later = client.get(page(level, "kind=RECEIPT&page=2"), **HTMX, HTTP_HX_TARGET="level-ledger")
    assert ledger_rows(later) == 1
    # Refreshed live, the ledger stays on its page with its filters.
    assertContains(later, f'hx-get="{page(level, "kind=RECEIPT&amp;page=2&amp;part=ledger")}"')


def test_a_page_beyond_the_ledger_says_so(actor, staff, branch, product):
    level = receive(actor, branch, product, 1)

    response = page_client(staff).get(page(level, "page=9"))

    assertContains(response, "No movement on this page.")


def test_an_empty_ledger_says_so(actor, staff, branch, product):
    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.pk, product_id=product.pk, threshold="4"
    )
    level = StockLevel.objects.get(branch=branch, product=product)

    response = page_client(staff).get(page(level))

    assertContains(response, "No movement yet.")
    assertContains(response, "No movement in the last 90 days: on hand stayed at 0 pieces.")
    assertNotContains(response, "<svg")


# The chart ------------------------------------------------------------------------------------


def test_the_chart_draws_on_hand_over_time_and_says_it_in_words(actor, staff, branch, product):
    receive(actor, branch, product, 12)
    receive(actor, branch, product, 28)
    level = issue(actor, branch, product, 35)

    response = page_client(staff).get(page(level))

    svg = re.search(r"<svg[^>]*>.*?</svg>", response.text, re.S).group(0)
    assert 'role="img"' in svg
    assert "<title" in svg
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
    assert "to 5 pieces now; lowest 0, highest 40; low-stock threshold 10." in desc
    # One step per movement: start, three movements, now.
    path = re.search(r'class="chart-line" d="([^"]+)"', svg).group(1)
    assert path.count("V") == 4
    assertContains(response, "The numbers behind the chart: 3 movements")
    assertContains(response, '<td class="number" data-label="On hand after">40</td>', html=True)


# The product at the user's branches -----------------------------------------------------------


def test_the_page_lists_the_product_at_every_branch_the_user_may_view(actor, product):
    home, second, foreign = (BranchFactory(code=c) for c in ("BER-01", "HAM-01", "VIE-01"))
    user = MembershipFactory(branch=home, role=Role.MANAGER).user
    MembershipFactory(user=user, branch=second, role=Role.STAFF)
    level = receive(actor, home, product, 12)
    other = receive(actor, second, product, 3)
    receive(actor, foreign, product, 50)

    response = page_client(user).get(page(level))

    assertContains(response, f'<a href="{page(other)}">HAM-01</a>', html=True)
    assertContains(response, '<strong aria-current="page">BER-01</strong>', html=True)
    assertNotContains(response, "VIE-01")
    section = response.text.split('id="elsewhere-heading"')[1].split("</section>")[0]
    assert section.count('<tr class="low">') == 1  # HAM-01 holds 3, below 10


# Who is offered which form ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "offered"),
    [
        ("admin", {"receive", "issue", "adjust", "count"}),
        (Role.MANAGER, {"receive", "issue", "adjust", "count"}),
        (Role.STAFF, {"receive"}),
    ],
)
def test_each_role_is_offered_the_forms_it_may_use(actor, branch, product, role, offered):
    level = receive(actor, branch, product, 12)
    user = AdminFactory() if role == "admin" else MembershipFactory(branch=branch, role=role).user

    response = page_client(user).get(page(level))

    for kind in ("receive", "issue", "adjust", "count"):
        shown = f'<dialog id="move-{kind}"' in response.text
        linked = f'href="{form_url(level, kind)}"' in response.text
        assert (shown, linked) == (kind in offered, kind in offered), kind


def test_the_form_has_a_page_of_its_own_without_javascript(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)

    response = page_client(manager).get(form_url(level, "issue"))

    assertContains(response, "<html")
    assertContains(response, "<h1", count=1)
    assertContains(response, "Issue stock")
    assertContains(response, "12 pieces on hand")
    assertContains(response, f'action="{form_url(level, "issue")}"')
    assertNotContains(response, "hx-post")  # a plain form, posting normally
    assertContains(response, f'<a class="button secondary" href="{page(level)}">Cancel</a>')


def test_htmx_asks_for_the_form_alone(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)

    response = page_client(manager).get(form_url(level, "count"), **HTMX)

    assert response.text.lstrip().startswith('<form id="move-count-form"')
    assertContains(response, f'hx-post="{form_url(level, "count")}"')


def test_an_unknown_form_is_not_found(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)

    assert page_client(manager).get(form_url(level, "steal")).status_code == 404


# Receive --------------------------------------------------------------------------------------


def test_staff_receive_without_javascript(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)
    client = page_client(staff)

    response = post_form(client, level, "receive", {"quantity": "5", "note": "supplier 7"})

    assertRedirects(response, page(level))
    assert messages_of(response) == [
        f"Received 5 pieces of {product.sku} at {branch.code}; 17 on hand."
    ]
    receipt = movements(level)[-1]
    assert (receipt.kind, receipt.delta, receipt.note, receipt.actor) == (
        MovementKind.RECEIPT,
        Decimal("5"),
        "supplier 7",
        staff,
    )


def test_a_receipt_through_htmx_swaps_the_figures_and_the_ledger(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)
    client = page_client(staff)
    key = once_key(client.get(page(level)), "receive")

    response = client.post(
        form_url(level, "receive"),
        {"once": key, "quantity": "5", "note": "supplier 7"},
        HTTP_HX_CURRENT_URL=f"http://testserver{page(level)}",
        **HTMX,
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert json.loads(response["HX-Trigger"])["stock:recorded"]["kind"] == "receive"
    # A fresh form (a new key) for the dialog, which closes.
    assert response.text.lstrip().startswith('<form id="move-receive-form"')
    assert once_key(response, "receive") != key
    figures = response.text.split('<div id="level-figures"')[1].split('id="level-ledger"')[0]
    assert 'hx-swap-oob="true"' in figures
    assert "<dd><strong>17</strong> pieces</dd>" in figures
    ledger = response.text.split('<section id="level-ledger"')[1]
    assert 'hx-swap-oob="true"' in ledger.split(">")[0]
    assert "supplier 7" in ledger
    assertContains(response, 'hx-swap-oob="beforeend:#toasts"')
    assertContains(response, f"Received 5 pieces of {product.sku} at {branch.code}; 17 on hand.")


def test_the_swapped_ledger_keeps_the_filters_of_the_page(actor, manager, branch, product):
    level = receive(actor, branch, product, 12, note="a delivery")
    level = issue(actor, branch, product, 1, note="a sale")
    client = page_client(manager)

    response = client.post(
        form_url(level, "issue"),
        {"once": once_key(client.get(page(level)), "issue"), "quantity": "2", "note": "another"},
        HTTP_HX_CURRENT_URL=f"http://testserver{page(level, 'kind=ISSUE')}",
        **HTMX,
    )

    ledger = response.text.split('<section id="level-ledger"')[1]
    assert "a sale" in ledger
    assert "another" in ledger
    assert "a delivery" not in ledger


# Bad input and refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "message"),
    [
        ("abc", "Quantity must be a number"),
        ("0", "Quantity must be greater than zero."),
        ("-3", "Quantity must be greater than zero."),
        ("2.5", "must be a whole number of pieces."),
        ("", "This field is required."),
    ],
)
def test_a_bad_quantity_is_said_beside_the_field_and_kept(
    actor, staff, branch, product, entered, message
):
    level = receive(actor, branch, product, 12)

    response = post_form(page_client(staff), level, "receive", {"quantity": entered, "note": "n1"})

    assertContains(response, message, status_code=400)
    errors = re.search(
        r'<ul class="errorlist" id="receive-quantity_error">(.*?)</ul>', response.text
    )
    assert errors
    assert message in errors.group(1)
    assertContains(response, "n1</textarea>", status_code=400)
    if entered:
        assertContains(response, f'value="{entered}"', status_code=400)
    assert len(movements(level)) == 1


def test_issuing_more_than_is_on_hand_is_refused_in_words(actor, manager, branch, product):
    level = receive(actor, branch, product, 3)

    response = post_form(page_client(manager), level, "issue", {"quantity": "5"})

    assert response.status_code == 409
    errors = re.search(r'<ul class="errorlist" id="issue-quantity_error">(.*?)</ul>', response.text)
    assert f"{branch.code} holds 3 pcs of {product.sku}; 5 cannot leave." in errors.group(1)
    assertContains(response, 'value="5"', status_code=409)
    assert len(movements(level)) == 1


def test_a_stale_dialog_is_told_what_changed_meanwhile(actor, manager, branch, product):
    level = receive(actor, branch, product, 10)
    client = page_client(manager)
    key = once_key(client.get(page(level)), "issue")
    issue(actor, branch, product, 8)  # someone else, meanwhile

    response = client.post(form_url(level, "issue"), {"once": key, "quantity": "5"}, **HTMX)

    assert response.status_code == 409
    assert response.text.lstrip().startswith('<form id="move-issue-form"')
    assertContains(response, "holds 2 pcs", status_code=409)
    # Corrected, the same key applies once.
    client.post(form_url(level, "issue"), {"once": key, "quantity": "2"}, **HTMX)
    assert [m.delta for m in movements(level)] == [10, -8, -2]


def test_an_adjustment_needs_a_reason(actor, manager, branch, product):
    level = receive(actor, branch, product, 10)

    response = post_form(page_client(manager), level, "adjust", {"delta": "-2", "reason": ""})

    errors = re.search(r'<ul class="errorlist" id="adjust-reason_error">(.*?)</ul>', response.text)
    assert response.status_code == 400
    assert "This field is required." in errors.group(1)
    assertContains(response, 'value="-2"', status_code=400)


def test_an_adjustment_for_another_reason_needs_a_note(actor, manager, branch, product):
    level = receive(actor, branch, product, 10)

    response = post_form(
        page_client(manager), level, "adjust", {"delta": "-2", "reason": "OTHER", "note": ""}
    )

    errors = re.search(r'<ul class="errorlist" id="adjust-note_error">(.*?)</ul>', response.text)
    assert response.status_code == 400
    assert "needs a note explaining it" in errors.group(1)
    assertContains(response, '<option value="OTHER" selected>', status_code=400)
    assert len(movements(level)) == 1


def test_a_manager_adjusts_with_a_reason(actor, manager, branch, product):
    level = receive(actor, branch, product, 10)

    response = post_form(
        page_client(manager),
        level,
        "adjust",
        {"delta": "-2", "reason": "DAMAGED", "note": "dropped"},
    )

    assertRedirects(response, page(level))
    assert messages_of(response) == [f"Adjusted {product.sku} at {branch.code} by -2; 8 on hand."]
    adjustment = movements(level)[-1]
    assert (adjustment.kind, adjustment.delta, adjustment.reason) == (
        MovementKind.ADJUSTMENT,
        Decimal("-2"),
        AdjustmentReason.DAMAGED,
    )


def test_a_manager_counts_the_shelf(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)

    response = post_form(page_client(manager), level, "count", {"counted": "7"})

    assertRedirects(response, page(level))
    assert messages_of(response) == [
        f"Counted 7 pieces of {product.sku} at {branch.code} (a difference of -5)."
    ]
    count = movements(level)[-1]
    assert (count.kind, count.delta, count.on_hand_after) == (MovementKind.COUNT, -5, 7)


def test_a_count_cannot_be_negative(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)

    response = post_form(page_client(manager), level, "count", {"counted": "-1"})

    assertContains(response, "Counted quantity cannot be negative.", status_code=400)


@pytest.mark.parametrize("kind", ["issue", "adjust", "count"])
def test_staff_are_refused_the_other_forms_in_words(actor, staff, branch, product, kind):
    level = receive(actor, branch, product, 12)
    client = page_client(staff)
    label = {"issue": "issue stock", "adjust": "adjust stock", "count": "count stock"}[kind]
    forged = {"once": "f" * 32, "quantity": "1", "delta": "-1", "reason": "LOST", "counted": "1"}

    shown = client.get(form_url(level, kind))
    posted = client.post(form_url(level, kind), forged)
    partial = client.post(form_url(level, kind), forged, **HTMX)

    for response in (shown, posted, partial):
        assertContains(response, f"You may not {label} at {branch.code}.", status_code=403)
    assertContains(posted, "<html", status_code=403)
    assert "<html" not in partial.text
    assert f'<div id="move-{kind}-form"' in partial.text
    assert len(movements(level)) == 1


def test_the_service_refuses_what_the_page_was_wrong_to_offer(
    actor, staff, branch, product, monkeypatch
):
    """The page asks the permission module only what to show; the service decides."""
    level = receive(actor, branch, product, 12)
    everything = SimpleNamespace(actions_at=lambda user, branch: frozenset(Action))
    monkeypatch.setattr(item_views, "permissions", everything)
    client = page_client(staff)
    key = once_key(client.get(form_url(level, "issue")), "issue")

    response = client.post(form_url(level, "issue"), {"once": key, "quantity": "1"})

    assertContains(response, f"You may not issue stock at {branch.code}.", status_code=403)
    assert len(movements(level)) == 1


def test_someone_of_another_branch_finds_no_form(actor, product):
    level = receive(actor, BranchFactory(), product, 12)
    stranger = MembershipFactory(role=Role.MANAGER).user
    client = page_client(stranger)

    assert client.get(form_url(level, "receive")).status_code == 404
    response = client.post(form_url(level, "issue"), {"once": "a" * 32, "quantity": "1"})

    assert response.status_code == 404
    assert len(movements(level)) == 1


def test_anonymous_visitors_are_sent_to_sign_in_from_a_form(client, actor, branch, product):
    level = receive(actor, branch, product, 12)

    response = client.post(form_url(level, "receive"), {"once": "a" * 32, "quantity": "1"})

    assertRedirects(response, f"{reverse('login')}?next={form_url(level, 'receive')}")
    assert len(movements(level)) == 1


def test_an_inactive_branch_takes_no_movement(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)
    client = page_client(manager)
    key = once_key(client.get(form_url(level, "receive")), "receive")
    branch.is_active = False
    branch.save(update_fields=["is_active"])

    response = client.post(form_url(level, "receive"), {"once": key, "quantity": "1"})

    assertContains(response, "is inactive; its stock cannot change.", status_code=409)
    assert len(movements(level)) == 1


# Double submits -------------------------------------------------------------------------------


def test_the_same_form_posted_twice_records_once(actor, manager, branch, product):
    level = receive(actor, branch, product, 12)
    client = page_client(manager)
    key = once_key(client.get(page(level)), "issue")
    data = {"once": key, "quantity": "5"}

    first = client.post(form_url(level, "issue"), data, follow=True)
    second = client.post(form_url(level, "issue"), data)

    assert first.redirect_chain == [(page(level), 302)]
    assertRedirects(second, page(level))
    assert [m.delta for m in movements(level)] == [12, -5]
    assert messages_of(second) == [
        "Already recorded, nothing more was booked: "
        f"Issued 5 pieces of {product.sku} at {branch.code}; 7 on hand."
    ]


def test_the_same_dialog_posted_twice_records_once(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)
    client = page_client(staff)
    data = {"once": once_key(client.get(page(level)), "receive"), "quantity": "5"}

    first = client.post(form_url(level, "receive"), data, **HTMX)
    second = client.post(form_url(level, "receive"), data, **HTMX)

    assert (first.status_code, second.status_code) == (200, 200)
    assert json.loads(second["HX-Trigger"])["stock:recorded"]["replayed"] is True
    assertContains(second, "Already recorded, nothing more was booked: Received 5 pieces")
    assertContains(second, "<dd><strong>17</strong> pieces</dd>", html=True)
    assert [m.delta for m in movements(level)] == [12, 5]


# Speed ----------------------------------------------------------------------------------------


def _queries(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **extra).status_code == 200
    return len(queries)


def test_the_page_and_its_partials_cost_the_same_queries_at_any_size(
    actor, manager, branch, product
):
    level = receive(actor, branch, product, 100)
    for number in range(4):
        level = issue(AdminFactory(), branch, product, 1, note=f"sale {number}")
    other = BranchFactory()
    MembershipFactory(user=manager, branch=other, role=Role.STAFF)
    receive(actor, other, product, 3)
    client = page_client(manager)
    urls = [
        (page(level), {}),
        (page(level, "kind=ISSUE&page=1"), {}),
        (page(level, "part=figures"), HTMX),
        (page(level, "part=ledger&kind=ISSUE"), HTMX),
        (form_url(level, "issue"), {}),
    ]
    small = [_queries(client, url, **extra) for url, extra in urls]
    assert len(movements(level)) == 5

    for number in range(55):
        issue(AdminFactory(), branch, product, 1, note=f"sale {number}")
    for _ in range(3):
        LowStockAlertFactory(
            stock_level=level,
            on_hand_at_trigger=Decimal("2"),
            acknowledged=True,
            resolved=True,
            status=AlertStatus.RESOLVED,
        )
    level = issue(actor, branch, product, 36)  # down to 4: an open alert too
    receive(actor, BranchFactory(), product, 3)
    MembershipFactory(user=manager, branch=BranchFactory(), role=Role.STAFF)
    assert len(movements(level)) == 61
    assert level.alerts.filter(status=AlertStatus.OPEN).exists()

    large = [_queries(client, url, **extra) for url, extra in urls]

    assert large == small
    assert ledger_rows(client.get(page(level))) == 25


def test_a_filtered_ledger_shows_its_filters_in_the_address(actor, staff, branch, product):
    level = receive(actor, branch, product, 12)

    chosen = page_client(staff).get(
        page(level, "kind=ISSUE&since=&until="), HTTP_HX_TARGET="level-ledger", **HTMX
    )
    refreshed = page_client(staff).get(page(level, "kind=ISSUE&part=ledger"), **HTMX)

    assert chosen["HX-Push-Url"] == page(level, "kind=ISSUE")
    assert "HX-Push-Url" not in refreshed  # a live refresh leaves the address alone


def test_the_product_elsewhere_is_refreshed_with_the_figures(actor, branch, product):
    other = BranchFactory(code="HAM-01")
    user = MembershipFactory(branch=branch, role=Role.STAFF).user
    MembershipFactory(user=user, branch=other, role=Role.STAFF)
    level = receive(actor, branch, product, 12)
    receive(actor, other, product, 3)

    response = page_client(user).get(page(level, "part=figures"), **HTMX)

    assertContains(response, "HAM-01")
    assertContains(response, '<td class="number" data-label="On hand">3</td>', html=True)
