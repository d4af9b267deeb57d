"""The low-stock e-mails: each in a plain-text and an HTML part, rendered from
``templates/alerts/email/``, with links back to the app at ``SITE_URL``, in the language
of its recipients (their ``User.language``, else ``LANGUAGE_CODE``)."""

import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import User
from alerts.models import LowStockAlert
from stock.quantities import format_quantity


def language_of(user: User) -> str:
    """The language a person's e-mail is written in."""
    return user.language or settings.LANGUAGE_CODE


def low_stock_alert(
    alert: LowStockAlert, recipients: list[str], *, language: str | None = None
) -> EmailMultiAlternatives:
    """The message announcing ``alert`` to ``recipients``, all reading ``language``
    (``LANGUAGE_CODE`` without one)."""
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        return _low_stock_alert(alert, recipients, language)


def _low_stock_alert(
    alert: LowStockAlert, recipients: list[str], language: str
) -> EmailMultiAlternatives:
    level = alert.stock_level
    product = alert.product
    context = {
        "alert": alert,
        "product": product,
        "branch": alert.branch,
        "on_hand": format_quantity(level.on_hand),
        "on_hand_at_trigger": format_quantity(alert.on_hand_at_trigger),
        "threshold": format_quantity(alert.threshold_at_trigger),
        "unit": product.unit,
        "item_url": _link("stock-level", level.pk),
        "preferences_url": _link("alert-mail"),
    }
    subject = _("Low stock: %(product)s (%(sku)s) at %(branch)s") % {
        "product": product.name,
        "sku": product.sku,
        "branch": alert.branch.name,
    }
    # One message per language: each language's has its own id, the same on every attempt.
    suffix = "" if language == settings.LANGUAGE_CODE else f".{language}"
    return _message(
        subject,
        "alerts/email/low_stock",
        context,
        recipients,
        # The same Message-ID for every attempt: should a crash ever make the message go
        # out twice, mail clients show it once.
        message_id=f"<low-stock-alert.{alert.pk}{suffix}@{_mail_domain()}>",
    )


def open_alerts_digest(
    user: User, alerts: list[LowStockAlert], day: datetime.date
) -> EmailMultiAlternatives:
    """``user``'s digest of the ``alerts`` still open on ``day``, in their language."""
    with translation.override(language_of(user)):
        return _open_alerts_digest(user, alerts, day)


def _open_alerts_digest(
    user: User, alerts: list[LowStockAlert], day: datetime.date
) -> EmailMultiAlternatives:
    rows = [
        {
            "alert": alert,
            "on_hand": format_quantity(alert.stock_level.on_hand),
            "threshold": format_quantity(alert.stock_level.threshold),
            "item_url": _link("stock-level", alert.stock_level_id),
        }
        for alert in alerts
    ]
    context = {
        "user": user,
        "day": day,
        "rows": rows,
        "alerts_url": _link("alerts"),
        "preferences_url": _link("alert-mail"),
    }
    count = len(alerts)
    shown_day = dateformat.format(day, pgettext("date in e-mail subjects", "d M Y"))
    subject = ngettext(
        "%(count)d low-stock alert still open on %(day)s",
        "%(count)d low-stock alerts still open on %(day)s",
        count,
    ) % {"count": count, "day": shown_day}
    return _message(
        subject,
        "alerts/email/digest",
        context,
        [user.email],
        message_id=f"<alert-digest.{day:%Y%m%d}.{user.pk}@{_mail_domain()}>",
    )


def _message(
    subject: str, template: str, context: dict, recipients: list[str], *, message_id: str
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={"Message-ID": message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _link(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _mail_domain() -> str:
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rsplit("@", 1)[-1].strip(">") if "@" in sender else "localhost"
