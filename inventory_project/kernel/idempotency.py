"""Safe retries of stock-changing requests: the ``Idempotency-Key`` header.

A handheld scanner on a shaky network cannot tell a lost request from a lost answer, so it
sends the same request again with the same key. The first request claims the key by
inserting an IdempotentRequest row (``INSERT ... ON CONFLICT DO NOTHING``) as the first
statement of its transaction and stores its answer in that row before committing. Then:

- a retry after the commit inserts nothing, finds the row and gets the stored answer;
  nothing is applied;
- a concurrent duplicate's insert waits on the row's unique index until the first commits,
  then finds the row the same way; if the first failed and rolled back, the duplicate's
  insert goes through and it is applied as if it came first;
- the same key with another method, path or body is refused (422);
- only successful answers are stored: a refused request changed nothing and may be retried
  with the same key.
"""

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory_project.kernel.api import valid_input
from inventory_project.kernel.db import TransientConflict, retry_transient
from inventory_project.kernel.errors import InvalidInput, Unprocessable
from inventory_project.kernel.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class KeyReused(Unprocessable):
    code = "idempotency_key_reused"


def run_idempotent(request: Request, apply: Callable[[], Response]) -> Response:
    """Answer ``request`` by calling ``apply`` once per Idempotency-Key (when one is sent).

    ``apply`` makes the change (through a service) and returns the response; it and the key
    share one transaction, retried as a whole after a deadlock or serialization failure.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return retry_transient(apply)()
    if not _KEY.fullmatch(key):
        raise InvalidInput(
            f"{HEADER} must be 1 to 255 printable characters without spaces.", field=HEADER
        )
    fingerprint = _fingerprint(request)
    return retry_transient(_claim_and_apply)(request.user, key, fingerprint, apply)


class IdempotentWriteApi(APIView):
    """A POST that parses its body with ``input_serializer`` and applies it, through
    ``apply``, once per Idempotency-Key; the schema documents the header (``idempotent``)."""

    idempotent = True
    input_serializer: type

    def post(self, request: Request, **url_arguments: str) -> Response:
        data = valid_input(self.input_serializer, request)
        return run_idempotent(request, lambda: self.apply(request, data, **url_arguments))

    def apply(self, request: Request, data: dict, **url_arguments: str) -> Response:
        raise NotImplementedError


def purge_expired_requests() -> int:
    """Forget answers older than the retention period; returns how many were removed."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=_oldest_kept()).delete()
    return deleted


def _claim_and_apply(
    user: AbstractBaseUser, key: str, fingerprint: str, apply: Callable[[], Response]
) -> Response:
    with transaction.atomic():
        claim = _claim(user, key, fingerprint)
        if claim is None:
            stored = IdempotentRequest.objects.filter(user=user, key=key).first()
            if stored is not None and stored.created_at >= _oldest_kept():
                return _replay(stored, fingerprint)
            if stored is not None:
                # Kept past its retention: forgotten, and the key is new again.
                stored.delete()
            claim = _claim(user, key, fingerprint)
            if claim is None:
                # Another request claimed the forgotten key in the same instant.
                raise TransientConflict()
        response = apply()
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)
            return response
        IdempotentRequest.objects.filter(pk=claim).update(
            status_code=response.status_code,
            response=json.dumps(response.data, cls=DjangoJSONEncoder),
        )
        return response


def _claim(user: AbstractBaseUser, key: str, fingerprint: str) -> uuid.UUID | None:
    """Insert the key's row unless the user's key has one; its id when inserted. A
    concurrent insert of the same key waits here until the other transaction ends."""
    table = connection.ops.quote_name(IdempotentRequest._meta.db_table)
    row = {
        "id": uuid.uuid4(),
        "user_id": user.pk,
        "key": key,
        "fingerprint": fingerprint,
        "status_code": None,
        "response": "",
        "created_at": timezone.now(),
    }
    columns = ", ".join(connection.ops.quote_name(name) for name in row)
    values = [
        IdempotentRequest._meta.get_field(name).get_db_prep_save(value, connection)
        for name, value in row.items()
    ]
    placeholders = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
            ' ON CONFLICT ("user_id", "key") DO NOTHING RETURNING 1',
            values,
        )
        inserted = cursor.fetchone()
    return row["id"] if inserted else None


def _replay(record: IdempotentRequest, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise KeyReused(
            f"This {HEADER} was used for a different request; use a new key for a new request."
        )
    return Response(
        json.loads(record.response),
        status=record.status_code,
        headers={REPLAYED_HEADER: "true"},
    )


def _fingerprint(request: Request) -> str:
    data = request.data
    if hasattr(data, "lists"):
        data = {name: values for name, values in data.lists() if name != "csrfmiddlewaretoken"}
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{request.method} {request.path}\n{body}".encode())
    return digest.hexdigest()


def _oldest_kept() -> datetime:
    return timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
