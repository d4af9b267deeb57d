"""The transfer pages: the list (scoped, filtered, paged) and one transfer's page, whose
buttons are exactly the steps ``available_steps`` gives its reader, each acting once."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import page_client
from transfers import selectors
from transfers.models import Transfer, TransferEvent, TransferStatus
from transfers.tests.factories import on_hand, requested, sent, stocked

pytestmark = pytest.mark.django_db

LIST = reverse("transfers")
STEP_BUTTONS = ("approve", "ship", "receive", "close", "cancel", "reject")


@pytest.fixture
def product(source):
    product = ProductFactory()
    stocked(source, product, 50)
    return product


@pytest.fixture
def pull(destination_manager, source, destination, product):
    return requested(destination_manager, source, destination, (product, 5))


def detail(transfer):
    return reverse("transfer", args=[transfer.pk])


def step_url(transfer, step):
    return reverse("transfer-step", args=[transfer.pk, step])


def buttons(response) -> list[str]:
    return re.findall(r'id="step-(\w+)"', response.content.decode())


def once_key(response, step) -> str:
    html = response.content.decode()
    form = html[html.index(f'id="step-{step}"') :]
    return re.search(rf'name="{step}-once" value="(\w+)"', form).group(1)


def post_step(client, transfer, step, **fields):
    page = client.get(detail(transfer))
    data = {f"{step}-once": once_key(page, step)}
    data.update({f"{step}-{name}": value for name, value in fields.items()})
    return client.post(step_url(transfer, step), data), data


# Who sees what ------------------------------------------------------------------------------


def test_the_source_manager_sees_the_transfer(pull, source_manager):
    assertContains(page_client(source_manager).get(detail(pull)), pull.reference)


def test_the_destination_staff_see_the_transfer(pull, destination_staff):
    assertContains(page_client(destination_staff).get(detail(pull)), pull.reference)


def test_another_branch_finds_no_transfer(pull):
    outsider = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    assert page_client(outsider).get(detail(pull)).status_code == 404


def test_another_branch_cannot_take_a_step(pull):
    outsider = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    response = page_client(outsider).post(step_url(pull, "approve"), {"approve-once": "k1"})

    assert response.status_code == 404
    assert Transfer.objects.get(pk=pull.pk).status == TransferStatus.REQUESTED


def test_an_unknown_transfer_is_404(source_manager):
    response = page_client(source_manager).get(
        reverse("transfer", args=["00000000-0000-0000-0000-000000000000"])
    )

    assert response.status_code == 404


def test_the_list_shows_only_transfers_of_the_users_branches(pull, product, source):
    outsider = MembershipFactory(branch=BranchFactory(), role=Role.MANAGER).user

    assertNotContains(page_client(outsider).get(LIST), pull.reference)


def test_the_list_shows_both_ends_their_transfer(pull, source_manager, destination_staff):
    assertContains(page_client(source_manager).get(LIST), pull.reference)
    assertContains(page_client(destination_staff).get(LIST), pull.reference)


# The buttons are the available steps --------------------------------------------------------


@pytest.mark.parametrize("who", ["source_manager", "destination_manager", "destination_staff"])
def test_the_buttons_are_the_available_steps(request, pull, who):
    user = request.getfixturevalue(who)

    shown = buttons(page_client(user).get(detail(pull)))

    expected = [s for s in selectors.available_steps(user, pull) if s in STEP_BUTTONS]
    assert shown == expected


def test_the_source_manager_may_approve_cancel_or_reject_a_request(pull, source_manager):
    assert buttons(page_client(source_manager).get(detail(pull))) == [
        "approve",
        "cancel",
        "reject",
    ]


def test_an_admin_sees_the_buttons_of_both_ends(pull):
    assert buttons(page_client(AdminFactory()).get(detail(pull))) == [
        "approve",
        "cancel",
        "reject",
    ]


def test_staff_of_the_destination_may_receive_what_is_in_transit(
    pull, source_manager, destination_staff
):
    post_step(page_client(source_manager), pull, "approve")
    post_step(page_client(source_manager), pull, "ship")

    assert buttons(page_client(destination_staff).get(detail(pull))) == ["receive", "close"]


# Each step, once ----------------------------------------------------------------------------


def test_approving_twice_with_one_form_approves_once(pull, source_manager):
    client = page_client(source_manager)
    response, data = post_step(client, pull, "approve")
    again = client.post(step_url(pull, "approve"), data)

    assert response.status_code == 302
    assert again.status_code == 302
    assert TransferEvent.objects.filter(transfer=pull, step="APPROVE").count() == 1
    assert Transfer.objects.get(pk=pull.pk).status == TransferStatus.APPROVED


def test_shipping_twice_with_one_form_ships_once(pull, source_manager, source, product):
    client = page_client(source_manager)
    post_step(client, pull, "approve")
    _, data = post_step(client, pull, "ship")
    client.post(step_url(pull, "ship"), data)

    assert on_hand(source, product) == 45
    assert Transfer.objects.get(pk=pull.pk).status == TransferStatus.IN_TRANSIT


def test_receiving_all_receives_everything_outstanding_once(
    source_manager, destination_staff, source, destination, product
):
    transfer = sent(source_manager, source, destination, (product, 7))
    post_step(page_client(source_manager), transfer, "ship")
    client = page_client(destination_staff)
    _, data = post_step(client, transfer, "receive", everything="1")
    client.post(step_url(transfer, "receive"), data)

    assert on_hand(destination, product) == 7
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.RECEIVED


def test_cancelling_records_the_reason(pull, destination_manager):
    post_step(page_client(destination_manager), pull, "cancel", reason="found it in the back")

    event = TransferEvent.objects.get(transfer=pull, step="CANCEL")
    assert event.note == "found it in the back"


def test_rejecting_without_a_reason_says_so_beside_the_field(pull, source_manager):
    response, _ = post_step(page_client(source_manager), pull, "reject", reason="")

    assert response.status_code == 400
    assertContains(response, "Say why the request is turned down.", status_code=400)
    assert Transfer.objects.get(pk=pull.pk).status == TransferStatus.REQUESTED


def test_a_step_taken_by_someone_else_first_is_told_in_words(pull, source_manager):
    client = page_client(source_manager)
    stale = client.get(detail(pull))
    post_step(page_client(AdminFactory()), pull, "reject", reason="none left")

    response = client.post(step_url(pull, "approve"), {"approve-once": once_key(stale, "approve")})

    assert response.status_code == 409
    assertContains(response, "transfer-refusal", status_code=409)
    assertContains(response, TransferStatus.CANCELLED.label, status_code=409)
    assert buttons(response) == []


def test_an_unknown_step_is_404(pull, source_manager):
    response = page_client(source_manager).post(step_url(pull, "teleport"), {"teleport-once": "k"})

    assert response.status_code == 404


# Filters ------------------------------------------------------------------------------------


def test_the_direction_in_lists_only_transfers_into_the_branch(
    pull, source_manager, source, destination, destination_manager
):
    other = ProductFactory()
    stocked(destination, other, 3)
    back = sent(destination_manager, destination, source, (other, 1))

    response = page_client(source_manager).get(LIST, {"branch": source.code, "direction": "in"})

    assertContains(response, back.reference)
    assertNotContains(response, pull.reference)


def test_the_direction_out_lists_transfers_out_of_the_branch(pull, source_manager, source):
    response = page_client(source_manager).get(LIST, {"branch": source.code, "direction": "out"})

    assertContains(response, pull.reference)


def test_the_status_filter_lists_only_that_status(
    pull, source_manager, source, destination, product
):
    approved = sent(source_manager, source, destination, (product, 1))

    response = page_client(source_manager).get(LIST, {"status": TransferStatus.APPROVED})

    assertContains(response, approved.reference)
    assertNotContains(response, pull.reference)


def test_the_date_range_lists_transfers_started_within_it(pull, source_manager):
    today = timezone.localdate()
    client = page_client(source_manager)

    assertContains(client.get(LIST, {"start": today, "end": today}), pull.reference)
    assertNotContains(client.get(LIST, {"end": today - timedelta(days=1)}), pull.reference)


def test_a_start_after_the_end_is_an_error_beside_the_end(pull, source_manager):
    today = timezone.localdate()

    response = page_client(source_manager).get(
        LIST, {"start": today, "end": today - timedelta(days=1)}
    )

    assert response.status_code == 200
    assertContains(response, "This is before the first day asked for.")


def test_an_htmx_page_request_answers_the_results_alone(pull, source_manager):
    response = page_client(source_manager).get(LIST, headers={"HX-Request": "true"})

    assertContains(response, 'id="transfer-results"')
    assertNotContains(response, 'id="transfer-filters"')


def test_a_second_page_follows_the_first(source_manager, source, destination, product):
    from transfers import views

    transfers = [
        sent(source_manager, source, destination, (product, 1)) for _ in range(views.PER_PAGE + 1)
    ]
    client = page_client(source_manager)

    first, second = client.get(LIST), client.get(LIST, {"page": 2})

    assertContains(first, 'rel="next"')
    assertContains(second, transfers[0].reference)
    assertNotContains(first, transfers[0].reference)


# Queries ------------------------------------------------------------------------------------


def queries(client, url) -> int:
    client.get(url)  # the session and the like, once
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_however_many_transfers(
    source_manager, source, destination, product
):
    client = page_client(source_manager)
    sent(source_manager, source, destination, (product, 1))
    few = queries(client, LIST)
    for _ in range(5):
        sent(source_manager, source, destination, (product, 1))

    assert queries(client, LIST) == few


def test_the_page_costs_the_same_queries_however_many_lines(
    source_manager, destination_manager, source, destination, product
):
    client = page_client(destination_manager)
    small = sent(source_manager, source, destination, (product, 1))
    products = [ProductFactory() for _ in range(5)]
    for each in products:
        stocked(source, each, 5)
    large = sent(source_manager, source, destination, (product, 1), *[(p, 1) for p in products])
    post_step(page_client(source_manager), large, "ship")
    post_step(page_client(source_manager), small, "ship")

    assert queries(client, detail(large)) == queries(client, detail(small))


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "99999999999999999999"},
        {"start": "not a day"},
        {"end": "2026-02-31"},
        {"status": "LOST"},
        {"direction": "sideways"},
    ],
)
def test_a_typed_address_that_does_not_parse_still_answers_the_list(pull, source_manager, query):
    response = page_client(source_manager).get(LIST, query)

    assert response.status_code == 200


def test_a_branch_the_user_may_not_view_is_404(pull, source_manager, destination):
    response = page_client(source_manager).get(LIST, {"branch": destination.code})

    assert response.status_code == 404


def test_the_dashboards_link_lists_the_transfers_into_the_branch(
    pull, destination_manager, destination
):
    response = page_client(destination_manager).get(
        LIST, {"branch": destination.code, "direction": "in"}
    )

    assertContains(response, pull.reference)


def test_lines_link_to_the_item_page_the_reader_may_see(pull, source_manager, source, product):
    from stock.models import StockLevel

    level = StockLevel.objects.get(branch=source, product=product)

    assertContains(
        page_client(source_manager).get(detail(pull)), reverse("stock-level", args=[level.pk])
    )


def test_the_history_names_each_step_and_who_took_it(pull, destination_manager):
    response = page_client(destination_manager).get(detail(pull))

    assertContains(response, str(destination_manager))
    assertContains(response, "Requested")


def test_a_live_refresh_of_the_transfer_answers_its_part_alone(pull, source_manager):
    response = page_client(source_manager).get(detail(pull), headers={"HX-Request": "true"})

    assertContains(response, 'id="transfer-detail"')
    assertNotContains(response, "<main")


def test_the_page_follows_the_live_events_of_its_own_transfer_only(pull, source_manager):
    response = page_client(source_manager).get(detail(pull))

    assertContains(response, f'data-live-transfer="{pull.pk}"')
