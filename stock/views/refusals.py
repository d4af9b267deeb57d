"""Refusals on a page: a domain error's status code, a page that says it in words, and
404 for a branch the reader may not view."""

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext

from accounts import selectors
from branches.errors import UnknownBranch
from branches.models import Branch
from inventory_project.kernel.api import DOMAIN_STATUS
from inventory_project.kernel.errors import DomainError, NotPermitted
from inventory_project.kernel.pages import render_page


def status_of(error: DomainError) -> int:
    """The HTTP status a page answers a refusal with (403, 404, 400, 409...)."""
    for kind in type(error).__mro__:
        if kind in DOMAIN_STATUS:
            return DOMAIN_STATUS[kind]
    return 400


def refused(request: HttpRequest, error: DomainError, *, title: str = "") -> HttpResponse:
    """A whole page (or its partial for HTMX) saying why nothing was done."""
    if not title and isinstance(error, NotPermitted):
        title = gettext("Not allowed")
    context = {"message": error.message, "title": title}
    return render_page(
        request,
        "catalog/refused.html",
        context,
        partial="catalog/_refused.html",
        status=status_of(error),
    )


def show_on_form(form: forms.Form, error: DomainError, *, fields: dict[str, str] | None = None):
    """Put a service's refusal beside the field it names (``fields`` maps a service's field
    name to the form's), or at the top of the form."""
    name = (fields or {}).get(error.field, error.field) if error.field else None
    form.add_error(name if name in form.fields else None, error.message)


def chosen_branch(request: HttpRequest, branches: list[Branch]) -> Branch | None:
    """The branch ``?branch=`` names among ``branches`` (those the reader may view): None
    for all of them, the only one for someone of one branch; 404 for any other."""
    try:
        return selectors.chosen_branch(branches, request.GET.get("branch"))
    except UnknownBranch as error:
        raise Http404(error.message) from None
