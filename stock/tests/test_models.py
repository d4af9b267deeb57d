from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from stock import services
from stock.models import ImmutableLedgerError, StockLevel, StockMovement

pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def movement(actor, branch, product):
    return services.receive_stock(
        actor=actor, branch_id=branch.id, product_id=product.id, quantity=5
    )


def test_a_saved_movement_cannot_be_saved_again(movement):
    movement.note = "rewritten history"

    with pytest.raises(ImmutableLedgerError):
        movement.save()


def test_a_movement_cannot_be_deleted(movement):
    with pytest.raises(ImmutableLedgerError):
        movement.delete()


def test_movements_cannot_be_updated_in_bulk(movement):
    with pytest.raises(ImmutableLedgerError):
        StockMovement.objects.filter(pk=movement.pk).update(delta=Decimal("500"))


def test_movements_cannot_be_deleted_in_bulk(movement):
    with pytest.raises(ImmutableLedgerError):
        StockMovement.objects.all().delete()


def test_movements_cannot_be_bulk_updated(movement):
    movement.delta = Decimal("1")

    with pytest.raises(ImmutableLedgerError):
        StockMovement.objects.bulk_update([movement], ["delta"])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE stock_stockmovement SET delta = 99",
        "DELETE FROM stock_stockmovement",
    ],
)
def test_the_database_refuses_to_change_the_ledger(movement, sql):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        connection.cursor().execute(sql)

    assert StockMovement.objects.get().delta == Decimal("5")


def test_the_database_refuses_negative_on_hand(movement):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.update(on_hand=Decimal("-1"))


def test_one_level_per_branch_and_product(movement):
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.create(branch=movement.branch, product=movement.product)


def test_below_threshold_uses_the_levels_threshold_over_the_products(actor, branch, product):
    services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=5)
    assert list(StockLevel.objects.below_threshold()) == [StockLevel.objects.get()]

    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold=5
    )

    assert not StockLevel.objects.below_threshold().exists()


def level_updates() -> tuple[int, int]:
    """The (updates, HOT updates) of stock levels committed in this database so far."""
    with connection.cursor() as cursor:
        # Counts reach pg_stat_user_tables when a transaction ends; this one is sent now.
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
            " WHERE relid = 'stock_stocklevel'::regclass"
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


# Each movement commits, as in production: the row's earlier versions are dead at once and
# the page is pruned, so every update finds room for its new version beside the old.
@pytest.mark.django_db(transaction=True)
def test_every_movement_updates_its_level_in_place(postgres, actor, branch, product):
    services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)
    updates, hot = level_updates()

    for _ in range(20):
        services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)
    # A receipt at a cost changes the average cost too, which no index covers.
    for cost in ("1.25", "3.5"):
        services.receive_stock(
            actor=actor, branch_id=branch.id, product_id=product.id, quantity=2, unit_cost=cost
        )
    services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=3)
    services.adjust_stock(
        actor=actor, branch_id=branch.id, product_id=product.id, delta=-1, reason="DAMAGED"
    )
    services.count_stock(actor=actor, branch_id=branch.id, product_id=product.id, counted=4)

    after_updates, after_hot = level_updates()
    assert after_updates - updates >= 25
    assert after_hot - hot == after_updates - updates


def test_stock_levels_keep_room_for_in_place_updates_and_vacuum_early():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'stock_stocklevel'::regclass")
        options = set(cursor.fetchone()[0])

    assert {
        "fillfactor=85",
        "autovacuum_vacuum_scale_factor=0.02",
        "autovacuum_analyze_scale_factor=0.02",
    } <= options
