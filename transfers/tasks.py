"""Celery tasks that e-mail purchase orders to their suppliers, and the beat sweep that
makes sure each one goes.

Every task is idempotent (see ``transfers.purchasing.email_purchase_order``): with late
acknowledgement a message may run again after a worker died, and the sweep may queue an
order whose first task is merely slow; the claim lets one of them send.
"""

import logging
import uuid

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError

from transfers import purchasing
from transfers.models import OrderMailStatus

logger = logging.getLogger(__name__)

# A mail server that is down, refuses or times out raises an OSError (smtplib's errors
# are): retried as the alert mail is (one mail server, one policy): after
# ALERT_MAIL_RETRY_SECONDS, doubling up to ALERT_MAIL_RETRY_MAX_SECONDS, ALERT_MAIL_RETRIES
# times; then the order's e-mail is FAILED with the reason, for someone to send by hand.


def retry_delay(retries: int) -> int:
    """Seconds before attempt ``retries + 1``."""
    return min(
        settings.ALERT_MAIL_RETRY_SECONDS * 2**retries, settings.ALERT_MAIL_RETRY_MAX_SECONDS
    )


@shared_task(bind=True, max_retries=settings.ALERT_MAIL_RETRIES)
def send_purchase_order(self, order_id: str) -> str:
    """E-mail one sent purchase order to its supplier, once."""
    try:
        status = purchasing.email_purchase_order(order_id=order_id)
    except OSError as error:
        problem = f"Mail server: {error!r}"
        if self.request.retries >= self.max_retries:
            logger.error("Purchase order %s not e-mailed, giving up: %r", order_id, error)
            purchasing.note_mail_failed(order_id=order_id, problem=problem)
            return OrderMailStatus.FAILED
        logger.warning("Purchase order %s not e-mailed, will retry: %r", order_id, error)
        purchasing.note_mail_problem(order_id=order_id, problem=problem)
        raise self.retry(exc=error, countdown=retry_delay(self.request.retries)) from error
    if status == purchasing.CLAIMED and not (self.request.called_directly or self.request.is_eager):
        # Another worker is sending it, or died doing so: look again once its claim may
        # have run out.
        raise self.retry(countdown=settings.PURCHASE_ORDER_MAIL_LEASE_SECONDS)
    return status


def queue_purchase_order_mail(order_id: uuid.UUID | str) -> bool:
    """Hand the order's e-mail to a worker; run once the order committed as SENT.

    Should the broker be unreachable, the order stays PENDING and the sweep queues it once
    the broker answers again: nothing is lost and the caller is not failed.
    """
    try:
        send_purchase_order.delay(str(order_id))
    except OperationalError as error:
        logger.error("Broker unreachable; order %s waits for the sweep: %r", order_id, error)
        purchasing.note_mail_problem(order_id=order_id, problem=f"Broker unreachable: {error!r}")
        return False
    return True


@shared_task
def send_owed_purchase_orders() -> int:
    """Run by beat every few minutes: queue the e-mail of orders still owing one (never
    queued, lost, or claimed by a worker that died)."""
    owed = purchasing.orders_owing_mail()
    queued = 0
    for order_id in owed:
        if not queue_purchase_order_mail(order_id):
            break  # the broker is down: the next sweep tries again
        queued += 1
    if owed:
        logger.info("Queued the e-mail of %d of %d purchase orders owing one", queued, len(owed))
    return queued
