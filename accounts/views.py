"""The signed-in user's own pages: where they work, what they may do, their devices, their
low-stock e-mail."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions, selectors, services
from accounts.forms import AlertMailForm, LanguageForm
from inventory_project.kernel.api import json_error
from inventory_project.kernel.errors import DomainError, NotFound


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return _home_page(request, LanguageForm(initial={"language": request.user.language}))


def _home_page(
    request: HttpRequest, language_form: LanguageForm, status: int = 200
) -> HttpResponse:
    context = {
        "branch_access": selectors.branch_access(request.user),
        "api_tokens": selectors.active_api_tokens(request.user),
        "language_form": language_form,
    }
    return render(request, "accounts/home.html", context, status=status)


@login_required
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    if form.is_valid():
        try:
            user = services.set_language(actor=request.user, language=form.cleaned_data["language"])
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            # Said in the language just chosen, as the next page will be.
            translation.activate(user.language or translation.get_language_from_request(request))
            messages.success(request, _("Your language is saved."))
            return redirect("account")
    return _home_page(request, form, status=400)


@login_required
@require_POST
def sign_out_device(request: HttpRequest, token_id: str) -> HttpResponse:
    try:
        services.revoke_api_token(actor=request.user, token_id=token_id)
    except NotFound as error:
        raise Http404(error.message) from None
    messages.success(request, _("The device was signed out."))
    return redirect("account")


@login_required
@require_POST
def sign_out_all_devices(request: HttpRequest) -> HttpResponse:
    revoked = services.revoke_all_api_tokens(actor=request.user)
    messages.success(
        request,
        ngettext("Signed out of %(count)d device.", "Signed out of %(count)d devices.", revoked)
        % {"count": revoked},
    )
    return redirect("account")


@login_required
@require_http_methods(["GET", "POST"])
def alert_mail(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "GET":
        form = AlertMailForm(
            initial={
                "alert_mail": user.alert_mail,
                "alert_mail_all_branches": user.alert_mail_all_branches,
            }
        )
        return _alert_mail_page(request, form)
    form = AlertMailForm(request.POST)
    if form.is_valid():
        try:
            user = services.set_alert_mail(
                user=user,
                alert_mail=form.cleaned_data["alert_mail"],
                all_branches=form.cleaned_data["alert_mail_all_branches"],
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request,
                _("Low-stock e-mail: %(choice)s.") % {"choice": user.get_alert_mail_display()},
            )
            return redirect("alert-mail")
    return _alert_mail_page(request, form, status=400)


def _alert_mail_page(request: HttpRequest, form: AlertMailForm, status: int = 200) -> HttpResponse:
    # The every-branch choice is offered to ADMINs only; the service refuses it to others.
    context = {"form": form, "may_take_every_branch": permissions.is_admin(request.user)}
    return render(request, "accounts/alert_mail.html", context, status=status)


def locked_out(
    request: HttpRequest, original_response: object = None, credentials: object = None
) -> HttpResponse:
    """What django-axes answers while an address is locked out after failed sign-ins."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = math.ceil(seconds / 60)
    message = ngettext(
        "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
        "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        response = json_error("locked_out", message, 429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    response["Retry-After"] = str(seconds)
    return response
