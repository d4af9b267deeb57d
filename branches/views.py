"""The branch directory page: every active branch, for anyone signed in, searchable by code,
name or city and filtered by kind. It shows what the directory API answers (code, name,
kind, city, address) and nothing of a branch's stock or people."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from branches import selectors
from branches.models import BranchKind
from inventory_project.kernel.pages import render_page, wants_partial

PER_PAGE = 50
# Longer than any code or name; a longer search can match nothing.
MAX_QUERY = 120


@login_required
@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:MAX_QUERY]
    # An unknown kind is no filter at all, as the address may be typed by hand.
    kind = request.GET.get("kind", "")
    if kind not in BranchKind.values:
        kind = ""
    branches = selectors.directory(q=q, kind=kind)
    page = Paginator(branches, PER_PAGE).get_page(request.GET.get("page"))
    here = reverse("branch-directory")
    context = {
        "q": q,
        "kind": kind,
        "kinds": BranchKind.choices,
        "page": page,
        "previous_query": here + _query(q=q, kind=kind, page=page.previous_page_number())
        if page.has_previous()
        else "",
        "next_query": here + _query(q=q, kind=kind, page=page.next_page_number())
        if page.has_next()
        else "",
    }
    response = render_page(
        request, "branches/directory.html", context, partial="branches/_directory_results.html"
    )
    if wants_partial(request):
        # The address keeps the search in its tidy form, so reload and back restore it.
        push_url(response, here + _query(q=q, kind=kind))
    return response


def _query(**params: object) -> str:
    """``?q=…&kind=…&page=…`` leaving out what is empty or the first page."""
    if params.get("page") == 1:
        params.pop("page")
    tidy = {name: value for name, value in params.items() if value}
    return "?" + urlencode(tidy) if tidy else ""
