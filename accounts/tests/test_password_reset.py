"""Password reset by e-mail: asking for a link, the mail a worker sends, choosing the new
password through the link."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts import services, tasks
from accounts.models import ApiToken, User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh passphrase for spring"


@pytest.fixture(autouse=True)
def eager_mail(settings, mailoutbox):
    """The worker's part runs in the test process, into Django's outbox."""
    conf = tasks.send_password_reset_email.app.conf
    was_eager = conf.task_always_eager
    conf.task_always_eager = True
    settings.SITE_URL = "https://stock.example.com"
    yield mailoutbox
    conf.task_always_eager = was_eager


def ask_for_link(client, email, django_capture_on_commit_callbacks, **extra):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("password_reset"), {"email": email}, **extra)


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def page_text(response) -> str:
    """The page as read, without the CSRF token that is masked afresh on every response."""
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", response.content.decode())


def follow_link(client, link):
    """Django swaps the token in the address for one kept in the session."""
    response = client.get(link.removeprefix("https://stock.example.com"), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else None
    return response, form_url


def test_the_sign_in_page_offers_a_password_reset(client):
    response = client.get(reverse("login"))

    assertContains(response, f'href="{reverse("password_reset")}"')
    assertContains(response, "Forgot your password?")


def test_the_reset_page_asks_for_an_email_address(client):
    response = client.get(reverse("password_reset"))

    assert response.status_code == 200
    assertContains(response, 'name="email"')


def test_an_unknown_address_gets_no_mail_and_the_usual_page(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    response = ask_for_link(client, "nobody@example.com", django_capture_on_commit_callbacks)

    assertRedirects(response, reverse("password_reset_done"))
    assert mailoutbox == []


def test_a_known_and_an_unknown_address_lead_to_the_same_page(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory()

    known = ask_for_link(client, user.email, django_capture_on_commit_callbacks)
    unknown = ask_for_link(client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert page_text(client.get(known["Location"])) == page_text(client.get(unknown["Location"]))


def test_a_known_address_gets_one_mail_with_a_link_at_the_site(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()

    ask_for_link(client, user.email.upper(), django_capture_on_commit_callbacks)

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "Reset your inventory password"
    link = link_in(message)
    assert link.startswith("https://stock.example.com/account/password/reset/")
    assert link in message.alternatives[0][0]
    response, _form_url = follow_link(client, link)
    assertContains(response, 'name="new_password1"')


def test_the_mail_waits_for_the_request_to_commit(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("password_reset"), {"email": user.email})

    assert mailoutbox == []
    assert len(callbacks) == 1


def test_an_inactive_account_gets_no_mail(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory(is_active=False)

    response = ask_for_link(client, user.email, django_capture_on_commit_callbacks)

    assertRedirects(response, reverse("password_reset_done"))
    assert mailoutbox == []


def test_asking_again_and_again_sends_one_mail_within_the_cooldown(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()

    for _ in range(4):
        response = ask_for_link(client, user.email, django_capture_on_commit_callbacks)
        # The same page each time: holding a mail back tells nothing either.
        assertRedirects(response, reverse("password_reset_done"))

    assert len(mailoutbox) == 1


def test_asking_again_after_the_cooldown_sends_another_mail(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)

    cache.delete(f"password-reset-mail:{user.pk}")  # as when the cooldown has run out
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 2


def test_the_cooldown_is_per_account(client, mailoutbox, django_capture_on_commit_callbacks):
    first, second = UserFactory(), UserFactory()

    ask_for_link(client, first.email, django_capture_on_commit_callbacks)
    ask_for_link(client, second.email, django_capture_on_commit_callbacks)

    assert sorted(message.to[0] for message in mailoutbox) == sorted([first.email, second.email])


def test_the_mail_is_written_in_the_recipient_s_language(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    english = UserFactory(language="en")
    german = UserFactory(language="de")

    # The request asks for German; each mail follows its reader's own choice instead.
    ask_for_link(
        client, english.email, django_capture_on_commit_callbacks, HTTP_ACCEPT_LANGUAGE="de"
    )
    ask_for_link(client, german.email, django_capture_on_commit_callbacks)

    in_english, in_german = mailoutbox
    assert in_english.subject == "Reset your inventory password"
    assert '<html lang="en">' in in_english.alternatives[0][0]
    assert '<html lang="de">' in in_german.alternatives[0][0]


def test_the_link_sets_the_new_password(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)
    _response, form_url = follow_link(client, link_in(mailoutbox[0]))

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assertRedirects(response, reverse("password_reset_complete"))
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(PASSWORD)


def test_a_reset_signs_out_other_browsers_and_every_device(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()
    browser = Client()
    browser.force_login(user)
    services.sign_in_device(user=user, device="Scanner")
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)
    _response, form_url = follow_link(client, link_in(mailoutbox[0]))

    with django_capture_on_commit_callbacks(execute=True):
        client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not ApiToken.objects.filter(user=user).exists()
    assertRedirects(
        browser.get(reverse("account")), f"{reverse('login')}?next={reverse('account')}"
    )


def test_the_password_validators_apply_and_passwords_are_not_shown_again(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory()
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)
    _response, form_url = follow_link(client, link_in(mailoutbox[0]))

    response = client.post(form_url, {"new_password1": "password", "new_password2": "password"})

    assert response.status_code == 200
    assertContains(response, "This password is too common.")
    assertNotContains(response, 'value="password"')
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_used_link_no_longer_works(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0])
    _response, form_url = follow_link(client, link)
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response, _form_url = follow_link(Client(), link)

    assertContains(response, "This link does not work any more")
    assertNotContains(response, 'name="new_password1"')
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_a_forged_link_does_not_work(client):
    user = UserFactory()
    link = reverse("password_reset_confirm", kwargs={"uidb64": "bm9ib2R5", "token": "x-y"})

    response = client.get(link)

    assertContains(response, "This link does not work any more")
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


@pytest.mark.parametrize("email", ["", "not an address", "a" * 300 + "@example.com"])
def test_a_malformed_address_is_an_error_beside_the_field(client, mailoutbox, email):
    response = client.post(reverse("password_reset"), {"email": email})

    assert response.status_code == 200
    assertContains(response, 'class="errorlist')
    assert mailoutbox == []


def test_the_new_passwords_must_match(client, mailoutbox, django_capture_on_commit_callbacks):
    user = UserFactory()
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)
    _response, form_url = follow_link(client, link_in(mailoutbox[0]))

    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": "other"})

    assertContains(response, "The two password fields didn\u2019t match.")
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_a_reset_ends_a_lockout_of_the_address(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory()
    sign_in = Client()
    for _ in range(3):
        sign_in.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert (
        sign_in.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code
        == 429
    )
    ask_for_link(client, user.email, django_capture_on_commit_callbacks)
    _response, form_url = follow_link(client, link_in(mailoutbox[0]))
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = sign_in.post(reverse("login"), {"username": user.email, "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert "_auth_user_id" in sign_in.session
