"""Forms that act once: a key rendered with the form makes a double click, a resubmitted
POST or a retried request record one change.

Each write form carries a hidden ``once`` field, a fresh random key rendered with the form.
The view applies the form through ``apply_once``: the first request with a key claims it in
the same transaction as its change (the Idempotency-Key store of the API), and any later one
with the same key finds the stored result instead of applying again.
"""

import json
import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from inventory_project.kernel.db import retry_transient
from inventory_project.kernel.models import IdempotentRequest


class OnceField(forms.CharField):
    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, required=True, **kwargs)


def new_key() -> str:
    return uuid.uuid4().hex


class OnceForm(forms.Form):
    """A form with the one-time key; bound forms keep the key they were posted with, so a
    refused form shown again still acts once when corrected."""

    once = OnceField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("once", new_key())


def apply_once(
    user: AbstractBaseUser, key: str, scope: str, apply: Callable[[], dict]
) -> tuple[dict, bool]:
    """Run ``apply`` (which calls a service and returns what to remember, JSON-able) once for
    ``key``; ``(result, replayed)``. ``scope`` names the form, so one key cannot be replayed
    against another form. A refused attempt (an exception) claims nothing: corrected, the
    same key applies."""
    fingerprint = f"form:{scope}"[:64]
    stored = _stored(user, key)
    if stored is not None:
        return json.loads(stored.response), True
    try:
        return retry_transient(_claim_and_apply)(user, key, fingerprint, apply), False
    except IntegrityError:
        stored = _stored(user, key)
        if stored is None:
            raise
        return json.loads(stored.response), True


def _claim_and_apply(
    user: AbstractBaseUser, key: str, fingerprint: str, apply: Callable[[], dict]
) -> dict:
    with transaction.atomic():
        record = IdempotentRequest.objects.create(
            user=user, key=f"form:{key}", fingerprint=fingerprint
        )
        result = apply()
        record.status_code = 200
        record.response = json.dumps(result, cls=DjangoJSONEncoder)
        record.save(update_fields=["status_code", "response"])
        return result


def _stored(user: AbstractBaseUser, key: str) -> IdempotentRequest | None:
    # A key another user sent is not theirs to replay: keys are per user.
    return IdempotentRequest.objects.filter(user=user, key=f"form:{key}").first()
