import dataclasses
import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.test import APIClient

from accounts import authentication, permissions, services
from accounts.models import ApiToken, BranchPermission, Role
from accounts.tests.factories import PASSWORD, AdminFactory, MembershipFactory, UserFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests.helpers import free_port

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


# A token remembered for a few seconds, revoked at once everywhere -----------------------------


def token_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if ApiToken._meta.db_table in q["sql"]]


def remembered_elsewhere(token):
    """What another process remembers of ``token`` now: put back after a revocation, it
    stands for a process that the revocation reached only through Redis."""
    return authentication._remembered.get(hash_token(token))


def remembered_with(answer, **token_fields):
    """``answer`` with some of the token's fields as another process may remember them."""
    names = [field.attname for field in ApiToken._meta.concrete_fields]
    values = dict(zip(names, answer.token, strict=True)) | token_fields
    return dataclasses.replace(answer, token=tuple(values[name] for name in names))


def as_in_another_process(token, answer):
    authentication._remembered.put(hash_token(token), answer)


@pytest.fixture(autouse=True)
def shared_cache(settings):
    # Remembering is on with a shared cache (Redis), as the tests run.
    assert settings.REDIS_URL
    authentication._remembered.clear()
    yield
    authentication._remembered.clear()


def test_a_token_used_again_costs_no_token_query(api):
    token = sign_in(api, UserFactory()).json()["token"]
    client = with_token(token)

    with CaptureQueriesContext(connection) as first:
        assert client.get(reverse("api-me")).status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get(reverse("api-me")).status_code == 200

    # The first reads the token with its user, and stamps its first use.
    assert len(token_queries(first)) == 2
    assert token_queries(second) == []
    assert len(second) == len(first) - 2


def test_a_token_is_looked_up_by_its_digest_alone(api):
    user = UserFactory()
    token = sign_in(api, user).json()["token"]
    for device in ("Two", "Three"):
        sign_in(api, user, device=device)

    with CaptureQueriesContext(connection) as queries:
        assert with_token(token).get(reverse("api-me")).status_code == 200

    [lookup, stamp] = token_queries(queries)
    assert '"digest" =' in lookup
    assert "UPDATE" in stamp


def test_signing_out_from_another_device_is_seen_on_the_very_next_request(api):
    user = UserFactory()
    lost = sign_in(api, user, device="Lost").json()
    desk = with_token(sign_in(api, user, device="Desk").json()["token"])
    assert with_token(lost["token"]).get(reverse("api-me")).status_code == 200
    remembered = remembered_elsewhere(lost["token"])

    assert desk.delete(reverse("api-token", args=[lost["id"]])).status_code == 204
    as_in_another_process(lost["token"], remembered)

    assert with_token(lost["token"]).get(reverse("api-me")).status_code == 401


def test_logging_out_everywhere_reaches_what_other_processes_remember(api):
    user = UserFactory()
    tokens = [sign_in(api, user, device=f"Device {n}").json()["token"] for n in range(2)]
    remembered = []
    for token in tokens:
        assert with_token(token).get(reverse("api-me")).status_code == 200
        remembered.append(remembered_elsewhere(token))

    assert with_token(tokens[0]).post(reverse("api-logout-all")).status_code == 200
    for token, answer in zip(tokens, remembered, strict=True):
        as_in_another_process(token, answer)

    assert [with_token(t).get(reverse("api-me")).status_code for t in tokens] == [401, 401]


def test_an_administrator_signing_a_device_out_reaches_what_others_remember(api):
    device = sign_in(api, UserFactory()).json()
    assert with_token(device["token"]).get(reverse("api-me")).status_code == 200
    remembered = remembered_elsewhere(device["token"])

    services.sign_out_device(actor=AdminFactory(), token_id=device["id"])
    as_in_another_process(device["token"], remembered)

    assert with_token(device["token"]).get(reverse("api-me")).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_deactivated_user_is_refused_at_once_though_remembered(api):
    membership = MembershipFactory(role=Role.STAFF)
    token = sign_in(api, membership.user).json()["token"]
    assert with_token(token).get(reverse("api-me")).status_code == 200
    remembered = remembered_elsewhere(token)
    manager = MembershipFactory(branch=membership.branch, role=Role.MANAGER).user

    services.deactivate_user(actor=manager, user_id=membership.user.pk)
    as_in_another_process(token, remembered)

    assert with_token(token).get(reverse("api-me")).status_code == 401


def test_a_change_to_the_user_is_seen_on_the_next_request(api):
    token = sign_in(api, UserFactory()).json()["token"]
    client = with_token(token)
    assert client.get(reverse("api-me")).json()["language"] == ""

    assert client.patch(reverse("api-me"), {"language": "de"}, format="json").status_code == 200

    assert client.get(reverse("api-me")).json()["language"] == "de"


def test_an_administrator_losing_the_rights_is_no_administrator_on_the_next_request(api):
    admin = AdminFactory()
    token = sign_in(api, admin).json()["token"]
    client = with_token(token)
    assert client.get(reverse("api-users")).status_code == 200
    remembered = remembered_elsewhere(token)

    services.update_user(actor=AdminFactory(), user_id=admin.pk, is_admin=False)
    as_in_another_process(token, remembered)

    assert client.get(reverse("api-users")).status_code == 403


def test_a_remembered_token_is_read_again_after_a_while(api, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    token = sign_in(api, UserFactory()).json()["token"]
    client = with_token(token)
    client.get(reverse("api-me"))

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("api-me")).status_code == 200

    assert len(token_queries(queries)) == 1


def test_a_remembered_token_that_expired_is_refused_and_removed(api):
    token = sign_in(api, UserFactory()).json()["token"]
    client = with_token(token)
    client.get(reverse("api-me"))
    past = timezone.now() - timedelta(seconds=1)
    as_in_another_process(token, remembered_with(remembered_elsewhere(token), expiry=past))

    response = client.get(reverse("api-me"))

    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_a_token_revoked_behind_the_caches_back_is_refused_when_its_use_is_next_stamped(api):
    token = sign_in(api, UserFactory()).json()["token"]
    client = with_token(token)
    client.get(reverse("api-me"))
    ApiToken.objects.all().delete()  # not through a service: no stamp replaced
    an_hour_ago = timezone.now() - timedelta(hours=1)
    as_in_another_process(
        token, remembered_with(remembered_elsewhere(token), last_used_at=an_hour_ago)
    )

    assert client.get(reverse("api-me")).status_code == 401


def test_with_redis_down_every_request_asks_the_database_and_revocation_holds(api, settings):
    user = UserFactory()
    token = sign_in(api, user).json()["token"]
    other = sign_in(api, user, device="Other").json()["token"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = with_token(token)
    client.get(reverse("api-me"))

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("api-me")).status_code == 200
    assert len(token_queries(queries)) == 1

    assert with_token(other).post(reverse("api-logout-all")).status_code == 200
    assert client.get(reverse("api-me")).status_code == 401


def test_a_malformed_token_is_refused_not_an_error(api):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token inv_\xff\xfe")

    response = client.get(reverse("api-me"))

    assert response.status_code == 401


# What a device may do, remembered with its token -------------------------------------------


def receive_one(client, branch, product):
    body = {"branch": str(branch.pk), "product": str(product.pk), "quantity": 1}
    return client.post(reverse("api-stock-receive"), body, format="json")


def permission_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if BranchPermission._meta.db_table in q["sql"]]


def test_a_device_s_rights_at_a_branch_are_asked_once_across_its_requests(api):
    membership = MembershipFactory(role=Role.STAFF)
    client = with_token(sign_in(api, membership.user).json()["token"])
    product = ProductFactory()

    with CaptureQueriesContext(connection) as first:
        assert receive_one(client, membership.branch, product).status_code == 201
    with CaptureQueriesContext(connection) as second:
        assert receive_one(client, membership.branch, product).status_code == 201

    assert len(permission_queries(first)) == 1
    assert permission_queries(second) == []


def test_a_role_removed_is_seen_on_the_next_request_though_remembered_elsewhere(api, monkeypatch):
    membership = MembershipFactory(role=Role.STAFF)
    token = sign_in(api, membership.user).json()["token"]
    client = with_token(token)
    product = ProductFactory()
    assert receive_one(client, membership.branch, product).status_code == 201
    remembered = remembered_elsewhere(token)
    noted_in = permissions._generation

    services.remove_membership(actor=AdminFactory(), membership_id=membership.pk)
    # Another process: the removal reached it through Redis alone.
    monkeypatch.setattr(permissions, "_generation", noted_in)
    as_in_another_process(token, remembered)

    assert receive_one(client, membership.branch, product).status_code == 404
