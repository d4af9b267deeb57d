import pytest
from django.urls import reverse

from accounts.models import AlertMail, Role
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory
from alerts.models import AlertStatus, LowStockAlert
from alerts.tests.factories import LowStockAlertFactory
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import api_client
from stock import services as stock
from stock.models import StockLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(branch):
    return LowStockAlertFactory(stock_level__branch=branch)


def alerts(user, **params):
    return api_client(user).get(reverse("api-alerts"), params)


def acknowledge(user, alert_id, body=None, **headers):
    return api_client(user).post(
        reverse("api-alert-acknowledge", args=[alert_id]), body or {}, format="json", **headers
    )


# Listing ----------------------------------------------------------------------------------


def test_a_manager_lists_the_alerts_of_their_branch_only(manager, alert):
    LowStockAlertFactory()  # another branch's

    response = alerts(manager)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == str(alert.pk)
    assert row["branch_code"] == alert.branch.code
    assert row["sku"] == alert.product.sku
    assert row["status"] == "OPEN"
    assert row["on_hand_at_trigger"] == "0.000"
    assert row["threshold_at_trigger"] == "10.000"


def test_alerts_filter_by_status_branch_and_product(branch, alert):
    admin = AdminFactory()
    acknowledged = LowStockAlertFactory(stock_level__branch=branch, acknowledged=True)
    LowStockAlertFactory(stock_level__branch=branch, resolved=True)
    elsewhere = LowStockAlertFactory()

    def ids(**params):
        return {row["id"] for row in alerts(admin, **params).json()["results"]}

    assert ids(status=["OPEN", "ACKNOWLEDGED"], branch=branch.pk) == {
        str(alert.pk),
        str(acknowledged.pk),
    }
    assert ids(product=elsewhere.product_id) == {str(elsewhere.pk)}
    assert ids(status="ACKNOWLEDGED") == {str(acknowledged.pk)}


@pytest.mark.parametrize(
    "params", [{"status": "CLOSED"}, {"branch": "nope"}, {"product": "1"}, {"ordering": "sku"}]
)
def test_a_malformed_filter_is_a_400_naming_it(manager, params):
    response = alerts(manager, **params)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(params)


def test_the_alert_list_takes_a_fixed_number_of_queries(django_assert_num_queries):
    admin = AdminFactory()
    LowStockAlertFactory.create_batch(2)
    with django_assert_num_queries(1):  # a short page tells its own count
        alerts(admin)

    LowStockAlertFactory.create_batch(20)
    with django_assert_num_queries(2):  # page, count
        response = alerts(admin, limit=10)

    assert response.json()["count"] == 22


def test_another_branchs_alert_answers_404(manager):
    elsewhere = LowStockAlertFactory()

    response = api_client(manager).get(reverse("api-alert", args=[elsewhere.pk]))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# Acknowledging ----------------------------------------------------------------------------


def test_a_manager_acknowledges_an_alert_with_a_note(manager, alert):
    response = acknowledge(manager, alert.pk, {"note": "Reordered, due Friday."})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ACKNOWLEDGED"
    assert body["acknowledged_by"] == str(manager.pk)
    assert body["acknowledgement_note"] == "Reordered, due Friday."


def test_staff_may_not_acknowledge(branch, alert):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    response = acknowledge(staff, alert.pk)

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_acknowledging_another_branchs_alert_answers_404(manager):
    elsewhere = LowStockAlertFactory()

    response = acknowledge(manager, elsewhere.pk)

    assert response.status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.status == AlertStatus.OPEN


def test_acknowledging_a_resolved_alert_is_a_409(manager, branch):
    resolved = LowStockAlertFactory(stock_level__branch=branch, resolved=True)

    response = acknowledge(manager, resolved.pk)

    assert response.status_code == 409
    assert response.json()["code"] == "alert_resolved"


def test_acknowledging_twice_is_a_409_unless_it_is_a_retry(manager, alert):
    first = acknowledge(manager, alert.pk, HTTP_IDEMPOTENCY_KEY="ack-1")

    retry = acknowledge(manager, alert.pk, HTTP_IDEMPOTENCY_KEY="ack-1")
    again = acknowledge(manager, alert.pk)

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert again.status_code == 409
    assert again.json()["code"] == "alert_acknowledged"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"note": "x" * 501}, "note"), ({"status": "RESOLVED"}, "status"), ({"note": []}, "note")],
)
def test_bad_acknowledgement_input_is_a_400(manager, alert, body, field):
    response = acknowledge(manager, alert.pk, body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


# Thresholds in bulk -----------------------------------------------------------------------


def set_thresholds(user, branch, lines):
    return api_client(user).post(
        reverse("api-stock-level-thresholds"),
        {"branch": str(branch.pk), "lines": lines},
        format="json",
    )


def test_a_manager_sets_thresholds_in_bulk_and_gets_the_levels(manager, branch):
    products = ProductFactory.create_batch(2)

    response = set_thresholds(
        manager,
        branch,
        [
            {"product": str(products[0].pk), "threshold": "4"},
            {"product": str(products[1].pk), "threshold": None},
        ],
    )

    assert response.status_code == 200
    assert [row["product"] for row in response.json()] == [str(p.pk) for p in products]
    assert [row["low_stock_threshold"] for row in response.json()] == ["4.000", None]
    assert StockLevel.objects.get(product=products[0]).low_stock_threshold == 4


def test_a_bulk_threshold_above_on_hand_raises_the_alert(manager, branch, product):
    stock.receive_stock(actor=manager, branch_id=branch.pk, product_id=product.pk, quantity=12)

    set_thresholds(manager, branch, [{"product": str(product.pk), "threshold": "20"}])

    assert LowStockAlert.objects.get().threshold_at_trigger == 20


@pytest.mark.parametrize(
    ("threshold", "field"),
    [("-1", "lines.0.threshold"), ("abc", "lines.0.threshold"), ("1.5", "lines.0.threshold")],
)
def test_a_bad_threshold_is_a_400_naming_its_line(manager, branch, threshold, field):
    product = ProductFactory(unit="pcs")

    response = set_thresholds(
        manager, branch, [{"product": str(product.pk), "threshold": threshold}]
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not StockLevel.objects.exists()


def test_staff_may_not_set_thresholds_in_bulk(branch, product):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    response = set_thresholds(staff, branch, [{"product": str(product.pk), "threshold": "3"}])

    assert response.status_code == 403


def test_another_branchs_thresholds_answer_404(manager, product):
    response = set_thresholds(
        manager, BranchFactory(), [{"product": str(product.pk), "threshold": "3"}]
    )

    assert response.status_code == 404


# Mail preferences -------------------------------------------------------------------------


def test_a_manager_switches_to_the_digest_only(branch):
    manager = ManagerFactory(branch=branch).user

    response = api_client(manager).patch(reverse("api-me"), {"alert_mail": "DIGEST"}, format="json")

    assert response.status_code == 200
    assert response.json()["alert_mail"] == "DIGEST"
    manager.refresh_from_db()
    assert manager.alert_mail == AlertMail.DIGEST


def test_only_an_admin_takes_every_branchs_mail(manager):
    response = api_client(manager).patch(
        reverse("api-me"), {"alert_mail_all_branches": True}, format="json"
    )

    assert response.status_code == 400
    assert "alert_mail_all_branches" in response.json()["fields"]


def test_an_admin_takes_every_branchs_mail():
    admin = AdminFactory()

    response = api_client(admin).patch(
        reverse("api-me"), {"alert_mail_all_branches": True}, format="json"
    )

    assert response.json()["alert_mail_all_branches"] is True


@pytest.mark.parametrize("body", [{"alert_mail": "SOMETIMES"}, {"email": "me@example.com"}])
def test_bad_preferences_are_a_400(manager, body):
    response = api_client(manager).patch(reverse("api-me"), body, format="json")

    assert response.status_code == 400
    manager.refresh_from_db()
    assert manager.alert_mail == AlertMail.EACH
