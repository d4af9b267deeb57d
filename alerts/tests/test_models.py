from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.tests.factories import AdminFactory
from alerts.models import AlertDigest, AlertStatus, LowStockAlert, MailStatus
from alerts.tests.factories import EmptyStockLevelFactory, LowStockAlertFactory

pytestmark = pytest.mark.usefixtures("postgres")


def refused(constraint: str):
    """The database refuses the write, naming ``constraint``."""
    return pytest.raises(IntegrityError, match=constraint)


def test_an_alert_takes_branch_product_and_quantities_from_its_level():
    alert = LowStockAlertFactory()

    assert alert.branch == alert.stock_level.branch
    assert alert.product == alert.stock_level.product
    assert alert.on_hand_at_trigger == Decimal("0")
    assert alert.threshold_at_trigger == Decimal("10")
    assert alert.status == AlertStatus.OPEN
    assert str(alert) == f"{alert.product.sku} low at {alert.branch.code} (open)"


UNRESOLVED = {"open": {}, "acknowledged": {"acknowledged": True}}


@pytest.mark.parametrize(
    ("existing", "new"),
    [(a, b) for a in UNRESOLVED for b in UNRESOLVED],
    ids=[f"{a}-then-{b}" for a in UNRESOLVED for b in UNRESOLVED],
)
def test_a_level_has_at_most_one_unresolved_alert(existing, new):
    alert = LowStockAlertFactory(**UNRESOLVED[existing])

    with refused("alert_one_unresolved_per_level"), transaction.atomic():
        LowStockAlertFactory(stock_level=alert.stock_level, **UNRESOLVED[new])

    assert LowStockAlert.objects.count() == 1


def test_a_resolved_alert_leaves_room_for_a_new_one():
    first = LowStockAlertFactory(resolved=True)
    second = LowStockAlertFactory(stock_level=first.stock_level, acknowledged=True, resolved=True)

    LowStockAlertFactory(stock_level=first.stock_level)

    assert first.stock_level.alerts.filter(status=AlertStatus.RESOLVED).count() == 2
    assert first.stock_level.alerts.exclude(pk__in=[first.pk, second.pk]).get().status == "OPEN"


def test_resolving_the_open_alert_then_raising_again_is_allowed():
    alert = LowStockAlertFactory()
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = timezone.now()
    alert.save()

    LowStockAlertFactory(stock_level=alert.stock_level)

    assert alert.stock_level.alerts.count() == 2


def test_unresolved_alerts_of_different_levels_coexist():
    alert = LowStockAlertFactory()
    elsewhere = EmptyStockLevelFactory(product=alert.product)

    LowStockAlertFactory(stock_level=elsewhere)

    assert LowStockAlert.objects.filter(product=alert.product, status="OPEN").count() == 2


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"status": AlertStatus.RESOLVED}, "alert_resolved_has_time"),
        ({"resolved_at": "now"}, "alert_resolved_has_time"),
        ({"acknowledged": True, "resolved_at": "now"}, "alert_resolved_has_time"),
        ({"status": AlertStatus.ACKNOWLEDGED}, "alert_status_matches_acknowledgement"),
        (
            {"acknowledged_at": "now", "acknowledged_by": "admin"},
            "alert_status_matches_acknowledgement",
        ),
        ({"acknowledged": True, "acknowledged_by": None}, "alert_acknowledgement_whole"),
        ({"acknowledged": True, "acknowledged_at": None}, "alert_acknowledgement_whole"),
        ({"acknowledgement_note": "seen"}, "alert_acknowledgement_whole"),
        ({"on_hand_at_trigger": Decimal("10")}, "alert_raised_below_threshold"),
        ({"on_hand_at_trigger": Decimal("-1")}, "alert_raised_below_threshold"),
        ({"status": "CLOSED"}, "alert_status_known"),
        ({"mail_status": "BOUNCED"}, "alert_mail_status_known"),
        ({"mail_status": MailStatus.SENT}, "alert_sent_has_time"),
        ({"emailed_at": "now"}, "alert_sent_has_time"),
    ],
    ids=[
        "resolved-without-time",
        "open-with-resolved-time",
        "acknowledged-with-resolved-time",
        "acknowledged-without-acknowledgement",
        "open-with-acknowledgement",
        "acknowledged-by-nobody",
        "acknowledged-at-no-time",
        "note-without-acknowledgement",
        "not-below-threshold",
        "negative-on-hand",
        "unknown-status",
        "unknown-mail-status",
        "sent-without-time",
        "emailed-but-not-sent",
    ],
)
def test_the_database_keeps_status_and_timestamps_consistent(fields, constraint):
    values = {
        name: timezone.now() if value == "now" else AdminFactory() if value == "admin" else value
        for name, value in fields.items()
    }

    with refused(constraint), transaction.atomic():
        LowStockAlertFactory(**values)

    assert not LowStockAlert.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"acknowledged": True, "acknowledgement_note": "Ordered more."},
        {"resolved": True},
        {"acknowledged": True, "resolved": True, "acknowledgement_note": "Ordered more."},
        {"emailed_at": "now", "mail_status": MailStatus.SENT},
    ],
    ids=["acknowledged", "resolved-unacknowledged", "resolved-after-acknowledgement", "emailed"],
)
def test_consistent_states_are_accepted(fields):
    values = {name: timezone.now() if value == "now" else value for name, value in fields.items()}

    alert = LowStockAlertFactory(**values)

    assert LowStockAlert.objects.get() == alert


def test_a_level_with_alerts_cannot_be_deleted():
    alert = LowStockAlertFactory()

    with pytest.raises(ProtectedError):
        alert.stock_level.delete()


def test_alerts_list_newest_first():
    older = LowStockAlertFactory(raised_at=timezone.now() - timezone.timedelta(hours=1))
    newer = LowStockAlertFactory()

    assert list(LowStockAlert.objects.all()) == [newer, older]


def test_a_person_gets_one_digest_a_day():
    first = AlertDigest.objects.create(recipient=AdminFactory(), day=timezone.localdate())

    with refused("alert_digest_once_a_day"), transaction.atomic():
        AlertDigest.objects.create(recipient=first.recipient, day=first.day)

    assert AlertDigest.objects.count() == 1
