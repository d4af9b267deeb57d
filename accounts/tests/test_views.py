"""The browser pages: signing in and out, the account page, password change and devices."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import (
    assertContains,
    assertFormError,
    assertNotContains,
    assertRedirects,
)

from accounts import services
from accounts.models import ApiToken, Role, User
from accounts.tests.factories import (
    PASSWORD,
    AdminFactory,
    ManagerFactory,
    MembershipFactory,
    UserFactory,
)
from branches.tests.factories import BranchFactory
from inventory_project.tests.helpers import page_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh passphrase for spring"


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def signed_in(client):
    return "_auth_user_id" in client.session


def sign_in_url(next_url):
    return f"{reverse('login')}?next={next_url}"


# Signing in -------------------------------------------------------------------------------


def test_the_sign_in_page_asks_for_an_email_address_and_password(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assertContains(response, "E-mail address")
    assertContains(response, 'name="username"')
    assertContains(response, 'name="password"')


def test_signing_in_with_the_right_password_leads_home(client):
    user = UserFactory()

    response = sign_in(client, user.email)

    assertRedirects(response, reverse("home"))
    assert signed_in(client)


def test_after_signing_in_the_home_page_shows_the_users_branches_and_roles(client):
    managed = ManagerFactory(branch=BranchFactory(code="BER-01", name="Berlin Mitte"))
    user = managed.user
    MembershipFactory(user=user, branch=BranchFactory(code="HAM-01"), role=Role.STAFF)
    BranchFactory(code="MUC-01")

    signed_in_at = sign_in(client, user.email, follow=True)
    response = client.get(reverse("account"))

    assert signed_in_at.redirect_chain == [(reverse("home"), 302)]
    assertContains(response, "BER-01")
    assertContains(response, "Berlin Mitte")
    assertContains(response, "<td>manager</td>", html=True)
    assertContains(response, "HAM-01")
    assertContains(response, "<td>staff</td>", html=True)
    assertNotContains(response, "MUC-01")


def test_the_home_page_shows_what_the_user_may_do_at_each_branch(client):
    membership = MembershipFactory(role=Role.STAFF)
    client.force_login(membership.user)

    response = client.get(reverse("account"))

    assertContains(response, '<span class="tag">receive stock</span>', html=True)
    assertNotContains(response, "issue stock")


def test_an_admin_sees_every_branch_as_administrator(client):
    BranchFactory(code="BER-01")
    BranchFactory(code="HAM-01")
    client.force_login(AdminFactory())

    response = client.get(reverse("account"))

    assertContains(response, "BER-01")
    assertContains(response, "HAM-01")
    assertContains(response, "<td>administrator</td>", html=True, count=2)


def test_a_user_without_a_role_is_told_to_ask_for_one(client):
    client.force_login(UserFactory())

    response = client.get(reverse("account"))

    assertContains(response, "You have no role at any branch yet.")


def test_signing_in_ignores_the_case_of_the_email_address(client):
    user = UserFactory(email="mixed.case@example.com")

    response = sign_in(client, "Mixed.Case@Example.COM")

    assertRedirects(response, reverse("home"))
    assert client.session["_auth_user_id"] == str(user.pk)


def test_a_wrong_password_shows_the_form_error_and_signs_no_one_in(client):
    user = UserFactory()

    response = sign_in(client, user.email, password="not the password")

    assert response.status_code == 200
    assertContains(response, "Please enter a correct e-mail address and password.")
    assert not signed_in(client)


def test_an_inactive_user_cannot_sign_in(client):
    user = UserFactory(is_active=False)

    response = sign_in(client, user.email)

    assert response.status_code == 200
    assertContains(response, "Please enter a correct e-mail address and password.")
    assert not signed_in(client)


def test_anonymous_visitors_of_the_account_page_are_sent_to_sign_in(client):
    response = client.get(reverse("account"))

    assertRedirects(response, sign_in_url(reverse("account")))


def test_signing_in_after_being_sent_there_returns_to_the_page_asked_for(client):
    user = UserFactory()
    target = reverse("password_change")

    response = client.post(
        sign_in_url(target), {"username": user.email, "password": PASSWORD, "next": target}
    )

    assertRedirects(response, target)


def test_the_sign_in_page_sends_a_signed_in_user_home(client):
    client.force_login(UserFactory())

    response = client.get(reverse("login"))

    assertRedirects(response, reverse("home"))


# Signing out ------------------------------------------------------------------------------


def test_signing_out_ends_the_session(client):
    sign_in(client, UserFactory().email)

    response = client.post(reverse("logout"))

    assertRedirects(response, reverse("login"))
    assert not signed_in(client)
    assertRedirects(client.get(reverse("account")), sign_in_url(reverse("account")))


def test_signing_out_by_get_is_refused_and_keeps_the_session(client):
    sign_in(client, UserFactory().email)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert signed_in(client)


# CSRF -------------------------------------------------------------------------------------


def test_signing_in_without_the_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    user = UserFactory()
    client.get(reverse("login"))

    response = sign_in(client, user.email)

    assert response.status_code == 403
    assert not signed_in(client)


def test_signing_in_with_the_forms_csrf_token_works():
    client = Client(enforce_csrf_checks=True)
    user = UserFactory()
    page = client.get(reverse("login"))

    response = client.post(
        reverse("login"),
        {
            "username": user.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
    )

    assertRedirects(response, reverse("home"))


def test_signing_out_without_the_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert signed_in(client)


def test_signing_a_device_out_without_the_csrf_token_is_refused():
    user = UserFactory()
    token, _ = services.sign_in_device(user=user, device="Scanner 1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(reverse("sign-out-device", args=[token.pk]))

    assert response.status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


# Deactivation -----------------------------------------------------------------------------


def test_a_user_deactivated_by_an_admin_is_signed_out_at_once(client):
    user = UserFactory()
    sign_in(client, user.email)
    assert client.get(reverse("account")).status_code == 200

    services.deactivate_user(actor=AdminFactory(), user_id=user.pk)

    assertRedirects(client.get(reverse("account")), sign_in_url(reverse("account")))


def test_reactivating_a_user_does_not_revive_their_old_sessions(client):
    user = UserFactory()
    sign_in(client, user.email)
    admin = AdminFactory()

    services.deactivate_user(actor=admin, user_id=user.pk)
    services.reactivate_user(actor=admin, user_id=user.pk)

    assertRedirects(client.get(reverse("account")), sign_in_url(reverse("account")))
    assert sign_in(Client(), user.email).status_code == 302


def test_a_user_switched_off_in_the_database_is_signed_out_at_once(client):
    user = UserFactory()
    sign_in(client, user.email)

    User.objects.filter(pk=user.pk).update(is_active=False)

    assertRedirects(client.get(reverse("account")), sign_in_url(reverse("account")))


# Password change --------------------------------------------------------------------------


def change_password(client, old=PASSWORD, new=NEW_PASSWORD):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_the_password_page_needs_a_signed_in_user(client):
    response = client.get(reverse("password_change"))

    assertRedirects(response, sign_in_url(reverse("password_change")))


def test_changing_the_password_keeps_the_user_signed_in(client):
    sign_in(client, UserFactory().email)

    response = change_password(client)

    assertRedirects(response, reverse("password_change_done"))
    assertContains(client.get(reverse("password_change_done")), "Password changed")
    assert client.get(reverse("account")).status_code == 200


def test_the_new_password_works_for_signing_in_and_the_old_one_no_longer(client):
    user = UserFactory()
    sign_in(client, user.email)
    change_password(client)

    assertRedirects(sign_in(Client(), user.email, password=NEW_PASSWORD), reverse("home"))
    assert sign_in(Client(), user.email, password=PASSWORD).status_code == 200


def test_changing_the_password_signs_out_other_browsers(client):
    user = UserFactory()
    other_browser = Client()
    sign_in(other_browser, user.email)
    sign_in(client, user.email)

    change_password(client)

    assertRedirects(other_browser.get(reverse("account")), sign_in_url(reverse("account")))


def test_changing_the_password_needs_the_old_password(client):
    user = UserFactory()
    sign_in(client, user.email)

    response = client.post(
        reverse("password_change"),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assertFormError(response.context["form"], "old_password", "This field is required.")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_wrong_old_password_shows_a_field_error(client):
    user = UserFactory()
    sign_in(client, user.email)

    response = change_password(client, old="not the password")

    assert response.status_code == 200
    assertFormError(
        response.context["form"],
        "old_password",
        "Your old password was entered incorrectly. Please enter it again.",
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_weak_new_password_is_refused(client):
    user = UserFactory()
    sign_in(client, user.email)

    response = change_password(client, new="123")

    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# Devices ----------------------------------------------------------------------------------


def test_the_home_page_lists_the_users_devices_with_a_sign_out_button_each(client):
    user = UserFactory()
    scanner, _ = services.sign_in_device(user=user, device="Scanner 1")
    phone, _ = services.sign_in_device(user=user, device="Phone")
    services.sign_in_device(user=UserFactory(), device="Someone else's tablet")
    client.force_login(user)

    response = client.get(reverse("account"))

    assertContains(response, "<td>Scanner 1</td>", html=True)
    assertContains(response, "<td>Phone</td>", html=True)
    assertNotContains(response, "Someone else")
    for token in (scanner, phone):
        assertContains(response, f'action="{reverse("sign-out-device", args=[token.pk])}"')
    assertContains(response, "Sign out all devices")


def test_without_devices_the_home_page_says_so(client):
    client.force_login(UserFactory())

    response = client.get(reverse("account"))

    assertContains(response, "No device is signed in.")
    assertNotContains(response, "Sign out all devices")


def test_signing_one_device_out_removes_only_that_token(client):
    user = UserFactory()
    lost, _ = services.sign_in_device(user=user, device="Lost scanner")
    kept, _ = services.sign_in_device(user=user, device="Desk")
    client.force_login(user)

    response = client.post(reverse("sign-out-device", args=[lost.pk]), follow=True)

    assertRedirects(response, reverse("account"))
    assertContains(response, "The device was signed out.")
    assertNotContains(response, "Lost scanner")
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_signing_a_device_out_by_get_is_refused(client):
    user = UserFactory()
    token, _ = services.sign_in_device(user=user, device="Scanner 1")
    client.force_login(user)

    response = client.get(reverse("sign-out-device", args=[token.pk]))

    assert response.status_code == 405
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_signing_out_all_devices_removes_all_the_users_tokens_and_no_one_elses(client):
    user = UserFactory()
    for n in range(3):
        services.sign_in_device(user=user, device=f"Device {n}")
    other, _ = services.sign_in_device(user=UserFactory(), device="Other")
    client.force_login(user)

    response = client.post(reverse("sign-out-all-devices"), follow=True)

    assertRedirects(response, reverse("account"))
    assertContains(response, "Signed out of 3 devices.")
    assertContains(response, "No device is signed in.")
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [other.pk]


def test_signing_out_another_users_device_answers_404_and_keeps_it(client):
    victim, _ = services.sign_in_device(user=UserFactory(), device="Victim")
    client.force_login(UserFactory())

    response = client.post(reverse("sign-out-device", args=[victim.pk]))

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=victim.pk).exists()


def test_anonymous_visitors_cannot_sign_devices_out(client):
    token, _ = services.sign_in_device(user=UserFactory(), device="Scanner 1")

    response = client.post(reverse("sign-out-all-devices"))

    assertRedirects(response, sign_in_url(reverse("sign-out-all-devices")))
    assert ApiToken.objects.filter(pk=token.pk).exists()


# Performance ------------------------------------------------------------------------------


def user_with_roles(count):
    user = UserFactory()
    for _ in range(count):
        MembershipFactory(user=user, role=Role.MANAGER)
    services.sign_in_device(user=user, device="Scanner 1")
    return user


def home_page_queries(user):
    client = page_client(user)
    client.get(reverse("account"))  # warm up
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("account")).status_code == 200
    return len(queries)


def test_the_home_page_needs_as_many_queries_for_five_branches_as_for_one(
    django_assert_num_queries,
):
    one = home_page_queries(user_with_roles(1))
    client = page_client(user_with_roles(5))
    client.get(reverse("account"))  # warm up

    with django_assert_num_queries(one):
        response = client.get(reverse("account"))

    assert len(response.context["branch_access"]) == 5


def test_the_home_page_of_an_admin_needs_no_more_queries_than_a_members(
    django_assert_max_num_queries,
):
    members = home_page_queries(user_with_roles(1))
    BranchFactory.create_batch(5)
    client = page_client(AdminFactory())
    client.get(reverse("account"))  # warm up

    with django_assert_max_num_queries(members):
        response = client.get(reverse("account"))

    assert len(response.context["branch_access"]) == 6
