"""Forms of the account pages: they parse what was posted; the services keep the rules."""

from django import forms

from accounts.models import AlertMail


class AlertMailForm(forms.Form):
    """One's low-stock e-mail choice. Named as the service names its fields, so that its
    errors land next to the right input."""

    alert_mail = forms.ChoiceField(
        label="Low-stock e-mail", choices=AlertMail.choices, widget=forms.RadioSelect
    )
    alert_mail_all_branches = forms.BooleanField(
        label="Also every branch's low-stock e-mail, not only the branches I manage",
        required=False,
    )
