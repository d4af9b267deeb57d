from decimal import Decimal

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from branches.tests.factories import BranchFactory
from catalog.models import Unit
from catalog.tests.factories import ProductFactory
from stock import services as stock
from stock.models import MovementKind, StockLevel
from stock.selectors import ledger_discrepancies
from transfers import services
from transfers.conservation import LineMismatch, ProductImbalance, conservation_discrepancies
from transfers.models import Transfer, TransferLine, TransferMovement, TransferStatus
from transfers.tests.factories import requested, sent, stocked

pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def branches():
    return BranchFactory.create_batch(3)


@pytest.fixture
def bolts():
    return ProductFactory(unit=Unit.PIECE)


@pytest.fixture
def rope():
    return ProductFactory(unit=Unit.METRE)


def shipped(actor, source, destination, *pairs):
    transfer = sent(actor, source, destination, *pairs)
    return services.ship_transfer(actor=actor, transfer_id=transfer.pk)


def receive(actor, transfer, product, quantity):
    services.receive_transfer(
        actor=actor, transfer_id=transfer.pk, quantities={product.pk: Decimal(quantity)}
    )


def line(transfer, product) -> TransferLine:
    return transfer.lines.get(product=product)


@pytest.fixture
def history(actor, branches, bolts, rope):
    """A bit of everything that moves stock: receipts, issues, an adjustment and a count;
    transfers in transit, partly received, closed short, received whole, cancelled,
    rejected and approved but not shipped."""
    a, b, c = branches
    stocked(a, bolts, 100, actor)
    stocked(a, rope, "50.5", actor)
    stocked(b, bolts, 10, actor)
    stock.issue_stock(actor=actor, branch_id=a.pk, product_id=bolts.pk, quantity=7)
    stock.adjust_stock(
        actor=actor, branch_id=a.pk, product_id=rope.pk, delta="-0.5", reason="DAMAGED"
    )
    stock.count_stock(actor=actor, branch_id=b.pk, product_id=bolts.pk, counted=12)

    in_transit = shipped(actor, a, b, (bolts, 20), (rope, "10.25"))
    partly = shipped(actor, a, c, (bolts, 15), (rope, 5))
    receive(actor, partly, bolts, 9)
    receive(actor, partly, rope, "2.5")
    short = shipped(actor, a, c, (bolts, 8))
    receive(actor, short, bolts, 5)
    services.close_transfer(actor=actor, transfer_id=short.pk, reason="LOST")
    whole = shipped(actor, b, c, (bolts, 4))
    receive(actor, whole, bolts, 4)
    cancelled = sent(actor, a, b, (bolts, 1))
    services.cancel_transfer(actor=actor, transfer_id=cancelled.pk)
    rejected = requested(actor, c, a, (rope, 1))
    services.reject_transfer(actor=actor, transfer_id=rejected.pk, reason="none spare")
    waiting = requested(actor, a, c, (bolts, 2), (rope, 1))
    services.approve_transfer(actor=actor, transfer_id=waiting.pk)
    return {
        "in_transit": in_transit,
        "partly": partly,
        "short": short,
        "whole": whole,
        "cancelled": cancelled,
        "waiting": waiting,
    }


def test_a_consistent_history_adds_up(history, bolts, rope, capsys):
    assert conservation_discrepancies() == []
    assert not ledger_discrepancies().exists()

    call_command("verify_transfers")

    assert "Transfers consistent: 2 products and 10 transfer lines checked." in (
        capsys.readouterr().out
    )


def test_the_figures_of_an_imbalance(history, bolts):
    """Taking one unit off a line's received quantity leaves it in transit on paper while
    the destination holds it: the bolts are one over."""
    partly = history["partly"]
    TransferLine.objects.filter(pk=line(partly, bolts).pk).update(received=F("received") - 1)

    product, mismatch = conservation_discrepancies()

    # Booked: 100 received + 10 received - 7 issued + 2 counted = 105.
    # On hand: A 100-7-20-15-8 = 50, B 12-4 = 8, C 9+5+4 = 18; in transit 20 + 6 (+1); short 3.
    assert product == ProductImbalance(
        product_id=bolts.pk,
        sku=bolts.sku,
        on_hand=Decimal(76),
        in_transit=Decimal(27),
        shortfall=Decimal(3),
        booked=Decimal(105),
        transferred_out=Decimal(47),
        transferred_in=Decimal(18),
    )
    assert product.problems == [
        "on hand + in transit != booked - shortfall",
        "transferred out != transferred in + in transit + shortfall",
    ]
    assert mismatch == LineMismatch(
        line_id=line(partly, bolts).pk,
        reference=partly.reference,
        status=TransferStatus.PARTIALLY_RECEIVED,
        sku=bolts.sku,
        shipped=Decimal(15),
        received=Decimal(8),
        moved_out=Decimal(15),
        moved_in=Decimal(9),
        misplaced=0,
    )
    assert mismatch.problems == ["received != its TRANSFER_IN movements"]


def test_a_shipped_quantity_changed_behind_the_services_back(history, rope):
    in_transit = history["in_transit"]
    TransferLine.objects.filter(pk=line(in_transit, rope).pk).update(shipped=Decimal("10.5"))

    found = conservation_discrepancies()

    assert [type(d) for d in found] == [ProductImbalance, LineMismatch]
    assert found[0].sku == rope.sku
    assert found[1].reference == in_transit.reference
    assert found[1].problems == ["shipped != its TRANSFER_OUT movements"]


def test_a_shipped_transfer_marked_cancelled_loses_its_goods(history, bolts, rope):
    in_transit = history["in_transit"]
    Transfer.objects.filter(pk=in_transit.pk).update(status=TransferStatus.CANCELLED)

    found = conservation_discrepancies()

    assert {d.sku for d in found if isinstance(d, ProductImbalance)} == {bolts.sku, rope.sku}
    lines = [d for d in found if isinstance(d, LineMismatch)]
    assert {d.reference for d in lines} == {in_transit.reference}
    assert sorted(problem for d in lines for problem in d.problems) == [
        "shipped=10.250 while the transfer is CANCELLED",
        "shipped=20.000 while the transfer is CANCELLED",
    ]


def test_missing_goods_without_a_shortfall_reason(history, bolts):
    """A transfer marked received while goods are still outstanding hides them: they are
    neither in transit nor recorded short."""
    partly = history["partly"]
    Transfer.objects.filter(pk=partly.pk).update(status=TransferStatus.RECEIVED)

    found = conservation_discrepancies()

    assert all(isinstance(d, ProductImbalance) for d in found)
    assert len(found) == 2
    bolts_imbalance = next(d for d in found if d.sku == bolts.sku)
    assert bolts_imbalance.in_transit == 20
    assert bolts_imbalance.shortfall == 3


def test_on_hand_changed_behind_the_ledger(history, branches, rope):
    StockLevel.objects.filter(branch=branches[2], product=rope).update(on_hand=F("on_hand") + 1)

    (found,) = conservation_discrepancies()

    assert found.sku == rope.sku
    assert found.problems == ["on hand + in transit != booked - shortfall"]


def test_a_line_that_lost_the_link_to_its_movement(history, bolts):
    whole = history["whole"]
    TransferMovement.objects.filter(
        line=line(whole, bolts), movement__kind=MovementKind.TRANSFER_IN
    ).delete()

    (found,) = conservation_discrepancies()

    assert found.reference == whole.reference
    assert found.problems == ["received != its TRANSFER_IN movements"]


def test_a_link_to_a_movement_of_another_line(history, bolts, rope):
    """Moved to a line of another product, the movement is misplaced there and missing here."""
    partly = history["partly"]
    TransferMovement.objects.filter(
        line=line(partly, rope), movement__kind=MovementKind.TRANSFER_IN
    ).update(line=line(history["in_transit"], bolts))

    found = conservation_discrepancies()

    assert all(isinstance(d, LineMismatch) for d in found)
    by_reference = {d.reference: d for d in found}
    assert by_reference[partly.reference].problems == ["received != its TRANSFER_IN movements"]
    assert by_reference[history["in_transit"].reference].problems == [
        "received != its TRANSFER_IN movements",
        "1 linked movement(s) of another product, branch or kind",
    ]


def test_a_transfer_movement_written_without_a_transfer(history, actor, branches, bolts):
    """The ledger adds up, but the goods that left belong to no transfer."""
    stock.record_transfer_movements(
        actor=actor,
        branch_id=branches[0].pk,
        kind=MovementKind.TRANSFER_OUT,
        lines=[stock.MovementLine(product_id=bolts.pk, quantity=3)],
    )

    (found,) = conservation_discrepancies()

    assert not ledger_discrepancies().exists()
    assert found.sku == bolts.sku
    assert found.transferred_out == 50
    assert found.problems == [
        "on hand + in transit != booked - shortfall",
        "transferred out != transferred in + in transit + shortfall",
    ]


def test_the_command_names_each_discrepancy_and_fails(history, bolts, capsys):
    partly = history["partly"]
    TransferLine.objects.filter(pk=line(partly, bolts).pk).update(received=F("received") + 1)

    with pytest.raises(CommandError, match="2 discrepancy"):
        call_command("verify_transfers")

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"product {bolts.sku}\t")
    assert out[1].startswith(f"line {partly.reference} {bolts.sku}\tstatus=PARTIALLY_RECEIVED\t")
    assert "received=10.000\tmoved_out=15.000\tmoved_in=9.000" in out[1]


def test_the_command_exits_non_zero(history, bolts):
    TransferLine.objects.filter(pk=line(history["partly"], bolts).pk).update(received=0)

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "verify_transfers"]).execute()

    assert exit_info.value.code == 1


def test_the_check_takes_a_fixed_number_of_queries(actor, branches):
    a, b, _ = branches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert conservation_discrepancies() == []
        return len(captured)

    def more_history():
        product = ProductFactory()
        stocked(a, product, 5, actor)
        transfer = shipped(actor, a, b, (product, 3))
        receive(actor, transfer, product, 1)

    more_history()
    few = queries()
    for _ in range(5):
        more_history()

    assert queries() == few
