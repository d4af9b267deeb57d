"""Low-stock e-mail reaches each person in the language they chose."""

import datetime
from decimal import Decimal

import pytest

from accounts.tests.factories import ManagerFactory
from alerts import services
from alerts.models import MailStatus
from alerts.tests.factories import LowStockAlertFactory
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(branch):
    product = ProductFactory(unit="kg", low_stock_threshold=Decimal("1234.5"))
    return LowStockAlertFactory(stock_level__branch=branch, stock_level__product=product)


def by_recipient(mailoutbox) -> dict[str, object]:
    return {address: message for message in mailoutbox for address in message.to}


def test_managers_of_each_language_get_one_message_each_in_their_language(
    mailoutbox, branch, alert
):
    german = ManagerFactory(branch=branch, user__language="de").user
    also_german = ManagerFactory(branch=branch, user__language="de").user
    english = ManagerFactory(branch=branch, user__language="en").user
    browser = ManagerFactory(branch=branch, user__language="").user

    assert services.send_alert_email(alert_id=alert.pk) == MailStatus.SENT

    assert len(mailoutbox) == 2
    sent = by_recipient(mailoutbox)
    assert sent[german.email] is sent[also_german.email]
    assert sent[english.email] is sent[browser.email]
    in_german, in_english = sent[german.email], sent[english.email]
    assert in_german.subject.startswith("Niedriger Bestand: ")
    assert "Meldebestand: 1.234,5 kg" in in_german.body
    assert f"wird {alert.product.name} knapp." in in_german.body
    html = in_german.alternatives[0][0]
    assert '<html lang="de">' in html
    assert "Artikel öffnen" in html
    assert in_english.subject.startswith("Low stock: ")
    assert "Threshold:  1,234.5 kg" in in_english.body
    assert in_german.extra_headers["Message-ID"] != in_english.extra_headers["Message-ID"]
    assert in_english.extra_headers["Message-ID"].startswith(f"<low-stock-alert.{alert.pk}@")


def test_the_digest_is_in_its_reader_s_language(mailoutbox, branch, alert):
    german = ManagerFactory(branch=branch, user__language="de").user

    assert services.send_alert_digest(user_id=german.pk, day=datetime.date(2026, 11, 30)) == 1

    [message] = mailoutbox
    assert message.subject == "1 offene Warnung zu niedrigem Bestand am 30.11.2026"
    assert "Am 30.11.2026 noch offene Warnungen zu niedrigem Bestand:" in message.body
    assert "Meldebestand 1.234,5" in message.body
    assert "Alle offenen Warnungen" in message.alternatives[0][0]
