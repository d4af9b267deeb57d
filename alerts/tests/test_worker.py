"""End to end: a real Celery worker on the local Redis e-mails alerts to a real SMTP server
on loopback; the worker is killed, the mail server refuses, the broker is unreachable, and
every alert is still e-mailed exactly once.

The tests share one Redis queue, so they run one at a time (one xdist group).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from alerts import tasks
from alerts.models import LowStockAlert, MailStatus
from alerts.tests.factories import LowStockAlertFactory
from alerts.tests.smtp import MailSink
from inventory_project.tests.helpers import database_url, free_port
from stock import services as stock

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("celery-worker"),
    pytest.mark.usefixtures("postgres"),
]

# Short enough for a test to wait out: how long Redis keeps a dead worker's message.
VISIBILITY_TIMEOUT = 3


def service_env(smtp: MailSink, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="inventory_project.settings",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        ALERT_MAIL_RETRY_SECONDS="1",
        ALERT_MAIL_RETRY_MAX_SECONDS="2",
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class Worker:
    """``celery worker`` in a process group of its own, started and stopped by the test."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "inventory_project",
                "worker",
                "--concurrency=1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited:\n{self.log.read_text()}")
            if " ready." in self.log.read_text():
                return
            time.sleep(0.1)
        pytest.fail(f"The worker did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no clean-up, no acknowledgement."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def smtp():
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def start_worker(smtp, tmp_path):
    workers = []

    def start() -> Worker:
        worker = Worker(service_env(smtp), tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def stocked(actor, branch, product):
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=12)


def fall_below_threshold(actor, branch, product) -> LowStockAlert:
    stock.issue_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=5)
    return LowStockAlert.objects.get(branch=branch, product=product)


def wait_for_status(alert: LowStockAlert, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alert.refresh_from_db()
        if alert.mail_status == status:
            return
        time.sleep(0.1)
    pytest.fail(f"The alert's e-mail is {alert.mail_status}, not {status}")


def test_an_alert_raised_through_the_service_arrives_once(
    start_worker, smtp, actor, branch, product, manager, stocked
):
    start_worker()

    alert = fall_below_threshold(actor, branch, product)

    [message] = smtp.wait_for(1)
    assert message["To"].addresses[0].addr_spec == manager.email
    assert product.sku in message["Subject"]
    wait_for_status(alert, MailStatus.SENT)


def test_an_alert_arrives_once_after_the_mail_server_refused_then_came_back(
    start_worker, smtp, actor, branch, product, manager, stocked
):
    smtp.refusing = True
    start_worker()

    alert = fall_below_threshold(actor, branch, product)
    deadline = time.monotonic() + 30
    while smtp.refused < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert smtp.refused >= 2, "the worker did not retry"
    alert.refresh_from_db()
    assert alert.mail_status == MailStatus.QUEUED
    assert "451" in alert.mail_problem
    smtp.refusing = False

    assert len(smtp.wait_for(1, timeout=30)) == 1
    assert len(smtp.wait_for(2, timeout=3)) == 1
    wait_for_status(alert, MailStatus.SENT)
    assert alert.mail_problem == ""


def test_an_alert_whose_worker_was_killed_mid_send_arrives_once_through_a_new_worker(
    start_worker, smtp, actor, branch, product, manager, stocked
):
    smtp.holding.set()
    first = start_worker()
    alert = fall_below_threshold(actor, branch, product)
    assert smtp.held.wait(30), "the task never reached the mail server"

    first.kill()
    smtp.holding.clear()
    smtp.released.set()
    time.sleep(VISIBILITY_TIMEOUT + 0.5)  # until Redis gives the message up for lost
    alert.refresh_from_db()
    assert alert.mail_status == MailStatus.QUEUED
    assert alert.mail_claimed_until > timezone.now()  # the dead worker's claim
    assert smtp.messages == []
    # Its claim runs out (as it would a couple of minutes later).
    LowStockAlert.objects.filter(pk=alert.pk).update(mail_claimed_until=timezone.now())
    start_worker()

    assert len(smtp.wait_for(1, timeout=30)) == 1
    assert len(smtp.wait_for(2, timeout=3)) == 1
    wait_for_status(alert, MailStatus.SENT)


def test_an_alert_committed_while_the_broker_was_down_is_sent_by_the_sweep(
    start_worker, smtp, actor, branch, product, manager, stocked
):
    # Another process, whose broker does not answer, raises the alert.
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"
    raise_alert = (
        "from stock import services; from accounts.models import User; "
        f"services.issue_stock(actor=User.objects.get(pk='{actor.pk}'), "
        f"branch_id='{branch.pk}', product_id='{product.pk}', quantity=5)"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", raise_alert],
        cwd=settings.BASE_DIR,
        env=service_env(smtp, CELERY_BROKER_URL=dead_broker),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Broker unreachable" in result.stderr
    alert = LowStockAlert.objects.get(branch=branch, product=product)
    assert alert.mail_status == MailStatus.PENDING
    start_worker()

    # The broker is back: the sweep run by beat queues what never got through.
    assert tasks.queue_owed_alert_mail() == 1

    assert len(smtp.wait_for(1, timeout=30)) == 1
    wait_for_status(alert, MailStatus.SENT)


def test_the_daily_digest_fans_out_to_each_manager_through_the_worker(
    start_worker, smtp, branch, manager
):
    LowStockAlertFactory.create_batch(2, stock_level__branch=branch)
    LowStockAlertFactory()  # another branch's, whose manager is someone else
    start_worker()

    tasks.send_alert_digests.delay()

    smtp.wait_for(1, timeout=30)
    messages = smtp.wait_for(2, timeout=2)  # and no second one
    assert [m["To"].addresses[0].addr_spec for m in messages] == [manager.email]
    assert messages[0]["Subject"].startswith("2 low-stock alerts still open")
