"""The stock write forms of the pages: receive, issue, adjust and count one product at one
branch. Each acts once (``OnceForm``); the service decides everything the form cannot."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Product, Supplier
from inventory_project.kernel.errors import InvalidInput
from inventory_project.kernel.once import OnceForm
from stock.errors import InvalidQuantity
from stock.models import AdjustmentReason, MovementKind
from stock.quantities import parse_quantity
from stock.services import NOTE_MAX_LENGTH, parse_unit_cost


class QuantityField(forms.CharField):
    """An exact decimal, read by the rules every quantity obeys (``parse_quantity``); what
    was typed is shown again as typed when the form is refused."""

    widget = forms.NumberInput

    def __init__(self, *, rule_name: str, sign: int | None, **kwargs: Any) -> None:
        # ``rule_name`` is how the services name this amount, so both say the same.
        self.rule_name = rule_name
        self.sign = sign
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_quantity(text, name=self.rule_name, sign=self.sign)
        except InvalidQuantity as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class UnitCostField(forms.CharField):
    """An optional cost of one unit, read by the services' rule (``parse_unit_cost``)."""

    widget = forms.NumberInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"min": "0", "step": "0.0001", "inputmode": "decimal"})

    def to_python(self, value: Any) -> Decimal | None:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_unit_cost(text)
        except InvalidInput as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class MoveForm(OnceForm):
    """One stock write. ``amount_field`` is the field holding the amount, named as the
    service names it in its errors (``quantity``, ``delta``, ``counted``)."""

    kind: MovementKind
    amount_field = "quantity"
    # The least amount the browser offers: 0 for counts, one step for receipts and issues,
    # none for adjustments (either sign).
    minimum: str | None = "step"

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.product = product
        step = "1" if product.is_countable else "0.001"
        attrs = self.fields[self.amount_field].widget.attrs
        attrs.update({"step": step, "inputmode": "decimal", "autofocus": True})
        if self.minimum is not None:
            attrs["min"] = step if self.minimum == "step" else self.minimum
        self.order_fields([self.amount_field, "unit_cost", "reason", "note", "once"])

    @property
    def amount(self) -> Decimal:
        return self.cleaned_data[self.amount_field]


class ReceiveForm(MoveForm):
    kind = MovementKind.RECEIPT
    quantity = QuantityField(
        rule_name="Quantity",
        sign=1,
        label=_("Quantity received"),
    )
    unit_cost = UnitCostField(
        label=_("Unit cost (optional)"),
        help_text=_(
            "What one unit cost; it is averaged into the item's average unit cost. "
            "Leave it empty to take the goods in at the current average."
        ),
    )


class IssueForm(MoveForm):
    kind = MovementKind.ISSUE
    quantity = QuantityField(
        rule_name="Quantity",
        sign=1,
        label=_("Quantity issued"),
    )


class AdjustForm(MoveForm):
    kind = MovementKind.ADJUSTMENT
    amount_field = "delta"
    minimum = None
    delta = QuantityField(
        rule_name="Adjustment",
        sign=0,
        label=_("Change"),
        help_text=_("Positive adds to what is on hand, negative takes away: -2 for two broken."),
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("Choose a reason")), *AdjustmentReason.choices],
        help_text=_("“Other” needs a note saying what happened."),
    )


class CountForm(MoveForm):
    kind = MovementKind.COUNT
    amount_field = "counted"
    minimum = "0"
    counted = QuantityField(
        rule_name="Counted quantity",
        sign=None,
        label=_("Counted quantity"),
        help_text=_("Everything on the shelf now; on hand becomes this."),
    )


class ReorderRuleForm(OnceForm):
    """A level's reorder rule: replenish below ``minimum`` up to ``maximum`` from
    ``supplier`` (blank: the product's preferred one). The service checks the rest."""

    minimum = QuantityField(
        rule_name="Minimum",
        sign=None,
        label=_("Minimum"),
        help_text=_("Replenish below this."),
    )
    maximum = QuantityField(
        rule_name="Maximum",
        sign=None,
        label=_("Maximum (order up to)"),
        help_text=_("Bring it back up to this."),
    )
    supplier = forms.ChoiceField(
        label=_("Supplier"), required=False, help_text=_("Who to buy from.")
    )

    def __init__(self, *args: Any, product: Product, suppliers: list[Supplier], **kwargs: Any):
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "rule-%s")
        super().__init__(*args, **kwargs)
        step = "1" if product.is_countable else "0.001"
        for name in ("minimum", "maximum"):
            self.fields[name].widget.attrs.update(
                {"min": "0", "step": step, "inputmode": "decimal"}
            )
        self.fields["supplier"].choices = [
            ("", _("The product's preferred supplier")),
            *((str(supplier.pk), str(supplier)) for supplier in suppliers),
        ]


class LedgerFilterForm(forms.Form):
    """The ledger's filters, read from the address: a kind, and a first and last day."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Every kind")), *MovementKind.choices],
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "ledger-%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day is before the first."))
        return cleaned
