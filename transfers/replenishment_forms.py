"""The replenishment page's form: which suggestions to turn into drafts."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory_project.kernel.once import OnceForm
from transfers.replenishment import KEY_MAX_LENGTH, MAX_CHOICES


class KeysField(forms.Field):
    """The suggestions ticked: their keys, as the plan names them."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(each) for each in value]

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(
                _("Tick at least one suggestion to create drafts."), code="required"
            )
        if len(value) > MAX_CHOICES:
            raise forms.ValidationError(
                _("At most %(count)s suggestions at once.") % {"count": MAX_CHOICES}
            )
        if any(len(each) > KEY_MAX_LENGTH for each in value):
            raise forms.ValidationError(_("That is not one of the suggestions."))


class ApplyForm(OnceForm):
    """Create drafts from the ticked suggestions of the branch shown (all when empty)."""

    choices = KeysField(label=_("Suggestions"))
