import pytest

from accounts.models import Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.errors import InvalidInput, NotFound, NotPermitted
from stock.errors import InactiveBranch, InactiveProduct, InsufficientStock
from stock.models import MovementKind, StockMovement
from transfers import services
from transfers.errors import IllegalTransition, UnknownTransfer
from transfers.models import TransferEvent, TransferKind, TransferStatus
from transfers.tests.factories import items, on_hand, requested, sent, stocked

pytestmark = pytest.mark.usefixtures("postgres")


def statuses(transfer) -> list[tuple[str, str]]:
    return list(transfer.events.values_list("from_status", "to_status"))


def shipped(actor, source, destination, *pairs):
    transfer = sent(actor, source, destination, *pairs)
    return services.ship_transfer(actor=actor, transfer_id=transfer.pk)


# Starting ---------------------------------------------------------------------------------


def test_a_destination_manager_requests_stock(destination_manager, source, destination, product):
    transfer = requested(destination_manager, source, destination, (product, 5), note="weekend")

    assert transfer.status == TransferStatus.REQUESTED
    assert transfer.kind == TransferKind.PULL
    assert transfer.requested_by == destination_manager
    assert transfer.reference.startswith("TR-")
    assert [(line.product, line.requested) for line in transfer.lines.all()] == [(product, 5)]
    assert statuses(transfer) == [("", TransferStatus.REQUESTED)]
    assert transfer.events.get().note == "weekend"


def test_a_source_manager_sends_stock_already_approved(
    source_manager, source, destination, product
):
    transfer = sent(source_manager, source, destination, (product, 5))

    assert transfer.status == TransferStatus.APPROVED
    assert transfer.kind == TransferKind.PUSH
    assert transfer.approved_at is not None


def test_a_manager_may_not_request_into_another_branch(
    source_manager, source, destination, product
):
    with pytest.raises(NotFound):
        requested(source_manager, source, destination, (product, 5))


def test_staff_may_not_request(destination_staff, source, destination, product):
    with pytest.raises(NotPermitted):
        requested(destination_staff, source, destination, (product, 5))


def test_the_same_branch_at_both_ends_is_refused(actor, source, product):
    with pytest.raises(InvalidInput, match="two different branches"):
        sent(actor, source, source, (product, 1))


@pytest.mark.parametrize("quantity", ["0", "-2"])
def test_quantities_must_be_positive(actor, source, destination, product, quantity):
    with pytest.raises(InvalidInput, match="greater than zero") as error:
        sent(actor, source, destination, (product, quantity))

    assert error.value.field == "lines.0.quantity"


def test_a_product_appears_once(actor, source, destination, product):
    with pytest.raises(InvalidInput, match="same product") as error:
        sent(actor, source, destination, (product, 1), (product, 2))

    assert error.value.field == "lines.1.product"


def test_a_transfer_needs_lines(actor, source, destination):
    with pytest.raises(InvalidInput, match="at least one line"):
        services.send_transfer(
            actor=actor, from_branch_id=source.pk, to_branch_id=destination.pk, items=[]
        )


def test_pieces_move_whole(actor, source, destination):
    with pytest.raises(InvalidInput, match="whole number"):
        sent(actor, source, destination, (ProductFactory(unit=Unit.PIECE), "1.5"))


def test_inactive_products_and_branches_are_not_transferred(actor, source, destination):
    with pytest.raises(InactiveProduct):
        sent(actor, source, destination, (ProductFactory(is_active=False), 1))
    closed = BranchFactory(is_active=False)
    with pytest.raises(InactiveBranch):
        sent(actor, source, closed, (ProductFactory(), 1))


def test_an_unknown_destination_is_named(actor, source, product):
    with pytest.raises(NotFound) as error:
        services.send_transfer(
            actor=actor,
            from_branch_id=source.pk,
            to_branch_id="00000000-0000-0000-0000-000000000000",
            items=items((product, 1)),
        )

    assert error.value.field == "to_branch"


# Approving --------------------------------------------------------------------------------


def test_the_source_approves_and_may_change_quantities(
    source_manager, destination_manager, source, destination
):
    first, second = ProductFactory.create_batch(2)
    transfer = requested(destination_manager, source, destination, (first, 5), (second, 3))

    services.approve_transfer(
        actor=source_manager, transfer_id=transfer.pk, quantities={str(first.pk): "2"}
    )

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED
    assert dict(transfer.lines.values_list("product", "requested")) == {
        first.pk: 2,
        second.pk: 3,
    }


def test_the_destination_may_not_approve_its_own_request(
    destination_manager, source, destination, product
):
    transfer = requested(destination_manager, source, destination, (product, 5))

    with pytest.raises(NotPermitted, match=f"approve transfer {transfer.reference}"):
        services.approve_transfer(actor=destination_manager, transfer_id=transfer.pk)


def test_approval_refuses_products_not_on_the_transfer(actor, source, destination, product):
    transfer = requested(actor, source, destination, (product, 5))
    other = ProductFactory()

    with pytest.raises(InvalidInput, match="not on transfer") as error:
        services.approve_transfer(actor=actor, transfer_id=transfer.pk, quantities={other.pk: 1})

    assert error.value.field == f"quantities.{other.pk}"


def test_approval_refuses_zero(actor, source, destination, product):
    transfer = requested(actor, source, destination, (product, 5))

    with pytest.raises(InvalidInput, match="greater than zero"):
        services.approve_transfer(actor=actor, transfer_id=transfer.pk, quantities={product.pk: 0})


def test_an_approved_transfer_is_not_approved_again(actor, source, destination, product):
    transfer = sent(actor, source, destination, (product, 1))

    with pytest.raises(IllegalTransition, match="is approved; it cannot be approved"):
        services.approve_transfer(actor=actor, transfer_id=transfer.pk)


# Shipping ---------------------------------------------------------------------------------


def test_shipping_moves_every_line_out_of_the_source(source_manager, source, destination):
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 10)
    stocked(source, second, 4)
    transfer = sent(source_manager, source, destination, (first, 6), (second, 4))

    services.ship_transfer(actor=source_manager, transfer_id=transfer.pk)

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert transfer.shipped_at is not None
    assert (on_hand(source, first), on_hand(source, second)) == (4, 0)
    assert on_hand(destination, first) == 0
    outs = StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT)
    assert sorted(outs.values_list("delta", flat=True)) == [-6, -4]
    assert all(line.shipped == line.requested for line in transfer.lines.all())
    assert all(line.movements.count() == 1 for line in transfer.lines.all())


def test_shipping_fails_whole_when_a_line_lacks_stock(actor, source, destination):
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 10)
    stocked(source, second, 1)
    transfer = sent(actor, source, destination, (first, 6), (second, 4))

    with pytest.raises(InsufficientStock):
        services.ship_transfer(actor=actor, transfer_id=transfer.pk)

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.APPROVED
    assert on_hand(source, first) == 10
    assert not StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT).exists()
    assert transfer.events.count() == 1


def test_staff_may_not_ship(source, destination, product):
    staff = MembershipFactory(branch=source, role=Role.STAFF).user
    stocked(source, product, 5)
    transfer = sent(AdminFactory(), source, destination, (product, 1))

    with pytest.raises(NotPermitted):
        services.ship_transfer(actor=staff, transfer_id=transfer.pk)

    assert on_hand(source, product) == 5


def test_the_destination_may_not_ship(destination_manager, source, destination, product):
    stocked(source, product, 5)
    transfer = sent(AdminFactory(), source, destination, (product, 1))

    with pytest.raises(NotPermitted):
        services.ship_transfer(actor=destination_manager, transfer_id=transfer.pk)


def test_a_manager_of_an_unrelated_branch_does_not_see_it(source, destination, product):
    stranger = MembershipFactory(role=Role.MANAGER).user
    transfer = sent(AdminFactory(), source, destination, (product, 1))

    with pytest.raises(UnknownTransfer):
        services.ship_transfer(actor=stranger, transfer_id=transfer.pk)
    with pytest.raises(UnknownTransfer):
        services.cancel_transfer(actor=stranger, transfer_id=transfer.pk)


def test_a_requested_transfer_cannot_ship_before_approval(actor, source, destination, product):
    stocked(source, product, 5)
    transfer = requested(actor, source, destination, (product, 1))

    with pytest.raises(IllegalTransition, match="is requested; it cannot be shipped"):
        services.ship_transfer(actor=actor, transfer_id=transfer.pk)


def test_a_cancelled_transfer_cannot_ship(actor, source, destination, product):
    stocked(source, product, 5)
    transfer = sent(actor, source, destination, (product, 1))
    services.cancel_transfer(actor=actor, transfer_id=transfer.pk)

    with pytest.raises(IllegalTransition, match="is cancelled"):
        services.ship_transfer(actor=actor, transfer_id=transfer.pk)

    assert on_hand(source, product) == 5


def test_a_malformed_id_is_not_found(actor):
    with pytest.raises(UnknownTransfer):
        services.ship_transfer(actor=actor, transfer_id="nope")


# Receiving --------------------------------------------------------------------------------


def test_staff_of_the_destination_receive_in_parts(actor, destination_staff, source, destination):
    first, second = ProductFactory.create_batch(2)
    stocked(source, first, 10)
    stocked(source, second, 10)
    transfer = shipped(actor, source, destination, (first, 6), (second, 4))

    services.receive_transfer(
        actor=destination_staff, transfer_id=transfer.pk, quantities={first.pk: 6, second.pk: 1}
    )
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PARTIALLY_RECEIVED
    assert (on_hand(destination, first), on_hand(destination, second)) == (6, 1)

    services.receive_transfer(
        actor=destination_staff, transfer_id=transfer.pk, quantities={second.pk: 3}
    )
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert transfer.received_at is not None
    assert on_hand(destination, second) == 4
    assert statuses(transfer) == [
        ("", TransferStatus.APPROVED),
        (TransferStatus.APPROVED, TransferStatus.IN_TRANSIT),
        (TransferStatus.IN_TRANSIT, TransferStatus.PARTIALLY_RECEIVED),
        (TransferStatus.PARTIALLY_RECEIVED, TransferStatus.RECEIVED),
    ]
    ins = StockMovement.objects.filter(kind=MovementKind.TRANSFER_IN).order_by("delta")
    assert list(ins.values_list("delta", flat=True)) == [1, 3, 6]


def test_receiving_more_than_shipped_is_refused(actor, source, destination, product):
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 4))
    services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={product.pk: 3})

    with pytest.raises(InvalidInput, match="Only 1 pcs") as error:
        services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={product.pk: 2})

    assert error.value.field == f"quantities.{product.pk}"
    assert on_hand(destination, product) == 3


def test_the_source_may_not_receive(source_manager, source, destination, product):
    stocked(source, product, 10)
    transfer = shipped(AdminFactory(), source, destination, (product, 4))

    with pytest.raises(NotPermitted):
        services.receive_transfer(
            actor=source_manager, transfer_id=transfer.pk, quantities={product.pk: 4}
        )


def test_nothing_is_received_before_shipping(actor, source, destination, product):
    transfer = sent(actor, source, destination, (product, 4))

    with pytest.raises(IllegalTransition, match="cannot be received"):
        services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={product.pk: 1})


def test_a_receipt_names_what_arrived(actor, source, destination, product):
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 4))

    with pytest.raises(InvalidInput, match="how much"):
        services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={})


# Closing short ----------------------------------------------------------------------------


def test_the_receiver_closes_short_and_the_shortfall_stays_on_record(
    actor, destination_manager, source, destination, product
):
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 5))
    services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={product.pk: 3})

    services.close_transfer(
        actor=destination_manager, transfer_id=transfer.pk, reason="DAMAGED", note="crushed"
    )

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert transfer.shortfall_reason == "DAMAGED"
    last = transfer.events.last()
    assert (last.step, last.note) == ("CLOSE", "crushed")
    # Nothing is on its way any more: what did not arrive is the shortfall.
    assert [(line.outstanding, line.shortfall) for line in transfer.lines.all()] == [(0, 2)]
    assert on_hand(destination, product) == 3
    assert on_hand(source, product) == 5


def test_closing_needs_a_known_reason(actor, source, destination, product):
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 5))

    with pytest.raises(InvalidInput, match="not one of"):
        services.close_transfer(actor=actor, transfer_id=transfer.pk, reason="STOLEN?")


def test_a_received_transfer_cannot_be_closed_again(actor, source, destination, product):
    stocked(source, product, 10)
    transfer = shipped(actor, source, destination, (product, 5))
    services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={product.pk: 5})

    with pytest.raises(IllegalTransition, match="is received"):
        services.close_transfer(actor=actor, transfer_id=transfer.pk, reason="LOST")


# Cancelling and rejecting -----------------------------------------------------------------


def test_the_requester_cancels_a_request(destination_manager, source, destination, product):
    transfer = requested(destination_manager, source, destination, (product, 1))

    services.cancel_transfer(actor=destination_manager, transfer_id=transfer.pk, reason="found")

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    assert transfer.cancelled_at is not None
    assert transfer.events.last().note == "found"


def test_the_source_cancels_an_approved_transfer(source_manager, source, destination, product):
    transfer = sent(source_manager, source, destination, (product, 1))

    services.cancel_transfer(actor=source_manager, transfer_id=transfer.pk)

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED


def test_the_destination_may_not_cancel_what_the_source_sent(
    destination_manager, source, destination, product
):
    transfer = sent(AdminFactory(), source, destination, (product, 1))

    with pytest.raises(NotPermitted):
        services.cancel_transfer(actor=destination_manager, transfer_id=transfer.pk)


def test_staff_may_not_cancel(destination_staff, source, destination, product):
    transfer = requested(AdminFactory(), source, destination, (product, 1))

    with pytest.raises(NotPermitted):
        services.cancel_transfer(actor=destination_staff, transfer_id=transfer.pk)


def test_a_shipped_transfer_cannot_be_cancelled(actor, source, destination, product):
    stocked(source, product, 1)
    transfer = shipped(actor, source, destination, (product, 1))

    with pytest.raises(IllegalTransition, match="in transit; it cannot be cancelled"):
        services.cancel_transfer(actor=actor, transfer_id=transfer.pk)


def test_the_source_rejects_a_request_with_a_reason(
    source_manager, destination_manager, source, destination, product
):
    transfer = requested(destination_manager, source, destination, (product, 1))

    with pytest.raises(InvalidInput, match="why"):
        services.reject_transfer(actor=source_manager, transfer_id=transfer.pk, reason=" ")
    services.reject_transfer(actor=source_manager, transfer_id=transfer.pk, reason="none left")

    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED
    assert (transfer.events.last().step, transfer.events.last().note) == ("REJECT", "none left")


def test_the_requester_may_not_reject(destination_manager, source, destination, product):
    transfer = requested(destination_manager, source, destination, (product, 1))

    with pytest.raises(NotPermitted):
        services.reject_transfer(
            actor=destination_manager, transfer_id=transfer.pk, reason="changed my mind"
        )


# Events -----------------------------------------------------------------------------------


def test_every_step_announces_itself_to_both_branches(
    actor, source, destination, product, published_events
):
    stocked(source, product, 5)
    published_events.clear()

    transfer = requested(actor, source, destination, (product, 2))
    services.approve_transfer(actor=actor, transfer_id=transfer.pk)
    services.ship_transfer(actor=actor, transfer_id=transfer.pk)
    services.receive_transfer(actor=actor, transfer_id=transfer.pk, quantities={product.pk: 2})

    seen = [
        (event["data"]["status"], event["branch"])
        for event in published_events
        if event["type"] == "transfer.updated"
    ]
    both = (str(source.pk), str(destination.pk))
    assert seen == [
        (status, branch)
        for status in ["REQUESTED", "APPROVED", "IN_TRANSIT", "RECEIVED"]
        for branch in both
    ]
    assert TransferEvent.objects.filter(transfer=transfer).count() == 4
