"""The people pages: the list of the people a reader manages, one person's page and the
changes it offers, each through the services and each acting once."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from accounts import services
from accounts.models import Membership, Role, User
from accounts.tests.factories import AdminFactory, ManagerFactory, MembershipFactory, UserFactory
from branches.tests.factories import BranchFactory
from inventory_project.kernel.once import new_key
from inventory_project.tests.helpers import page_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch(db):
    return BranchFactory(code="BER-01", name="Berlin Mitte")


@pytest.fixture
def elsewhere(db):
    return BranchFactory(code="HAM-01", name="Hamburg")


@pytest.fixture
def manager(branch):
    return ManagerFactory(branch=branch, user__full_name="Anna Manager").user


@pytest.fixture
def staff(branch):
    return MembershipFactory(
        branch=branch, role=Role.STAFF, user__full_name="Sam Staff", user__email="sam@example.com"
    ).user


@pytest.fixture
def stranger(elsewhere):
    """Staff of a branch the manager does not manage."""
    return MembershipFactory(
        branch=elsewhere, role=Role.STAFF, user__full_name="Hanna Hamburg"
    ).user


def names(response) -> list[str]:
    return [person.full_name for person in response.context["rows"]]


def post(client, name, args, data):
    return client.post(reverse(name, args=args), {**data})


# The list ------------------------------------------------------------------------------------


def test_a_manager_sees_the_people_of_their_branch_and_no_one_else(manager, staff, stranger):
    response = page_client(manager).get(reverse("people"))

    assert response.status_code == 200
    assert names(response) == ["Anna Manager", "Sam Staff"]
    assertContains(response, "BER-01")
    assertNotContains(response, "Hanna Hamburg")


def test_an_administrator_sees_everyone(manager, staff, stranger):
    admin = AdminFactory(full_name="Ada Admin")

    response = page_client(admin).get(reverse("people"))

    assert names(response) == ["Ada Admin", "Anna Manager", "Hanna Hamburg", "Sam Staff"]


def test_staff_are_refused_the_list_in_words(staff):
    response = page_client(staff).get(reverse("people"))

    assert response.status_code == 403
    assertContains(response, "Only managers and administrators manage people.", status_code=403)


def test_someone_signed_out_is_sent_to_sign_in(client):
    response = client.get(reverse("people"))

    assertRedirects(response, f"{reverse('login')}?next={reverse('people')}")


def test_the_list_is_searched_by_name_or_email(manager, staff):
    client = page_client(manager)

    assert names(client.get(reverse("people"), {"q": "sam@"})) == ["Sam Staff"]
    assert names(client.get(reverse("people"), {"q": "anna"})) == ["Anna Manager"]


def test_the_list_is_filtered_by_role_and_status(manager, staff, branch):
    invited = services.invite_user(
        actor=manager,
        email="new@example.com",
        full_name="Nina New",
        branch_id=branch.pk,
        role="STAFF",
    )
    gone = MembershipFactory(branch=branch, user__full_name="Gus Gone").user
    services.deactivate_user(actor=manager, user_id=gone.pk)
    client = page_client(manager)

    assert names(client.get(reverse("people"), {"role": "MANAGER"})) == ["Anna Manager"]
    assert names(client.get(reverse("people"), {"status": "invited"})) == [invited.full_name]
    assert names(client.get(reverse("people"), {"status": "deactivated"})) == ["Gus Gone"]
    assert "Gus Gone" not in names(client.get(reverse("people"), {"status": "active"}))


def test_the_list_is_filtered_by_a_branch_the_reader_manages(manager, staff, elsewhere):
    ManagerFactory(user=manager, branch=elsewhere)
    hamburg = MembershipFactory(branch=elsewhere, user__full_name="Hanna Hamburg").user

    response = page_client(manager).get(reverse("people"), {"branch": "ham-01"})

    assert names(response) == ["Anna Manager", hamburg.full_name]
    assertContains(response, "People of HAM-01")


def test_a_branch_the_reader_may_not_see_answers_404(manager, elsewhere):
    response = page_client(manager).get(reverse("people"), {"branch": "HAM-01"})

    assert response.status_code == 404


def test_a_branch_where_the_reader_is_only_staff_is_an_error_beside_the_field(
    manager, staff, elsewhere
):
    MembershipFactory(user=manager, branch=elsewhere, role=Role.STAFF)

    response = page_client(manager).get(reverse("people"), {"branch": "HAM-01"})

    assert response.status_code == 200
    assert response.context["form"].errors["branch"] == ["You do not manage the people of HAM-01."]
    assert names(response) == ["Anna Manager", "Sam Staff"]


def test_values_that_do_not_parse_are_errors_and_the_list_still_answers(manager, staff):
    response = page_client(manager).get(
        reverse("people"), {"role": "OWNER", "status": "x", "sort": "?", "page": "-3"}
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"role", "status", "sort"}
    assert names(response) == ["Anna Manager", "Sam Staff"]


def test_the_list_is_sorted_by_latest_sign_in(manager, staff):
    User.objects.filter(pk=staff.pk).update(last_login="2026-11-01T10:00:00Z")
    MembershipFactory(branch=staff.memberships.get().branch, user__full_name="Ned Never")
    client = page_client(manager)  # signs the manager in now

    latest = client.get(reverse("people"), {"sort": "-last_login"})
    longest = client.get(reverse("people"), {"sort": "last_login"})

    assert names(latest) == ["Anna Manager", "Sam Staff", "Ned Never"]
    assert names(longest) == ["Ned Never", "Sam Staff", "Anna Manager"]


def test_an_htmx_request_gets_the_results_alone(manager, staff):
    response = page_client(manager).get(reverse("people"), {"q": "sam"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.startswith('<section id="people-results"')
    assert "Sam Staff" in html
    assert "people-filters" not in html


def test_the_list_pages_by_fifty_and_the_address_keeps_the_filters(manager, branch):
    for number in range(55):
        MembershipFactory(branch=branch, user__full_name=f"Person {number:02d}")
    client = page_client(manager)

    first = client.get(reverse("people"), {"role": "STAFF"})
    second = client.get(reverse("people"), {"role": "STAFF", "page": "2"})

    assert len(first.context["rows"]) == 50
    assert first.context["next_query"] == reverse("people") + "?role=STAFF&page=2"
    assert len(second.context["rows"]) == 5
    assert second.context["previous_query"] == reverse("people") + "?role=STAFF"
    assert not set(names(first)) & set(names(second))


def list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("people"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_the_list_costs_the_same_queries_for_few_and_many_people(who, manager, branch, elsewhere):
    reader = manager if who == "manager" else AdminFactory()
    client = page_client(reader)
    MembershipFactory(branch=branch)
    client.get(reverse("people"))  # sessions and caches warmed
    few = list_queries(client)
    for _ in range(30):
        person = MembershipFactory(branch=branch).user
        MembershipFactory(user=person, branch=elsewhere, role=Role.MANAGER)

    many = list_queries(client)

    assert few == many


# A person's page -----------------------------------------------------------------------------


def test_a_manager_sees_their_staff_member_s_page(manager, staff):
    response = page_client(manager).get(reverse("person", args=[staff.pk]))

    assert response.status_code == 200
    assertContains(response, "Sam Staff")
    assertContains(response, "sam@example.com")
    assertContains(response, "Remove from BER-01")
    assertContains(response, reverse("person-deactivate", args=[staff.pk]))


@pytest.mark.parametrize("who", ["other manager", "unknown"])
def test_someone_the_reader_does_not_manage_answers_404(who, manager, staff, elsewhere):
    reader = ManagerFactory(branch=elsewhere).user if who == "other manager" else manager
    target = staff.pk if who == "other manager" else "6f1c2c1e-0000-4000-8000-000000000000"

    response = page_client(reader).get(reverse("person", args=[target]))

    assert response.status_code == 404


def test_staff_are_refused_a_person_s_page_in_words(staff, manager):
    response = page_client(staff).get(reverse("person", args=[manager.pk]))

    assert response.status_code == 403


def test_a_manager_is_not_offered_changes_to_a_fellow_manager(manager, branch):
    colleague = ManagerFactory(branch=branch).user

    response = page_client(manager).get(reverse("person", args=[colleague.pk]))

    assertNotContains(response, "Remove from BER-01")
    assertNotContains(response, reverse("person-deactivate", args=[colleague.pk]))
    assertContains(response, "Only an administrator changes a manager's role.")


def test_a_manager_sees_only_the_roles_at_branches_they_manage(manager, staff, elsewhere):
    MembershipFactory(user=staff, branch=elsewhere, role=Role.STAFF)

    response = page_client(manager).get(reverse("person", args=[staff.pk]))

    assertNotContains(response, "HAM-01")
    assertContains(response, "Also holds a role at 1 branch you do not manage.")


def person_queries(client, person) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("person", args=[person.pk]))
    assert response.status_code == 200
    return len(queries)


def test_a_person_s_page_costs_the_same_queries_for_few_and_many_roles(manager, branch):
    admin = AdminFactory()
    person = MembershipFactory(branch=branch).user
    client = page_client(admin)
    client.get(reverse("person", args=[person.pk]))
    few = person_queries(client, person)
    for _ in range(12):
        MembershipFactory(user=person, branch=BranchFactory())

    many = person_queries(client, person)

    assert few == many


# Changes -------------------------------------------------------------------------------------


def test_an_administrator_changes_a_role(branch, staff):
    membership = Membership.objects.get(user=staff)
    prefix = f"role-{membership.pk}"

    response = post(
        page_client(AdminFactory()),
        "person-role-change",
        [staff.pk, membership.pk],
        {f"{prefix}-role": "MANAGER", f"{prefix}-once": new_key()},
    )

    assertRedirects(response, reverse("person", args=[staff.pk]))
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER


def test_a_manager_who_posts_a_promotion_is_refused_in_words(manager, staff):
    membership = Membership.objects.get(user=staff)
    prefix = f"role-{membership.pk}"

    response = post(
        page_client(manager),
        "person-role-change",
        [staff.pk, membership.pk],
        {f"{prefix}-role": "MANAGER", f"{prefix}-once": new_key()},
    )

    assert response.status_code == 403
    assertContains(response, "You may not change manager roles at BER-01.", status_code=403)
    membership.refresh_from_db()
    assert membership.role == Role.STAFF


def test_a_role_of_someone_else_answers_404(manager, staff, branch):
    other = MembershipFactory(branch=branch)
    prefix = f"remove-{other.pk}"

    response = post(
        page_client(manager),
        "person-role-remove",
        [staff.pk, other.pk],
        {f"{prefix}-once": new_key()},
    )

    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


def test_a_manager_removes_a_staff_role_once_however_often_it_is_sent(manager, staff, elsewhere):
    ManagerFactory(user=manager, branch=elsewhere)
    second = MembershipFactory(user=staff, branch=elsewhere)
    membership = Membership.objects.get(user=staff, branch__code="BER-01")
    client = page_client(manager)
    data = {f"remove-{membership.pk}-once": new_key()}

    first = post(client, "person-role-remove", [staff.pk, membership.pk], data)
    again = post(client, "person-role-remove", [staff.pk, membership.pk], data)

    assert first.status_code == again.status_code == 302
    assert list(Membership.objects.filter(user=staff)) == [second]
    messages = [str(m) for m in again.wsgi_request._messages]
    assert any("Already done" in message for message in messages)


def test_a_manager_adds_a_staff_role_at_another_branch_they_manage(manager, staff, elsewhere):
    ManagerFactory(user=manager, branch=elsewhere)

    response = post(
        page_client(manager),
        "person-role-add",
        [staff.pk],
        {"add-branch": str(elsewhere.pk), "add-role": "STAFF", "add-once": new_key()},
    )

    assertRedirects(response, reverse("person", args=[staff.pk]))
    assert Membership.objects.get(user=staff, branch=elsewhere).role == Role.STAFF


def test_a_role_the_reader_may_not_give_is_an_error_beside_the_field(manager, staff, elsewhere):
    ManagerFactory(user=manager, branch=elsewhere)

    response = post(
        page_client(manager),
        "person-role-add",
        [staff.pk],
        {"add-branch": str(elsewhere.pk), "add-role": "MANAGER", "add-once": new_key()},
    )

    assert response.status_code == 400
    assert "role" in response.context["add_form"].errors
    assert not Membership.objects.filter(user=staff, branch=elsewhere).exists()


def test_deactivation_is_confirmed_on_a_page_of_its_own(manager, staff):
    client = page_client(manager)

    page = client.get(reverse("person-deactivate", args=[staff.pk]))
    key = re.search(r'name="deactivate-once" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(reverse("person-deactivate", args=[staff.pk]), {"deactivate-once": key})

    assertContains(page, "Deactivate Sam Staff?")
    assertRedirects(response, reverse("person", args=[staff.pk]))
    staff.refresh_from_db()
    assert not staff.is_active


def test_a_manager_may_not_deactivate_a_fellow_manager(manager, branch):
    colleague = ManagerFactory(branch=branch).user

    response = page_client(manager).post(
        reverse("person-deactivate", args=[colleague.pk]), {"deactivate-once": new_key()}
    )

    assert response.status_code == 403
    colleague.refresh_from_db()
    assert colleague.is_active


def test_a_deactivated_person_is_reactivated(manager, staff):
    services.deactivate_user(actor=manager, user_id=staff.pk)

    response = page_client(manager).post(
        reverse("person-reactivate", args=[staff.pk]), {"reactivate-once": new_key()}
    )

    assertRedirects(response, reverse("person", args=[staff.pk]))
    staff.refresh_from_db()
    assert staff.is_active


def test_an_administrator_changes_name_and_address(staff):
    response = page_client(AdminFactory()).post(
        reverse("person-details", args=[staff.pk]),
        {
            "details-full_name": "Samira Staff",
            "details-email": "samira@example.com",
            "details-once": new_key(),
        },
    )

    assertRedirects(response, reverse("person", args=[staff.pk]))
    staff.refresh_from_db()
    assert (staff.full_name, staff.email) == ("Samira Staff", "samira@example.com")


def test_a_used_address_is_an_error_beside_the_field_and_what_was_typed_stays(staff):
    UserFactory(email="taken@example.com")

    response = page_client(AdminFactory()).post(
        reverse("person-details", args=[staff.pk]),
        {
            "details-full_name": "Samira Typed",
            "details-email": "taken@example.com",
            "details-once": new_key(),
        },
    )

    assert response.status_code == 409
    assert response.context["details_form"].errors["email"]
    assertContains(response, 'value="Samira Typed"', status_code=409)
    staff.refresh_from_db()
    assert staff.email == "sam@example.com"


def test_a_manager_may_not_change_names(manager, staff):
    response = page_client(manager).post(
        reverse("person-details", args=[staff.pk]),
        {"details-full_name": "X", "details-email": "x@example.com", "details-once": new_key()},
    )

    assert response.status_code == 403
    staff.refresh_from_db()
    assert staff.full_name == "Sam Staff"


def test_an_administrator_makes_and_unmakes_an_administrator(staff):
    client = page_client(AdminFactory())

    made = client.post(
        reverse("person-admin", args=[staff.pk]),
        {"admin-is_admin": "true", "admin-once": new_key()},
    )
    staff.refresh_from_db()
    assert staff.is_superuser
    unmade = client.post(
        reverse("person-admin", args=[staff.pk]),
        {"admin-is_admin": "false", "admin-once": new_key()},
    )

    assert made.status_code == unmade.status_code == 302
    staff.refresh_from_db()
    assert not staff.is_superuser


def test_a_form_posted_without_its_key_is_refused_and_changes_nothing(manager, staff):
    response = page_client(manager).post(reverse("person-reactivate", args=[staff.pk]), {})

    assert response.status_code == 400


def test_an_administrator_mails_someone_a_password_reset_link(
    staff, mailoutbox, django_capture_on_commit_callbacks, settings
):
    from accounts import tasks

    conf = tasks.send_password_reset_email.app.conf
    was_eager, conf.task_always_eager = conf.task_always_eager, True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = page_client(AdminFactory()).post(
                reverse("person-password-reset", args=[staff.pk]), {"reset-once": new_key()}
            )
    finally:
        conf.task_always_eager = was_eager

    assertRedirects(response, reverse("person", args=[staff.pk]))
    [message] = mailoutbox
    assert message.to == ["sam@example.com"]
    assert "/account/password/reset/" in message.body


def test_a_manager_may_not_mail_password_reset_links(manager, staff, mailoutbox):
    response = page_client(manager).post(
        reverse("person-password-reset", args=[staff.pk]), {"reset-once": new_key()}
    )

    assert response.status_code == 403
    assert mailoutbox == []


# Who may do what, as the page permission matrix puts it ----------------------------------------

ACTORS = ["admin", "manager", "staff", "other_manager", "anonymous"]


@pytest.fixture
def world(branch, elsewhere, manager, staff):
    return {
        "admin": AdminFactory(),
        "manager": manager,
        "staff": staff,
        "other_manager": ManagerFactory(branch=elsewhere).user,
        "anonymous": None,
    }


def client_of(world, who):
    return page_client(world[who]) if world[who] is not None else Client()


def outcome(response, *, posted: bool = False) -> str:
    if response.status_code == 302 and "/account/sign-in/" in response["Location"]:
        return "sign in"
    if posted and response.status_code in (200, 302):
        return "done"
    return {200: "seen", 403: "refused", 404: "hidden"}.get(response.status_code, "unexpected")


PAGES = {
    "people": (lambda w: reverse("people"), ["seen", "seen", "refused", "seen", "sign in"]),
    "people of the branch": (
        lambda w: reverse("people") + "?branch=BER-01",
        ["seen", "seen", "refused", "hidden", "sign in"],
    ),
    "person page": (
        lambda w: reverse("person", args=[w["staff"].pk]),
        ["seen", "seen", "refused", "hidden", "sign in"],
    ),
    "invite form": (
        lambda w: reverse("person-invite"),
        ["seen", "seen", "refused", "seen", "sign in"],
    ),
    "deactivation page": (
        lambda w: reverse("person-deactivate", args=[w["staff"].pk]),
        ["seen", "seen", "refused", "hidden", "sign in"],
    ),
    "invitation link": (
        lambda w: reverse("welcome", args=["bm9ib2R5", "x-y"]),
        ["seen", "seen", "seen", "seen", "seen"],
    ),
}


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("who", ACTORS)
def test_who_gets_each_people_page(world, name, who):
    address, expected = PAGES[name]

    response = client_of(world, who).get(address(world))

    assert outcome(response) == expected[ACTORS.index(who)]


def invite_someone(world, client):
    response = client.post(
        reverse("person-invite"),
        {
            "email": "invited@example.com",
            "branch": str(Membership.objects.get(user=world["staff"]).branch_id),
            "role": "STAFF",
            "once": "invite-key",
        },
    )
    return response, User.objects.filter(email="invited@example.com").exists()


def deactivate_staff(world, client):
    staff = world["staff"]
    response = client.post(
        reverse("person-deactivate", args=[staff.pk]), {"deactivate-once": "deactivate-key"}
    )
    staff.refresh_from_db()
    return response, not staff.is_active


def remove_staff_role(world, client):
    membership = Membership.objects.get(user=world["staff"])
    response = client.post(
        reverse("person-role-remove", args=[membership.user_id, membership.pk]),
        {f"remove-{membership.pk}-once": "remove-key"},
    )
    return response, not Membership.objects.filter(pk=membership.pk).exists()


def add_staff_role(world, client):
    person = UserFactory()
    MembershipFactory(user=person, branch=Membership.objects.get(user=world["staff"]).branch)
    other = BranchFactory()
    ManagerFactory(user=world["manager"], branch=other)
    response = client.post(
        reverse("person-role-add", args=[person.pk]),
        {"add-branch": str(other.pk), "add-role": "STAFF", "add-once": "add-key"},
    )
    return response, Membership.objects.filter(user=person, branch=other).exists()


FORMS = {
    "invite someone": (invite_someone, ["done", "done", "refused", "hidden"]),
    "deactivate staff": (deactivate_staff, ["done", "done", "refused", "hidden"]),
    "remove a staff role": (remove_staff_role, ["done", "done", "refused", "hidden"]),
    "add a staff role": (add_staff_role, ["done", "done", "refused", "hidden"]),
}


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize("who", ACTORS)
def test_who_may_post_each_people_form(world, name, who):
    post, expected = FORMS[name]

    response, changed = post(world, client_of(world, who))

    result = outcome(response, posted=True)
    assert result == [*expected, "sign in"][ACTORS.index(who)], response.content[:300]
    assert changed == (result == "done")
