"""What every API endpoint shares: the error body, limits, throttling, retries, the schema
and the browsable API."""

import re
import threading
import time
import uuid
from collections import Counter

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from accounts.tests.factories import PASSWORD, AdminFactory
from branches.models import Branch
from branches.tests.factories import BranchFactory
from inventory_project.kernel import db
from inventory_project.kernel.db import TransientConflict, retry_transient
from inventory_project.tests.helpers import api_client
from stock.models import StockMovement

pytestmark = pytest.mark.django_db


# The error body ---------------------------------------------------------------------------


def test_an_unknown_api_address_answers_json_not_found(actor):
    response = api_client(actor).get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "There is nothing at this address.",
        "fields": {},
    }


def test_an_unknown_page_still_answers_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_not_offered_answers_405_in_the_error_body(actor):
    response = api_client(actor).put(reverse("api-stock-receive"), {}, format="json")

    assert response.status_code == 405
    assert response.json() == {
        "code": "method_not_allowed",
        "message": 'Method "PUT" not allowed.',
        "fields": {},
    }


def test_a_body_that_is_not_json_answers_415(actor):
    response = api_client(actor).post(
        reverse("api-stock-receive"), "quantity: 1", content_type="text/yaml"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_body_over_the_limit_is_refused_before_it_is_read(actor, branch, product, settings):
    settings.API_MAX_BODY_BYTES = 200
    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": 1, "note": "x" * 300}

    response = api_client(actor).post(reverse("api-stock-receive"), body, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not StockMovement.objects.exists()


def test_a_body_under_the_limit_is_read(actor, branch, product, settings):
    settings.API_MAX_BODY_BYTES = 200
    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": 1}

    response = api_client(actor).post(reverse("api-stock-receive"), body, format="json")

    assert response.status_code == 201


# Throttling -------------------------------------------------------------------------------


def test_a_user_over_their_rate_is_throttled(actor, settings):
    settings.API_THROTTLE_RATES = {"user": "3/min", "anon": None}
    client = api_client(actor)

    answers = [client.get(reverse("api-me")).status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    response = client.get(reverse("api-me"))
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_users_are_throttled_one_by_one(settings):
    settings.API_THROTTLE_RATES = {"user": "1/min", "anon": None}
    first, second = AdminFactory(), AdminFactory()

    api_client(first).get(reverse("api-me"))

    assert api_client(first).get(reverse("api-me")).status_code == 429
    assert api_client(second).get(reverse("api-me")).status_code == 200


def shared_counts(key_part: str) -> dict[str, int]:
    """The request counters in Redis whose key holds ``key_part``, by key."""
    shared = caches["default"]
    client = shared._cache.get_client(None, write=False)
    return {key.decode(): int(client.get(key)) for key in client.scan_iter(f"*{key_part}:*")}


@pytest.mark.skipif(not settings.REDIS_URL, reason="counts in Redis with REDIS_URL set")
def test_a_refused_request_does_not_count_against_the_user(actor, settings):
    settings.API_THROTTLE_RATES = {"user": "2/min", "anon": None}
    client = api_client(actor)

    answers = [client.get(reverse("api-me")).status_code for _ in range(4)]

    assert answers == [200, 200, 429, 429]
    assert list(shared_counts(f"throttle_user_{actor.pk}").values()) == [2]


@pytest.mark.skipif(not settings.REDIS_URL, reason="counts in Redis with REDIS_URL set")
def test_the_last_window_still_counts_towards_the_rate(actor, settings):
    settings.API_THROTTLE_RATES = {"user": "5/min", "anon": None}
    window = int(time.time() // 60)
    shared = caches["default"]
    previous = shared.make_key(f"throttle_user_{actor.pk}:{window - 1}")
    shared._cache.get_client(previous, write=True).set(previous, 1_000_000, ex=120)

    # The last minute weighs by the part of it still within a minute of now: a burst that
    # large outweighs the rate however little of it is left.
    response = api_client(actor).get(reverse("api-me"))

    assert response.status_code == 429 or time.time() // 60 != window


def test_anonymous_clients_are_throttled_by_address(settings):
    settings.API_THROTTLE_RATES = {"user": None, "anon": "2/min"}
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    client = Client(REMOTE_ADDR=address)
    body = {"email": "nobody@example.com", "password": "wrong", "device": "phone"}

    answers = [
        client.post(reverse("api-token-login"), body, content_type="application/json").status_code
        for _ in range(3)
    ]

    assert answers == [401, 401, 429]
    other = Client(REMOTE_ADDR="192.0.2.77")
    assert (
        other.post(reverse("api-token-login"), body, content_type="application/json").status_code
        == 401
    )


# Transient database conflicts ------------------------------------------------------------


SERIALIZATION_FAILURE = """
DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$;
"""


@pytest.mark.django_db(transaction=True)
def test_a_serialization_failure_is_retried_then_answered_busy(postgres, monkeypatch):
    monkeypatch.setattr(db, "BASE_DELAY", 0.001)
    attempts = []

    @retry_transient
    def always_conflicting() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            attempts.append(1)
            cursor.execute(SERIALIZATION_FAILURE)

    with pytest.raises(TransientConflict):
        always_conflicting()

    assert len(attempts) == db.ATTEMPTS


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_deadlock_is_retried_until_both_succeed(postgres):
    first, second = BranchFactory(), BranchFactory()
    barrier = threading.Barrier(2)
    attempts: Counter[str] = Counter()
    errors = []

    @retry_transient
    def lock_both(name: str, a: Branch, b: Branch) -> None:
        with transaction.atomic():
            attempts[name] += 1
            Branch.objects.select_for_update().get(pk=a.pk)
            if attempts[name] == 1:
                barrier.wait(timeout=10)
            Branch.objects.select_for_update().get(pk=b.pk)

    def run(name: str, a: Branch, b: Branch) -> None:
        try:
            lock_both(name, a, b)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("forward", first, second)),
        threading.Thread(target=run, args=("backward", second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(attempts.values()) == [1, 2]


class _Conflicting(APIView):
    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute(SERIALIZATION_FAILURE)
        return Response({})


@pytest.mark.django_db(transaction=True)
def test_a_conflict_outside_a_retry_answers_503_with_retry_after(postgres):
    request = APIRequestFactory().get("/api/v1/anything/")
    force_authenticate(request, AdminFactory())

    response = _Conflicting.as_view()(request)

    assert response.status_code == 503
    assert response.data["code"] == "busy"
    assert response["Retry-After"] == "1"


# Schema and documentation ----------------------------------------------------------------


def test_the_schema_is_served_and_valid(client):
    response = client.get(reverse("api-schema"), {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/movements/receive/" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"deviceToken", "cookieAuth"}


def test_every_operation_describes_its_errors_and_idempotent_writes_their_key(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"403", "404", "429", "503"} <= set(responses), (method, path)
            for code, answer in responses.items():
                if code.startswith(("4", "5")):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ApiError", (method, code, path)
    receive = schema["paths"]["/api/v1/movements/receive/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in receive["parameters"]]
    assert {"409", "422"} <= set(receive["responses"])


@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_the_documentation_pages_load_their_assets_locally(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert assets
    for asset in assets:
        assert finders.find(asset), asset


# The browsable API ------------------------------------------------------------------------


def test_the_browsable_api_works_with_a_session_and_csrf(branch, product):
    admin = AdminFactory()
    browser = Client(enforce_csrf_checks=True)
    login_page = browser.get("/api/auth/login/")
    token = login_page.cookies["csrftoken"].value
    signed_in = browser.post(
        "/api/auth/login/",
        {"username": admin.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert signed_in.status_code == 302

    page = browser.get(reverse("api-stock-levels"), HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert b"Stock Level List" in page.content

    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": "2"}
    refused = browser.post(reverse("api-stock-receive"), body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]

    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        reverse("api-stock-receive"),
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "api-stock-levels",
        "api-movements",
        "api-transfers",
        "api-alerts",
        "api-products",
        "api-categories",
        "api-branches",
    ],
)
def test_every_filter_of_a_browsable_list_has_a_label(actor, name):
    browser = Client()
    browser.force_login(actor)

    page = browser.get(reverse(name), HTTP_ACCEPT="text/html").content.decode()

    assert "Field filters" in page
    assert "[invalid name]" not in page


def test_the_api_root_links_every_resource(actor):
    response = api_client(actor).get(reverse("api-root"))

    assert response.status_code == 200
    links = response.json()
    assert {"stock_levels", "movements", "batch", "products", "dashboard", "docs"} <= set(links)
    for url in links.values():
        assert url.startswith("http://testserver/api/")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "Invalid data. Expected a dictionary, but got list."),
        ("text", "Invalid data. Expected a dictionary, but got str."),
    ],
)
def test_a_body_of_the_wrong_shape_is_a_bad_request(actor, body, message):
    response = api_client(actor).post(reverse("api-stock-receive"), body, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == message
