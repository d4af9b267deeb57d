"""What every HTML page shares: one view answers the full page or, for an HTMX request, the
partial it swaps; messages travel with a partial as toasts; a domain refusal becomes a
page or partial in words, never a crash.

A page template extends ``base.html`` and includes its partial; the view names both and
``render_page`` picks. An HTMX request that targets the whole page (a boosted link) gets the
full page.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string


def wants_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The full page ``template``; for an HTMX request, ``partial`` with the waiting
    messages appended as toasts (swapped out of band into the page's toast area)."""
    if partial is None or not wants_partial(request):
        return render(request, template, context, status=status)
    html = render_to_string(partial, context, request=request)
    html += render_to_string("partials/toasts.html", {"oob": True}, request=request)
    return HttpResponse(html, status=status)
