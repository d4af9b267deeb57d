"""Forms of the account pages: they parse what was posted; the services keep the rules."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import AlertMail


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
