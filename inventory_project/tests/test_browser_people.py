"""The people pages in a real browser, end to end: a manager invites a staff member through
the page; a real Celery worker mails the invitation to a real SMTP server on loopback; the
invitee opens the link from that e-mail in a browser of their own, chooses a password, is
signed in and sees their branch's stock, and signs in again later with that password.

The server, the worker and their broker are this test's own: the server is started with
the mail server's address (``EMAIL_URL``) and its own address as ``SITE_URL``, so the link
in the e-mail leads back to it, and a private Redis carries the worker's queue, so no other
test's worker takes the invitation.
"""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Role, User
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory
from alerts.tests.smtp import MailSink
from branches.tests.factories import BranchFactory
from catalog.tests.factories import ProductFactory
from inventory_project.tests import browser
from inventory_project.tests.browser import (
    CHROMIUM,
    NARROW,
    NO_CHROMIUM,
    WIDE,
    CeleryWorker,
    LiveServer,
    horizontal_overflow,
    launch_chromium,
    session_cookie,
)
from inventory_project.tests.helpers import database_url, free_port
from inventory_project.tests.redis_server import PrivateRedis
from stock import services as stock

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

CHOSEN_PASSWORD = "a fresh passphrase for spring"


@pytest.fixture
def mail_sink():
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def mailing_server(django_db_setup, tmp_path, monkeypatch, mail_sink, worker_id):
    """The app, its worker and their private broker, all sending mail to ``mail_sink``."""
    broker = PrivateRedis(tmp_path)
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    mail = {
        "EMAIL_URL": f"smtp://127.0.0.1:{mail_sink.port}",
        "CELERY_BROKER_URL": broker.url,
        "SITE_URL": site,
    }
    for name, value in mail.items():
        monkeypatch.setenv(name, value)
    # The server takes its port from free_port(); this one, so that SITE_URL names it.
    monkeypatch.setattr(browser, "free_port", lambda: port)
    server = worker = None
    try:
        server = LiveServer(tmp_path / "server.log", channel_prefix=f"people-{worker_id}-{port}")
        env = {
            **os.environ,
            **mail,
            "DJANGO_SETTINGS_MODULE": "inventory_project.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        worker = CeleryWorker(env, tmp_path / "worker.log", "people")
        yield server
    finally:
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()
        broker.stop()


@pytest.fixture
def chromium(mailing_server, monkeypatch):
    """``new_page(viewport)``: a page in a browser context of its own (a person at their
    device), signed out, on the mailing server."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(NO_CHROMIUM)
    expect.set_options(timeout=15_000)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    chromium = launch_chromium(playwright)
    contexts = []

    def new_page(viewport: dict = WIDE):
        context = chromium.new_context(
            base_url=mailing_server.url, viewport=viewport, locale="en-US"
        )
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()
    connections.close_all()
    chromium.close()
    playwright.stop()


def sign_in(page, email: str, password: str) -> None:
    page.goto(reverse("login"))
    page.get_by_role("textbox", name="E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def shoot(page, screenshots: Path, name: str) -> None:
    """The page at 1280 and at 375 pixels wide; it scrolls sideways at neither."""
    page.set_viewport_size(WIDE)
    page.screenshot(path=screenshots / f"{name}-1280.png", full_page=True)
    wide = horizontal_overflow(page)
    page.set_viewport_size(NARROW)
    page.screenshot(path=screenshots / f"{name}-375.png", full_page=True)
    narrow = horizontal_overflow(page)
    page.set_viewport_size(WIDE)
    assert (name, wide, narrow) == (name, 0, 0)


def test_a_manager_invites_a_staff_member_who_chooses_a_password_from_the_email(
    chromium, mail_sink, screenshots, mailing_server
):
    branch = BranchFactory(code="BER-01", name="Berlin Mitte")
    manager = ManagerFactory(branch=branch, user__full_name="Anna Schmidt").user
    for number in range(3):
        MembershipFactory(branch=branch, role=Role.STAFF, user__full_name=f"Colleague {number}")
    product = ProductFactory(name="Oat milk")
    stock.receive_stock(
        actor=manager, branch_id=branch.pk, product_id=product.pk, quantity=Decimal("12")
    )

    # The manager invites through the People page.
    desk = chromium()
    # Signed in as the sign-in page would (the test's fast password hasher is not the
    # server's, so the factory's password does not work there).
    desk.context.add_cookies([session_cookie(manager, mailing_server)])
    desk.goto("/")
    navigation = desk.get_by_role("navigation", name="Main")
    navigation.get_by_text("Manage").click()
    navigation.get_by_role("link", name="People").click()
    expect(desk.locator("#people-results")).to_contain_text("Colleague 2")
    shoot(desk, screenshots, "people-list")
    desk.get_by_role("link", name="Invite someone").first.click()
    expect(desk.locator("main h1")).to_have_text("Invite someone")
    desk.get_by_label("E-mail address").fill("kim.neu@example.com")
    desk.get_by_label("Full name").fill("Kim Neu")
    desk.get_by_label("Branch").select_option(label="BER-01 · Berlin Mitte")
    shoot(desk, screenshots, "person-invite")
    desk.get_by_role("button", name="Send the invitation").click()

    expect(desk.locator("main h1")).to_have_text("Kim Neu")
    expect(desk.locator("#person-status")).to_contain_text("invited, no password yet")
    expect(desk.get_by_role("button", name="Send the invitation again")).to_be_visible()
    shoot(desk, screenshots, "person")
    invited = User.objects.get(email="kim.neu@example.com")
    assert not invited.has_usable_password()

    # The e-mail, as the mail server received it from the worker.
    [message] = mail_sink.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "kim.neu@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "Anna Schmidt invited you to the inventory." in text
    link = re.search(r"http://\S+/account/welcome/\S+", text).group(0)
    assert link.startswith(mailing_server.url)

    # The invitee, at a browser of their own, follows the link.
    phone = chromium(NARROW)
    phone.goto(link)
    expect(phone.locator("main h1")).to_have_text("Choose your password")
    shoot(phone, screenshots, "welcome")
    phone.get_by_label("New password", exact=True).fill(CHOSEN_PASSWORD)
    phone.get_by_label("New password confirmation").fill(CHOSEN_PASSWORD)
    phone.get_by_role("button", name="Set my password and sign in").click()

    expect(phone.locator("#toasts")).to_contain_text("Welcome! Your password is set.")
    phone.goto(reverse("stock-list") + "?branch=BER-01")
    expect(phone.locator("#stock-results")).to_contain_text("Oat milk")

    # The link worked once; the password works from now on.
    again = chromium()
    again.goto(link)
    expect(again.locator("#welcome")).to_contain_text("does not work any more")
    sign_in(again, "kim.neu@example.com", CHOSEN_PASSWORD)
    expect(again.locator("details.account summary")).to_have_text("Kim")
    invited.refresh_from_db()
    assert invited.has_usable_password()
    assert len(mail_sink.messages) == 1


def test_a_manager_deactivates_a_staff_member_after_confirming_and_reactivates_them(
    open_page, screenshots
):
    branch = BranchFactory(code="BER-01", name="Berlin Mitte")
    manager = ManagerFactory(branch=branch).user
    staff = MembershipFactory(branch=branch, role=Role.STAFF, user__full_name="Sam Staff").user
    page = open_page(manager, reverse("person", args=[staff.pk]))

    page.get_by_role("button", name="Deactivate…").click()
    expect(page.locator("main h1")).to_have_text("Deactivate Sam Staff?")
    shoot(page, screenshots, "person-deactivate")
    page.get_by_role("button", name="Deactivate", exact=True).click()

    expect(page.locator("#person-status")).to_contain_text("deactivated")
    staff.refresh_from_db()
    assert not staff.is_active
    page.get_by_role("button", name="Reactivate").click()
    expect(page.locator("#person-status")).to_contain_text("active")
    staff.refresh_from_db()
    assert staff.is_active


def test_an_administrator_changes_a_role_and_sees_a_refusal_beside_the_form(open_page, screenshots):
    branch = BranchFactory(code="BER-01", name="Berlin Mitte")
    BranchFactory(code="HAM-01", name="Hamburg")
    admin = AdminFactory(full_name="Ada Admin")
    staff = MembershipFactory(
        branch=branch, role=Role.STAFF, user__full_name="Sam Staff", user__email="sam@example.com"
    ).user
    MembershipFactory(user__email="taken@example.com")
    page = open_page(admin, reverse("person", args=[staff.pk]))

    page.get_by_label("Role at BER-01").select_option("MANAGER")
    page.get_by_role("button", name="Change role").click()
    expect(page.locator("#toasts")).to_contain_text("The role is changed.")
    expect(page.get_by_label("Role at BER-01")).to_have_value("MANAGER")
    page.get_by_role("textbox", name="E-mail address").fill("taken@example.com")
    page.get_by_role("button", name="Save name and e-mail address").click()

    expect(page.locator("#person-administration .field-error")).to_contain_text("already exists")
    expect(page.get_by_role("textbox", name="E-mail address")).to_have_value("taken@example.com")
    shoot(page, screenshots, "person-admin")
    staff.refresh_from_db()
    assert staff.email == "sam@example.com"
