"""Saving catalog-like rows with the model's own rules, answered as InvalidInput."""

from collections.abc import Callable, Iterable

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model

from inventory_project.kernel.errors import InvalidInput


def full_clean(instance: Model, exclude: Iterable[str] = ()) -> None:
    """Run the model's own validators; raise the first problem as InvalidInput naming its
    field. Uniqueness is left to the caller, which can name the field in its own words."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise InvalidInput(
            messages[0], field=None if field == NON_FIELD_ERRORS else field
        ) from None


def save_validated[M: Model](instance: M, validate: Callable[[M], None]) -> None:
    """``validate`` then save; should a unique constraint still refuse the row, validate
    again to name the field."""
    validate(instance)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        # A concurrent request took the value after ``validate`` looked: its transaction has
        # committed by now, so looking again names the field.
        validate(instance)
        raise
