"""The low-stock e-mail preferences page, and how the home page points to it."""

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts.models import AlertMail, Role
from accounts.tests.factories import AdminFactory, MembershipFactory
from inventory_project.tests.helpers import page_client

pytestmark = pytest.mark.django_db

EVERY_BRANCH = 'name="alert_mail_all_branches"'


@pytest.fixture
def manager(branch):
    return MembershipFactory(branch=branch, role=Role.MANAGER).user


def choose(client: Client, **data):
    return client.post(reverse("alert-mail"), data)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("alert-mail"))

    assertRedirects(response, f"{reverse('login')}?next={reverse('alert-mail')}")


def test_the_page_offers_each_choice_with_its_label_and_marks_the_current_one(manager):
    response = page_client(manager).get(reverse("alert-mail"))

    for choice in AlertMail:
        assertContains(response, f'type="radio" name="alert_mail" value="{choice.value}"')
        assertContains(response, choice.label.capitalize())
    assertContains(
        response,
        '<input type="radio" name="alert_mail" value="EACH" id="id_alert_mail_0" required checked>',
        html=True,
    )


def test_choosing_the_digest_saves_it(manager):
    response = choose(page_client(manager), alert_mail="DIGEST")

    assertRedirects(response, reverse("alert-mail"), fetch_redirect_response=False)
    manager.refresh_from_db()
    assert manager.alert_mail == AlertMail.DIGEST


def test_the_page_confirms_the_choice(manager):
    client = page_client(manager)

    response = client.post(reverse("alert-mail"), {"alert_mail": "NONE"}, follow=True)

    assertContains(response, "Low-stock e-mail: none.")


def test_an_unknown_choice_is_refused_and_the_error_shown(manager):
    response = choose(page_client(manager), alert_mail="HOURLY")

    assertContains(response, "Select a valid choice.", status_code=400)
    manager.refresh_from_db()
    assert manager.alert_mail == AlertMail.EACH


def test_only_admins_are_offered_every_branchs_mail(manager):
    assertNotContains(page_client(manager).get(reverse("alert-mail")), EVERY_BRANCH)
    assertContains(page_client(AdminFactory()).get(reverse("alert-mail")), EVERY_BRANCH)


def test_an_admin_takes_every_branchs_mail(db):
    admin = AdminFactory()

    choose(page_client(admin), alert_mail="DIGEST", alert_mail_all_branches="on")

    admin.refresh_from_db()
    assert admin.alert_mail == AlertMail.DIGEST
    assert admin.alert_mail_all_branches is True


def test_someone_who_is_not_an_admin_cannot_take_every_branchs_mail(manager):
    response = choose(page_client(manager), alert_mail="DIGEST", alert_mail_all_branches="on")

    assertContains(
        response, "Only administrators get the low-stock e-mail of every branch.", status_code=400
    )
    manager.refresh_from_db()
    assert manager.alert_mail_all_branches is False
    assert manager.alert_mail == AlertMail.EACH


def test_choosing_without_the_csrf_token_is_refused(manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = choose(client, alert_mail="NONE")

    assert response.status_code == 403
    manager.refresh_from_db()
    assert manager.alert_mail == AlertMail.EACH


def test_the_home_page_shows_the_choice_and_links_to_the_page(manager):
    manager.alert_mail = AlertMail.DIGEST
    manager.save()

    response = page_client(manager).get(reverse("account"))

    assertContains(response, "Your choice: <strong>the daily digest only</strong>")
    assertContains(response, f'href="{reverse("alert-mail")}"')
    assertContains(response, f'href="{reverse("alerts")}"')
