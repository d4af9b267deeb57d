"""Each person's language: chosen on the account page or through the API's me/."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from accounts import services
from accounts.models import AlertMail
from accounts.tests.factories import UserFactory
from inventory_project.kernel.errors import InvalidInput, NotPermitted
from inventory_project.tests.helpers import api_client, page_client

pytestmark = pytest.mark.django_db


def test_a_person_chooses_german_and_back_to_the_browser_s_choice():
    user = UserFactory()

    services.set_language(actor=user, language="de")
    user.refresh_from_db()
    assert user.language == "de"

    services.set_language(actor=user, language="")
    user.refresh_from_db()
    assert user.language == ""


def test_a_language_the_site_does_not_offer_is_refused_and_nothing_changes():
    user = UserFactory(language="de")

    with pytest.raises(InvalidInput) as refused:
        services.set_language(actor=user, language="fr")

    assert refused.value.field == "language"
    assert "en, de" in refused.value.message
    user.refresh_from_db()
    assert user.language == "de"


def test_nobody_signed_in_has_a_language_to_choose():
    with pytest.raises(NotPermitted):
        services.set_language(actor=AnonymousUser(), language="de")


def test_the_account_page_offers_the_languages_and_marks_the_current_choice():
    user = UserFactory(language="de")

    response = page_client(user).get(reverse("account"))

    assertContains(response, f'action="{reverse("account-language")}"')
    assertContains(response, '<option value="de" selected>Deutsch</option>', html=True)
    assertContains(response, '<option value="en">English</option>', html=True)
    assertContains(response, '<option value="">', count=1)


def test_posting_the_form_saves_the_choice_and_the_next_page_is_in_it():
    user = UserFactory()
    client = page_client(user)

    response = client.post(reverse("account-language"), {"language": "de"})

    assertRedirects(response, reverse("account"), fetch_redirect_response=False)
    user.refresh_from_db()
    assert user.language == "de"
    page = client.get(reverse("account"))
    assert page["Content-Language"] == "de"
    assertContains(page, '<html lang="de">')


def test_an_unknown_language_posted_shows_the_form_again_with_the_error():
    user = UserFactory(language="en")

    response = page_client(user).post(reverse("account-language"), {"language": "xx"})

    assert response.status_code == 400
    assertContains(response, "xx", status_code=400)
    assertContains(response, 'class="error"', status_code=400)
    user.refresh_from_db()
    assert user.language == "en"


def test_the_api_tells_and_sets_the_language():
    user = UserFactory()
    client = api_client(user)

    assert client.get("/api/v1/me/").json()["language"] == ""

    response = client.patch("/api/v1/me/", {"language": "de"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["language"] == "de"
    user.refresh_from_db()
    assert user.language == "de"


def test_the_api_sets_language_and_alert_mail_at_once_or_neither():
    user = UserFactory()
    client = api_client(user)

    refused = client.patch(
        "/api/v1/me/",
        {"language": "de", "alert_mail": "DIGEST", "alert_mail_all_branches": True},
        format="json",
    )

    assert refused.status_code == 400, refused.content
    user.refresh_from_db()
    assert (user.language, user.alert_mail) == ("", AlertMail.EACH)


def test_the_api_refuses_a_language_it_does_not_offer():
    user = UserFactory()

    response = api_client(user).patch("/api/v1/me/", {"language": "fr"}, format="json")

    assert response.status_code == 400
    assert "language" in response.json()["fields"]
