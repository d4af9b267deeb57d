import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import AdminFactory
from inventory_project.kernel import idempotency
from inventory_project.kernel.models import IdempotentRequest
from inventory_project.kernel.tasks import purge_expired_idempotent_requests
from inventory_project.tests.helpers import api_client
from stock import services
from stock.models import StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def receive(user, branch, product, key, quantity=5, **extra):
    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": quantity, **extra}
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api_client(user).post(reverse("api-stock-receive"), body, format="json", headers=headers)


def test_a_retry_gets_the_first_answer_and_applies_nothing(actor, branch, product):
    first = receive(actor, branch, product, "scan-0001")

    again = receive(actor, branch, product, "scan-0001")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.count() == 1
    assert StockLevel.objects.get().on_hand == 5


def test_a_retry_of_a_batch_applies_nothing(actor, branch, product):
    body = {
        "kind": "RECEIPT",
        "branch": str(branch.pk),
        "lines": [{"product": str(product.pk), "quantity": 2}],
    }
    client = api_client(actor)
    first = client.post(
        reverse("api-stock-batch"), body, format="json", headers={"Idempotency-Key": "b-1"}
    )

    again = client.post(
        reverse("api-stock-batch"), body, format="json", headers={"Idempotency-Key": "b-1"}
    )

    assert again.json() == first.json()
    assert StockMovement.objects.count() == 1


def test_the_same_key_with_another_body_is_unprocessable(actor, branch, product):
    receive(actor, branch, product, "scan-0002", quantity=5)

    response = receive(actor, branch, product, "scan-0002", quantity=6)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert StockLevel.objects.get().on_hand == 5


def test_the_same_key_on_another_endpoint_is_unprocessable(actor, branch, product):
    receive(actor, branch, product, "scan-0003")
    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": 5}

    response = api_client(actor).post(
        reverse("api-stock-issue"), body, format="json", headers={"Idempotency-Key": "scan-0003"}
    )

    assert response.status_code == 422
    assert StockLevel.objects.get().on_hand == 5


def test_keys_belong_to_their_user(actor, branch, product):
    receive(actor, branch, product, "shared-key")

    response = receive(AdminFactory(), branch, product, "shared-key")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert StockLevel.objects.get().on_hand == 10


def test_a_refused_request_stores_nothing_and_may_be_retried(actor, branch, product):
    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": 5}
    headers = {"Idempotency-Key": "issue-1"}
    client = api_client(actor)

    refused = client.post(reverse("api-stock-issue"), body, format="json", headers=headers)
    services.receive_stock(actor=actor, branch_id=branch.pk, product_id=product.pk, quantity=5)
    retried = client.post(reverse("api-stock-issue"), body, format="json", headers=headers)

    assert refused.status_code == 409
    assert retried.status_code == 201
    assert StockLevel.objects.get().on_hand == 0


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused(actor, branch, product, key):
    response = receive(actor, branch, product, key)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert not StockMovement.objects.exists()


def test_without_a_key_every_request_applies(actor, branch, product):
    receive(actor, branch, product, None)
    receive(actor, branch, product, None)

    assert StockLevel.objects.get().on_hand == 10
    assert not IdempotentRequest.objects.exists()


def test_answers_are_kept_for_the_retention_period(actor, branch, product, settings):
    settings.IDEMPOTENCY_KEY_HOURS = 24
    receive(actor, branch, product, "day-old")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=23))

    again = receive(actor, branch, product, "day-old")

    assert again["Idempotent-Replayed"] == "true"
    assert StockLevel.objects.get().on_hand == 5


def test_an_expired_key_is_a_new_request(actor, branch, product, settings):
    settings.IDEMPOTENCY_KEY_HOURS = 24
    receive(actor, branch, product, "old-key")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = receive(actor, branch, product, "old-key", quantity=1)

    assert again.status_code == 201
    assert StockLevel.objects.get().on_hand == 6
    assert IdempotentRequest.objects.count() == 1


def test_the_daily_purge_removes_expired_answers_only(actor, branch, product, settings):
    settings.IDEMPOTENCY_KEY_HOURS = 24
    receive(actor, branch, product, "expired")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=30))
    receive(actor, branch, product, "fresh")

    assert purge_expired_idempotent_requests() == 1

    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["fresh"]


def statements(captured) -> list[str]:
    """Each statement by its verb and table."""
    said = []
    for query in captured.captured_queries:
        words = query["sql"].split()
        if words[0] in ("SAVEPOINT", "RELEASE"):
            said.append(words[0])
        elif words[0] == "SELECT":
            said.append("SELECT FROM " + query["sql"].split(" FROM ")[1].split()[0])
        else:
            said.append(" ".join(words[:3]))
    return said


def test_a_keyed_write_adds_one_insert_and_one_update_to_the_write(
    postgres, actor, branch, product
):
    receive(actor, branch, product, None, quantity=1000)  # far above any threshold

    with CaptureQueriesContext(connection) as captured:
        response = receive(actor, branch, product, "k-1")

    assert response.status_code == 201
    # Inside the test's own transaction, so the outer atomic is a savepoint too.
    assert statements(captured) == [
        "SAVEPOINT",
        'INSERT INTO "kernel_idempotentrequest"',
        "SAVEPOINT",  # the service's own transaction, nested
        "UPDATE stock_stocklevel AS",
        'INSERT INTO "stock_stockmovement"',
        "RELEASE",
        'UPDATE "kernel_idempotentrequest" SET',
        "RELEASE",
    ]


def test_a_replay_is_the_claim_and_one_read(postgres, actor, branch, product):
    receive(actor, branch, product, "k-2")

    with CaptureQueriesContext(connection) as captured:
        again = receive(actor, branch, product, "k-2")

    assert again["Idempotent-Replayed"] == "true"
    assert statements(captured) == [
        "SAVEPOINT",
        'INSERT INTO "kernel_idempotentrequest"',
        'SELECT FROM "kernel_idempotentrequest"',
        "RELEASE",
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_concurrent_duplicates_apply_once(postgres, branch, product):
    """Both requests start together on their own connections; the second waits for the
    first's key and answers what it answered."""
    admin = AdminFactory()
    barrier = threading.Barrier(2)
    answers = []

    def send() -> None:
        try:
            barrier.wait()
            answers.append(receive(admin, branch, product, "double-tap"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [201, 201]
    assert answers[0].content == answers[1].content
    assert StockMovement.objects.count() == 1
    assert StockLevel.objects.get().on_hand == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_many_concurrent_duplicates_of_a_batch_apply_once(postgres, branch, product):
    admin = AdminFactory()
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    answers = []
    body = {
        "kind": "RECEIPT",
        "branch": str(branch.pk),
        "lines": [{"product": str(product.pk), "quantity": 3}],
    }

    def send() -> None:
        try:
            barrier.wait()
            answers.append(
                api_client(admin).post(
                    reverse("api-stock-batch"),
                    body,
                    format="json",
                    headers={"Idempotency-Key": "scanner-7"},
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert StockMovement.objects.count() == 1
    assert StockLevel.objects.get().on_hand == 3
    assert idempotency.purge_expired_requests() == 0
