"""The purchase order pages' forms: the list's filters, an order's header and lines (a new
order or a draft being edited), receiving against an order line by line, and the reason some
steps take. Each write form acts once (``OnceForm``); the services decide what the forms
cannot (pack sizes, minimum quantities, what the supplier sells, the order's state).
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog.models import (
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    Product,
    Supplier,
    SupplierProduct,
)
from inventory_project.kernel.once import OnceForm
from stock.errors import InvalidQuantity
from stock.forms import QuantityField
from stock.quantities import check_unit, format_quantity, parse_quantity
from transfers.forms import BranchCodeField
from transfers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from transfers.services import MAX_LINES

NOTE_MAX_LENGTH = PurchaseOrder._meta.get_field("note").max_length
BLANK_LINES = 3  # the rows a new order offers before any is added
# Offset pages: nobody pages this far by hand, and it bounds a typed address's scan.
MAX_PAGE = 200
_PRICE_QUANTUM = Decimal(1).scaleb(-PRICE_DECIMAL_PLACES)
MAX_PRICE = Decimal(10) ** (PRICE_MAX_DIGITS - PRICE_DECIMAL_PLACES) - _PRICE_QUANTUM


def parse_price(text: str, *, name: str) -> Decimal:
    """A price or cost of one unit: a finite number, not negative, at most four decimals and
    no more than the ledger stores; InvalidQuantity saying what is wrong."""
    said = {"name": name}
    try:
        amount = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise InvalidQuantity(
            gettext("%(name)s must be a number, got %(value)s.") % {**said, "value": repr(text)}
        ) from None
    if not amount.is_finite():
        raise InvalidQuantity(gettext("%(name)s must be a finite number.") % said)
    if amount < 0:
        raise InvalidQuantity(gettext("%(name)s cannot be negative.") % said)
    if amount > MAX_PRICE:
        raise InvalidQuantity(
            gettext("%(name)s is larger than the largest price kept (%(max)s).")
            % {**said, "max": MAX_PRICE}
        )
    if amount != amount.quantize(_PRICE_QUANTUM):
        raise InvalidQuantity(
            gettext("%(name)s has more than %(places)d decimal places.")
            % {**said, "places": PRICE_DECIMAL_PLACES}
        )
    return amount.quantize(_PRICE_QUANTUM)


class PriceField(forms.CharField):
    """A unit price or cost as typed, read by ``parse_price``; empty is None."""

    def __init__(self, *, rule_name: str, **kwargs: Any) -> None:
        self.rule_name = rule_name
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            return parse_price(text, name=gettext(self.rule_name))
        except InvalidQuantity as error:
            raise forms.ValidationError(error.message) from None


# The list ------------------------------------------------------------------------------------


class OrderListForm(forms.Form):
    """The list's query parameters; a value that does not parse is left out of the filter."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *PurchaseOrderStatus.choices],
    )
    supplier = forms.CharField(label=_("Supplier"), required=False, max_length=16)
    q = forms.CharField(label=_("Reference"), required=False, max_length=20)
    page = forms.CharField(required=False)

    def clean_supplier(self) -> str:
        return self.cleaned_data["supplier"].strip().upper()

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip().upper()

    def clean_page(self) -> int:
        page = self.cleaned_data["page"]
        number = int(page) if page.isascii() and page.isdigit() and len(page) < 6 else 1
        return min(max(number, 1), MAX_PAGE)

    def value(self, name: str) -> Any:
        """The field's clean value, or None when it is missing or wrong."""
        return None if name in self.errors else self.cleaned_data.get(name)


# An order's header and lines -----------------------------------------------------------------


class OrderForm(OnceForm):
    """Where the goods go and who sells them (a new order only: a draft keeps both) and the
    note. Branches are those where the reader may order; suppliers the active ones."""

    branch = forms.CharField(label=_("For branch"), max_length=20)
    supplier = BranchCodeField(label=_("Supplier"))
    note = forms.CharField(
        label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea
    )

    def __init__(
        self,
        *args: Any,
        branches: list | None = None,
        suppliers: list[Supplier] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.branches = {branch.code: branch for branch in branches or []}
        self.suppliers = {supplier.code: supplier for supplier in suppliers or []}
        self.refused = False  # a branch where the reader may not order was named
        if branches is None:
            # Editing a draft: its branch and supplier stay as they are.
            del self.fields["branch"], self.fields["supplier"]
            return
        self.branch_choices = [
            ("", _("Choose a branch")),
            *[(b.code, f"{b.code} · {b.name}") for b in branches],
        ]
        self.fields["supplier"].choices = [
            ("", _("Choose a supplier")),
            *[(s.code, f"{s.code} · {s.name}") for s in suppliers or []],
        ]

    def clean_branch(self) -> str:
        code = self.cleaned_data["branch"].strip().upper()
        if code not in self.branches:
            # Said in words (403), as the service would: the branch is not one of theirs.
            self.refused = True
            raise forms.ValidationError(
                _("You may not order stock for %(code)s.") % {"code": code[:20]}
            )
        return code

    def chosen(self, name: str) -> Any:
        """The branch or supplier chosen (as cleaned, else as typed), if any."""
        if name not in self.fields:
            return None
        known = self.branches if name == "branch" else self.suppliers
        if self.is_bound and name in getattr(self, "cleaned_data", {}):
            return known.get(self.cleaned_data[name])
        value = self[name].value()
        return known.get(str(value or "").strip().upper()[:20])


class OrderLineForm(forms.Form):
    """One line as typed: a product's SKU (or barcode), a quantity and, optionally, the unit
    price (empty: the supplier's price)."""

    product = forms.CharField(label=_("Product"), required=False, max_length=100)
    quantity = forms.CharField(label=_("Quantity"), required=False, max_length=40)
    unit_price = forms.CharField(label=_("Unit price"), required=False, max_length=40)

    def typed(self, name: str) -> str:
        # As typed, but never a NUL: PostgreSQL refuses one in a lookup (the field's own
        # validation says what is wrong with it).
        return str(self[name].value() or "").replace("\x00", "").strip()

    @property
    def blank(self) -> bool:
        return not any(self.typed(name) for name in ("product", "quantity", "unit_price"))

    def offer_price(self, price: Decimal) -> None:
        """Show ``price`` in an unbound row's empty price (the supplier's)."""
        self.initial["unit_price"] = format_quantity(price)
        self._bound_fields_cache.pop("unit_price", None)  # drawn again with it


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, extra=0, max_num=MAX_LINES, absolute_max=MAX_LINES, validate_max=True
)


def line_formset(data: Any = None, *, initial: list[dict] | None = None) -> Any:
    return OrderLineFormSet(data, initial=initial, prefix="lines")


@dataclass
class OrderRow:
    """A line of the form as the page shows it: the product its code names and how the
    chosen supplier sells it (None when they do not)."""

    form: OrderLineForm
    product: Product | None = None
    offer: SupplierProduct | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None


def check_rows(formset: Any, rows: list[OrderRow]) -> list[OrderRow]:
    """The rows that are filled in, each with its product, quantity and price; errors go
    beside the field at fault (blank rows are left out; a product named twice is refused).
    Pack sizes and minimum quantities are the service's to judge."""
    filled = []
    seen: dict[uuid.UUID, int] = {}
    for number, row in enumerate(rows, start=1):
        form = row.form
        if form.blank:
            continue
        code, typed = form.typed("product"), form.typed("quantity")
        product = row.product
        if not code:
            form.add_error("product", _("Name the product, by its SKU or barcode."))
        elif product is None:
            form.add_error(
                "product", _("No product with the SKU or barcode %(code)s.") % {"code": code}
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
                row.quantity = parse_quantity(typed, name="Quantity", sign=1)
                if product is not None:
                    check_unit(row.quantity, product, name="Quantity")
            except InvalidQuantity as error:
                form.add_error("quantity", error.message)
        price = form.typed("unit_price")
        if price:
            try:
                row.unit_price = parse_price(price, name=gettext("Unit price"))
            except InvalidQuantity as error:
                form.add_error("unit_price", error.message)
        if product is not None:
            seen.setdefault(product.pk, number)
        filled.append(row)
    if not filled and not formset.non_form_errors():
        formset._non_form_errors = formset.error_class(
            [gettext("An order needs at least one line: a product and a quantity.")],
            renderer=formset.renderer,
        )
    return filled


# Steps on an order ---------------------------------------------------------------------------


class StepForm(OnceForm):
    """A step's button; cancelling takes a reason (optional)."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=NOTE_MAX_LENGTH)


class CloseForm(OnceForm):
    """Close an order short: what did not come is accepted as not coming, and why."""

    reason = forms.CharField(
        label=_("Why the rest will not come"), required=True, max_length=NOTE_MAX_LENGTH
    )


def tolerance() -> Decimal:
    return Decimal(str(settings.PURCHASE_RECEIPT_TOLERANCE))


class ReceiveOrderForm(OnceForm):
    """What arrived of each line: a quantity (0 for nothing yet; what is outstanding is
    offered), its unit cost (the line's price offered) and, when more than the tolerance over
    what was ordered arrives, why. ``everything`` receives what is outstanding of every
    line, whatever was typed."""

    note = forms.CharField(label=_("Note"), required=False, max_length=NOTE_MAX_LENGTH)

    def __init__(self, *args: Any, lines: list[PurchaseOrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.everything = self.is_bound and bool(self.data.get(self.add_prefix("everything")))
        self.lines = lines
        for line in lines:
            name = str(line.product_id)
            step = "1" if line.product.is_countable else "0.001"
            widget = forms.NumberInput(attrs={"min": "0", "step": step, "inputmode": "decimal"})
            label = _("Received of %(sku)s") % {"sku": line.product.sku}
            if self.everything:
                # What was typed is not read: everything outstanding is received.
                field: forms.Field = forms.CharField(required=False, label=label, widget=widget)
            else:
                field = QuantityField(
                    rule_name="Quantity", sign=None, label=label, widget=widget, required=False
                )
            field.initial = format_quantity(line.outstanding)
            self.fields[f"{name}-quantity"] = field
            cost = PriceField(
                rule_name="Unit cost",
                label=_("Unit cost of %(sku)s") % {"sku": line.product.sku},
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )
            if line.unit_price is not None:
                cost.initial = format_quantity(line.unit_price)
            self.fields[f"{name}-unit_cost"] = cost
            self.fields[f"{name}-reason"] = forms.CharField(
                label=_("Why more of %(sku)s came") % {"sku": line.product.sku},
                required=False,
                max_length=NOTE_MAX_LENGTH,
            )

    def rows(self) -> list[dict[str, Any]]:
        allowed = tolerance()
        return [
            {
                "line": line,
                "quantity": self[f"{line.product_id}-quantity"],
                "unit_cost": self[f"{line.product_id}-unit_cost"],
                "reason": self[f"{line.product_id}-reason"],
                "allowed": line.quantity_ordered * (1 + allowed),
            }
            for line in self.lines
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.everything:
            return cleaned
        allowed = tolerance()
        for line in self.lines:
            name = f"{line.product_id}-quantity"
            amount = cleaned.get(name)
            if not amount:
                continue
            try:
                check_unit(amount, line.product, name="Quantity")
            except InvalidQuantity as error:
                self.add_error(name, error.message)
                continue
            over = line.quantity_received + amount > line.quantity_ordered * (1 + allowed)
            reason = f"{line.product_id}-reason"
            if over and not cleaned.get(reason, "").strip() and reason not in self.errors:
                self.add_error(
                    reason,
                    _("More than ordered (beyond %(percent)s%%) needs a reason.")
                    % {"percent": format_quantity(allowed * 100)},
                )
        if not self.errors and not any(
            cleaned.get(f"{line.product_id}-quantity") for line in self.lines
        ):
            raise forms.ValidationError(_("Enter how much of at least one line arrived."))
        return cleaned

    def receipts(self) -> list[tuple[PurchaseOrderLine, Decimal, Decimal | None, str]]:
        """(line, quantity, unit cost or None for the line's price, reason) of each line of
        which something arrived, in the order of the lines."""
        found = []
        for line in self.lines:
            name = str(line.product_id)
            cost = self.cleaned_data.get(f"{name}-unit_cost")
            reason = str(self.cleaned_data.get(f"{name}-reason") or "").strip()
            if self.everything:
                amount = line.outstanding
            else:
                amount = self.cleaned_data.get(f"{name}-quantity") or Decimal(0)
            if amount > 0:
                found.append((line, amount, cost, reason))
        return found
