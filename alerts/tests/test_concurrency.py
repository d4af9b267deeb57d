"""Real threads, each with its own PostgreSQL connection, moving one level across its
threshold at once, or sending and resolving one alert at once."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import ManagerFactory
from alerts import services, tasks
from alerts.models import UNRESOLVED, AlertStatus, LowStockAlert, MailStatus
from alerts.tests.factories import LowStockAlertFactory
from stock import services as stock
from stock.models import StockLevel

# Many connections at once: never beside the server tests (inventory_project/tests/
# test_rolling_restart.py says why).
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("many-connections"),
]

THREADS = 20


def at_once(work) -> None:
    """Run ``work(n)`` in THREADS threads released together."""
    start = threading.Barrier(THREADS)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(run, n) for n in range(THREADS)]:
            future.result()


def test_twenty_issues_crossing_the_threshold_at_once_raise_one_alert(
    postgres, actor, branch, product
):
    # 20 on hand against a threshold of 20: whichever issue comes first takes it below.
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=20)
    stock.set_low_stock_threshold(
        actor=actor, branch_id=branch.pk, product_id=product.pk, threshold=20
    )

    at_once(
        lambda n: stock.issue_stock(
            actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=1
        )
    )

    [alert] = LowStockAlert.objects.all()
    assert alert.status == AlertStatus.OPEN
    assert alert.on_hand_at_trigger == 19
    assert StockLevel.objects.get().on_hand == 0


def test_stock_swinging_around_the_threshold_leaves_no_alert_once_it_is_back(
    postgres, actor, branch, product
):
    # 50 on hand against a threshold of 50: ten threads issue, ten receive, one unit at a time.
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=50)
    stock.set_low_stock_threshold(
        actor=actor, branch_id=branch.pk, product_id=product.pk, threshold=50
    )

    def swing(n: int) -> None:
        move = stock.issue_stock if n % 2 else stock.receive_stock
        for _ in range(5):
            move(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=1)

    at_once(swing)

    level = StockLevel.objects.get()
    assert level.on_hand == 50
    assert not LowStockAlert.objects.filter(status__in=UNRESOLVED).exists()
    # Replayed in the ledger's order, every fall below 50 raised exactly one alert.
    falls = [
        movement.created_at
        for movement in level.movements.order_by("version")
        if movement.on_hand_after < 50 <= movement.on_hand_after - movement.delta
    ]
    raised = list(LowStockAlert.objects.order_by("raised_at").values_list("raised_at", flat=True))
    assert raised == falls


def test_two_mail_tasks_of_one_alert_running_at_once_send_one_email(postgres, smtp):
    alert = LowStockAlertFactory()
    ManagerFactory(branch=alert.branch)
    # The first conversation to reach the server stalls there for a while, so that the
    # other task runs while the first is still sending.
    smtp.holding.set()
    start = threading.Barrier(2)

    def send(n: int) -> str:
        try:
            start.wait()
            return tasks.send_alert_email(str(alert.pk))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(send, n) for n in range(2)]
        assert smtp.held.wait(10)
        time.sleep(1)
        smtp.released.set()
        results = [future.result(timeout=30) for future in futures]

    # The one that came second found the e-mail claimed, and sent nothing.
    assert sorted(results) == [services.CLAIMED, MailStatus.SENT]
    assert len(smtp.wait_for(1)) == 1


def test_a_stock_write_resolving_an_alert_does_not_wait_for_its_email(
    postgres, smtp, actor, branch, product
):
    ManagerFactory(branch=branch)
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=12)
    stock.issue_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=5)
    alert = LowStockAlert.objects.get()
    # The mail server holds the conversation until the stock write below has finished.
    smtp.holding.set()

    with ThreadPoolExecutor(max_workers=1) as pool:
        sending = pool.submit(send_on_own_connection, alert.pk)
        assert smtp.held.wait(10), "the e-mail never reached the mail server"
        with connection.cursor() as cursor:
            # Should the row be locked after all, fail rather than wait for ever.
            cursor.execute("SET lock_timeout = '10s'")
        try:
            stock.receive_stock(
                actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=20
            )
            resolved = LowStockAlert.objects.get(pk=alert.pk)
            assert not sending.done()
        finally:
            smtp.released.set()
        assert sending.result(timeout=30) == MailStatus.SENT

    assert resolved.status == AlertStatus.RESOLVED
    assert len(smtp.wait_for(1)) == 1
    alert.refresh_from_db()
    assert (alert.status, alert.mail_status) == (AlertStatus.RESOLVED, MailStatus.SENT)
    assert alert.mail_claim is None


def send_on_own_connection(alert_id) -> str:
    try:
        return services.send_alert_email(alert_id=alert_id)
    finally:
        connection.close()


def test_workers_racing_for_an_alert_whose_sender_died_send_one_email(postgres, smtp):
    alert = LowStockAlertFactory()
    ManagerFactory(branch=alert.branch)
    # What a worker killed mid-send leaves: its claim, running out a minute ago.
    LowStockAlert.objects.filter(pk=alert.pk).update(
        mail_claim=uuid.uuid4(), mail_claimed_until=timezone.now() - timedelta(minutes=1)
    )

    results: list[str] = []
    at_once(lambda n: results.append(tasks.send_alert_email(str(alert.pk))))

    # A worker arriving after the send finished answers SENT too (the status afterwards);
    # the one e-mail on the wire is what proves a single sender.
    assert MailStatus.SENT in results
    assert set(results) <= {services.CLAIMED, MailStatus.SENT}
    assert len(smtp.wait_for(1)) == 1
    alert.refresh_from_db()
    assert (alert.mail_status, alert.mail_claim) == (MailStatus.SENT, None)
