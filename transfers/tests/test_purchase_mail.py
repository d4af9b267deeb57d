"""A sent purchase order is e-mailed to its supplier through a real SMTP server on loopback:
once, with the order as CSV, never before the order committed, retried when the server
refuses, and taken up again once a dead worker's claim ran out."""

import csv
import datetime
import io
import smtplib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from celery import current_app
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from alerts.tests.smtp import MailSink
from catalog.tests.factories import ProductFactory, SupplierFactory
from transfers import purchasing, tasks
from transfers.models import OrderMailStatus, PurchaseOrder
from transfers.tests.factories import drafted_order, sent_order


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, which the app's mail goes to."""
    sink = MailSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()


@pytest.fixture
def eager():
    """Celery runs tasks in the caller, as the embedded app does."""
    conf = current_app.conf
    was = conf.task_always_eager
    conf.task_always_eager = True
    yield
    conf.task_always_eager = was


@pytest.fixture
def supplier():
    return SupplierFactory(code="ACME", email="orders@acme.example", contact_name="Ann")


@pytest.fixture
def order(postgres, actor, branch, supplier):
    screws = ProductFactory(sku="SCR-4", name="=HYPERLINK(1) screws")
    nails = ProductFactory(sku="NAIL-2", name="Nails")
    return sent_order(actor, branch, supplier, (screws, 12, "0.5000"), (nails, 3))


def test_a_sent_order_is_e_mailed_to_the_supplier_with_its_csv(smtp, order, settings):
    assert tasks.send_purchase_order(str(order.pk)) == OrderMailStatus.SENT

    [message] = smtp.wait_for(1)
    assert message["To"] == "orders@acme.example"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert order.reference in message["Subject"]
    assert order.branch.name in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "12 pcs" in body
    assert "SCR-4" in body
    assert "NAIL-2" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{order.reference}.csv"
    rows = list(csv.DictReader(io.StringIO(attachment.get_content())))
    assert [(row["sku"], row["quantity"], row["unit_price"]) for row in rows] == [
        ("NAIL-2", "3", "2.5000"),
        ("SCR-4", "12", "0.5000"),
    ]
    # The supplier's spreadsheet shows the name as typed rather than running it.
    assert rows[1]["product"] == "'=HYPERLINK(1) screws"
    assert rows[1]["line_total"] == "6.0000"
    order.refresh_from_db()
    assert order.mail_status == OrderMailStatus.SENT
    assert order.mail_sent_at is not None
    assert order.mail_claimed_at is None


def test_a_second_task_for_the_same_order_sends_nothing(smtp, order):
    tasks.send_purchase_order(str(order.pk))

    assert tasks.send_purchase_order(str(order.pk)) == OrderMailStatus.SENT
    assert len(smtp.wait_for(1)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_order_send_one_email(postgres, smtp, actor, branch, supplier):
    order = sent_order(actor, branch, supplier, (ProductFactory(), 1))
    # The first conversation to reach the server stalls there, so that the other worker
    # runs while the first is still sending.
    smtp.holding.set()
    start = threading.Barrier(2)

    def send(n: int) -> str:
        try:
            start.wait()
            return tasks.send_purchase_order(str(order.pk))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(send, n) for n in range(2)]
        assert smtp.held.wait(10)
        time.sleep(1)
        smtp.released.set()
        results = [future.result(timeout=30) for future in futures]

    assert sorted(results) == [purchasing.CLAIMED, OrderMailStatus.SENT]
    assert len(smtp.wait_for(1)) == 1


@pytest.mark.django_db(transaction=True)
def test_nothing_is_mailed_before_the_send_commits_nor_after_a_rollback(
    postgres, smtp, eager, actor, branch, supplier
):
    product = ProductFactory()
    kept = drafted_order(actor, branch, supplier, (product, 1))
    dropped = drafted_order(actor, branch, supplier, (product, 1))

    with transaction.atomic():
        purchasing.send_purchase_order(actor=actor, order_id=kept.pk)
        assert smtp.wait_for(0, timeout=0) == []
    [message] = smtp.wait_for(1)
    assert kept.reference in message["Subject"]

    def send_then_fail():
        with transaction.atomic():
            purchasing.send_purchase_order(actor=actor, order_id=dropped.pk)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        send_then_fail()

    assert len(smtp.wait_for(1)) == 1
    dropped.refresh_from_db()
    assert dropped.mail_status == OrderMailStatus.NONE


def test_a_refusing_server_leaves_the_mail_owed_with_the_problem(smtp, order):
    smtp.refusing = True

    with pytest.raises(smtplib.SMTPException):
        tasks.send_purchase_order(str(order.pk))

    order.refresh_from_db()
    assert order.mail_status == OrderMailStatus.PENDING
    assert order.mail_claimed_at is None
    assert "451" in order.mail_problem
    smtp.refusing = False
    assert tasks.send_purchase_order(str(order.pk)) == OrderMailStatus.SENT
    assert len(smtp.wait_for(1)) == 1


def test_the_last_retry_gives_up_and_marks_the_mail_failed(smtp, order, monkeypatch):
    smtp.refusing = True
    task = tasks.send_purchase_order
    monkeypatch.setattr(task, "max_retries", 0)

    assert task.apply(args=[str(order.pk)]).get() == OrderMailStatus.FAILED

    order.refresh_from_db()
    assert order.mail_status == OrderMailStatus.FAILED
    assert "451" in order.mail_problem


def test_retries_back_off_up_to_a_ceiling(settings):
    settings.ALERT_MAIL_RETRY_SECONDS = 30
    settings.ALERT_MAIL_RETRY_MAX_SECONDS = 600

    assert [tasks.retry_delay(n) for n in range(7)] == [30, 60, 120, 240, 480, 600, 600]


def test_a_claim_still_running_is_not_taken(smtp, order):
    PurchaseOrder.objects.filter(pk=order.pk).update(
        mail_status=OrderMailStatus.SENDING, mail_claimed_at=timezone.now()
    )

    assert purchasing.email_purchase_order(order_id=order.pk) == purchasing.CLAIMED
    assert purchasing.orders_owing_mail() == []
    assert smtp.wait_for(0, timeout=0) == []


def test_a_dead_worker_s_claim_is_taken_once_the_lease_ran_out(smtp, order, settings):
    long_ago = timezone.now() - datetime.timedelta(
        seconds=settings.PURCHASE_ORDER_MAIL_LEASE_SECONDS + 1
    )
    PurchaseOrder.objects.filter(pk=order.pk).update(
        mail_status=OrderMailStatus.SENDING, mail_claimed_at=long_ago
    )

    assert purchasing.orders_owing_mail() == [order.pk]
    assert purchasing.email_purchase_order(order_id=order.pk) == OrderMailStatus.SENT
    assert len(smtp.wait_for(1)) == 1


def test_the_sweep_queues_every_order_owing_its_mail(order, actor, branch, supplier, monkeypatch):
    sent_already = sent_order(actor, branch, supplier, (ProductFactory(), 1))
    PurchaseOrder.objects.filter(pk=sent_already.pk).update(mail_status=OrderMailStatus.SENT)
    queued = []
    monkeypatch.setattr(tasks.send_purchase_order, "delay", queued.append)

    assert tasks.send_owed_purchase_orders() == 1

    assert queued == [str(order.pk)]


def test_an_unreachable_broker_leaves_the_order_to_the_sweep(order, monkeypatch):
    from kombu.exceptions import OperationalError

    def unreachable(order_id):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.send_purchase_order, "delay", unreachable)

    assert tasks.queue_purchase_order_mail(order.pk) is False

    order.refresh_from_db()
    assert order.mail_status == OrderMailStatus.PENDING
    assert "Broker unreachable" in order.mail_problem


def test_a_supplier_that_lost_its_address_fails_the_mail_in_words(order, supplier):
    supplier.email = ""
    supplier.save()

    assert purchasing.email_purchase_order(order_id=order.pk) == OrderMailStatus.FAILED

    order.refresh_from_db()
    assert "no e-mail address" in order.mail_problem
    assert mail.outbox == []


def test_a_cancelled_order_s_unsent_mail_is_not_sent(smtp, order, actor):
    purchasing.cancel_purchase_order(actor=actor, order_id=order.pk)

    assert purchasing.email_purchase_order(order_id=order.pk) == OrderMailStatus.NONE
    assert smtp.wait_for(0, timeout=0) == []


@pytest.mark.parametrize("order_id", ["nonsense", "00000000-0000-0000-0000-000000000000"])
def test_a_task_for_an_unknown_order_does_nothing(db, order_id):
    assert purchasing.email_purchase_order(order_id=order_id) == purchasing.MISSING
