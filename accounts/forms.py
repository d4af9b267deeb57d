"""Forms of the account pages: they parse what was posted; the services keep the rules."""

import logging
import uuid
from functools import partial

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts import services, tasks
from accounts.models import AlertMail, Role, User
from inventory_project.kernel.once import OnceForm

logger = logging.getLogger(__name__)


class AlertMailForm(forms.Form):
    """One's low-stock e-mail choice. Named as the service names its fields, so that its
    errors land next to the right input."""

    alert_mail = forms.ChoiceField(
        label=_("Low-stock e-mail"), choices=AlertMail.choices, widget=forms.RadioSelect
    )
    alert_mail_all_branches = forms.BooleanField(
        label=_("Also every branch's low-stock e-mail, not only the branches I manage"),
        required=False,
    )


class LanguageForm(forms.Form):
    """The language of one's pages and e-mails; empty follows the browser. Each language is
    named in itself, as language pickers do."""

    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("As my browser asks")), *settings.LANGUAGES],
        required=False,
    )


class PasswordResetMailForm(auth_forms.PasswordResetForm):
    """Asks for a reset link. The mail goes to a Celery worker once the request committed,
    written in the recipient's language; an unknown, inactive or password-less address gets
    nothing, and the page that follows is the same either way."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict,
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context["user"]
        cooldown = settings.PASSWORD_RESET_MAIL_COOLDOWN_SECONDS
        # Shared by every process through the cache (Redis); the page that follows says the
        # same either way, so holding a mail back reveals nothing.
        if cooldown and not cache.add(f"password-reset-mail:{user.pk}", 1, timeout=cooldown):
            logger.info("Password-reset e-mail to user %s held back: one went out lately", user.pk)
            return
        # The link points at SITE_URL rather than whatever host the request named, so a
        # forged Host header cannot send someone a link to another site.
        context = {
            **context,
            "reset_url": settings.SITE_URL
            + reverse(
                "password_reset_confirm",
                kwargs={"uidb64": context["uid"], "token": context["token"]},
            ),
        }
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = "".join(render_to_string(subject_template_name, context).splitlines())
            body = render_to_string(email_template_name, context)
            html_body = (
                render_to_string(html_email_template_name, context)
                if html_email_template_name
                else None
            )
        transaction.on_commit(
            partial(tasks.queue_password_reset_email, to_email, subject, body, html_body)
        )


class ResetPasswordForm(auth_forms.SetPasswordForm):
    """The new password from a reset link, set by ``services.reset_password``."""

    def save(self, commit: bool = True) -> User:
        self.user = services.reset_password(
            user_id=self.user.pk, password=self.cleaned_data["new_password1"]
        )
        return self.user


# The people pages --------------------------------------------------------------------------

PEOPLE_SORTS = {
    "name": _("Name"),
    "email": _("E-mail address"),
    "-last_login": _("Latest sign-in first"),
    "last_login": _("Longest without a sign-in first"),
}
PEOPLE_STATUSES = {
    "active": _("Active"),
    "invited": _("Invited, no password yet"),
    "deactivated": _("Deactivated"),
}
# Offset pages: nobody pages this far by hand, and it bounds a typed address's scan.
PEOPLE_MAX_PAGE = 200


class PeopleFilterForm(forms.Form):
    """The people list's query parameters. A value that does not parse is shown beside its
    field and left out of the filter."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    branch = forms.CharField(label=_("Branch"), required=False, max_length=50)
    role = forms.ChoiceField(label=_("Role"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False)
    page = forms.CharField(required=False)

    def __init__(self, data, *, branches: list, is_admin: bool) -> None:
        super().__init__(data)
        self.branches = branches
        roles = [("", _("Any role")), *Role.choices]
        if is_admin:
            roles.append(("ADMIN", _("administrator")))
        self.fields["role"].choices = roles
        self.fields["status"].choices = [("", _("Anyone")), *PEOPLE_STATUSES.items()]
        self.fields["sort"].choices = list(PEOPLE_SORTS.items())

    def clean_page(self) -> int:
        page = self.cleaned_data["page"]
        number = int(page) if page.isascii() and page.isdigit() else 1
        return min(max(number, 1), PEOPLE_MAX_PAGE)

    def value(self, name: str):
        """The field's clean value, or None when it is empty or did not parse."""
        if name in self.errors:
            return None
        return self.cleaned_data.get(name) or None


class InviteForm(OnceForm):
    """Who to invite, and to which role at which of the inviter's branches."""

    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    branch = forms.TypedChoiceField(label=_("Branch"), coerce=uuid.UUID)
    role = forms.ChoiceField(label=_("Role"))
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        required=False,
        choices=[("", _("The site's language")), *settings.LANGUAGES],
    )

    def __init__(self, *args, branches: list, roles: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].choices = [
            (str(branch.pk), f"{branch.code} · {branch.name}") for branch in branches
        ]
        self.fields["role"].choices = roles
        if len(roles) == 1:
            self.initial.setdefault("role", roles[0][0])


class AddMembershipForm(OnceForm):
    branch = forms.TypedChoiceField(label=_("Branch"), coerce=uuid.UUID)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, branches: list, roles: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].choices = [
            (str(branch.pk), f"{branch.code} · {branch.name}") for branch in branches
        ]
        self.fields["role"].choices = roles
        # The lesser role first: a manager is appointed on purpose.
        self.initial.setdefault("role", Role.STAFF)


class MembershipRoleForm(OnceForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class PersonDetailsForm(OnceForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)


class AdminRightsForm(OnceForm):
    is_admin = forms.TypedChoiceField(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )


class ConfirmForm(OnceForm):
    """A button that acts once: deactivate, reactivate, remove a role, invite again."""


class WelcomeForm(ResetPasswordForm):
    """The password an invited person chooses through the link of their invitation."""
