"""Low-stock alerts: raised and resolved as stock moves, acknowledged by people, and
e-mailed by Celery workers with the alert row as the outbox.

``track_stock_level`` and ``track_product_threshold`` run inside the stock or catalog
write's transaction, with the stock rows already locked, so two writers never both see a
level cross its threshold; the partial unique constraint backs that up. The e-mail
functions are called by ``alerts.tasks`` and are safe to run twice.
"""

import datetime
import logging
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import AlertMail, User
from accounts.permissions import Action, AnyUser
from alerts import mail, selectors
from alerts.errors import AlertAcknowledged, AlertResolved, UnknownAlert
from alerts.events import AlertChange, AlertChanged
from alerts.models import UNRESOLVED, AlertDigest, AlertStatus, LowStockAlert, MailStatus
from catalog.models import Product
from inventory_project.kernel import realtime
from inventory_project.kernel.errors import InvalidInput
from stock.models import StockLevel, StockMovement

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = LowStockAlert._meta.get_field("acknowledgement_note").max_length
PROBLEM_MAX_LENGTH = LowStockAlert._meta.get_field("mail_problem").max_length
MAIL_OWED = (MailStatus.PENDING, MailStatus.QUEUED)
# What send_alert_email answers when another worker holds the e-mail's claim.
CLAIMED = "CLAIMED"


# Raising and resolving --------------------------------------------------------------------


def track_stock_level(
    *,
    level: StockLevel,
    movement: StockMovement | None,
    previous_threshold: Decimal | None = None,
) -> LowStockAlert | None:
    """Raise an alert when ``level`` fell below its threshold, resolve its alert when it is
    back at or above; return the alert raised, if any.

    Called inside the stock write's transaction with ``level`` locked and updated, after
    either a ``movement`` or a threshold change (``previous_threshold`` was in force before).
    Only a crossing reads or writes anything: most movements cost no query here.
    """
    threshold = level.threshold
    if movement is not None:
        was_low = movement.on_hand_after - movement.delta < threshold
        at = movement.created_at
    else:
        was_low = previous_threshold is not None and level.on_hand < previous_threshold
        at = timezone.now()
    if was_low == level.is_low:
        return None
    raised = _sync_alerts([level], at=at)
    return raised[0] if raised else None


def track_product_threshold(
    *, product: Product, previous_threshold: Decimal
) -> list[LowStockAlert]:
    """Re-evaluate the levels that inherit ``product``'s default threshold after it changed
    from ``previous_threshold``; return the alerts raised.

    Called inside catalog's update transaction; locks, in primary-key order, only the levels
    whose on hand lies between the old and the new threshold, the ones that crossed.
    """
    low, high = sorted([previous_threshold, product.low_stock_threshold])
    levels = list(
        StockLevel.objects.select_for_update(of=("self",))
        .select_related("branch", "product")
        .filter(
            product=product,
            low_stock_threshold__isnull=True,
            on_hand__gte=low,
            on_hand__lt=high,
        )
        .order_by("pk")
    )
    return _sync_alerts(levels, at=timezone.now())


def _sync_alerts(levels: list[StockLevel], *, at: datetime.datetime) -> list[LowStockAlert]:
    """Give each locked level an unresolved alert exactly when it is low: one query to read
    the alerts, one to insert and one to resolve, whatever the number of levels."""
    if not levels:
        return []
    unresolved = {
        alert.stock_level_id: alert
        for alert in LowStockAlert.objects.select_for_update()
        .filter(stock_level__in=levels, status__in=UNRESOLVED)
        .order_by("pk")
    }
    raised = [
        LowStockAlert(
            stock_level=level,
            branch=level.branch,
            product=level.product,
            on_hand_at_trigger=level.on_hand,
            threshold_at_trigger=level.threshold,
            raised_at=at,
            # Queued as it commits: the on_commit hook publishes the task, and puts it
            # back to PENDING for the sweep should the broker be unreachable.
            mail_status=MailStatus.QUEUED,
            mail_queued_at=at,
        )
        for level in levels
        if level.is_low and level.pk not in unresolved
    ]
    by_id = {level.pk: level for level in levels}
    resolved = [alert for alert in unresolved.values() if not by_id[alert.stock_level_id].is_low]
    LowStockAlert.objects.bulk_create(raised)
    for alert in resolved:
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = at
    LowStockAlert.objects.bulk_update(resolved, ["status", "resolved_at"])
    for change, changed in ((AlertChange.RAISED, raised), (AlertChange.RESOLVED, resolved)):
        for alert in changed:
            realtime.publish(change, AlertChanged.of(alert), branch=alert.branch_id)
    return raised


# Acknowledging ----------------------------------------------------------------------------


def acknowledge_alert(
    *, actor: AnyUser, alert_id: uuid.UUID | str, note: str = ""
) -> LowStockAlert:
    """Say that someone is dealing with an unresolved alert (ADMINs and the branch's
    MANAGERs), with an optional note such as "reordered, due Friday".

    UnknownAlert for an alert ``actor`` may not see; AlertResolved once stock is back;
    AlertAcknowledged when someone already did.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            _("A note takes at most %(max)d characters.") % {"max": NOTE_MAX_LENGTH}, field="note"
        )
    with transaction.atomic():
        alert = _locked(actor, alert_id)
        if not permissions.can(actor, Action.ACKNOWLEDGE_ALERTS, alert.branch_id):
            raise permissions.deny(
                actor,
                _("You may not acknowledge alerts at %(branch)s.") % {"branch": alert.branch.code},
            )
        if alert.status == AlertStatus.RESOLVED:
            raise AlertResolved(
                _("The alert for %(sku)s at %(branch)s is resolved: the stock is back.")
                % {"sku": alert.product.sku, "branch": alert.branch.code}
            )
        if alert.status == AlertStatus.ACKNOWLEDGED:
            raise AlertAcknowledged(
                _("%(who)s already acknowledged the alert for %(sku)s at %(branch)s.")
                % {
                    "who": alert.acknowledged_by,
                    "sku": alert.product.sku,
                    "branch": alert.branch.code,
                }
            )
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.acknowledgement_note = note
        alert.save(
            update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledgement_note"]
        )
        realtime.publish(AlertChange.ACKNOWLEDGED, AlertChanged.of(alert), branch=alert.branch_id)
    return alert


# The most alerts one bulk acknowledgement takes: one page of the alert list is 50.
BULK_MAX = 200


def acknowledge_alerts(
    *, actor: AnyUser, alert_ids: list[uuid.UUID | str], note: str = ""
) -> list[LowStockAlert]:
    """Acknowledge several unresolved alerts at once, with one optional note; return the
    alerts this call acknowledged, in primary-key order.

    All or nothing, in one transaction with the alert rows locked in primary-key order (as
    every writer locks them, so two bulk acknowledgements never deadlock): UnknownAlert,
    naming no alert, when any id is malformed, missing or at a branch ``actor`` may not see;
    NotPermitted when ``actor`` may not acknowledge at one of the branches. Alerts someone
    already acknowledged, or whose stock is back, are left as they are and not returned:
    a list picked a moment ago still goes through after a colleague acknowledged one of it.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            _("A note takes at most %(max)d characters.") % {"max": NOTE_MAX_LENGTH}, field="note"
        )
    try:
        wanted = {uuid.UUID(str(alert_id)) for alert_id in alert_ids}
    except (TypeError, ValueError, AttributeError):
        raise UnknownAlert(_("One of the alerts does not exist.")) from None
    if not wanted:
        raise InvalidInput(_("Choose at least one alert."), field="alerts")
    if len(wanted) > BULK_MAX:
        raise InvalidInput(
            _("At most %(max)d alerts can be acknowledged at once.") % {"max": BULK_MAX},
            field="alerts",
        )
    with transaction.atomic():
        alerts = list(
            selectors.visible_alerts(actor)
            .select_for_update(of=("self",))
            .filter(pk__in=wanted)
            .order_by("pk")
        )
        if len(alerts) != len(wanted):
            raise UnknownAlert(_("One of the alerts does not exist."))
        may = permissions.rights(actor, {alert.branch_id for alert in alerts})
        for alert in alerts:
            if Action.ACKNOWLEDGE_ALERTS not in may.at(alert.branch_id):
                raise permissions.deny(
                    actor,
                    _("You may not acknowledge alerts at %(branch)s.")
                    % {"branch": alert.branch.code},
                )
        now = timezone.now()
        acknowledged = [alert for alert in alerts if alert.status == AlertStatus.OPEN]
        for alert in acknowledged:
            alert.status = AlertStatus.ACKNOWLEDGED
            alert.acknowledged_at = now
            alert.acknowledged_by = actor
            alert.acknowledgement_note = note
        LowStockAlert.objects.bulk_update(
            acknowledged, ["status", "acknowledged_at", "acknowledged_by", "acknowledgement_note"]
        )
        for alert in acknowledged:
            realtime.publish(
                AlertChange.ACKNOWLEDGED, AlertChanged.of(alert), branch=alert.branch_id
            )
    return acknowledged


def _locked(actor: AnyUser, alert_id: uuid.UUID | str) -> LowStockAlert:
    """The alert locked for update, if ``actor`` may see it; else UnknownAlert, the same
    for an alert that does not exist."""
    try:
        return selectors.visible_alerts(actor).select_for_update(of=("self",)).get(pk=alert_id)
    except (LowStockAlert.DoesNotExist, ValidationError, ValueError):
        raise UnknownAlert(f"No alert with id {alert_id}.") from None


# E-mail -----------------------------------------------------------------------------------


def send_alert_email(*, alert_id: uuid.UUID | str) -> str:
    """E-mail a raised alert to the people who hear about its branch, once; return the
    alert's mail status afterwards, or CLAIMED when another worker is sending it.

    No row stays locked while the mail server is talked to, so a stock write resolving the
    alert never waits for it: the e-mail is first claimed in a short transaction (a
    conditional UPDATE that only one worker wins while no claim is running), sent outside
    any transaction, and recorded in a second short one. A worker that dies mid-send leaves
    its claim to run out (``mail_claim_seconds``), after which a retry or the sweep sends it.
    An alert already SENT, or SKIPPED because nobody needed it, is left alone. Raises the
    mail server's error (an OSError) with the claim given up, for the task to retry.
    """
    claim = uuid.uuid4()
    with transaction.atomic():
        if not _claim_mail(alert_id, claim):
            status = (
                LowStockAlert.objects.filter(pk=alert_id)
                .values_list("mail_status", flat=True)
                .first()
            )
            if status is None:
                logger.warning("No alert %s to e-mail; it is not in this database.", alert_id)
                return "missing"
            return CLAIMED if status in MAIL_OWED else status
        alert = LowStockAlert.objects.select_related("branch", "product", "stock_level").get(
            pk=alert_id
        )
        if alert.status == AlertStatus.RESOLVED:
            return _skip_mail(alert, "The stock was back before the e-mail went out.")
        recipients = list(
            selectors.people_to_alert(alert.branch_id, mail=(AlertMail.EACH,)).only(
                "email", "language"
            )
        )
        if not recipients:
            return _skip_mail(
                alert,
                "Nobody takes each alert for this branch: no active manager with "
                "an e-mail address, and no administrator taking every branch's mail.",
            )
    # Everyone reads it in their own language: one message per language among them.
    by_language: dict[str, list[str]] = {}
    for person in recipients:
        by_language.setdefault(mail.language_of(person), []).append(person.email)
    try:
        for language, addresses in sorted(by_language.items()):
            mail.low_stock_alert(alert, addresses, language=language).send()
    except BaseException:
        # The next attempt need not wait for the claim to run out.
        LowStockAlert.objects.filter(pk=alert.pk, mail_claim=claim).update(
            mail_claim=None, mail_claimed_until=None
        )
        raise
    # Recorded even if the claim ran out meanwhile (or the sweep gave up on it): it went.
    LowStockAlert.objects.filter(pk=alert.pk).exclude(mail_status=MailStatus.SENT).update(
        mail_status=MailStatus.SENT,
        emailed_at=timezone.now(),
        mail_problem="",
        mail_claim=None,
        mail_claimed_until=None,
    )
    logger.info("E-mailed alert %s to %d people", alert.pk, len(recipients))
    return MailStatus.SENT


def mail_claim_seconds() -> int:
    """How long a worker's claim on an alert's e-mail lasts: longer than Celery lets a task
    run (it kills one at CELERY_TASK_TIME_LIMIT), so a claim runs out only once the worker
    holding it finished or died, and two never send at once."""
    default = settings.CELERY_TASK_TIME_LIMIT + 30
    return getattr(settings, "ALERT_MAIL_CLAIM_SECONDS", default)


def _claim_mail(alert_id: uuid.UUID | str, claim: uuid.UUID) -> bool:
    """Claim the alert's e-mail for ``claim`` if it is owed and nobody's claim is running.

    Two workers claiming at once both UPDATE the row; PostgreSQL makes the second wait for
    the first and evaluate the condition again on the row the first left, claimed: it wins
    nothing.
    """
    now = timezone.now()
    return bool(
        LowStockAlert.objects.filter(pk=alert_id, mail_status__in=MAIL_OWED)
        .filter(Q(mail_claimed_until__isnull=True) | Q(mail_claimed_until__lte=now))
        .update(
            mail_claim=claim,
            mail_claimed_until=now + datetime.timedelta(seconds=mail_claim_seconds()),
        )
    )


def _skip_mail(alert: LowStockAlert, reason: str) -> str:
    logger.info("Not e-mailing alert %s: %s", alert.pk, reason)
    alert.mail_status = MailStatus.SKIPPED
    alert.mail_problem = reason[:PROBLEM_MAX_LENGTH]
    alert.mail_claim = alert.mail_claimed_until = None
    alert.save(update_fields=["mail_status", "mail_problem", "mail_claim", "mail_claimed_until"])
    return alert.mail_status


def note_mail_queued(*, alert_id: uuid.UUID | str) -> bool:
    """Record that the alert's e-mail task is about to reach the broker; False when the
    e-mail is no longer owed."""
    return bool(
        LowStockAlert.objects.filter(pk=alert_id, mail_status__in=MAIL_OWED).update(
            mail_status=MailStatus.QUEUED, mail_queued_at=timezone.now()
        )
    )


def note_mail_problem(*, alert_id: uuid.UUID | str, problem: str, queued: bool = True) -> None:
    """Record why the alert's e-mail did not go out; ``queued=False`` when its task never
    reached the broker, so the sweep queues it again at its next run."""
    status = MailStatus.QUEUED if queued else MailStatus.PENDING
    LowStockAlert.objects.filter(pk=alert_id, mail_status__in=MAIL_OWED).update(
        mail_status=status, mail_problem=problem[:PROBLEM_MAX_LENGTH]
    )


def alerts_owing_mail(
    *, now: datetime.datetime, requeue_after: datetime.timedelta, give_up_after: datetime.timedelta
) -> list[uuid.UUID]:
    """The alerts whose e-mail should be queued (again): never queued (the broker was
    down), or queued ``requeue_after`` ago and still not sent (the task was lost, or gave
    up on the mail server). Alerts older than ``give_up_after`` are left to the daily
    digest and marked SKIPPED."""
    owed = LowStockAlert.objects.filter(mail_status__in=MAIL_OWED)
    stale = owed.filter(raised_at__lt=now - give_up_after)
    stale.update(
        mail_status=MailStatus.SKIPPED,
        mail_problem="Not sent in time; the daily digest lists it while it is open.",
    )
    due = (
        owed.filter(raised_at__gte=now - give_up_after)
        .filter(
            Q(mail_status=MailStatus.PENDING)
            | Q(mail_status=MailStatus.QUEUED, mail_queued_at__lt=now - requeue_after)
        )
        # A worker is sending it; should it have died, its claim runs out and a later
        # sweep queues it.
        .exclude(mail_claimed_until__gt=now)
    )
    return list(due.order_by("raised_at").values_list("pk", flat=True))


def send_alert_digest(*, user_id: uuid.UUID | str, day: datetime.date) -> int:
    """E-mail ``day``'s digest of the still-unresolved alerts of the branches the user
    manages; return how many it listed (0: nothing sent).

    At most one per person and day: the AlertDigest row is inserted in the same transaction
    as the message goes out, so a redelivered task, even one running at the same time,
    finds it and sends nothing. Raises the mail server's error for the task to retry.
    """
    with transaction.atomic():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or user.alert_mail not in (AlertMail.EACH, AlertMail.DIGEST):
            return 0
        alerts = list(selectors.open_alerts_for(user))
        if not alerts:
            return 0
        _digest, created = AlertDigest.objects.get_or_create(
            recipient=user, day=day, defaults={"alert_count": len(alerts)}
        )
        if not created:
            return 0
        mail.open_alerts_digest(user, alerts, day).send()
        logger.info("Sent %s the digest of %d open alerts for %s", user.email, len(alerts), day)
        return len(alerts)
