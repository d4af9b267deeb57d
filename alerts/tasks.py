"""Celery tasks that e-mail alerts and digests, and the beat jobs that drive them.

Every task is idempotent (see ``alerts.services``): with late acknowledgement a message may
run again after a worker died, and the sweep may queue an alert whose first task is merely
slow.
"""

import datetime
import logging
import uuid

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from alerts import selectors, services

logger = logging.getLogger(__name__)

# What a mail server that is down, refuses or times out raises (smtplib's errors are
# OSErrors too): worth another try later.
MAIL_RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": settings.ALERT_MAIL_RETRY_SECONDS,
    "retry_backoff_max": settings.ALERT_MAIL_RETRY_MAX_SECONDS,
    "retry_jitter": True,
    "max_retries": settings.ALERT_MAIL_RETRIES,
}


@shared_task(bind=True, **MAIL_RETRY)
def send_alert_email(self, alert_id: str) -> str:
    """E-mail one raised alert (see services.send_alert_email)."""
    try:
        status = services.send_alert_email(alert_id=alert_id)
    except OSError as error:
        logger.warning("E-mail for alert %s not sent, will retry: %r", alert_id, error)
        services.note_mail_problem(alert_id=alert_id, problem=f"Mail server: {error!r}")
        raise
    if status == services.CLAIMED and not (self.request.called_directly or self.request.is_eager):
        # Another worker is sending it, or died doing so (a message redelivered after a
        # crash): look again once that worker's claim may have run out.
        countdown = min(services.mail_claim_seconds(), settings.ALERT_MAIL_RETRY_MAX_SECONDS)
        raise self.retry(countdown=countdown)
    return status


def queue_alert_email(alert_id: uuid.UUID | str) -> bool:
    """Hand the alert's e-mail to a worker; run after the alert committed.

    Should the broker be unreachable, the alert goes back to PENDING and the sweep queues
    it once the broker answers again: nothing is lost and the caller is not failed.
    """
    try:
        send_alert_email.delay(str(alert_id))
    except OperationalError as error:
        logger.error("Broker unreachable; alert %s waits for the sweep: %r", alert_id, error)
        services.note_mail_problem(
            alert_id=alert_id, problem=f"Broker unreachable: {error!r}", queued=False
        )
        return False
    return True


@shared_task
def queue_owed_alert_mail() -> int:
    """Run by beat every few minutes: queue the e-mail of alerts that never reached the
    broker, or were queued long ago and are still not sent."""
    owed = services.alerts_owing_mail(
        now=timezone.now(),
        requeue_after=datetime.timedelta(minutes=settings.ALERT_MAIL_REQUEUE_MINUTES),
        give_up_after=datetime.timedelta(hours=settings.ALERT_MAIL_GIVE_UP_HOURS),
    )
    queued = 0
    for alert_id in owed:
        services.note_mail_queued(alert_id=alert_id)
        if not queue_alert_email(alert_id):
            break  # the broker is down: the next sweep tries again
        queued += 1
    if owed:
        logger.info("Queued the e-mail of %d of %d alerts owing one", queued, len(owed))
    return queued


@shared_task
def send_alert_digests() -> int:
    """Run by beat once a day: queue a digest for everyone who takes one."""
    day = timezone.localdate().isoformat()
    recipients = list(selectors.digest_recipients().values_list("pk", flat=True))
    for user_id in recipients:
        send_alert_digest.delay(str(user_id), day)
    return len(recipients)


@shared_task(**MAIL_RETRY)
def send_alert_digest(user_id: str, day: str) -> int:
    """E-mail one person's digest for ``day`` (ISO date), once."""
    return services.send_alert_digest(user_id=user_id, day=datetime.date.fromisoformat(day))
