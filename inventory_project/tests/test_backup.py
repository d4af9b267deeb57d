"""Backups, proven: deploy/backup/backup.sh dumps the database the tests wrote through the
services, deploy/backup/restore.sh restores it into a fresh scratch database, whose ledger and
transfers check clean and whose stock figures are the source's, level by level. Each check
of the restore is shown to fail when what it guards is broken."""

import os
import re
import shutil
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from psycopg import sql

from accounts.tests.factories import AdminFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import database_url
from stock import services as stock
from stock.models import AdjustmentReason
from transfers import services as transfers
from transfers.models import ShortfallReason, TransferStatus
from transfers.tests.factories import items, requested, sent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres"),
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("pg_restore"), reason="needs PostgreSQL's client tools"),
]

BACKUP = Path(settings.BASE_DIR) / "deploy" / "backup" / "backup.sh"
RESTORE = Path(settings.BASE_DIR) / "deploy" / "backup" / "restore.sh"


# The scripts, as an operator runs them -----------------------------------------------------


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "PYTHON": sys.executable, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def backup(folder: Path, url: str | None = None, **env: str) -> Path:
    done = run(
        str(BACKUP), env={"DATABASE_URL": url or database_url(), "BACKUP_DIR": str(folder), **env}
    )
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def restore(archive: Path, target: str, *options: str) -> subprocess.CompletedProcess:
    return run(str(RESTORE), *options, str(archive), target)


def manage(command: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", command],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def server_url(name: str) -> str:
    return database_url().rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def scratch():
    """Names of fresh databases on the test server (made by restore.sh), dropped after."""
    base = connection.settings_dict["NAME"].removeprefix("test_")
    made: list[str] = []

    def name() -> str:
        made.append(f"{base}_restore_{os.getpid()}_{len(made)}")
        return made[-1]

    yield name
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        for database in made:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


def execute(url: str, statement: str) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as db, db.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []


# The data, written through the services ----------------------------------------------------


def a_company() -> None:
    """Three branches holding four products, every kind of movement, and a transfer in each
    state: requested, approved, in transit, partly received, received, closed short, and
    cancelled both ways."""
    actor = AdminFactory()
    north, south, east = (BranchFactory() for _ in range(3))
    products = [ProductFactory() for _ in range(4)]
    for n, branch in enumerate((north, south, east), start=1):
        for m, product in enumerate(products, start=1):
            stock.receive_stock(
                actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=40 * n + m
            )
        stock.issue_stock(actor=actor, branch_id=branch.pk, product_id=products[0].pk, quantity=n)
        stock.count_stock(actor=actor, branch_id=branch.pk, product_id=products[1].pk, counted=30)
        stock.adjust_stock(
            actor=actor,
            branch_id=branch.pk,
            product_id=products[2].pk,
            delta=Decimal(-2),
            reason=AdjustmentReason.DAMAGED,
        )
        stock.set_low_stock_threshold(
            actor=actor, branch_id=branch.pk, product_id=products[3].pk, threshold=50
        )
    a, b, c, d = products

    requested(actor, north, south, (a, "3"))
    sent(actor, north, east, (b, "4"))
    approved = requested(actor, south, north, (c, "5"), (d, "1"))
    transfers.approve_transfer(actor=actor, transfer_id=approved.pk, quantities={c.pk: 6})
    shipped(actor, east, north, (a, "7"), (b, "2"))
    partly = shipped(actor, north, south, (c, "9"), (d, "3"))
    transfers.receive_transfer(actor=actor, transfer_id=partly.pk, quantities={c.pk: 4})
    received = shipped(actor, south, east, (a, "2"))
    transfers.receive_transfer(actor=actor, transfer_id=received.pk, quantities={a.pk: 1})
    transfers.receive_transfer(actor=actor, transfer_id=received.pk, quantities={a.pk: 1})
    short = shipped(actor, east, south, (b, "8"), (c, "2"))
    transfers.receive_transfer(actor=actor, transfer_id=short.pk, quantities={b.pk: 5})
    transfers.close_transfer(actor=actor, transfer_id=short.pk, reason=ShortfallReason.LOST)
    cancelled = sent(actor, south, north, (d, "1"))
    transfers.cancel_transfer(actor=actor, transfer_id=cancelled.pk, reason="Not needed")
    rejected = requested(actor, east, north, (a, "1"))
    transfers.reject_transfer(actor=actor, transfer_id=rejected.pk, reason="Keeping it")

    assert set(transfer_states(database_url())) == {
        TransferStatus.REQUESTED,
        TransferStatus.APPROVED,
        TransferStatus.IN_TRANSIT,
        TransferStatus.PARTIALLY_RECEIVED,
        TransferStatus.RECEIVED,
        TransferStatus.CANCELLED,
    }


def shipped(actor, source, destination, *pairs):
    transfer = transfers.send_transfer(
        actor=actor, from_branch_id=source.pk, to_branch_id=destination.pk, items=items(*pairs)
    )
    return transfers.ship_transfer(actor=actor, transfer_id=transfer.pk)


# The figures compared ----------------------------------------------------------------------

LEVELS = """
SELECT b.code, p.sku, l.on_hand, l.low_stock_threshold, l.version,
       count(m.id), coalesce(sum(m.delta), 0), max(m.version)
FROM stock_stocklevel l
JOIN branches_branch b ON b.id = l.branch_id
JOIN catalog_product p ON p.id = l.product_id
LEFT JOIN stock_stockmovement m ON m.stock_level_id = l.id
GROUP BY l.id, b.code, p.sku
ORDER BY b.code, p.sku
"""

TRANSFERS = """
SELECT t.reference, t.status, t.shortfall_reason, p.sku, tl.requested, tl.shipped, tl.received,
       (SELECT count(*) FROM transfers_transfermovement tm WHERE tm.line_id = tl.id)
FROM transfers_transfer t
JOIN transfers_transferline tl ON tl.transfer_id = t.id
JOIN catalog_product p ON p.id = tl.product_id
ORDER BY t.reference, p.sku
"""

TABLES = """
SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname
"""


def transfer_states(url: str) -> list[str]:
    return [row[0] for row in execute(url, "SELECT status FROM transfers_transfer")]


def row_counts(url: str) -> dict[str, int]:
    tables = [row[0] for row in execute(url, TABLES)]
    return {table: execute(url, f'SELECT count(*) FROM "{table}"')[0][0] for table in tables}


def figures(url: str) -> dict[str, object]:
    return {
        "levels": execute(url, LEVELS),
        "transfers": execute(url, TRANSFERS),
        "rows": row_counts(url),
    }


# Backup and restore, clean -----------------------------------------------------------------


def test_a_restored_backup_checks_clean_and_holds_the_same_stock_figures(tmp_path, scratch):
    a_company()
    archive = backup(tmp_path)
    target = server_url(scratch())

    done = restore(archive, target)

    assert done.returncode == 0, done.stderr
    assert "Ledger consistent: 12 stock levels checked." in done.stdout
    assert "Transfers consistent: 4 products and 13 transfer lines checked." in done.stdout
    source = figures(database_url())
    assert len(source["levels"]) == 12
    assert source["rows"]["stock_stockmovement"] > 30
    assert figures(target) == source
    for command in ("verify_ledger", "verify_transfers"):
        checked = manage(command, target)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_restored_ledger_is_append_only_again(tmp_path, scratch):
    a_company()
    target = server_url(scratch())
    assert restore(backup(tmp_path), target).returncode == 0

    with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
        execute(target, "UPDATE stock_stockmovement SET delta = delta + 1")


def test_a_database_named_on_the_apps_server_is_restored_into(tmp_path, scratch):
    a_company()
    archive = backup(tmp_path)
    name = scratch()

    done = run(str(RESTORE), str(archive), name, env={"DATABASE_URL": database_url()})

    assert done.returncode == 0, done.stderr
    assert figures(server_url(name))["levels"] == figures(database_url())["levels"]


def test_a_backup_taken_while_stock_moves_is_consistent(tmp_path, scratch):
    a_company()
    actor = AdminFactory()
    level = execute(database_url(), "SELECT branch_id, product_id FROM stock_stocklevel LIMIT 1")
    branch_id, product_id = level[0]
    stop = threading.Event()

    def receiving() -> None:
        try:
            while not stop.is_set():
                stock.receive_stock(
                    actor=actor, branch_id=branch_id, product_id=product_id, quantity=1
                )
        finally:
            connections.close_all()

    before = movements(database_url())
    writer = threading.Thread(target=receiving)
    writer.start()
    try:
        archive = backup(tmp_path)
    finally:
        stop.set()
        writer.join()
    target = server_url(scratch())

    done = restore(archive, target)

    assert done.returncode == 0, done.stderr
    assert before <= movements(target) <= movements(database_url())
    assert movements(database_url()) > before  # the backup did run while stock moved


def movements(url: str) -> int:
    return execute(url, "SELECT count(*) FROM stock_stockmovement")[0][0]


def test_a_database_holding_only_an_extension_counts_as_empty(tmp_path, scratch):
    a_company()
    archive = backup(tmp_path)
    target = server_url(scratch())
    execute(server_url("postgres"), f'CREATE DATABASE "{target.rsplit("/", 1)[1]}"')
    execute(target, "CREATE EXTENSION pg_trgm")

    done = restore(archive, target)

    assert done.returncode == 0, done.stderr


# The archive -------------------------------------------------------------------------------


def test_a_backup_is_a_time_stamped_custom_format_archive(tmp_path):
    a_company()

    archive = backup(tmp_path)

    assert archive.parent == tmp_path
    assert re.fullmatch(r"inventory-\d{8}T\d{6}Z\.dump", archive.name)
    assert archive.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert [p.name for p in tmp_path.iterdir()] == [archive.name]
    assert archive.stat().st_mode & 0o077 == 0  # password hashes inside: the owner's only


def test_a_backup_keeps_the_newest_archives_and_leaves_other_files_alone(tmp_path):
    older = ["inventory-20240101T000000Z.dump", "inventory-20250101T000000Z.dump"]
    for name in [*older, "inventory-manual.dump", "notes.txt"]:
        (tmp_path / name).write_bytes(b"")

    archive = backup(tmp_path, BACKUP_KEEP="2")

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [older[1], archive.name, "inventory-manual.dump", "notes.txt"]
    )


def test_a_failed_dump_leaves_no_archive_and_fails(tmp_path):
    done = run(
        str(BACKUP),
        env={"DATABASE_URL": server_url("no_such_database_here"), "BACKUP_DIR": str(tmp_path)},
    )

    assert done.returncode != 0
    assert "no_such_database_here" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_backup_refuses_a_count_to_keep_that_is_not_a_number(tmp_path):
    done = run(str(BACKUP), env={"BACKUP_DIR": str(tmp_path), "BACKUP_KEEP": "seven"})

    assert done.returncode == 1
    assert "BACKUP_KEEP must be a whole number" in done.stderr
    assert list(tmp_path.iterdir()) == []


# The restore refuses, and its checks fail when what they guard is broken ------------------


def test_a_restore_without_an_archive_says_how_it_is_called(tmp_path, scratch):
    done = restore(tmp_path / "missing.dump", server_url(scratch()))

    assert done.returncode == 2
    assert "no archive at" in done.stderr
    assert "usage:" in done.stderr


def test_a_restore_into_a_database_that_is_not_empty_is_refused(tmp_path, scratch):
    a_company()
    archive = backup(tmp_path)
    target = server_url(scratch())
    assert restore(archive, target).returncode == 0
    execute(target, "CREATE TABLE kept_by_someone (id int)")

    done = restore(archive, target)

    assert done.returncode == 2
    assert "is not empty" in done.stderr
    assert execute(target, "SELECT count(*) FROM kept_by_someone") == [(0,)]


def test_force_replaces_a_database_that_is_not_empty(tmp_path, scratch):
    a_company()
    archive = backup(tmp_path)
    target = server_url(scratch())
    execute(server_url("postgres"), f'CREATE DATABASE "{target.rsplit("/", 1)[1]}"')
    execute(target, "CREATE TABLE kept_by_someone (id int)")

    done = restore(archive, target, "--force")

    assert done.returncode == 0, done.stderr
    assert execute(target, "SELECT to_regclass('kept_by_someone')") == [(None,)]
    assert figures(target) == figures(database_url())


def test_a_tampered_ledger_fails_verify_ledger_and_the_restore_of_its_backup(tmp_path, scratch):
    a_company()
    tampered = server_url(scratch())
    assert restore(backup(tmp_path / "clean"), tampered).returncode == 0
    execute(tampered, "UPDATE stock_stocklevel SET on_hand = on_hand + 1 WHERE version = 2")

    checked = manage("verify_ledger", tampered)
    done = restore(backup(tmp_path / "tampered", tampered), server_url(scratch()))

    assert checked.returncode == 1
    assert "disagree with the ledger" in checked.stderr
    assert done.returncode == 1
    assert "FAILED: verify_ledger" in done.stderr


def test_transfers_that_lose_stock_fail_the_restore(tmp_path, scratch):
    a_company()
    tampered = server_url(scratch())
    assert restore(backup(tmp_path / "clean"), tampered).returncode == 0
    execute(tampered, "UPDATE transfers_transferline SET received = 0 WHERE received > 0")

    done = restore(backup(tmp_path / "tampered", tampered), server_url(scratch()))

    assert done.returncode == 1
    assert "Ledger consistent" in done.stdout
    assert "FAILED: verify_transfers" in done.stderr


def test_an_archive_older_than_the_code_fails_the_migration_check_unless_migrated(
    tmp_path, scratch
):
    a_company()
    older = server_url(scratch())
    assert restore(backup(tmp_path / "now"), older).returncode == 0
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "transfers", "0001"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": older},
        capture_output=True,
        check=True,
        timeout=300,
    )
    archive = backup(tmp_path / "older", older)
    target = server_url(scratch())

    refused = restore(archive, target)
    migrated = restore(archive, target, "--force", "--migrate")

    assert refused.returncode == 1
    assert "lacks migrations" in refused.stderr
    assert migrated.returncode == 0, migrated.stderr
    assert figures(target)["levels"] == figures(database_url())["levels"]


def test_a_damaged_archive_restores_nothing(tmp_path, scratch):
    a_company()
    archive = backup(tmp_path)
    data = bytearray(archive.read_bytes())
    # The table of contents still reads; the last table's compressed data (a zlib stream,
    # 78 9c) does not.
    start = data.rindex(b"\x78\x9c") + 2
    data[start : start + 8] = bytes(8)
    archive.write_bytes(bytes(data))
    target = server_url(scratch())

    done = restore(archive, target)

    assert done.returncode == 1
    assert "FAILED: pg_restore could not restore" in done.stderr
    assert execute(target, TABLES) == []
