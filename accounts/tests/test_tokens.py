import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, Role
from accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def sign_in(api, user, device="Scanner 1", password=PASSWORD):
    return api.post(
        reverse("api-token-login"),
        {"email": user.email, "password": password, "device": device},
        format="json",
    )


def with_token(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_signing_in_answers_a_token_once_with_the_callers_branches(api):
    membership = MembershipFactory(role=Role.STAFF)

    response = sign_in(api, membership.user, device="Handheld 7")

    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("inv_")
    assert body["device"] == "Handheld 7"
    assert body["expiry"]
    assert body["user"]["email"] == membership.user.email
    assert [b["code"] for b in body["user"]["branches"]] == [membership.branch.code]
    assert body["user"]["branches"][0]["role"] == "STAFF"


def test_the_token_works_for_the_api(api):
    user = UserFactory()
    token = sign_in(api, user).json()["token"]

    response = with_token(token).get(reverse("api-me"))

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_the_database_holds_only_a_digest_of_the_token(api):
    token = sign_in(api, UserFactory()).json()["token"]

    stored = ApiToken.objects.get()
    assert stored.digest == hashlib.sha512(token.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert token not in row
    # What is stored cannot be used as a token.
    for value in (stored.digest, stored.token_key):
        assert with_token(value).get(reverse("api-me")).status_code == 401


def test_a_wrong_password_gets_no_token(api):
    user = UserFactory()

    response = sign_in(api, user, password="not the password")

    assert response.status_code == 401
    assert response.json()["message"] == "The e-mail address or password is wrong."
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(api):
    user = UserFactory(is_active=False)

    assert sign_in(api, user).status_code == 401
    assert not ApiToken.objects.exists()


def test_signing_in_needs_a_device_name(api):
    user = UserFactory()

    response = api.post(
        reverse("api-token-login"), {"email": user.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"device": ["This field is required."]}


def test_an_expired_token_is_refused_and_removed(api):
    token = sign_in(api, UserFactory()).json()["token"]
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))

    response = with_token(token).get(reverse("api-me"))

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token."
    assert not ApiToken.objects.exists()


def test_using_a_token_extends_it_but_never_past_the_maximum_age(api, settings):
    token = sign_in(api, UserFactory()).json()["token"]
    issued = timezone.now() - timedelta(days=85)
    ApiToken.objects.update(created=issued, expiry=timezone.now() + timedelta(days=1))

    assert with_token(token).get(reverse("api-me")).status_code == 200

    stored = ApiToken.objects.get()
    assert stored.expiry == issued + timedelta(days=90)
    assert stored.last_used_at is not None


def test_tokens_are_listed_per_device_with_the_current_one_marked(api):
    user = UserFactory()
    sign_in(api, user, device="Scanner 1")
    token = sign_in(api, user, device="Scanner 2").json()["token"]
    sign_in(api, UserFactory(), device="Someone else's phone")

    response = with_token(token).get(reverse("api-tokens"))

    assert response.status_code == 200
    devices = {t["device"]: t["current"] for t in response.json()}
    assert devices == {"Scanner 1": False, "Scanner 2": True}


def test_revoking_one_device_leaves_the_others_signed_in(api):
    user = UserFactory()
    lost = sign_in(api, user, device="Lost scanner").json()
    kept = sign_in(api, user, device="Desk").json()["token"]

    response = with_token(kept).delete(reverse("api-token", args=[lost["id"]]))

    assert response.status_code == 204
    assert with_token(lost["token"]).get(reverse("api-me")).status_code == 401
    assert with_token(kept).get(reverse("api-me")).status_code == 200


def test_nobody_revokes_another_users_token(api):
    victim = sign_in(api, UserFactory(), device="Victim").json()
    attacker = sign_in(api, UserFactory(), device="Attacker").json()["token"]

    response = with_token(attacker).delete(reverse("api-token", args=[victim["id"]]))

    assert response.status_code == 404
    assert with_token(victim["token"]).get(reverse("api-me")).status_code == 200


def test_logout_revokes_only_the_token_it_is_sent_with(api):
    user = UserFactory()
    first = sign_in(api, user, device="One").json()["token"]
    second = sign_in(api, user, device="Two").json()["token"]

    assert with_token(first).post(reverse("api-logout")).status_code == 204

    assert with_token(first).get(reverse("api-me")).status_code == 401
    assert with_token(second).get(reverse("api-me")).status_code == 200


def test_logout_all_revokes_every_device(api):
    user = UserFactory()
    tokens = [sign_in(api, user, device=f"Device {n}").json()["token"] for n in range(3)]
    other = sign_in(api, UserFactory()).json()["token"]

    response = with_token(tokens[0]).post(reverse("api-logout-all"))

    assert response.status_code == 200
    assert response.json() == {"revoked": 3}
    assert all(with_token(t).get(reverse("api-me")).status_code == 401 for t in tokens)
    assert with_token(other).get(reverse("api-me")).status_code == 200


def test_a_deactivated_users_tokens_stop_working_at_once(api):
    membership = MembershipFactory(role=Role.STAFF)
    token = sign_in(api, membership.user).json()["token"]
    manager = MembershipFactory(branch=membership.branch, role=Role.MANAGER).user

    services.deactivate_user(actor=manager, user_id=membership.user.pk)

    response = with_token(token).get(reverse("api-me"))
    assert response.status_code == 401
    assert not ApiToken.objects.filter(user=membership.user).exists()


def test_a_token_of_a_user_switched_off_elsewhere_is_refused(api):
    user = UserFactory()
    token = sign_in(api, user).json()["token"]
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    response = with_token(token).get(reverse("api-me"))

    assert response.status_code == 401
    assert response.json()["message"] == "User inactive or deleted."


def test_a_device_limit_is_kept(api, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    user = UserFactory()
    sign_in(api, user, device="One")
    sign_in(api, user, device="Two")

    response = sign_in(api, user, device="Three")

    assert response.status_code == 409
    assert "sign one out first" in response.json()["message"]


def test_token_requests_are_not_subject_to_csrf():
    client = APIClient(enforce_csrf_checks=True)
    user = UserFactory()
    token = sign_in(client, user).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert client.post(reverse("api-logout-all")).status_code == 200


def test_session_requests_to_the_api_need_the_csrf_token():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory())

    response = client.post(reverse("api-logout-all"))

    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


def test_the_api_refuses_anonymous_callers(api):
    response = api.get(reverse("api-me"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
