import contextlib
from unittest import mock

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connection
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Membership, Role, User
from accounts.permissions import Action, can
from accounts.tests.factories import AdminFactory
from branches import services as branch_services
from branches.models import Branch
from catalog import services as catalog_services
from catalog.models import Product
from stock import services
from stock.models import StockLevel, StockMovement

pytestmark = pytest.mark.usefixtures("postgres")


def test_verify_ledger_passes_a_consistent_ledger(actor, branch, product, capsys):
    services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=9)
    services.issue_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=4)

    call_command("verify_ledger")

    assert "Ledger consistent: 1 stock levels checked." in capsys.readouterr().out


def test_verify_ledger_lists_every_level_that_disagrees(actor, branch, product, capsys):
    services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=9)
    # Tamper behind the services' back, as a stray script or manual SQL might.
    StockLevel.objects.update(on_hand=7)

    with pytest.raises(CommandError, match="1 stock level"):
        call_command("verify_ledger")

    out = capsys.readouterr().out
    assert f"{branch.code}\t{product.sku}\ton_hand=7.000\tledger_sum=9.000" in out


def test_verify_ledger_exits_non_zero_on_a_discrepancy(actor, branch, product):
    services.set_low_stock_threshold(
        actor=actor, branch_id=branch.id, product_id=product.id, threshold=1
    )
    StockLevel.objects.update(on_hand=3)

    # As from the shell: the command-line runner turns the error into the exit status.
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "verify_ledger"]).execute()

    assert exit_info.value.code == 1


def test_verify_ledger_notices_a_missing_movement(actor, branch, product):
    services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)
    services.receive_stock(actor=actor, branch_id=branch.id, product_id=product.id, quantity=1)
    # Simulate a lost ledger row; only possible with the append-only trigger switched off.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM stock_stockmovement WHERE version = 2")
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    with pytest.raises(CommandError):
        call_command("verify_ledger")


def test_seed_demo_creates_a_company_to_try_the_app_with(capsys):
    call_command("seed_demo")

    assert Branch.objects.count() >= 3
    assert Product.objects.count() >= 200
    assert StockLevel.objects.below_threshold().exists()
    assert StockLevel.objects.exclude(
        pk__in=StockLevel.objects.below_threshold().values("pk")
    ).exists()
    assert User.objects.filter(is_superuser=True).count() == 1
    for branch in Branch.objects.all():
        roles = set(Membership.objects.filter(branch=branch).values_list("role", flat=True))
        assert roles == {Role.MANAGER, Role.STAFF}
    out = capsys.readouterr().out
    assert "admin@example.com" in out
    assert "inventory-demo" in out
    call_command("verify_ledger")


def row_counts() -> dict[str, int]:
    models = [Branch, Product, StockLevel, StockMovement, User, Membership]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_run_twice_adds_nothing(capsys):
    call_command("seed_demo")
    counts = row_counts()

    call_command("seed_demo")

    assert row_counts() == counts
    assert "0 stock levels seeded now" in capsys.readouterr().out


def test_seed_demo_users_can_sign_in_with_the_printed_password(client):
    call_command("seed_demo", password="s3cret-demo")

    response = client.post(
        reverse("login"), {"username": "manager.ber-01@example.com", "password": "s3cret-demo"}
    )

    assert response.status_code == 302
    assert response.wsgi_request.user.email == "manager.ber-01@example.com"


def test_seed_demo_writes_through_the_services(capsys):
    spies = {
        name: mock.patch.object(module, name, wraps=getattr(module, name))
        for module, name in [
            (branch_services, "create_branch"),
            (catalog_services, "create_product"),
            (account_services, "create_user"),
            (services, "record_stock_batch"),
        ]
    }
    with contextlib.ExitStack() as stack:
        calls = {name: stack.enter_context(spy) for name, spy in spies.items()}
        call_command("seed_demo")

    assert calls["create_branch"].call_count == Branch.objects.count() == 4
    assert calls["create_product"].call_count == Product.objects.count() == 240
    assert calls["create_user"].call_count == Membership.objects.count() == 8
    assert calls["record_stock_batch"].call_count >= 4
    manager = User.objects.get(email="manager.ber-01@example.com")
    assert can(manager, Action.ISSUE_STOCK, Branch.objects.get(code="BER-01"))


def test_seed_demo_beside_another_administrator_adds_its_own(capsys):
    AdminFactory(email="owner@example.com")

    call_command("seed_demo")

    assert set(User.objects.filter(is_superuser=True).values_list("email", flat=True)) == {
        "owner@example.com",
        "admin@example.com",
    }


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")

    assert not User.objects.exists()
