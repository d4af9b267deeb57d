"""Inviting someone: the invitation form and API, the e-mail a worker sends through a real
SMTP server on loopback, and the link with which the invited person chooses a password and
is signed in."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts import services, tasks
from accounts.models import Membership, Role, User
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory, UserFactory
from alerts.tests.smtp import MailSink
from branches.tests.factories import BranchFactory
from inventory_project.kernel.errors import Conflict, NotPermitted
from inventory_project.kernel.once import new_key
from inventory_project.tests.helpers import api_client, page_client

pytestmark = pytest.mark.django_db

PASSWORD = "a fresh passphrase for spring"
SITE = "https://stock.example.com"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, which the app's mail goes to."""
    sink = MailSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def eager_worker(settings):
    """The worker's part runs in the test process."""
    conf = tasks.send_invitation_email.app.conf
    was_eager = conf.task_always_eager
    conf.task_always_eager = True
    settings.SITE_URL = SITE
    yield
    conf.task_always_eager = was_eager


@pytest.fixture
def branch(db):
    return BranchFactory(code="BER-01", name="Berlin Mitte")


@pytest.fixture
def elsewhere(db):
    return BranchFactory(code="HAM-01", name="Hamburg")


@pytest.fixture
def manager(branch):
    return ManagerFactory(branch=branch, user__full_name="Anna Schmidt").user


def invite(client, branch, callbacks, *, key=None, **fields):
    data = {
        "email": "new.person@example.com",
        "full_name": "New Person",
        "branch": str(branch.pk),
        "role": Role.STAFF,
        "language": "",
        "once": key or new_key(),
        **fields,
    }
    with callbacks(execute=True):
        return client.post(reverse("person-invite"), data)


def link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/account/welcome/\S+", text).group(0)


def follow(client, link):
    """Django swaps the token in the address for one kept in the session."""
    response = client.get(link.removeprefix(SITE), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    return response, form_url


# The form ------------------------------------------------------------------------------------


def test_a_manager_is_offered_the_branches_they_manage_and_the_staff_role_only(
    branch, elsewhere, manager
):
    MembershipFactory(user=manager, branch=elsewhere, role=Role.STAFF)

    response = page_client(manager).get(reverse("person-invite"))

    assert response.status_code == 200
    assert list(response.context["form"].fields["branch"].choices) == [
        (str(branch.pk), "BER-01 · Berlin Mitte")
    ]
    assert [value for value, _ in response.context["form"].fields["role"].choices] == ["STAFF"]


def test_an_administrator_may_invite_managers_to_any_branch(branch, elsewhere):
    response = page_client(AdminFactory()).get(reverse("person-invite"))

    assert len(response.context["form"].fields["branch"].choices) == 2
    assert {value for value, _ in response.context["form"].fields["role"].choices} == {
        "MANAGER",
        "STAFF",
    }


def test_staff_are_refused_the_invitation_form_in_words(branch):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    response = page_client(staff).get(reverse("person-invite"))

    assert response.status_code == 403
    assertContains(response, "Only managers and administrators invite people.", status_code=403)


def test_an_invitation_creates_an_account_without_a_password_and_mails_it_once(
    branch, manager, smtp, django_capture_on_commit_callbacks
):
    response = invite(page_client(manager), branch, django_capture_on_commit_callbacks)

    invited = User.objects.get(email="new.person@example.com")
    assertRedirects(response, reverse("person", args=[invited.pk]))
    assert not invited.has_usable_password()
    assert Membership.objects.get(user=invited).role == Role.STAFF
    [message] = smtp.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "new.person@example.com"
    assert message["Subject"] == "You are invited to the inventory"
    text = message.get_body(("plain",)).get_content()
    assert "Anna Schmidt invited you to the inventory." in text
    assert "staff at BER-01 Berlin Mitte" in text
    link = link_in(message)
    assert link.startswith(f"{SITE}/account/welcome/")
    assert link in message.get_body(("html",)).get_content()


def test_the_invitation_waits_for_the_commit(
    branch, manager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invite_user(
            actor=manager,
            email="late@example.com",
            full_name="",
            branch_id=branch.pk,
            role=Role.STAFF,
        )
    assert mailoutbox == []

    for callback in callbacks:
        callback()

    assert len(mailoutbox) == 1


def test_an_invitation_sent_twice_by_a_double_click_invites_once(
    branch, manager, mailoutbox, django_capture_on_commit_callbacks
):
    client = page_client(manager)
    key = new_key()

    first = invite(client, branch, django_capture_on_commit_callbacks, key=key)
    second = invite(client, branch, django_capture_on_commit_callbacks, key=key)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert User.objects.filter(email="new.person@example.com").count() == 1
    assert len(mailoutbox) == 1


def test_the_invitation_is_written_in_the_language_chosen_for_it(
    branch, manager, mailoutbox, django_capture_on_commit_callbacks
):
    invite(page_client(manager), branch, django_capture_on_commit_callbacks, language="de")

    [message] = mailoutbox
    assert '<html lang="de">' in message.alternatives[0][0]
    assert User.objects.get(email="new.person@example.com").language == "de"


def test_an_address_with_an_account_is_an_error_beside_the_email_field(
    branch, manager, mailoutbox, django_capture_on_commit_callbacks
):
    UserFactory(email="taken@example.com")

    response = invite(
        page_client(manager),
        branch,
        django_capture_on_commit_callbacks,
        email="Taken@Example.com",
        full_name="Typed Name",
    )

    assert response.status_code == 409
    assert response.context["form"].errors["email"] == [
        "taken@example.com already has an account: add a membership instead."
    ]
    assertContains(response, 'value="Typed Name"', status_code=409)
    assert mailoutbox == []


def test_a_manager_may_not_invite_a_manager(
    branch, manager, mailoutbox, django_capture_on_commit_callbacks
):
    response = invite(
        page_client(manager), branch, django_capture_on_commit_callbacks, role=Role.MANAGER
    )

    assert response.status_code == 400
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(email="new.person@example.com").exists()
    assert mailoutbox == []


def test_a_branch_where_the_manager_is_only_staff_is_an_error_beside_the_field(
    branch, elsewhere, manager, django_capture_on_commit_callbacks
):
    MembershipFactory(user=manager, branch=elsewhere, role=Role.STAFF)

    response = invite(page_client(manager), elsewhere, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert "branch" in response.context["form"].errors
    assertContains(response, 'value="new.person@example.com"', status_code=400)
    assert not User.objects.filter(email="new.person@example.com").exists()


def test_a_branch_the_manager_may_not_see_answers_404(
    branch, elsewhere, manager, django_capture_on_commit_callbacks
):
    response = invite(page_client(manager), elsewhere, django_capture_on_commit_callbacks)

    assert response.status_code == 404
    assert not User.objects.filter(email="new.person@example.com").exists()


@pytest.mark.parametrize("email", ["", "not an address", "a" * 300 + "@example.com"])
def test_a_malformed_address_is_an_error_beside_the_field(
    branch, manager, email, django_capture_on_commit_callbacks
):
    response = invite(page_client(manager), branch, django_capture_on_commit_callbacks, email=email)

    assert response.status_code == 400
    assert "email" in response.context["form"].errors


def test_the_service_refuses_staff_who_invite(branch):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    with pytest.raises(NotPermitted):
        services.invite_user(
            actor=staff, email="x@example.com", full_name="", branch_id=branch.pk, role="STAFF"
        )


# The link ------------------------------------------------------------------------------------


def invited_link(branch, manager, smtp, callbacks) -> str:
    invite(page_client(manager), branch, callbacks)
    [message] = smtp.wait_for(1)
    return link_in(message)


def test_the_link_asks_for_a_password_and_signs_the_person_in(
    branch, manager, smtp, django_capture_on_commit_callbacks
):
    link = invited_link(branch, manager, smtp, django_capture_on_commit_callbacks)
    browser = Client()

    page, form_url = follow(browser, link)
    assertContains(page, "Choose your password")
    response = browser.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assertRedirects(response, reverse("home"), fetch_redirect_response=False)
    invited = User.objects.get(email="new.person@example.com")
    assert invited.check_password(PASSWORD)
    assert browser.session["_auth_user_id"] == str(invited.pk)
    assert browser.get(reverse("stock-list") + "?branch=BER-01").status_code == 200


def test_the_link_works_once(branch, manager, smtp, django_capture_on_commit_callbacks):
    link = invited_link(branch, manager, smtp, django_capture_on_commit_callbacks)
    browser = Client()
    _page, form_url = follow(browser, link)
    browser.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})

    again, _form_url = follow(Client(), link)

    assertContains(again, "This invitation link does not work any more")
    assertNotContains(again, 'name="new_password1"')


def test_the_password_validators_apply_on_the_welcome_page(
    branch, manager, smtp, django_capture_on_commit_callbacks
):
    link = invited_link(branch, manager, smtp, django_capture_on_commit_callbacks)
    browser = Client()
    _page, form_url = follow(browser, link)

    response = browser.post(form_url, {"new_password1": "password", "new_password2": "password"})

    assertContains(response, "This password is too common.")
    assert not User.objects.get(email="new.person@example.com").has_usable_password()


@pytest.mark.parametrize(
    ("uid", "token"), [("bm9ib2R5", "x-y"), ("!!!", "???"), ("", "abc-def"), ("MTIz", "-")]
)
def test_a_malformed_or_forged_link_says_so_in_words(client, uid, token):
    response = client.get(f"/account/welcome/{uid}/{token}/")

    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assertContains(response, "This invitation link does not work any more")


def test_the_link_of_a_deactivated_invitee_does_not_work(
    branch, manager, smtp, django_capture_on_commit_callbacks
):
    link = invited_link(branch, manager, smtp, django_capture_on_commit_callbacks)
    invited = User.objects.get(email="new.person@example.com")
    services.deactivate_user(actor=manager, user_id=invited.pk)

    page, _form_url = follow(Client(), link)

    assertContains(page, "This invitation link does not work any more")


def test_a_forged_token_for_a_real_account_does_not_work(client, branch):
    invited = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(invited.pk))

    response = client.get(f"/account/welcome/{uid}/abc-0123456789abcdef/", follow=True)

    assertContains(response, "This invitation link does not work any more")


# Inviting again ------------------------------------------------------------------------------


def test_someone_who_never_chose_a_password_can_be_invited_again(
    branch, manager, smtp, django_capture_on_commit_callbacks
):
    invite(page_client(manager), branch, django_capture_on_commit_callbacks)
    invited = User.objects.get(email="new.person@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = page_client(manager).post(
            reverse("person-invitation", args=[invited.pk]), {"invitation-once": new_key()}
        )

    assertRedirects(response, reverse("person", args=[invited.pk]))
    assert len(smtp.wait_for(2)) == 2


def test_someone_with_a_password_is_not_invited_again(branch, manager):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    response = page_client(manager).post(
        reverse("person-invitation", args=[staff.pk]), {"invitation-once": new_key()}
    )

    assert response.status_code == 409
    assertContains(response, "has already chosen a password", status_code=409)


def test_the_service_refuses_a_second_invitation_once_a_password_is_chosen(branch, manager):
    staff = MembershipFactory(branch=branch, role=Role.STAFF).user

    with pytest.raises(Conflict):
        services.resend_invitation(actor=manager, user_id=staff.pk)


def test_the_worker_sends_nothing_once_the_password_is_chosen(branch, manager, mailoutbox):
    invited = services.invite_user(
        actor=manager, email="x@example.com", full_name="", branch_id=branch.pk, role="STAFF"
    )
    services.reset_password(user_id=invited.pk, password=PASSWORD)

    assert tasks.send_invitation_email(str(invited.pk), str(manager.pk)) is False
    assert mailoutbox == []


# The API -------------------------------------------------------------------------------------


def api_invite(user, branch, callbacks, **fields):
    body = {"email": "api.person@example.com", "branch": str(branch.pk), "role": "STAFF"}
    with callbacks(execute=True):
        return api_client(user).post(reverse("api-user-invite"), {**body, **fields}, format="json")


def test_the_api_invites_and_the_invitation_is_mailed(
    branch, manager, mailoutbox, django_capture_on_commit_callbacks
):
    response = api_invite(manager, branch, django_capture_on_commit_callbacks)

    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "api.person@example.com"
    assert response.json()["memberships"][0]["role"] == "STAFF"
    assert len(mailoutbox) == 1


def test_the_api_refuses_a_manager_inviting_a_manager(
    branch, manager, mailoutbox, django_capture_on_commit_callbacks
):
    response = api_invite(manager, branch, django_capture_on_commit_callbacks, role="MANAGER")

    assert response.status_code == 403
    assert mailoutbox == []


def test_the_api_answers_409_for_an_address_with_an_account(
    branch, manager, django_capture_on_commit_callbacks
):
    UserFactory(email="api.person@example.com")

    response = api_invite(manager, branch, django_capture_on_commit_callbacks)

    assert response.status_code == 409
    assert "add a membership instead" in response.json()["message"]


def test_the_api_refuses_fields_it_does_not_take(
    branch, manager, django_capture_on_commit_callbacks
):
    response = api_invite(manager, branch, django_capture_on_commit_callbacks, password="x")

    assert response.status_code == 400
