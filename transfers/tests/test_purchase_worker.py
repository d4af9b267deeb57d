"""End to end: a real Celery worker on the local Redis e-mails a sent purchase order to a
real SMTP server on loopback, once, also after the mail server refused for a while.

The tests share one Redis queue with the alert worker tests, so they run in their group.
"""

import time

import pytest

from alerts.tests.smtp import MailSink
from alerts.tests.test_worker import Worker, service_env
from catalog.tests.factories import ProductFactory, SupplierFactory
from transfers import purchasing
from transfers.models import OrderMailStatus, PurchaseOrder
from transfers.tests.factories import drafted_order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.usefixtures("postgres"),
]


@pytest.fixture
def smtp():
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def worker(smtp, tmp_path):
    started = Worker(service_env(smtp), tmp_path / "worker.log")
    yield started
    started.stop()


@pytest.fixture
def draft(actor, branch):
    supplier = SupplierFactory(email="orders@acme.example")
    return drafted_order(actor, branch, supplier, (ProductFactory(sku="SCR-4"), 12))


def wait_for_mail_status(order: PurchaseOrder, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        order.refresh_from_db()
        if order.mail_status == status:
            return
        time.sleep(0.1)
    pytest.fail(f"The order's e-mail is {order.mail_status}, not {status}")


def test_an_order_sent_through_the_service_reaches_the_supplier_once(worker, smtp, actor, draft):
    purchasing.send_purchase_order(actor=actor, order_id=draft.pk)

    [message] = smtp.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "orders@acme.example"
    assert draft.reference in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert "SCR-4" in attachment.get_content()
    wait_for_mail_status(draft, OrderMailStatus.SENT)
    assert len(smtp.wait_for(2, timeout=2)) == 1


def test_an_order_arrives_once_after_the_mail_server_refused_then_came_back(
    worker, smtp, actor, draft
):
    smtp.refusing = True

    purchasing.send_purchase_order(actor=actor, order_id=draft.pk)
    deadline = time.monotonic() + 30
    while smtp.refused < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp.refused >= 2, "the worker did not retry"
    draft.refresh_from_db()
    assert draft.mail_status in (OrderMailStatus.PENDING, OrderMailStatus.SENDING)
    assert "451" in draft.mail_problem
    smtp.refusing = False

    assert len(smtp.wait_for(1, timeout=30)) == 1
    wait_for_mail_status(draft, OrderMailStatus.SENT)
    assert draft.mail_problem == ""
    assert len(smtp.wait_for(2, timeout=3)) == 1
