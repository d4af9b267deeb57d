"""The transfer pages' write forms: starting a transfer (a request or a send, its lines a
formset), receiving part of a transfer line by line, closing one short, and the reason some
steps take. Each acts once (``OnceForm``); the services decide everything the forms cannot.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from branches.models import Branch
from catalog.models import Product
from inventory_project.kernel.once import OnceForm
from stock.errors import InvalidQuantity
from stock.forms import QuantityField
from stock.quantities import check_unit, format_quantity, parse_quantity, say_quantity
from transfers.models import ShortfallReason, TransferLine
from transfers.services import MAX_LINES, NOTE_MAX_LENGTH

REQUEST, SEND = "request", "send"
KIND_CHOICES = [
    (REQUEST, _("Request goods from another branch")),
    (SEND, _("Send goods to another branch")),
]
BLANK_LINES = 3  # the rows a new form offers before any is added


# Starting a transfer ------------------------------------------------------------------------


class BranchCodeField(forms.ChoiceField):
    """A branch of the directory by its code, whatever the case it is typed in (the
    reports page links here with codes)."""

    def to_python(self, value: Any) -> str:
        return super().to_python(value).strip().upper()


class TransferForm(OnceForm):
    """Who sends to whom: ``kind`` says which end is the user's (the destination of a
    request, the source of a send); the other end is any active branch."""

    kind = forms.ChoiceField(label=_("What to do"), choices=KIND_CHOICES, widget=forms.RadioSelect)
    # ``from`` is a Python keyword: the field is declared under it in __init__.
    to = BranchCodeField(label=_("To (receives the goods)"))
    note = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea
    )

    def __init__(
        self,
        *args: Any,
        branches: list[Branch],
        may_request: set[uuid.UUID],
        may_send: set[uuid.UUID],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("Choose a branch")), *[(b.code, b.code) for b in branches]]
        self.fields["from"] = BranchCodeField(label=_("From (sends the goods)"), choices=choices)
        self.fields["to"].choices = choices
        self.order_fields(["kind", "from", "to", "note", "once"])
        self.branches = {branch.code: branch for branch in branches}
        self.may_request = may_request
        self.may_send = may_send
        self.refused = False  # the reader's end is a branch where they may not start it

    def branch(self, name: str) -> Branch | None:
        """The branch chosen for ``from`` or ``to`` (as cleaned, else as typed), if any."""
        if self.is_bound and name in getattr(self, "cleaned_data", {}):
            return self.branches.get(self.cleaned_data[name])
        value = self[name].value()
        return self.branches.get(str(value or "").strip().upper())

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, source, destination = (cleaned.get(name) for name in ("kind", "from", "to"))
        if source and destination and source == destination:
            self.add_error("to", _("A transfer needs two different branches."))
            return cleaned
        if (
            kind == REQUEST
            and destination
            and self.branches[destination].pk not in self.may_request
        ):
            self.refused = True
            self.add_error(
                "to", _("You may not request transfers into %(code)s.") % {"code": destination}
            )
        if kind == SEND and source and self.branches[source].pk not in self.may_send:
            self.refused = True
            self.add_error(
                "from", _("You may not send transfers out of %(code)s.") % {"code": source}
            )
        return cleaned


class LineForm(forms.Form):
    """One line as typed: a product's SKU (or barcode) and a quantity. Both are read with
    the others' (``TransferLines``), so that products are looked up in one query."""

    product = forms.CharField(label=_("Product"), required=False, max_length=100)
    quantity = forms.CharField(label=_("Quantity"), required=False, max_length=40)

    def typed(self, name: str) -> str:
        return str(self[name].value() or "").strip()

    @property
    def blank(self) -> bool:
        return not self.typed("product") and not self.typed("quantity")


LineFormSet = forms.formset_factory(
    LineForm, extra=0, max_num=MAX_LINES, absolute_max=MAX_LINES, validate_max=True
)


def line_formset(data: Any = None, *, initial: list[dict] | None = None) -> Any:
    return LineFormSet(data, initial=initial, prefix="lines")


@dataclass
class Line:
    """A line of the form as the page shows it: the product its code names, how much the
    source holds of it (None when the reader may not see the source's stock) and whether
    the quantity asked exceeds that."""

    form: LineForm
    product: Product | None = None
    quantity: Decimal | None = None
    held: Decimal | None = None

    @property
    def over(self) -> bool:
        return self.held is not None and self.quantity is not None and self.quantity > self.held


def read_lines(formset: Any, products: dict[str, Product]) -> list[Line]:
    """Each row with its product and quantity where they parse, without judging: what the
    page shows beside the rows while they are being filled in."""
    lines = []
    for form in formset.forms:
        line = Line(form)
        line.product = products.get(form.typed("product").upper())
        try:
            line.quantity = parse_quantity(form.typed("quantity"), name="Quantity", sign=1)
        except InvalidQuantity:
            line.quantity = None
        lines.append(line)
    return lines


def check_lines(formset: Any, lines: list[Line]) -> list[Line]:
    """The rows that are filled in, each with its product and quantity; errors go beside
    the field at fault (blank rows are left out; a product named twice is refused)."""
    filled = []
    seen: dict[uuid.UUID, int] = {}
    for number, line in enumerate(lines, start=1):
        form = line.form
        if form.blank:
            continue
        code, typed = form.typed("product"), form.typed("quantity")
        product = line.product
        if not code:
            form.add_error("product", _("Name the product, by its SKU or barcode."))
        elif product is None:
            form.add_error(
                "product", _("No product with the SKU or barcode %(code)s.") % {"code": code}
            )
        elif not product.is_active:
            form.add_error(
                "product",
                _("Product %(sku)s is inactive; it is not transferred.") % {"sku": product.sku},
            )
        elif product.pk in seen:
            form.add_error(
                "product",
                _("Line %(line)d is for the same product; put the whole quantity there.")
                % {"line": seen[product.pk]},
            )
        if not typed:
            form.add_error("quantity", _("Enter a quantity."))
        else:
            try:
                amount = parse_quantity(typed, name="Quantity", sign=1)
                if product is not None:
                    check_unit(amount, product, name="Quantity")
            except InvalidQuantity as error:
                form.add_error("quantity", error.message)
        if product is not None:
            seen.setdefault(product.pk, number)
        filled.append(line)
    if not filled and not formset.non_form_errors():
        formset._non_form_errors = formset.error_class(
            [gettext("A transfer needs at least one line: a product and a quantity.")],
            renderer=formset.renderer,
        )
    return filled


def warning(line: Line, branch: Branch | None) -> str:
    """What the page says of a line asking for more than the source holds."""
    if not line.over or branch is None or line.product is None:
        return ""
    return gettext("%(code)s holds only %(held)s %(unit)s.") % {
        "code": branch.code,
        "held": say_quantity(line.held),
        "unit": line.product.get_unit_display(),
    }


# Steps on a transfer ------------------------------------------------------------------------


class StepForm(OnceForm):
    """A step's button; some steps take a reason (cancel, reject)."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=NOTE_MAX_LENGTH)


class CloseForm(OnceForm):
    """Close a transfer short: what did not arrive is recorded as the shortfall, and why."""

    reason = forms.ChoiceField(
        label=_("What happened to the rest"),
        choices=[("", _("Choose a reason")), *ShortfallReason.choices],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)


class ReceiveForm(OnceForm):
    """What arrived of each line still outstanding: one quantity per line, from 0 (nothing
    of it yet) to what is outstanding, offered in full. ``everything`` receives what is
    outstanding as it is when the service runs, whatever was typed."""

    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)

    def __init__(self, *args: Any, lines: list[TransferLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.everything = self.is_bound and bool(self.data.get(self.add_prefix("everything")))
        self.lines = [line for line in lines if line.outstanding > 0]
        for line in self.lines:
            step = "1" if line.product.is_countable else "0.001"
            widget = forms.NumberInput(
                attrs={
                    "min": "0",
                    "max": format_quantity(line.outstanding),
                    "step": step,
                    "inputmode": "decimal",
                }
            )
            label = _("Received of %(sku)s") % {"sku": line.product.sku}
            initial = format_quantity(line.outstanding)
            if self.everything:
                # What was typed is not read: everything outstanding is received.
                field = forms.CharField(required=False, label=label, widget=widget)
            else:
                field = QuantityField(rule_name="Quantity", sign=None, label=label, widget=widget)
            field.initial = initial
            self.fields[str(line.product_id)] = field

    def rows(self) -> list[tuple[TransferLine, Any]]:
        return [(line, self[str(line.product_id)]) for line in self.lines]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.everything:
            return cleaned
        for line in self.lines:
            name = str(line.product_id)
            amount = cleaned.get(name)
            if amount is None:
                continue
            try:
                check_unit(amount, line.product, name="Quantity")
            except InvalidQuantity as error:
                self.add_error(name, error.message)
                continue
            if amount > line.outstanding:
                self.add_error(
                    name,
                    _("Only %(left)s %(unit)s are still to arrive.")
                    % {"left": say_quantity(line.outstanding), "unit": line.product.unit},
                )
        if not self.errors and not any(cleaned.get(str(line.product_id)) for line in self.lines):
            raise forms.ValidationError(_("Enter how much of at least one line arrived."))
        return cleaned

    def quantities(self) -> dict[uuid.UUID, Decimal]:
        """What arrived of each product, leaving out the lines of which nothing did."""
        if self.everything:
            return {line.product_id: line.outstanding for line in self.lines}
        amounts = {line.product_id: self.cleaned_data[str(line.product_id)] for line in self.lines}
        return {product_id: amount for product_id, amount in amounts.items() if amount}
