"""Failed sign-ins lock an (e-mail address, client address) pair out for a while."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def page_sign_in(client, email, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def token_sign_in(email, password, address="10.0.0.1"):
    return APIClient().post(
        reverse("api-token-login"),
        {"email": email, "password": password, "device": "Scanner"},
        format="json",
        REMOTE_ADDR=address,
    )


def test_the_sign_in_page_locks_out_after_repeated_failures(client):
    user = UserFactory()
    for _ in range(LIMIT - 1):
        assert page_sign_in(client, user.email, "wrong").status_code == 200

    response = page_sign_in(client, user.email, "wrong")

    assert response.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes." in response.text
    # Even the right password is refused while the lockout lasts.
    assert page_sign_in(client, user.email, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_locks_out_after_repeated_failures():
    user = UserFactory()
    for _ in range(LIMIT - 1):
        assert token_sign_in(user.email, "wrong").status_code == 401

    assert token_sign_in(user.email, "wrong").status_code == 429
    response = token_sign_in(user.email, PASSWORD)

    assert response.status_code == 429
    assert response.json() == {
        "code": "locked_out",
        "message": "Too many failed sign-in attempts. Try again in 15 minutes.",
        "fields": {},
    }
    assert response["Retry-After"] == "900"
    assert not ApiToken.objects.exists()


def test_failures_count_across_the_page_and_the_api_and_ignore_case(client):
    UserFactory(email="sam@example.com")
    for _ in range(LIMIT - 1):
        page_sign_in(client, "SAM@example.com", "wrong")

    assert token_sign_in("sam@example.com", "wrong").status_code == 429


def test_a_lockout_is_per_client_address_so_others_can_still_sign_in(client):
    user = UserFactory()
    for _ in range(LIMIT):
        token_sign_in(user.email, "wrong", address="10.0.0.66")

    assert token_sign_in(user.email, PASSWORD, address="10.0.0.1").status_code == 201


def test_a_lockout_ends_after_the_cool_off():
    user = UserFactory()
    for _ in range(LIMIT):
        token_sign_in(user.email, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert token_sign_in(user.email, PASSWORD).status_code == 201


def test_a_successful_sign_in_clears_earlier_failures(client):
    user = UserFactory()
    for _ in range(LIMIT - 1):
        token_sign_in(user.email, "wrong")
    assert token_sign_in(user.email, PASSWORD).status_code == 201

    for _ in range(LIMIT - 1):
        assert token_sign_in(user.email, "wrong").status_code == 401


def test_failed_sign_ins_are_logged(caplog):
    user = UserFactory()

    with caplog.at_level(logging.WARNING, logger="axes"):
        token_sign_in(user.email, "wrong", address="10.0.0.9")

    assert any(
        user.email in record.getMessage() and "10.0.0.9" in record.getMessage()
        for record in caplog.records
    )


def test_behind_the_proxy_the_address_it_reports_is_counted(settings):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_REAL_IP", "REMOTE_ADDR"]
    user = UserFactory()
    proxy = "172.18.0.5"

    def attempt(client_address, password):
        return APIClient().post(
            reverse("api-token-login"),
            {"email": user.email, "password": password, "device": "Scanner"},
            format="json",
            REMOTE_ADDR=proxy,
            HTTP_X_REAL_IP=client_address,
        )

    for _ in range(LIMIT):
        attempt("203.0.113.7", "wrong")

    assert attempt("203.0.113.7", PASSWORD).status_code == 429
    assert attempt("198.51.100.2", PASSWORD).status_code == 201


def test_without_a_proxy_a_forged_address_header_does_not_dodge_the_lockout():
    user = UserFactory()

    def attempt(forged, password):
        return APIClient().post(
            reverse("api-token-login"),
            {"email": user.email, "password": password, "device": "Scanner"},
            format="json",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_REAL_IP=forged,
            HTTP_X_FORWARDED_FOR=forged,
        )

    for n in range(LIMIT):
        attempt(f"198.51.100.{n}", "wrong")

    assert attempt("198.51.100.99", PASSWORD).status_code == 429
