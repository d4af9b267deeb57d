import pytest
from django.urls import reverse

from accounts.tests.factories import AdminFactory
from alerts.models import AlertStatus, LowStockAlert, MailStatus
from alerts.tests.factories import LowStockAlertFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(AdminFactory())
    return client


def url(view, *args):
    return reverse(f"admin:alerts_lowstockalert_{view}", args=args)


def test_the_changelist_shows_alerts_with_their_quantities(admin_client):
    alert = LowStockAlertFactory(acknowledged=True)

    response = admin_client.get(url("changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert alert.product.sku in page
    assert alert.branch.code in page
    assert alert.acknowledged_by.full_name in page
    assert ">10<" in page  # the threshold, written as people write it


def test_the_changelist_searches_by_product_and_filters_by_status(admin_client):
    wanted = LowStockAlertFactory(stock_level__product__name="Green tea")
    other = LowStockAlertFactory(resolved=True)

    by_name = admin_client.get(url("changelist"), {"q": "green"})
    by_sku = admin_client.get(url("changelist"), {"q": other.product.sku})
    resolved = admin_client.get(url("changelist"), {"status__exact": AlertStatus.RESOLVED})

    assert list(by_name.context["cl"].result_list) == [wanted]
    assert list(by_sku.context["cl"].result_list) == [other]
    assert list(resolved.context["cl"].result_list) == [other]


def test_alerts_are_read_only_in_the_admin(admin_client):
    alert = LowStockAlertFactory()

    assert admin_client.get(url("add")).status_code == 403
    assert admin_client.post(url("delete", alert.pk)).status_code == 403
    response = admin_client.post(url("change", alert.pk), {"status": AlertStatus.RESOLVED})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert admin_client.get(url("change", alert.pk)).status_code == 200
    assert LowStockAlert.objects.count() == 1


def test_the_back_office_acknowledges_selected_alerts_through_the_service(admin_client):
    alert, resolved = LowStockAlertFactory(), LowStockAlertFactory(resolved=True)

    response = admin_client.post(
        url("changelist"),
        {"action": "acknowledge", "_selected_action": [alert.pk, resolved.pk]},
        follow=True,
    )

    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    page = response.content.decode()
    assert "Acknowledged 1 alert." in page
    assert "Left 1 already acknowledged or resolved as it was." in page


def test_the_changelist_filters_by_where_the_email_is(admin_client):
    owed = LowStockAlertFactory(mail_status=MailStatus.PENDING)
    LowStockAlertFactory(mail_status=MailStatus.SKIPPED)

    response = admin_client.get(url("changelist"), {"mail_status__exact": MailStatus.PENDING})

    assert list(response.context["cl"].result_list) == [owed]


def test_the_back_office_acknowledges_all_or_nothing(admin_client):
    from alerts import services

    alerts = LowStockAlertFactory.create_batch(services.BULK_MAX + 1)

    response = admin_client.post(
        url("changelist"),
        {"action": "acknowledge", "_selected_action": [a.pk for a in alerts]},
        follow=True,
    )

    assert "At most 200 alerts" in response.content.decode()
    assert not LowStockAlert.objects.filter(status=AlertStatus.ACKNOWLEDGED).exists()
