"""The read-replica router: reads that opted in go to the replica, everything else (writes,
migrations, someone who just wrote) to the primary.

The tests against a replica need a second PostgreSQL database standing in for it:
``DATABASE_REPLICA_URL`` set beside ``DATABASE_URL`` (``make test`` runs this module so).
It starts as a copy of the primary's test database (as a replica is a copy of its primary)
and is then written apart from it, so that what a read returns shows where it went.
"""

import time
import uuid

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from catalog.models import Category
from inventory_project.kernel import db_router
from inventory_project.kernel.db_router import REPLICA, ReplicaRouter, reading_from_replica
from inventory_project.tests.helpers import page_client

MIDDLEWARE = "inventory_project.kernel.middleware.RecentWriteMiddleware"
router = ReplicaRouter()

needs_replica = pytest.mark.skipif(
    REPLICA not in settings.DATABASES,
    reason="needs DATABASE_REPLICA_URL: a second PostgreSQL database standing in for a replica",
)


# Without a replica, or without opting in -------------------------------------------------


def test_without_a_replica_even_an_opted_in_read_goes_to_the_primary(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: False)

    with reading_from_replica():
        assert router.db_for_read(Category) == DEFAULT_DB_ALIAS


def test_a_read_that_did_not_opt_in_goes_to_the_primary(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)

    assert router.db_for_read(Category) == DEFAULT_DB_ALIAS


def test_an_opted_in_read_goes_to_the_replica_when_there_is_one(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)

    with reading_from_replica():
        assert router.db_for_read(Category) == REPLICA


def test_an_opted_in_read_of_someone_who_just_wrote_goes_to_the_primary(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)

    with reading_from_replica(), db_router.primary_only():
        assert router.db_for_read(Category) == DEFAULT_DB_ALIAS


def test_writes_always_go_to_the_primary(monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)

    with reading_from_replica():
        assert router.db_for_write(Category) == DEFAULT_DB_ALIAS


def test_migrations_run_on_the_primary_only():
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "catalog")
    assert not router.allow_migrate(REPLICA, "catalog")


def test_the_router_is_installed():
    assert "inventory_project.kernel.db_router.ReplicaRouter" in settings.DATABASE_ROUTERS


def test_a_write_without_a_replica_sets_no_cookie(actor, settings, monkeypatch):
    monkeypatch.setattr(db_router, "replica_configured", lambda: False)
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]

    response = page_client(actor).post("/stock/")

    assert db_router.RECENT_WRITE_COOKIE not in response.cookies


# Against a second database standing in for the replica -----------------------------------


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    """The replica's test database, made a copy of the primary's (schema and all)."""
    if REPLICA not in settings.DATABASES:
        pytest.skip("needs DATABASE_REPLICA_URL")
    with django_db_blocker.unblock():
        primary = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
        name = connections[REPLICA].settings_dict["NAME"]
        for connection in connections.all():
            connection.close()
        with connections[DEFAULT_DB_ALIAS]._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{primary}"')
    return REPLICA


@pytest.fixture
def apart(replica):
    """A category only the replica has, and one only the primary has."""
    on_replica = Category.objects.using(replica).create(name=f"Replica {uuid.uuid4().hex[:8]}")
    on_primary = Category.objects.using(DEFAULT_DB_ALIAS).create(
        name=f"Primary {uuid.uuid4().hex[:8]}"
    )
    yield on_replica, on_primary
    # The replica is not emptied between tests: the router lets no flush reach it.
    Category.objects.using(replica).filter(pk=on_replica.pk).delete()


@pytest.fixture
def read_your_writes(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


both = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


@needs_replica
@both
def test_an_opted_in_read_returns_what_the_replica_holds(apart):
    on_replica, on_primary = apart

    with reading_from_replica():
        names = set(Category.objects.values_list("name", flat=True))

    assert on_replica.name in names
    assert on_primary.name not in names


@needs_replica
@both
def test_a_read_that_did_not_opt_in_returns_what_the_primary_holds(apart):
    on_replica, on_primary = apart

    names = set(Category.objects.values_list("name", flat=True))

    assert on_primary.name in names
    assert on_replica.name not in names


@needs_replica
@both
def test_a_write_inside_an_opted_in_block_goes_to_the_primary(replica):
    with reading_from_replica():
        written = Category.objects.create(name=f"Written {uuid.uuid4().hex[:8]}")

    assert Category.objects.using(DEFAULT_DB_ALIAS).filter(pk=written.pk).exists()
    assert not Category.objects.using(replica).filter(pk=written.pk).exists()


@needs_replica
@both
def test_reads_inside_a_transaction_on_the_primary_stay_there(apart):
    on_replica, on_primary = apart

    with transaction.atomic(), reading_from_replica():
        names = set(Category.objects.values_list("name", flat=True))

    assert on_primary.name in names
    assert on_replica.name not in names


@needs_replica
@both
def test_the_stock_list_reads_from_the_replica(actor, apart, read_your_writes):
    on_replica, on_primary = apart

    response = page_client(actor).get("/stock/")

    assert response.status_code == 200
    assert on_replica.name in response.text
    assert on_primary.name not in response.text


@needs_replica
@both
def test_someone_who_just_wrote_reads_the_stock_list_from_the_primary(
    actor, apart, read_your_writes
):
    on_replica, on_primary = apart
    client = page_client(actor)

    wrote = client.post("/stock/")
    response = client.get("/stock/")

    assert db_router.RECENT_WRITE_COOKIE in wrote.cookies
    assert wrote.cookies[db_router.RECENT_WRITE_COOKIE]["httponly"]
    assert on_primary.name in response.text
    assert on_replica.name not in response.text


@needs_replica
@both
def test_the_recent_write_mark_runs_out(actor, apart, read_your_writes, settings):
    on_replica, _ = apart
    settings.DATABASE_REPLICA_LAG_SECONDS = 1
    client = page_client(actor)

    client.post("/stock/")
    time.sleep(2.1)
    response = client.get("/stock/")

    assert on_replica.name in response.text


@needs_replica
@both
def test_a_forged_recent_write_cookie_is_ignored(actor, apart, read_your_writes):
    on_replica, _ = apart
    client = page_client(actor)
    client.cookies[db_router.RECENT_WRITE_COOKIE] = "1"

    response = client.get("/stock/")

    assert on_replica.name in response.text


@needs_replica
@both
def test_a_report_reads_from_the_replica(actor, apart, read_your_writes):
    on_replica, on_primary = apart

    response = page_client(actor).get("/reports/stock-value/")

    assert response.status_code == 200
    assert on_replica.name in response.text
    assert on_primary.name not in response.text
