"""The people pages: the list of the people a reader manages, one person's page with their
roles and account, the invitation form, and the page an invited person chooses their
password on.

ADMINs manage everyone; a MANAGER the members of the branches where they manage staff,
and only STAFF roles there. Every change goes through ``accounts.services``, which keep the
rules; the pages offer only what the services would allow, and show a refusal in words
beside the form it came from. Someone the reader may not manage answers 404, as for
someone who does not exist; a reader who manages no one is refused in words (403).
"""

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions, selectors, services
from accounts.forms import (
    AddMembershipForm,
    AdminRightsForm,
    ConfirmForm,
    InviteForm,
    MembershipRoleForm,
    PasswordResetMailForm,
    PeopleFilterForm,
    PersonDetailsForm,
    WelcomeForm,
)
from accounts.models import Role, User
from accounts.permissions import Action
from branches.errors import UnknownBranch
from inventory_project.kernel.api import DOMAIN_STATUS
from inventory_project.kernel.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from inventory_project.kernel.once import apply_once
from inventory_project.kernel.pages import render_page

PER_PAGE = 50
STATE_PARAMS = ("q", "branch", "role", "status", "sort", "page")


def _status(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return 400


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    context = {"message": error.message, "title": gettext("Not allowed")}
    return render_page(
        request,
        "accounts/people/refused.html",
        context,
        partial="accounts/people/_refused.html",
        status=_status(error),
    )


def _show_on_form(form: forms.Form, error: DomainError, *, about: str | None = None) -> None:
    """A service's refusal beside the field it names (else beside ``about``, the field a
    refusal of bad input or a conflict is about), else at the top of the form."""
    name = error.field
    if name is None and isinstance(error, InvalidInput | Conflict):
        name = about
    form.add_error(name if name in form.fields else None, error.message)


def _role_choices(actor: User) -> list[tuple[str, Any]]:
    """The roles ``actor`` may give: both for ADMINs, STAFF for MANAGERs."""
    roles = Role.choices if permissions.is_admin(actor) else [(Role.STAFF, Role.STAFF.label)]
    return [(str(value), capfirst(label)) for value, label in roles]


# The list ------------------------------------------------------------------------------------


@login_required
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    actor = request.user
    admin = permissions.is_admin(actor)
    branches = selectors.managing_branches(actor)
    if not branches and not admin:
        return _refused(
            request, NotPermitted(gettext("Only managers and administrators manage people."))
        )
    form = PeopleFilterForm(request.GET, branches=branches, is_admin=admin)
    form.is_valid()
    branch = _chosen_branch(request, form, branches)
    number = form.value("page") or 1
    users = selectors.people(
        actor,
        text=form.value("q"),
        branch=branch,
        role=form.value("role"),
        status=form.value("status"),
        sort=form.value("sort"),
    )
    rows = list(users[(number - 1) * PER_PAGE : number * PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE
    here = reverse("people")
    state = {
        "q": form.value("q") or "",
        "branch": branch.code if branch is not None else "",
        "role": form.value("role") or "",
        "status": form.value("status") or "",
        "sort": form.value("sort") or "",
    }
    context = {
        "form": form,
        "branches": branches,
        "branch": branch,
        "rows": rows[:PER_PAGE],
        "page_number": number,
        "here": here + _query(**state, page=number),
        "previous_query": here + _query(**state, page=number - 1) if number > 1 else "",
        "next_query": here + _query(**state, page=number + 1) if has_next else "",
        "narrowed": any(state.values()),
    }
    return render_page(
        request, "accounts/people/list.html", context, partial="accounts/people/_results.html"
    )


def _chosen_branch(request: HttpRequest, form: PeopleFilterForm, managed: list):
    """The branch ``?branch=`` names: None for all; 404 for one the reader may not view;
    an error beside the field for one they view but do not manage."""
    code = (form.value("branch") or "").strip()
    if not code or code == "all":
        return None
    for branch in managed:
        if branch.code.casefold() == code.casefold():
            return branch
    try:
        selectors.chosen_branch(selectors.viewable_branches(request.user), code)
    except UnknownBranch as error:
        raise Http404(error.message) from None
    form.add_error("branch", gettext("You do not manage the people of %(code)s.") % {"code": code})
    return None


def _query(**params: object) -> str:
    """``?q=…&role=…`` leaving out what is empty and the first page."""
    if params.get("page") == 1:
        params.pop("page")
    tidy = {name: value for name, value in params.items() if value}
    return "?" + urlencode(tidy) if tidy else ""


# One person ---------------------------------------------------------------------------------


def _visible_person(request: HttpRequest, user_id) -> User:
    """The person, for a reader who manages them; 404 for anyone else. A reader who manages
    no one is refused (raised as NotPermitted, answered by the caller)."""
    try:
        return selectors.person(request.user, user_id)
    except NotFound as error:
        raise Http404(error.message) from None


def _guarded(view: Callable) -> Callable:
    """The person views answer a reader who manages no one with a refusal in words."""

    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotPermitted as error:
            return _refused(request, error)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@login_required
@require_GET
@_guarded
def person(request: HttpRequest, user_id) -> HttpResponse:
    return _person_page(request, _visible_person(request, user_id))


def _person_page(
    request: HttpRequest, person: User, *, failed: dict | None = None, status: int = 200
) -> HttpResponse:
    actor = request.user
    failed = failed or {}
    admin = permissions.is_admin(actor)
    roles, elsewhere = selectors.person_roles(actor, person)
    held = {row.membership.branch_id for row in roles}
    addable = [branch for branch in selectors.managing_branches(actor) if branch.pk not in held]
    role_rows = []
    for row in roles:
        membership = row.membership
        role_form = failed.get(f"role-{membership.pk}") or MembershipRoleForm(
            prefix=f"role-{membership.pk}", initial={"role": membership.role}
        )
        remove_form = failed.get(f"remove-{membership.pk}") or ConfirmForm(
            prefix=f"remove-{membership.pk}"
        )
        role_rows.append({"row": row, "role_form": role_form, "remove_form": remove_form})
    context = {
        "person": person,
        "is_self": person.pk == actor.pk,
        "invited": not person.has_usable_password(),
        "admin": admin,
        "roles": role_rows,
        "elsewhere": elsewhere,
        "may_change_account": permissions.may_change_account(actor, person),
        "add_form": failed.get("add")
        or AddMembershipForm(prefix="add", branches=addable, roles=_role_choices(actor)),
        "addable": addable,
        "details_form": failed.get("details")
        or PersonDetailsForm(
            prefix="details", initial={"email": person.email, "full_name": person.full_name}
        ),
        "admin_form": failed.get("admin")
        or AdminRightsForm(
            prefix="admin", initial={"is_admin": "false" if person.is_superuser else "true"}
        ),
        "reactivate_form": failed.get("reactivate") or ConfirmForm(prefix="reactivate"),
        "invite_form": failed.get("invitation") or ConfirmForm(prefix="invitation"),
        "reset_form": failed.get("reset") or ConfirmForm(prefix="reset"),
        "refusal": [str(error) for form in failed.values() for error in form.non_field_errors()],
    }
    return render_page(
        request,
        "accounts/people/person.html",
        context,
        partial="accounts/people/_person.html",
        status=status,
    )


def _act(
    request: HttpRequest,
    person: User,
    *,
    form: forms.Form,
    name: str,
    apply: Callable[[], Any],
    done: str,
    back: str | None = None,
    page: Callable[[forms.Form, int], HttpResponse] | None = None,
    about: str | None = None,
) -> HttpResponse:
    """Apply a posted form's service once; on success a message and back to the person's
    page (or ``back``), else the page again with the refusal beside the form."""

    def again(status: int) -> HttpResponse:
        if page is not None:
            return page(form, status)
        return _person_page(request, person, failed={name: form}, status=status)

    if not form.is_valid():
        return again(400)

    def once() -> dict:
        apply()
        return {}

    try:
        _result, replayed = apply_once(
            request.user, form.cleaned_data["once"], f"people:{name}:{person.pk}", once
        )
    except NotFound as error:
        raise Http404(error.message) from None
    except DomainError as error:
        _show_on_form(form, error, about=about)
        return again(_status(error))
    if replayed:
        done = gettext("Already done, nothing more was changed: %(done)s") % {"done": done}
    messages.success(request, done)
    return redirect(back or reverse("person", args=[person.pk]))


@login_required
@require_POST
@_guarded
def person_details(request: HttpRequest, user_id) -> HttpResponse:
    person = _visible_person(request, user_id)
    form = PersonDetailsForm(request.POST, prefix="details")
    return _act(
        request,
        person,
        form=form,
        name="details",
        apply=lambda: services.update_user(
            actor=request.user,
            user_id=person.pk,
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
        ),
        done=gettext("The name and e-mail address are saved."),
        about="email",
    )


@login_required
@require_POST
@_guarded
def person_admin(request: HttpRequest, user_id) -> HttpResponse:
    person = _visible_person(request, user_id)
    form = AdminRightsForm(request.POST, prefix="admin")
    making = form.data.get("admin-is_admin") == "true"
    return _act(
        request,
        person,
        form=form,
        name="admin",
        apply=lambda: services.update_user(
            actor=request.user, user_id=person.pk, is_admin=form.cleaned_data["is_admin"]
        ),
        done=(
            gettext("%(who)s is now an administrator.")
            if making
            else gettext("%(who)s is no longer an administrator.")
        )
        % {"who": person},
    )


@login_required
@require_http_methods(["GET", "POST"])
@_guarded
def person_deactivate(request: HttpRequest, user_id) -> HttpResponse:
    """Deactivation asks to be confirmed on a page of its own (it signs the person out
    everywhere), which works without JavaScript."""
    person = _visible_person(request, user_id)

    def page(form: ConfirmForm, status: int = 200) -> HttpResponse:
        context = {"person": person, "form": form}
        return render_page(request, "accounts/people/deactivate.html", context, status=status)

    if not person.is_active:
        messages.info(request, gettext("%(who)s is already deactivated.") % {"who": person})
        return redirect("person", person.pk)
    if not permissions.may_change_account(request.user, person):
        return _refused(request, _not_yours(person))
    if request.method == "GET":
        return page(ConfirmForm(prefix="deactivate"))
    form = ConfirmForm(request.POST, prefix="deactivate")
    return _act(
        request,
        person,
        form=form,
        name="deactivate",
        apply=lambda: services.deactivate_user(actor=request.user, user_id=person.pk),
        done=gettext("%(who)s is deactivated and signed out everywhere.") % {"who": person},
        page=page,
    )


def _not_yours(person: User) -> NotPermitted:
    return NotPermitted(
        gettext(
            "You may not switch %(who)s's account off or on: they are not only staff of "
            "branches you manage."
        )
        % {"who": person}
    )


@login_required
@require_POST
@_guarded
def person_reactivate(request: HttpRequest, user_id) -> HttpResponse:
    person = _visible_person(request, user_id)
    form = ConfirmForm(request.POST, prefix="reactivate")
    return _act(
        request,
        person,
        form=form,
        name="reactivate",
        apply=lambda: services.reactivate_user(actor=request.user, user_id=person.pk),
        done=gettext("%(who)s may sign in again.") % {"who": person},
    )


@login_required
@require_POST
@_guarded
def person_invitation(request: HttpRequest, user_id) -> HttpResponse:
    person = _visible_person(request, user_id)
    form = ConfirmForm(request.POST, prefix="invitation")
    return _act(
        request,
        person,
        form=form,
        name="invitation",
        apply=lambda: services.resend_invitation(actor=request.user, user_id=person.pk),
        done=gettext("A new invitation is on its way to %(email)s.") % {"email": person.email},
    )


@login_required
@require_POST
@_guarded
def person_password_reset(request: HttpRequest, user_id) -> HttpResponse:
    """An ADMIN mails someone a password-reset link (the mail of "Forgot your password?"),
    for someone who has a password; one who never chose one is invited again instead."""
    person = _visible_person(request, user_id)
    form = ConfirmForm(request.POST, prefix="reset")

    def send() -> None:
        permissions.require_admin(
            request.user, gettext("Only an administrator sends password-reset links.")
        )
        if not person.is_active or not person.has_usable_password():
            raise Conflict(
                gettext("%(email)s has no password to reset: send the invitation again.")
                % {"email": person.email}
            )
        mail = PasswordResetMailForm({"email": person.email})
        if mail.is_valid():
            mail.save(
                request=request,
                email_template_name="registration/password_reset_email.txt",
                html_email_template_name="registration/password_reset_email.html",
            )

    return _act(
        request,
        person,
        form=form,
        name="reset",
        apply=send,
        done=gettext("A password-reset link is on its way to %(email)s.") % {"email": person.email},
    )


@login_required
@require_POST
@_guarded
def membership_add(request: HttpRequest, user_id) -> HttpResponse:
    actor = request.user
    person = _visible_person(request, user_id)
    _hide_unseen_branch(request, selectors.managing_branches(actor), field="add-branch")
    form = AddMembershipForm(
        request.POST,
        prefix="add",
        branches=selectors.managing_branches(actor),
        roles=_role_choices(actor),
    )
    return _act(
        request,
        person,
        form=form,
        name="add",
        apply=lambda: services.add_membership(
            actor=actor,
            email=person.email,
            branch_id=form.cleaned_data["branch"],
            role=form.cleaned_data["role"],
        ),
        done=gettext("The new role is saved."),
    )


@login_required
@require_POST
@_guarded
def membership_role(request: HttpRequest, user_id, membership_id) -> HttpResponse:
    person = _visible_person(request, user_id)
    form = MembershipRoleForm(request.POST, prefix=f"role-{membership_id}")
    return _act(
        request,
        person,
        form=form,
        name=f"role-{membership_id}",
        apply=lambda: (
            _check_role_of(person, membership_id)
            and services.change_membership_role(
                actor=request.user, membership_id=membership_id, role=form.cleaned_data["role"]
            )
        ),
        done=gettext("The role is changed."),
    )


@login_required
@require_POST
@_guarded
def membership_remove(request: HttpRequest, user_id, membership_id) -> HttpResponse:
    person = _visible_person(request, user_id)
    form = ConfirmForm(request.POST, prefix=f"remove-{membership_id}")
    return _act(
        request,
        person,
        form=form,
        name=f"remove-{membership_id}",
        apply=lambda: (
            _check_role_of(person, membership_id)
            and services.remove_membership(actor=request.user, membership_id=membership_id)
        ),
        done=gettext("The role is removed."),
    )


def _hide_unseen_branch(request: HttpRequest, offered: list, *, field: str) -> None:
    """A posted branch the reader may not even see answers 404, as it does everywhere; one
    they see but do not manage is an error beside the field."""
    posted = request.POST.get(field, "")
    try:
        branch_id = uuid.UUID(posted)
    except ValueError:
        return
    if any(branch.pk == branch_id for branch in offered):
        return
    try:
        permissions.check(request.user, Action.VIEW, branch_id)
    except UnknownBranch as error:
        raise Http404(error.message) from None


def _check_role_of(person: User, membership_id) -> bool:
    """The role is the person's (checked when applied, so that a replayed removal still
    answers as the first did)."""
    if not person.memberships.filter(pk=membership_id).exists():
        raise NotFound("No such role.")
    return True


# Inviting --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    actor = request.user
    branches = selectors.managing_branches(actor)
    if not branches:
        message = (
            gettext("There is no branch to invite people to yet.")
            if permissions.is_admin(actor)
            else gettext("Only managers and administrators invite people.")
        )
        return _refused(request, NotPermitted(message))
    kwargs = {"branches": branches, "roles": _role_choices(actor)}
    if request.method == "GET":
        initial = {}
        code = request.GET.get("branch", "")
        for branch in branches:
            if branch.code.casefold() == code.casefold():
                initial["branch"] = str(branch.pk)
        return _invite_page(request, InviteForm(initial=initial, **kwargs))
    _hide_unseen_branch(request, branches, field="branch")
    form = InviteForm(request.POST, **kwargs)
    if not form.is_valid():
        return _invite_page(request, form, status=400)
    data = form.cleaned_data

    def once() -> dict:
        user = services.invite_user(
            actor=actor,
            email=data["email"],
            full_name=data["full_name"],
            branch_id=data["branch"],
            role=data["role"],
            language=data["language"],
        )
        return {"user": str(user.pk)}

    try:
        result, replayed = apply_once(actor, data["once"], "people:invite", once)
    except DomainError as error:
        _show_on_form(form, error)
        return _invite_page(request, form, status=_status(error))
    done = gettext("The invitation is on its way to %(email)s.") % {"email": data["email"]}
    if replayed:
        done = gettext("Already done, nothing more was changed: %(done)s") % {"done": done}
    messages.success(request, done)
    return redirect("person", result["user"])


def _invite_page(request: HttpRequest, form: InviteForm, status: int = 200) -> HttpResponse:
    return render_page(request, "accounts/people/invite.html", {"form": form}, status=status)


# The invitation's link -----------------------------------------------------------------------


class WelcomeView(auth_views.PasswordResetConfirmView):
    """The link of an invitation: the invited person chooses their password (through
    ``services.reset_password``, as after a reset link) and is signed in. A link that was
    used, is too old or was made up says so in words; so does one for a deactivated
    account."""

    form_class = WelcomeForm
    template_name = "registration/welcome.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")
    title = _("Choose your password")

    def get_user(self, uidb64: str):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, gettext("Welcome! Your password is set."))
        return response
