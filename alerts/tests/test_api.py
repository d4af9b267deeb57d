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


def test_alerts_are_searched_by_sku_or_name_in_any_case(actor):
    drill = LowStockAlertFactory(stock_level__product__name="Cordless Drill")
    by_sku = LowStockAlertFactory(stock_level__product__sku="DRL-77")
    LowStockAlertFactory(stock_level__product__name="Hammer", stock_level__product__sku="H-1")

    found = {row["id"] for row in alerts(actor, q="drIL").json()["results"]}

    assert found == {str(drill.pk)}
    assert {row["id"] for row in alerts(actor, q="drl-").json()["results"]} == {str(by_sku.pk)}


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        ("name", lambda row: row["product_name"]),
        ("-branch", lambda row: row["branch_code"]),
        ("on_hand_at_trigger", lambda row: float(row["on_hand_at_trigger"])),
    ],
)
def test_alerts_sort_as_asked(actor, ordering, key):
    for on_hand in (3, 1, 2):
        alert = LowStockAlertFactory()
        LowStockAlert.objects.filter(pk=alert.pk).update(on_hand_at_trigger=on_hand)

    rows = alerts(actor, ordering=ordering).json()["results"]

    assert [key(row) for row in rows] == sorted(
        (key(row) for row in rows), reverse=ordering.startswith("-")
    )


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


# Acknowledging several --------------------------------------------------------------------


def acknowledge_many(user, body, **headers):
    return api_client(user).post(reverse("api-alerts-acknowledge"), body, format="json", **headers)


def test_a_manager_acknowledges_several_alerts(manager, branch):
    picked = LowStockAlertFactory.create_batch(2, stock_level__branch=branch)

    response = acknowledge_many(manager, {"alerts": [str(a.pk) for a in picked], "note": "Ok"})

    assert response.status_code == 200
    rows = response.json()["acknowledged"]
    assert {row["id"] for row in rows} == {str(a.pk) for a in picked}
    states = {(row["status"], row["acknowledgement_note"]) for row in rows}
    assert states == {("ACKNOWLEDGED", "Ok")}


def test_a_retried_bulk_acknowledgement_answers_as_the_first(manager, alert):
    first = acknowledge_many(manager, {"alerts": [str(alert.pk)]}, HTTP_IDEMPOTENCY_KEY="bulk-1")

    retry = acknowledge_many(manager, {"alerts": [str(alert.pk)]}, HTTP_IDEMPOTENCY_KEY="bulk-1")
    again = acknowledge_many(manager, {"alerts": [str(alert.pk)]})

    assert retry.json() == first.json()
    assert len(first.json()["acknowledged"]) == 1
    assert again.json() == {"acknowledged": []}


def test_a_bulk_acknowledgement_with_a_hidden_alert_answers_404_and_changes_nothing(manager, alert):
    hidden = LowStockAlertFactory()

    response = acknowledge_many(manager, {"alerts": [str(alert.pk), str(hidden.pk)]})

    assert response.status_code == 404
    assert str(hidden.pk) not in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_staff_may_not_acknowledge_several(staff, alert):
    response = acknowledge_many(staff, {"alerts": [str(alert.pk)]})

    assert response.status_code == 403


@pytest.mark.parametrize(
    "body",
    [{}, {"alerts": []}, {"alerts": ["nope"]}, {"alerts": "x"}, {"alerts": [None]}],
)
def test_bad_bulk_acknowledgement_input_is_a_400_naming_alerts(manager, body):
    response = acknowledge_many(manager, body)

    assert response.status_code == 400
    assert {field.split(".")[0] for field in response.json()["fields"]} == {"alerts"}


def test_more_than_200_alerts_at_once_is_a_400(manager):
    from uuid import uuid4

    response = acknowledge_many(manager, {"alerts": [str(uuid4()) for _ in range(201)]})

    assert response.status_code == 400
    assert "alerts" in response.json()["fields"]
