"""Celery tasks of the accounts: the password-reset e-mail."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


# A mail server that is down, refuses or times out raises an OSError (smtplib's errors are
# OSErrors too): worth another try, as for alert mail. Nothing else is retried.
@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=settings.ALERT_MAIL_RETRY_SECONDS,
    retry_backoff_max=settings.ALERT_MAIL_RETRY_MAX_SECONDS,
    retry_jitter=True,
    max_retries=settings.ALERT_MAIL_RETRIES,
)
def send_password_reset_email(
    to_email: str, subject: str, body: str, html_body: str | None = None
) -> None:
    """Send one password-reset message, already rendered in its recipient's language."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to_email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()


def queue_password_reset_email(
    to_email: str, subject: str, body: str, html_body: str | None = None
) -> None:
    """Hand the message to a worker. With the broker unreachable the mail is lost, logged,
    and the page still says a link is on its way: the person may ask again, and saying
    otherwise would tell who has an account."""
    try:
        send_password_reset_email.delay(to_email, subject, body, html_body)
    except OperationalError as error:
        logger.error("Broker unreachable; a password-reset e-mail was not queued: %r", error)
