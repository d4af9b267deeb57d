import datetime
import logging
import smtplib
import uuid
from decimal import Decimal

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import AlertMail, Role
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory
from alerts import services, tasks
from alerts.errors import AlertAcknowledged, AlertResolved, UnknownAlert
from alerts.events import AlertChange
from alerts.models import AlertDigest, AlertStatus, LowStockAlert, MailStatus
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog import services as catalog
from catalog.tests.factories import ProductFactory
from inventory_project.kernel.errors import InvalidInput, NotPermitted
from stock import services as stock
from stock.models import StockLevel

pytestmark = pytest.mark.usefixtures("postgres")

# The product factory's default threshold is 10.


def receive(actor, branch, product, quantity):
    stock.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity)


def issue(actor, branch, product, quantity):
    stock.issue_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=quantity)


def set_threshold(actor, branch, product, threshold):
    stock.set_low_stock_threshold(
        actor=actor, branch_id=branch.pk, product_id=product.pk, threshold=threshold
    )


def alerts_of(branch, product) -> list[LowStockAlert]:
    return list(LowStockAlert.objects.filter(branch=branch, product=product).order_by("raised_at"))


def mail_queued(callbacks) -> list[tuple]:
    """The alert ids whose e-mail the commit hooks queue (live events are hooked too)."""
    return [c.args for c in callbacks if getattr(c, "func", None) is tasks.queue_alert_email]


@pytest.fixture
def stocked(actor, branch, product):
    """12 on hand against a threshold of 10."""
    receive(actor, branch, product, 12)
    return StockLevel.objects.get(branch=branch, product=product)


@pytest.fixture
def low(actor, branch, product, stocked):
    """The level fell to 4: one OPEN alert."""
    issue(actor, branch, product, 8)
    return LowStockAlert.objects.get(stock_level=stocked)


# raising -----------------------------------------------------------------------------------


def test_falling_below_the_threshold_raises_an_open_alert(actor, branch, product, stocked):
    issue(actor, branch, product, 3)

    [alert] = alerts_of(branch, product)
    assert alert.status == AlertStatus.OPEN
    assert alert.stock_level == stocked
    assert alert.on_hand_at_trigger == Decimal("9")
    assert alert.threshold_at_trigger == Decimal("10")
    assert alert.mail_status == MailStatus.QUEUED


def test_staying_at_the_threshold_raises_nothing(actor, branch, product, stocked):
    issue(actor, branch, product, 2)

    assert alerts_of(branch, product) == []


def test_falling_from_exactly_the_threshold_raises_an_alert(actor, branch, product):
    receive(actor, branch, product, 5)
    set_threshold(actor, branch, product, 5)

    issue(actor, branch, product, 1)

    [alert] = alerts_of(branch, product)
    assert alert.status == AlertStatus.OPEN
    assert alert.on_hand_at_trigger == Decimal("4")


def test_falling_onto_the_threshold_raises_nothing(actor, branch, product):
    receive(actor, branch, product, 6)
    set_threshold(actor, branch, product, 5)

    issue(actor, branch, product, 1)

    assert alerts_of(branch, product) == []


def test_falling_further_while_low_raises_no_second_alert(actor, branch, product, low):
    issue(actor, branch, product, 3)

    assert alerts_of(branch, product) == [low]


def test_a_movement_that_crosses_no_threshold_costs_no_query_for_alerts(
    actor, branch, product, stocked, django_assert_num_queries
):
    # The four statements of a single stock write (stock's own tests list them), none more.
    with django_assert_num_queries(4):
        issue(actor, branch, product, 1)


def test_a_first_receipt_that_stays_below_the_threshold_raises_nothing(actor, branch, product):
    # The level never was at or above its threshold: nothing fell.
    receive(actor, branch, product, 3)

    assert alerts_of(branch, product) == []


def test_a_falling_batch_line_raises_its_alert(actor, branch, product, stocked):
    other = ProductFactory()
    receive(actor, branch, other, 50)

    stock.record_stock_batch(
        actor=actor,
        branch_id=branch.pk,
        kind="ISSUE",
        lines=[
            stock.MovementLine(product_id=product.pk, quantity=5),
            stock.MovementLine(product_id=other.pk, quantity=5),
        ],
    )

    assert [alert.product for alert in LowStockAlert.objects.all()] == [product]


def test_a_rolled_back_write_leaves_no_alert_and_queues_no_mail(
    actor, branch, product, stocked, django_capture_on_commit_callbacks
):
    def issue_then_fail():
        with transaction.atomic():
            issue(actor, branch, product, 5)
            raise RuntimeError("the caller's later step failed")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        issue_then_fail()

    assert alerts_of(branch, product) == []
    assert callbacks == []


def test_a_raised_alert_queues_its_mail_once_after_commit(
    actor, branch, product, stocked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        issue(actor, branch, product, 5)

    [alert] = alerts_of(branch, product)
    assert mail_queued(callbacks) == [(alert.pk,)]


def test_raising_and_resolving_announce_the_change(
    actor, branch, product, stocked, published_events
):
    published_events.clear()

    issue(actor, branch, product, 5)
    receive(actor, branch, product, 5)

    changes = [
        (event["type"], event["data"]["status"])
        for event in published_events
        if event["type"].startswith("alert.")
    ]
    assert changes == [
        (AlertChange.RAISED, AlertStatus.OPEN),
        (AlertChange.RESOLVED, AlertStatus.RESOLVED),
    ]


# resolving and raising again -----------------------------------------------------------------


def test_stock_back_at_the_threshold_resolves_the_alert(actor, branch, product, low):
    receive(actor, branch, product, 6)

    low.refresh_from_db()
    assert low.status == AlertStatus.RESOLVED
    assert low.resolved_at is not None


def test_stock_still_below_the_threshold_keeps_the_alert_open(actor, branch, product, low):
    receive(actor, branch, product, 5)

    low.refresh_from_db()
    assert low.status == AlertStatus.OPEN


def test_an_acknowledged_alert_resolves_keeping_its_acknowledgement(actor, branch, product, low):
    services.acknowledge_alert(actor=actor, alert_id=low.pk, note="Ordered.")

    receive(actor, branch, product, 20)

    low.refresh_from_db()
    assert low.status == AlertStatus.RESOLVED
    assert low.acknowledgement_note == "Ordered."


def test_falling_again_after_resolution_raises_a_new_alert(actor, branch, product, low):
    receive(actor, branch, product, 20)

    issue(actor, branch, product, 20)

    first, second = alerts_of(branch, product)
    assert first == low
    assert first.status == AlertStatus.RESOLVED
    assert second.status == AlertStatus.OPEN
    assert second.on_hand_at_trigger == Decimal("4")


def test_a_transfer_shipment_that_empties_the_source_raises_its_alert(
    actor, branch, product, stocked
):
    from transfers import services as transfers

    transfer = transfers.send_transfer(
        actor=actor,
        from_branch_id=branch.pk,
        to_branch_id=BranchFactory().pk,
        items=[transfers.TransferItem(product_id=product.pk, quantity=12)],
    )

    transfers.ship_transfer(actor=actor, transfer_id=transfer.pk)

    [alert] = alerts_of(branch, product)
    assert alert.on_hand_at_trigger == 0


# thresholds ----------------------------------------------------------------------------------


def test_raising_the_threshold_above_on_hand_raises_an_alert(actor, branch, product, stocked):
    set_threshold(actor, branch, product, 15)

    [alert] = alerts_of(branch, product)
    assert alert.threshold_at_trigger == Decimal("15")
    assert alert.on_hand_at_trigger == Decimal("12")


def test_lowering_the_threshold_below_on_hand_resolves_the_alert(actor, branch, product, low):
    set_threshold(actor, branch, product, 3)

    low.refresh_from_db()
    assert low.status == AlertStatus.RESOLVED


def test_a_threshold_change_on_the_same_side_changes_nothing(actor, branch, product, low):
    set_threshold(actor, branch, product, 8)

    low.refresh_from_db()
    assert low.status == AlertStatus.OPEN
    assert alerts_of(branch, product) == [low]


def test_thresholds_set_in_bulk_raise_an_alert_per_level_that_crossed(actor, branch, product):
    others = ProductFactory.create_batch(2)
    for each in [product, *others]:
        receive(actor, branch, each, 12)

    stock.set_low_stock_thresholds(
        actor=actor,
        branch_id=branch.pk,
        lines=[
            stock.ThresholdLine(product_id=product.pk, threshold=20),
            stock.ThresholdLine(product_id=others[0].pk, threshold=5),
            stock.ThresholdLine(product_id=others[1].pk, threshold=13),
        ],
    )

    raised = LowStockAlert.objects.order_by("product__name")
    assert {alert.product for alert in raised} == {product, others[1]}


def test_a_bulk_threshold_error_names_its_line_and_sets_nothing(actor, branch, product, stocked):
    other = ProductFactory()

    with pytest.raises(InvalidInput) as refused:
        stock.set_low_stock_thresholds(
            actor=actor,
            branch_id=branch.pk,
            lines=[
                stock.ThresholdLine(product_id=product.pk, threshold=20),
                stock.ThresholdLine(product_id=other.pk, threshold="-1"),
            ],
        )

    assert refused.value.field == "lines.1.threshold"
    assert refused.value.message.startswith("Line 2: ")
    stocked.refresh_from_db()
    assert stocked.low_stock_threshold is None
    assert alerts_of(branch, product) == []


@pytest.mark.parametrize("threshold", ["-1", "abc", "1e400"])
def test_a_bad_threshold_is_refused(actor, branch, product, stocked, threshold):
    with pytest.raises(InvalidInput):
        set_threshold(actor, branch, product, threshold)

    stocked.refresh_from_db()
    assert stocked.low_stock_threshold is None


def test_staff_may_not_set_thresholds(branch, product, stocked):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    with pytest.raises(NotPermitted):
        set_threshold(staff, branch, product, 20)

    assert alerts_of(branch, product) == []


def test_a_new_product_default_re_evaluates_the_levels_that_inherit_it(actor, branch, product):
    elsewhere, own = BranchFactory(), BranchFactory()
    for place in (branch, elsewhere, own):
        receive(actor, place, product, 12)
    set_threshold(actor, own, product, 5)

    catalog.update_product(actor=actor, product_id=product.pk, low_stock_threshold=Decimal("15"))

    assert {alert.branch for alert in LowStockAlert.objects.all()} == {branch, elsewhere}


def test_each_alert_a_new_product_default_raises_queues_its_own_mail(
    actor, branch, product, django_capture_on_commit_callbacks
):
    elsewhere = BranchFactory()
    for place in (branch, elsewhere):
        receive(actor, place, product, 12)

    with django_capture_on_commit_callbacks() as callbacks:
        catalog.update_product(
            actor=actor, product_id=product.pk, low_stock_threshold=Decimal("15")
        )

    queued = sorted(mail_queued(callbacks))
    assert queued == sorted((alert.pk,) for alert in LowStockAlert.objects.all())
    assert len(queued) == 2


def test_a_lower_product_default_resolves_the_alerts_it_no_longer_justifies(
    actor, branch, product, low
):
    catalog.update_product(actor=actor, product_id=product.pk, low_stock_threshold=Decimal("2"))

    low.refresh_from_db()
    assert low.status == AlertStatus.RESOLVED


# acknowledging -------------------------------------------------------------------------------


def test_a_manager_acknowledges_an_alert_with_a_note(branch, manager, low, actor):
    alert = services.acknowledge_alert(actor=manager, alert_id=low.pk, note="  Reordered.  ")

    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert alert.acknowledged_by == manager
    assert alert.acknowledged_at is not None
    assert alert.acknowledgement_note == "Reordered."


def test_staff_may_not_acknowledge(branch, low, actor):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    with pytest.raises(NotPermitted):
        services.acknowledge_alert(actor=staff, alert_id=low.pk)

    low.refresh_from_db()
    assert low.status == AlertStatus.OPEN


def test_another_branchs_alert_is_unknown_to_a_manager(low, actor):
    stranger = ManagerFactory(branch=BranchFactory()).user

    with pytest.raises(UnknownAlert):
        services.acknowledge_alert(actor=stranger, alert_id=low.pk)


@pytest.mark.parametrize("alert_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_missing_alert_is_unknown(actor, alert_id):
    with pytest.raises(UnknownAlert):
        services.acknowledge_alert(actor=actor, alert_id=alert_id)


def test_a_resolved_alert_cannot_be_acknowledged(actor, branch, product, low):
    receive(actor, branch, product, 20)

    with pytest.raises(AlertResolved):
        services.acknowledge_alert(actor=actor, alert_id=low.pk)


def test_an_alert_is_acknowledged_once(actor, manager, low):
    services.acknowledge_alert(actor=manager, alert_id=low.pk)

    with pytest.raises(AlertAcknowledged):
        services.acknowledge_alert(actor=actor, alert_id=low.pk, note="me too")

    low.refresh_from_db()
    assert low.acknowledged_by == manager


def test_an_overlong_note_is_refused(actor, low):
    with pytest.raises(InvalidInput) as refused:
        services.acknowledge_alert(actor=actor, alert_id=low.pk, note="x" * 501)

    assert refused.value.field == "note"
    low.refresh_from_db()
    assert low.status == AlertStatus.OPEN


# the alert e-mail ----------------------------------------------------------------------------


@pytest.fixture
def people(branch):
    """Who hears of the branch's alerts, and who does not."""
    return {
        "manager": ManagerFactory(branch=branch).user,
        "digest_only": ManagerFactory(branch=branch, user__alert_mail=AlertMail.DIGEST).user,
        "no_mail": ManagerFactory(branch=branch, user__alert_mail=AlertMail.NONE).user,
        "inactive": ManagerFactory(branch=branch, user__is_active=False).user,
        "staff": MembershipFactory(branch=branch, role=Role.STAFF).user,
        "elsewhere": ManagerFactory().user,
        "admin_in": AdminFactory(alert_mail_all_branches=True),
        "admin_out": AdminFactory(),
    }


def test_the_alert_email_goes_to_the_managers_and_the_admins_who_opted_in(smtp, people, low):
    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SENT

    [message] = smtp.messages
    assert {address.addr_spec for address in message["To"].addresses} == {
        people["manager"].email,
        people["admin_in"].email,
    }
    low.refresh_from_db()
    assert low.mail_status == MailStatus.SENT
    assert low.emailed_at is not None


def test_the_alert_email_says_what_where_how_many_and_links_the_item(smtp, settings, manager, low):
    settings.SITE_URL = "https://stock.example.com"

    services.send_alert_email(alert_id=low.pk)

    [message] = smtp.messages
    product, branch = low.product, low.branch
    assert message["Subject"] == f"Low stock: {product.name} ({product.sku}) at {branch.name}"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://stock.example.com/stock/levels/{low.stock_level_id}/"
    for part in (text, html):
        assert product.name in part
        assert product.sku in part
        assert branch.code in part
        assert link in part
    assert "On hand:    4 " in text
    assert "Threshold:  10 " in text
    assert message["Message-ID"] == f"<low-stock-alert.{low.pk}@localhost>"


def test_an_alert_email_is_sent_once_however_often_the_task_runs(smtp, manager, low):
    services.send_alert_email(alert_id=low.pk)

    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SENT

    assert len(smtp.messages) == 1


def test_an_alert_resolved_before_its_email_went_out_is_not_sent(
    smtp, actor, branch, product, manager, low
):
    receive(actor, branch, product, 20)

    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SKIPPED

    assert smtp.messages == []
    low.refresh_from_db()
    assert "back" in low.mail_problem


def test_an_alert_nobody_takes_is_skipped_with_a_log(smtp, low, caplog):
    ManagerFactory(branch=low.branch, user__alert_mail=AlertMail.DIGEST)

    with caplog.at_level(logging.INFO, logger="alerts.services"):
        assert services.send_alert_email(alert_id=low.pk) == MailStatus.SKIPPED

    assert smtp.messages == []
    assert "Nobody takes each alert" in caplog.text


def test_a_manager_without_an_email_address_is_left_out(smtp, manager, low):
    ManagerFactory(branch=low.branch, user__email="")

    services.send_alert_email(alert_id=low.pk)

    [message] = smtp.messages
    assert [address.addr_spec for address in message["To"].addresses] == [manager.email]


def test_a_refusing_mail_server_raises_and_leaves_the_email_owed(smtp, manager, low):
    smtp.refusing = True

    with pytest.raises(smtplib.SMTPDataError):
        services.send_alert_email(alert_id=low.pk)

    low.refresh_from_db()
    assert low.mail_status == MailStatus.QUEUED
    assert low.emailed_at is None


def test_an_email_for_an_alert_of_another_database_is_skipped(smtp):
    assert services.send_alert_email(alert_id="00000000-0000-0000-0000-000000000000") == "missing"


def claimed_by_another_worker(alert, *, until):
    LowStockAlert.objects.filter(pk=alert.pk).update(
        mail_claim=uuid.uuid4(), mail_claimed_until=until
    )


def test_an_email_another_worker_is_sending_is_not_sent_again(smtp, manager, low):
    claimed_by_another_worker(low, until=timezone.now() + datetime.timedelta(minutes=1))

    assert services.send_alert_email(alert_id=low.pk) == services.CLAIMED

    assert smtp.messages == []
    low.refresh_from_db()
    assert low.mail_status == MailStatus.QUEUED


def test_an_email_whose_worker_died_is_sent_once_its_claim_ran_out(smtp, manager, low):
    claimed_by_another_worker(low, until=timezone.now() - datetime.timedelta(seconds=1))

    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SENT
    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SENT

    assert len(smtp.messages) == 1
    low.refresh_from_db()
    assert (low.mail_claim, low.mail_claimed_until) == (None, None)


def test_a_claim_lasts_longer_than_a_task_may_run(settings):
    assert services.mail_claim_seconds() > settings.CELERY_TASK_TIME_LIMIT


def test_the_mail_server_refusing_gives_the_claim_up_for_the_retry(smtp, manager, low):
    smtp.refusing = True
    with pytest.raises(smtplib.SMTPDataError):
        services.send_alert_email(alert_id=low.pk)
    low.refresh_from_db()
    assert low.mail_claim is None
    smtp.refusing = False

    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SENT

    assert len(smtp.messages) == 1


def test_a_skipped_email_leaves_no_claim(smtp, low):
    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SKIPPED

    low.refresh_from_db()
    assert (low.mail_claim, low.mail_claimed_until) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_the_mail_server_is_talked_to_outside_any_transaction(smtp, manager, low, monkeypatch):
    open_transactions = []
    send = EmailMultiAlternatives.send

    def noting_send(message, *args, **kwargs):
        open_transactions.append(connection.in_atomic_block)
        return send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", noting_send)

    assert services.send_alert_email(alert_id=low.pk) == MailStatus.SENT

    assert open_transactions == [False]


# the outbox sweep ----------------------------------------------------------------------------


def owing(now):
    return services.alerts_owing_mail(
        now=now,
        requeue_after=datetime.timedelta(hours=1),
        give_up_after=datetime.timedelta(hours=24),
    )


def test_the_sweep_finds_alerts_never_queued_and_those_queued_long_ago():
    now = timezone.now()
    never = LowStockAlertFactory(mail_status=MailStatus.PENDING)
    long_ago = LowStockAlertFactory(
        mail_status=MailStatus.QUEUED, mail_queued_at=now - datetime.timedelta(hours=2)
    )
    LowStockAlertFactory(mail_status=MailStatus.QUEUED, mail_queued_at=now)
    LowStockAlertFactory(mail_status=MailStatus.SENT, emailed_at=now)
    LowStockAlertFactory(mail_status=MailStatus.SKIPPED)

    assert set(owing(now)) == {never.pk, long_ago.pk}


def test_the_sweep_leaves_alerts_older_than_a_day_to_the_digest():
    now = timezone.now()
    old = LowStockAlertFactory(
        mail_status=MailStatus.PENDING, raised_at=now - datetime.timedelta(hours=25)
    )

    assert owing(now) == []
    old.refresh_from_db()
    assert old.mail_status == MailStatus.SKIPPED


def test_the_sweep_leaves_an_email_a_worker_is_sending_until_its_claim_ran_out():
    now = timezone.now()
    pending = LowStockAlertFactory(mail_status=MailStatus.PENDING)
    claimed_by_another_worker(pending, until=now + datetime.timedelta(minutes=1))

    assert owing(now) == []
    assert owing(now + datetime.timedelta(minutes=2)) == [pending.pk]


# the daily digest ----------------------------------------------------------------------------


def test_the_digest_lists_a_managers_open_alerts_once_a_day(smtp, actor, branch, manager, low):
    acknowledged = LowStockAlertFactory(stock_level__branch=branch, acknowledged=True)
    LowStockAlertFactory(stock_level__branch=branch, resolved=True)
    LowStockAlertFactory()  # another branch's
    today = timezone.localdate()

    assert services.send_alert_digest(user_id=manager.pk, day=today) == 2
    assert services.send_alert_digest(user_id=manager.pk, day=today) == 0

    [message] = smtp.messages
    assert message["To"].addresses[0].addr_spec == manager.email
    assert message["Subject"].startswith("2 low-stock alerts still open")
    text = message.get_body(("plain",)).get_content()
    assert low.product.sku in text
    assert acknowledged.product.sku in text
    assert AlertDigest.objects.get().alert_count == 2


def test_a_manager_who_opted_out_of_each_alert_still_gets_the_digest(smtp, branch, low):
    digest_only = ManagerFactory(branch=branch, user__alert_mail=AlertMail.DIGEST).user

    assert services.send_alert_digest(user_id=digest_only.pk, day=timezone.localdate()) == 1


def test_a_manager_who_wants_no_mail_gets_no_digest(smtp, branch, low):
    no_mail = ManagerFactory(branch=branch, user__alert_mail=AlertMail.NONE).user

    assert services.send_alert_digest(user_id=no_mail.pk, day=timezone.localdate()) == 0
    assert smtp.messages == []


def test_no_open_alert_means_no_digest(smtp, manager):
    assert services.send_alert_digest(user_id=manager.pk, day=timezone.localdate()) == 0

    assert smtp.messages == []
    assert not AlertDigest.objects.exists()


# acknowledging several at once ---------------------------------------------------------------


def test_a_manager_acknowledges_several_alerts_with_one_note(branch, manager):
    alerts = LowStockAlertFactory.create_batch(3, stock_level__branch=branch)

    done = services.acknowledge_alerts(
        actor=manager, alert_ids=[a.pk for a in alerts], note=" Reordered. "
    )

    assert [a.pk for a in done] == sorted(a.pk for a in alerts)
    stored = LowStockAlert.objects.filter(pk__in=[a.pk for a in alerts])
    assert {(a.status, a.acknowledged_by_id, a.acknowledgement_note) for a in stored} == {
        (AlertStatus.ACKNOWLEDGED, manager.pk, "Reordered.")
    }


def test_bulk_acknowledgement_is_all_or_nothing_across_branches(branch):
    other = BranchFactory()
    user = ManagerFactory(branch=branch).user
    MembershipFactory(user=user, branch=other, role=Role.STAFF)
    mine = LowStockAlertFactory(stock_level__branch=branch)
    theirs = LowStockAlertFactory(stock_level__branch=other)

    with pytest.raises(NotPermitted):
        services.acknowledge_alerts(actor=user, alert_ids=[mine.pk, theirs.pk])

    mine.refresh_from_db()
    assert mine.status == AlertStatus.OPEN


def test_an_alert_of_a_hidden_branch_makes_the_whole_batch_unknown(branch, manager):
    mine = LowStockAlertFactory(stock_level__branch=branch)
    hidden = LowStockAlertFactory()

    with pytest.raises(UnknownAlert) as refused:
        services.acknowledge_alerts(actor=manager, alert_ids=[mine.pk, hidden.pk])

    assert str(hidden.pk) not in refused.value.message
    mine.refresh_from_db()
    assert mine.status == AlertStatus.OPEN


@pytest.mark.parametrize("alert_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_missing_alert_makes_the_whole_batch_unknown(actor, alert_id):
    mine = LowStockAlertFactory()

    with pytest.raises(UnknownAlert):
        services.acknowledge_alerts(actor=actor, alert_ids=[mine.pk, alert_id])

    mine.refresh_from_db()
    assert mine.status == AlertStatus.OPEN


def test_acknowledged_and_resolved_alerts_in_a_batch_are_left_as_they_are(actor, manager):
    earlier = LowStockAlertFactory(acknowledged=True, acknowledgement_note="first")
    resolved = LowStockAlertFactory(resolved=True)
    fresh = LowStockAlertFactory()

    done = services.acknowledge_alerts(
        actor=actor, alert_ids=[earlier.pk, resolved.pk, fresh.pk], note="second"
    )

    assert done == [fresh]
    earlier.refresh_from_db()
    resolved.refresh_from_db()
    assert (earlier.acknowledgement_note, resolved.status) == ("first", AlertStatus.RESOLVED)


def test_an_empty_batch_is_refused(actor):
    with pytest.raises(InvalidInput) as refused:
        services.acknowledge_alerts(actor=actor, alert_ids=[])

    assert refused.value.field == "alerts"


def test_a_batch_above_the_limit_is_refused(actor):
    with pytest.raises(InvalidInput) as refused:
        services.acknowledge_alerts(
            actor=actor, alert_ids=[uuid.uuid4() for _ in range(services.BULK_MAX + 1)]
        )

    assert refused.value.field == "alerts"


def test_a_bulk_acknowledgement_locks_its_alerts_in_key_order(actor):
    from django.test.utils import CaptureQueriesContext

    alerts = LowStockAlertFactory.create_batch(3)

    with CaptureQueriesContext(connection) as queries:
        services.acknowledge_alerts(actor=actor, alert_ids=[a.pk for a in reversed(alerts)])

    locking = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1
    assert 'ORDER BY "alerts_lowstockalert"."id" ASC' in locking[0]


def test_a_bulk_acknowledgement_announces_each_alert_after_commit(
    actor, published_events, django_capture_on_commit_callbacks
):
    from inventory_project.kernel import realtime

    alerts = LowStockAlertFactory.create_batch(2)
    published_events.clear()

    with django_capture_on_commit_callbacks() as callbacks:
        services.acknowledge_alerts(actor=actor, alert_ids=[a.pk for a in alerts])

    assert any(isinstance(callback, realtime._Outbox) for callback in callbacks)
    assert sorted(e["data"]["alert"] for e in published_events) == sorted(str(a.pk) for a in alerts)
    assert {e["type"] for e in published_events} == {AlertChange.ACKNOWLEDGED}


def test_a_refused_batch_announces_nothing(branch, staff, published_events):
    alert = LowStockAlertFactory(stock_level__branch=branch)
    published_events.clear()

    with pytest.raises(NotPermitted):
        services.acknowledge_alerts(actor=staff, alert_ids=[alert.pk])

    assert published_events == []
