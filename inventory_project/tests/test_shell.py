"""The page shell: navigation, the branch chosen in the URL, the alert badge, toasts, and
pages answered whole or as the partial an HTMX request swaps."""

import pytest
from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory
from alerts.tests.factories import EmptyStockLevelFactory, LowStockAlertFactory
from branches.tests.factories import BranchFactory
from inventory_project.kernel.pages import render_page
from inventory_project.tests.helpers import page_client

pytestmark = pytest.mark.django_db


def test_someone_of_one_branch_gets_no_switcher_and_that_branch_chosen(branch):
    manager = ManagerFactory(branch=branch).user

    response = page_client(manager).get(reverse("account"))

    assert 'id="branch-switcher"' not in response.text
    assert response.context["shell"].branch == branch


def test_someone_of_several_branches_chooses_one_or_all_in_the_url():
    manager = ManagerFactory(branch=BranchFactory(code="BER-01")).user
    MembershipFactory(user=manager, branch=BranchFactory(code="HAM-01"))
    client = page_client(manager)

    everything = client.get(reverse("account"))
    one = client.get(reverse("account"), {"branch": "ham-01"})

    assert 'id="branch-switcher"' in everything.text
    assert everything.context["shell"].branch is None
    assert one.context["shell"].branch.code == "HAM-01"
    assert '<option value="HAM-01" selected>' in one.text


def test_a_branch_the_user_may_not_view_chooses_nothing_in_the_shell(branch):
    manager = ManagerFactory(branch=branch).user
    BranchFactory(code="MUC-01")

    response = page_client(manager).get(reverse("account"), {"branch": "MUC-01"})

    assert response.status_code == 200
    assert "MUC-01" not in response.text


def test_the_badge_counts_the_open_alerts_of_the_chosen_branches(branch):
    manager = ManagerFactory(branch=branch).user
    LowStockAlertFactory(stock_level=EmptyStockLevelFactory(branch=branch))
    LowStockAlertFactory(stock_level=EmptyStockLevelFactory(branch=branch), resolved=True)
    LowStockAlertFactory()  # another branch's

    page = page_client(manager).get(reverse("account"))
    badge = page_client(manager).get(reverse("alert-badge"), HTTP_HX_REQUEST="true")

    assert '<span id="alert-badge" class="badge"' in page.text
    assert badge.status_code == 200
    assert badge.text.strip().startswith('<span id="alert-badge"')
    assert ">1</span>" in badge.text


def test_the_badge_costs_one_count_whatever_the_alerts(branch, django_assert_num_queries):
    admin = AdminFactory()
    client = page_client(admin)
    client.get(reverse("alert-badge"))  # the session is read once signed in
    for _ in range(3):
        LowStockAlertFactory(stock_level=EmptyStockLevelFactory(branch=branch))

    # Session, user, branches viewable, the count.
    with django_assert_num_queries(4):
        response = client.get(reverse("alert-badge"))
    assert ">3</span>" in response.text


def render(request, **kwargs) -> HttpResponse:
    return render_page(
        request,
        "accounts/home.html",
        {"branch_access": [], "api_tokens": []},
        partial="alerts/badge.html",
        **kwargs,
    )


def htmx_request(user, **headers):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django_htmx.middleware import HtmxDetails

    request = RequestFactory().get("/", headers=headers)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    request.htmx = HtmxDetails(request)
    return request


def test_an_htmx_request_gets_the_partial_with_its_messages_as_toasts():
    request = htmx_request(AdminFactory(), HX_Request="true")
    messages.success(request, "Received 5 pcs.")

    response = render(request)

    assert response.text.startswith('<span id="alert-badge"')
    assert 'hx-swap-oob="beforeend:#toasts"' in response.text
    assert "Received 5 pcs." in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HX_Request": "true", "HX_Boosted": "true"},
        {"HX_Request": "true", "HX_History_Restore_Request": "true"},
    ],
    ids=["plain", "boosted", "history-restore"],
)
def test_a_plain_boosted_or_history_request_gets_the_whole_page(headers):
    response = render(htmx_request(AdminFactory(), **headers))

    assert "<html" in response.text


@pytest.mark.parametrize("page_name", ["audit", "reports", "people", "imports"])
@pytest.mark.parametrize(("role", "shown"), [("admin", True), ("manager", True), ("staff", False)])
def test_the_manage_menu_is_in_the_navigation_of_managers_and_admins(
    branch, role, shown, page_name
):
    user = {
        "admin": lambda: AdminFactory(),
        "manager": lambda: ManagerFactory(branch=branch).user,
        "staff": lambda: MembershipFactory(branch=branch, role="STAFF").user,
    }[role]()

    page = page_client(user).get(reverse("home"))

    assert (f'href="{reverse(page_name)}' in page.content.decode()) is shown


def test_everyone_signed_in_finds_the_branch_directory_in_the_navigation(branch):
    staff = MembershipFactory(branch=branch, role="STAFF").user

    page = page_client(staff).get(reverse("home"))

    assert f'href="{reverse("branch-directory")}' in page.content.decode()


def test_everyone_signed_in_finds_the_transfers_in_the_navigation(branch):
    staff = MembershipFactory(branch=branch, role="STAFF").user

    page = page_client(staff).get(reverse("home"))

    assert f'href="{reverse("transfers")}' in page.content.decode()


def test_a_page_of_the_manage_menu_marks_the_menu_and_itself_current(branch):
    manager = ManagerFactory(branch=branch).user

    page = page_client(manager).get(reverse("report-movements")).content.decode()

    assert '<details class="navmore" data-current>' in page
    assert f'<a href="{reverse("reports")}?branch={branch.code}" aria-current="page">' in page
