"""Celery tasks of the accounts: the password-reset e-mail and the invitation."""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from kombu.exceptions import OperationalError

from accounts.models import Membership, User

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


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=settings.ALERT_MAIL_RETRY_SECONDS,
    retry_backoff_max=settings.ALERT_MAIL_RETRY_MAX_SECONDS,
    retry_jitter=True,
    max_retries=settings.ALERT_MAIL_RETRIES,
)
def send_invitation_email(user_id: str, inviter_id: str | None = None) -> bool:
    """E-mail an invited person a link to choose their password, in their language (else
    the site's), at SITE_URL. Nothing is sent once they chose a password or were
    deactivated meanwhile: the invitation is then moot. Returns whether a mail went out."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password():
        return False
    inviter = User.objects.filter(pk=inviter_id).first() if inviter_id else None
    link = settings.SITE_URL + reverse(
        "welcome",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    memberships = Membership.objects.filter(user=user).select_related("branch")
    context = {
        "user": user,
        "inviter": inviter,
        "memberships": sorted(memberships, key=lambda membership: membership.branch.code),
        "welcome_url": link,
        "sign_in_url": settings.SITE_URL + reverse("login"),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)),
    }
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = "".join(
            render_to_string("registration/invitation_subject.txt", context).splitlines()
        )
        body = render_to_string("registration/invitation_email.txt", context)
        html_body = render_to_string("registration/invitation_email.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html_body, "text/html")
    message.send()
    return True


def queue_invitation_email(user_id, inviter_id=None) -> None:
    """Hand the invitation to a worker (after the commit that created or re-invited the
    account). With the broker unreachable it is logged; the person page offers to send
    the invitation again."""
    try:
        send_invitation_email.delay(str(user_id), str(inviter_id) if inviter_id else None)
    except OperationalError as error:
        logger.error("Broker unreachable; an invitation e-mail was not queued: %r", error)
