"""The app with nothing configured: SQLite, in-memory channel layer, eager Celery."""

import json
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings

from inventory_project.tests.helpers import embedded_env, free_port, manage

pytestmark = pytest.mark.slow

RECORD_A_MOVEMENT = """
from accounts.models import User
from stock.models import StockLevel
from stock.services import issue_stock

level = StockLevel.objects.filter(on_hand__gte=1).select_related("branch", "product").first()
movement = issue_stock(
    actor=User.objects.get(is_superuser=True),
    branch_id=level.branch_id,
    product_id=level.product_id,
    quantity=1,
)
print(movement.kind, movement.on_hand_after == level.on_hand - 1)
"""

DESCRIBE_SETTINGS = """
import json
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal_mode = cursor.fetchone()[0]
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "journal_mode": journal_mode,
    "transaction_mode": settings.DATABASES["default"]["OPTIONS"]["transaction_mode"],
    "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "celery_eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "email": settings.EMAIL_BACKEND,
    "debug": settings.DEBUG,
}))
"""


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A fresh embedded install: migrated and seeded, as `make run` leaves it."""
    env = embedded_env(tmp_path_factory.mktemp("embedded"))
    manage("migrate", "--noinput", env=env)
    seeded = manage("seed_demo", env=env)
    transfers = manage("seed_demo_transfers", env=env)
    purchasing = manage("seed_demo_purchasing", env=env)
    return (
        env,
        seeded.stdout + transfers.stdout + purchasing.stdout,
        seeded.stderr + transfers.stderr + purchasing.stderr,
    )


def test_embedded_default_uses_sqlite_wal_memory_layer_and_eager_celery(embedded):
    env, *_ = embedded

    described = json.loads(manage("shell", "--no-imports", "-c", DESCRIBE_SETTINGS, env=env).stdout)

    assert described == {
        "engine": "django.db.backends.sqlite3",
        "journal_mode": "wal",
        "transaction_mode": "IMMEDIATE",
        "channel_layer": "channels.layers.InMemoryChannelLayer",
        "celery_eager": True,
        "email": "django.core.mail.backends.console.EmailBackend",
        "debug": True,
    }


def test_embedded_default_migrates_seeds_and_records_a_movement(embedded):
    env, seed_output, _ = embedded

    recorded = manage("shell", "--no-imports", "-c", RECORD_A_MOVEMENT, env=env)
    verified = manage("verify_ledger", env=env)

    assert "240 products" in seed_output
    assert recorded.stdout.strip() == "ISSUE True"
    assert "Ledger consistent" in verified.stdout


def test_embedded_seeding_writes_no_warnings(embedded):
    _, _, seed_errors = embedded

    assert "WARNING" not in seed_errors


def test_embedded_demo_has_transfers_in_every_state_that_add_up(embedded):
    env, seed_output, _ = embedded

    again = manage("seed_demo_transfers", env=env)
    verified = manage("verify_transfers", env=env)

    assert "Added 4 demo transfers" in seed_output
    assert "nothing added" in again.stdout
    assert "Transfers consistent" in verified.stdout


DESCRIBE_PURCHASING = """
import json
from accounts.models import User
from transfers.models import PurchaseOrder
from transfers.replenishment import plan
from stock.models import ReorderRule
rows = [
    row
    for branch in plan(user=User.objects.get(is_superuser=True)).branches
    for row in branch.rows
]
print(json.dumps({
    "needs": len(rows),
    "no_supplier": sum(1 for row in rows if row.no_supplier),
    "states": sorted(set(PurchaseOrder.objects.values_list("status", flat=True))),
    "suppliers": sorted(set(PurchaseOrder.objects.values_list("supplier__code", flat=True))),
    "mailed": PurchaseOrder.objects.filter(mail_status="SENT").count(),
    "rules": ReorderRule.objects.count(),
}))
"""


def test_embedded_demo_has_suppliers_and_orders_in_every_state(embedded):
    env, seed_output, _ = embedded

    again = manage("seed_demo_purchasing", env=env)
    described = json.loads(
        manage("shell", "--no-imports", "-c", DESCRIBE_PURCHASING, env=env).stdout
    )
    verified = manage("verify_ledger", env=env)

    assert "Added 2 suppliers" in seed_output
    assert "nothing added" in again.stdout
    assert described["states"] == ["CANCELLED", "DRAFT", "PARTIALLY_RECEIVED", "RECEIVED", "SENT"]
    assert described["suppliers"] == ["ACME", "NORDIC"]
    # Every order sent was e-mailed to its supplier (by the eager task, to the console).
    assert described["mailed"] == 4
    assert described["rules"] == 6
    # Every demo product has a preferred supplier, so every need can be met (the embedded
    # database hands ids back as text: the plan must still match them).
    assert described["needs"] > 0
    assert described["no_supplier"] == 0
    assert "Ledger consistent" in verified.stdout


def test_daphne_serves_the_embedded_app(embedded):
    env, *_ = embedded
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "inventory_project.asgi:application",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        health = _get_when_up(f"http://127.0.0.1:{port}/healthz")
        login = urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert json.loads(health) == {"status": "ok"}
    assert login.status == 200
    assert b"Inventory back office" in login.read()


def _get_when_up(url: str, timeout: float = 20) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=2).read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
