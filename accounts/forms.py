"""Forms of the account pages: they parse what was posted; the services keep the rules."""

from functools import partial

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts import services, tasks
from accounts.models import AlertMail, User


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
