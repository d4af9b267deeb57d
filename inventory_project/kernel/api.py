"""What every API endpoint shares: one error shape, strict input, pagination and throttling.

Every 4xx and 5xx answer of the API has the same body, ``{"code", "message", "fields"}``:
``code`` is stable and machine-readable, ``message`` is for people, and ``fields`` maps each
offending input field (dotted for nested ones, ``lines.2.quantity``) to its messages.
"""

import base64
import datetime
import decimal
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import BooleanField, Field, Model, Q, QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from inventory_project.kernel import outage
from inventory_project.kernel.db import TransientConflict, is_transient
from inventory_project.kernel.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
    Unavailable,
    Unprocessable,
)
from inventory_project.kernel.people import who

logger = logging.getLogger("inventory_project.kernel.api")

NOT_ACCEPTED = "not_accepted"

DOMAIN_STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    NotPermitted: status.HTTP_403_FORBIDDEN,
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    Conflict: status.HTTP_409_CONFLICT,
    Unprocessable: status.HTTP_422_UNPROCESSABLE_ENTITY,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


class ServiceDown(Unavailable):
    code = "unavailable"
    retry_after = 5

    def __init__(self) -> None:
        super().__init__("A service this needs is not answering; try again in a few seconds.")


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answer every refusal with the one error body, and log it once with who asked:
    refused access and refused fields at WARNING, other input errors at INFO."""
    if is_transient(exc):
        exc = TransientConflict()
    elif outage.is_outage(exc):
        # Redis (tickets, say) not answering is a moment's unavailability, not a crash.
        exc = ServiceDown()
    if isinstance(exc, DomainError):
        response = _domain_response(exc)
    else:
        if isinstance(exc, Http404):
            exc = exceptions.NotFound()
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied()
        response = drf_exception_handler(exc, context)
        if response is None:
            return None
        response.data = _api_error_body(exc, response)
    if isinstance(exc, Unavailable):
        response["Retry-After"] = str(exc.retry_after)
    if not getattr(exc, "logged", False):
        request = context["request"]
        refused = response.status_code in {401, 403, 404} or _names_refused_fields(exc)
        logger.log(
            logging.WARNING if refused or response.status_code >= 500 else logging.INFO,
            "Refused %s %s for %s from %s (%s): %s",
            request.method,
            request.path,
            who(request.user),
            get_client_ip_address(request),
            response.status_code,
            response.data,
        )
    return response


def _domain_response(exc: DomainError) -> Response:
    code = next(
        (answer for kind, answer in DOMAIN_STATUS.items() if isinstance(exc, kind)),
        status.HTTP_400_BAD_REQUEST,
    )
    fields = {exc.field: [exc.message]} if exc.field else None
    return Response(error_body(exc.code, exc.message, fields), status=code)


def _api_error_body(exc: Exception, response: Response) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        general = fields.pop("non_field_errors", None) or fields.pop("", None)
        code = NOT_ACCEPTED if _names_refused_fields(exc) else "invalid"
        if general:
            message = general[0]
        elif not fields:
            message = "The input is invalid."
        else:
            first, messages = next(iter(fields.items()))
            more = len(fields) - 1
            message = f"{first}: {messages[0]}" + (f" (and {more} more)" if more else "")
        return error_body(code, message, fields)
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict):
            message = str(next(iter(detail.values()), exc.default_detail))
        elif isinstance(detail, list):
            message = str(detail[0]) if detail else str(exc.default_detail)
        else:
            message = str(detail)
        code = exc.get_codes()
        return error_body(code if isinstance(code, str) else exc.default_code, message)
    return error_body("error", str(response.data))


def _flatten(detail: object, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"lines.2.quantity": ["..."]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix: [str(item) for item in detail]} if detail else {}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix: [str(detail)]}


def _names_refused_fields(exc: Exception) -> bool:
    return isinstance(exc, exceptions.ValidationError) and _has_code(exc.get_codes(), NOT_ACCEPTED)


def _has_code(codes: object, wanted: str) -> bool:
    """Whether ``wanted`` is among DRF's error codes at any depth: a field refused inside
    a line (``lines.0.on_hand``) counts as one refused at the top."""
    if isinstance(codes, dict):
        return any(_has_code(value, wanted) for value in codes.values())
    if isinstance(codes, list):
        return any(_has_code(value, wanted) for value in codes)
    return codes == wanted


# Answers given outside DRF's views (unknown URLs, bodies too large, crashes) --------------


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_error(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


# Input ----------------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know instead of silently dropping them, so that a client
    sending ``on_hand``, ``is_admin`` or ``role`` where they are not accepted learns that
    nothing of it was applied."""

    def to_internal_value(self, data: object) -> dict:
        if hasattr(data, "keys"):
            # The browsable API's HTML forms send their CSRF token along with the fields.
            unknown = sorted(set(data.keys()) - set(self.fields) - {"csrfmiddlewaretoken"})
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not accepted here."] for name in unknown},
                    code=NOT_ACCEPTED,
                )
        return super().to_internal_value(data)


class ApiErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    code = serializers.CharField(help_text="Stable, machine-readable, e.g. insufficient_stock.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per offending input field; nested fields are dotted "
        "(lines.2.quantity). Empty when the error concerns no field.",
    )


def valid_input(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """The request body, checked by ``serializer_class``; a ValidationError (400) otherwise."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Keyset pages -----------------------------------------------------------------------------


class InvalidCursor(InvalidInput):
    def __init__(self, field: str = "cursor") -> None:
        super().__init__(
            "This cursor is not one this list gave out (or not for this order): "
            "start again from the first page.",
            field=field,
        )


@dataclass(frozen=True)
class KeyTerm:
    """One column of a list's order: the path ``order_by`` names it by, its direction and
    the model field that reads and parses its value."""

    path: str
    descending: bool
    field: Field


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: just after (or, ``before``, just before) the row whose sort key
    is ``values``. ``position`` is how many rows come ahead of that place, ``count`` and
    ``count_is_estimate`` the list's total as its first page found it (carried, so a page
    read by cursor counts nothing)."""

    values: tuple
    before: bool = False
    position: int = 0
    count: int | None = None
    count_is_estimate: bool = False


@dataclass
class KeysetPage:
    """A page of rows read from a ``Keyset``, by cursor or by offset, and the cursors of its
    neighbours."""

    keyset: "Keyset | None"  # None: an order no keyset seeks, and so no cursors
    rows: list
    position: int  # rows ahead of the first of this page
    has_next: bool
    has_previous: bool

    def next_cursor(self, count: int | None = None, estimate: bool = False) -> str | None:
        if not (self.has_next and self.rows) or self.keyset is None:
            return None
        return self.keyset.encode(
            Cursor(
                self.keyset.values_of(self.rows[-1]),
                position=self.position + len(self.rows),
                count=count,
                count_is_estimate=estimate,
            )
        )

    def previous_cursor(self, count: int | None = None, estimate: bool = False) -> str | None:
        if not (self.has_previous and self.rows) or self.keyset is None:
            return None
        return self.keyset.encode(
            Cursor(
                self.keyset.values_of(self.rows[0]),
                before=True,
                position=self.position,
                count=count,
                count_is_estimate=estimate,
            )
        )


class Keyset:
    """Pages of an ordered queryset read from where the last one ended ("seek"), not by
    OFFSET: the page after a row is the rows whose sort key comes after that row's, so any
    page costs what the first does, however deep, and rows inserted or deleted meanwhile
    neither repeat nor skip rows on the way.

    It needs an order that ends in the primary key (so that it is total) over columns that
    are never NULL, reached through non-null foreign keys: ``Keyset.of`` answers None for
    any other order, and the list pages by offset.

    A cursor is ``base64url(JSON).base64url(HMAC)``: the JSON is ``[direction, position,
    count, estimate, *values]``, values as text where JSON has no exact type (Decimal as
    its str, datetimes in ISO 8601 with microseconds and offset); the HMAC, keyed by
    SECRET_KEY and salted with the list's order, makes a cursor edited by hand, or given
    out for another order, a 400 rather than a page of something else.
    """

    max_cursor_length = 4000

    def __init__(self, model: type[Model], terms: list[KeyTerm]) -> None:
        self.model = model
        self.terms = terms
        self.ordering = [("-" if t.descending else "") + t.path for t in terms]
        self.salt = f"inventory.keyset:{model._meta.label}:{','.join(self.ordering)}"

    @classmethod
    def of(cls, queryset: QuerySet) -> "Keyset | None":
        """The keyset of ``queryset``'s order, or None when that order cannot be sought."""
        query = queryset.query
        if query.extra_order_by or query.distinct_fields or query.combinator:
            return None
        ordering = query.order_by or (query.get_meta().ordering if query.default_ordering else ())
        terms: list[KeyTerm] = []
        for item in ordering:
            if not isinstance(item, str) or item in {"", "?"}:
                return None
            descending = item.startswith("-")
            path = item[1:] if descending else item
            field = _sortable_column(queryset.model, path)
            if field is None:
                return None
            if any(term.path == path for term in terms):
                continue  # ordering by a column again changes nothing
            terms.append(KeyTerm(path, descending, field))
            if "__" not in path and field.primary_key:
                return cls(queryset.model, terms)
        return None  # without the primary key last, equal keys have no order to seek in

    # Reading ------------------------------------------------------------------------

    def page(
        self,
        queryset: QuerySet,
        cursor: Cursor,
        limit: int,
        read: Callable[[QuerySet], Any] = lambda rows: rows,
    ) -> KeysetPage:
        """The ``limit`` rows after (or before) ``cursor``, one query: ``read`` turns the
        sought queryset into what is sliced (``.values()`` rows, say)."""
        sought = queryset.filter(self._seek(cursor.values, before=cursor.before))
        if cursor.before:
            backwards = [("" if t.descending else "-") + t.path for t in self.terms]
            rows = list(read(sought.order_by(*backwards))[: limit + 1])
            more = len(rows) > limit
            rows = rows[:limit][::-1]
            position = max(cursor.position - len(rows), 0) if more else 0
            return KeysetPage(self, rows, position, has_next=True, has_previous=more)
        rows = list(read(sought.order_by(*self.ordering))[: limit + 1])
        more = len(rows) > limit
        return KeysetPage(self, rows[:limit], cursor.position, more, has_previous=True)

    def _seek(self, values: tuple, *, before: bool) -> Q:
        """Rows past ``values`` in the list's order (before them, ``before``): the OR-chain
        ``k1 > v1 OR (k1 = v1 AND k2 > v2) OR ...`` with each ``>`` turned for a descending
        column. A row-value comparison ``(k1, k2) > (v1, v2)`` would say it in one, but only
        for one direction over one table's index; the leading ``k1 >= v1`` repeats what the
        chain implies so that the planner starts an index scan on k1 there."""
        chain = Q()
        equal: dict[str, Any] = {}
        for term, value in zip(self.terms, values, strict=True):
            after = "gt" if term.descending == before else "lt"
            chain |= Q(**equal, **{f"{term.path}__{after}": value})
            equal[term.path] = value
        if len(self.terms) == 1:
            return chain
        lead = self.terms[0]
        bound = "gte" if lead.descending == before else "lte"
        return Q(**{f"{lead.path}__{bound}": values[0]}) & chain

    def values_of(self, row: Any) -> tuple:
        """The sort key of ``row``: a ``.values()`` dict (keyed by the paths, ``id`` for
        ``pk``) or a model instance."""
        found = []
        for term in self.terms:
            if isinstance(row, dict):
                key = term.path if term.path in row else _pk_named(term)
                found.append(row[key])
            else:
                value = row
                for part in term.path.split("__"):
                    value = getattr(value, part)
                found.append(value)
        return tuple(found)

    # Cursors ------------------------------------------------------------------------

    def encode(self, cursor: Cursor) -> str:
        payload = [
            "b" if cursor.before else "a",
            cursor.position,
            cursor.count,
            int(cursor.count_is_estimate),
            *(_dump(value) for value in cursor.values),
        ]
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def decode(self, text: str, *, field: str = "cursor") -> Cursor:
        """The cursor ``text`` stands for; InvalidCursor (400, naming ``field``) for anything
        this list did not give out in this order."""
        try:
            if len(text) > self.max_cursor_length or not text.isascii():
                raise ValueError(text)
            body, mac = text.split(".")
            if not constant_time_compare(mac, self._mac(body)):
                raise ValueError(text)
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            direction, position, count, estimate, *raw = payload
            if (
                direction not in {"a", "b"}
                or not _whole(position)
                or not (count is None or _whole(count))
                or estimate not in {0, 1}
                or len(raw) != len(self.terms)
            ):
                raise ValueError(text)
            pairs = zip(self.terms, raw, strict=True)
            values = tuple(_load(term.field, value) for term, value in pairs)
        except (ValueError, TypeError, AttributeError, ValidationError, decimal.DecimalException):
            raise InvalidCursor(field) from None
        return Cursor(values, direction == "b", position, count, bool(estimate))

    def _mac(self, body: str) -> str:
        digest = salted_hmac(self.salt, body, algorithm="sha256").digest()
        return _b64(digest[:16])


def _sortable_column(model: type[Model], path: str) -> Field | None:
    """The column ``path`` orders by, if it can be sought: a concrete, non-null field,
    reached through forward foreign keys that are never null (a null one would make the
    value NULL too)."""
    opts = model._meta
    parts = path.split("__")
    for index, part in enumerate(parts):
        try:
            field = opts.pk if part == "pk" else opts.get_field(part)
        except FieldDoesNotExist:
            return None
        last = index == len(parts) - 1
        if field.is_relation:
            forward = field.concrete and (field.many_to_one or field.one_to_one)
            if last or not forward or field.null:
                return None
            opts = field.related_model._meta
        elif not last:
            return None  # a transform (``name__lower``) is no column
    if not field.concrete or field.null:
        return None
    return field


def _pk_named(term: KeyTerm) -> str:
    """``pk`` as a ``.values()`` row names it: by the field (``id``, ``product__id``)."""
    parts = term.path.split("__")
    return "__".join([*parts[:-1], term.field.name])


def _dump(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"No cursor form for {type(value).__name__}.")


def _load(field: Field, raw: Any) -> Any:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool) != isinstance(
        field, BooleanField
    ):
        raise ValueError(raw)
    value = field.to_python(raw)
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(raw)
    if isinstance(value, datetime.datetime) and settings.USE_TZ and timezone.is_naive(value):
        raise ValueError(raw)
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(raw)  # PostgreSQL refuses NUL in text
        value.encode()  # and a lone surrogate (UnicodeEncodeError, a ValueError)
    return value


def _whole(number: Any) -> bool:
    return isinstance(number, int) and not isinstance(number, bool) and 0 <= number <= 10**15


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Pagination -----------------------------------------------------------------------------


class Pagination(LimitOffsetPagination):
    """``limit``/``offset`` pages with a total ``count`` that never costs a scan of a big list.

    A page is read one row past its end, which tells whether there is a next page. The total
    is then free on the last page (and on a list smaller than a page); otherwise it is
    counted only up to ``PAGINATION_COUNT_LIMIT`` rows (``SELECT count(*) FROM (... LIMIT
    n)``): counting a 20,000-level branch on every page was half of the page's time, and
    most of it again between vacuums. A list longer than that answers a ``count`` it holds
    more than ("1,000+") and ``count_is_estimate: true``.

    A view may say how its page is read: ``view.list_rows(queryset)`` gives what is sliced
    for the page (``.values()`` rows, say), while the count runs on ``queryset`` itself.
    """

    default_limit = 50
    max_limit = 200
    # Far beyond any list, yet offset + limit stays within the database's 64-bit LIMIT and
    # OFFSET, which refuse (and used to turn into a 500) anything larger.
    max_offset = 10**15
    default_count_limit = 1000
    # KeysetPagination turns it on: pages by cursor where the list's order allows.
    by_keyset = False
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.page = None
        self.offset = 0
        read = view.list_rows if hasattr(view, "list_rows") else _as_is
        keyset = Keyset.of(queryset) if self.by_keyset and isinstance(queryset, QuerySet) else None
        text = request.query_params.get(self.cursor_query_param, "") if self.by_keyset else ""
        if text:
            if keyset is None:
                raise InvalidCursor(self.cursor_query_param)
            return self._cursor_page(queryset, keyset, keyset.decode(text), read)
        self.offset = self.get_offset(request)
        page = list(read(queryset)[self.offset : self.offset + self.limit + 1])
        self.has_next = len(page) > self.limit
        page = page[: self.limit]
        self.count_is_estimate = False
        if not self.has_next and (page or self.offset == 0):
            self.count = self.offset + len(page)
        else:
            self.count = self.limited_count(queryset, already=self.offset + len(page))
        if keyset is not None and page:
            self.page = KeysetPage(keyset, page, self.offset, self.has_next, self.offset > 0)
        return page

    def _cursor_page(self, queryset, keyset: Keyset, cursor: Cursor, read) -> list:
        """A page after (or before) a cursor: one query, the total carried by the cursor."""
        self.page = keyset.page(queryset, cursor, self.limit, read)
        self.has_next = self.page.has_next
        already = self.page.position + len(self.page.rows)
        self.count_is_estimate = False
        if not cursor.before and not self.page.has_next:
            self.count = already  # the end of the list: exact, as on an offset page
        elif cursor.count is None:
            self.count = self.limited_count(queryset, already=already)
        else:
            self.count_is_estimate = cursor.count_is_estimate
            self.count = max(cursor.count, already + (0 if cursor.count_is_estimate else 1))
        if not self.page.rows:
            # Nothing is left on this side of the cursor: no neighbour to point at.
            self.page.has_next = self.page.has_previous = self.has_next = False
        self.offset = None
        return self.page.rows

    def limited_count(self, queryset, *, already: int) -> int:
        """How many rows ``queryset`` holds, counting no further than the limit; past it, a
        number the list is known to exceed (``count_is_estimate``)."""
        limit = getattr(settings, "PAGINATION_COUNT_LIMIT", self.default_count_limit)
        if already >= limit and self.has_next:
            # This page alone shows the list is longer than any count would go.
            self.count_is_estimate = True
            return already
        if isinstance(queryset, QuerySet):
            counted = queryset.order_by()[: limit + 1].count()
        else:
            counted = len(queryset)
        if counted > limit:
            self.count_is_estimate = True
            return max(limit, already)
        return counted

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_is_estimate": self.count_is_estimate,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = ["count", "count_is_estimate", "next", "previous", "results"]
        properties = answer["properties"]
        properties["count"]["description"] = (
            "How many items the list holds; when count_is_estimate is true, a number it "
            "holds more of (the count stops there: show it as 1,000+)."
        )
        properties["next"]["description"] = (
            "The next page's address, null on the last page: follow it as it is."
        )
        properties["previous"]["description"] = (
            "The previous page's address, null on the first page: follow it as it is."
        )
        answer["properties"] = {
            "count": properties["count"],
            "count_is_estimate": {
                "type": "boolean",
                "description": "true when the list is longer than was counted: count is then "
                "a lower bound. Follow next until it is null to see every item.",
            },
            **{name: value for name, value in properties.items() if name != "count"},
        }
        return answer

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        if self.page is not None:
            cursor = self.page.next_cursor(self.count, self.count_is_estimate)
            return self._cursor_link(cursor)
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_previous_link(self) -> str | None:
        if self.page is None:
            return super().get_previous_link() if self.offset is not None else None
        if not self.page.has_previous:
            return None
        if self.offset is not None and self.offset <= self.limit:
            return self._cursor_link(None)  # an offset page's previous is then the first
        cursor = self.page.previous_cursor(self.count, self.count_is_estimate)
        return self._cursor_link(cursor)

    def _cursor_link(self, cursor: str | None) -> str:
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        url = remove_query_param(url, self.offset_query_param)
        if cursor is None:
            return remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_limit(self, request) -> int:
        limit = super().get_limit(request)
        return self.default_limit if limit is None else limit

    def get_offset(self, request) -> int:
        """As DRF reads it (a malformed offset means 0, as ever), but an offset beyond any
        list is refused naming it: the database's 64-bit OFFSET refuses it, which used to
        answer 500."""
        offset = super().get_offset(request)
        if offset > self.max_offset:
            message = f"offset must be at most {self.max_offset}."
            raise InvalidInput(message, field=self.offset_query_param)
        return offset


class KeysetPagination(Pagination):
    """``Pagination`` whose ``next`` and ``previous`` carry a ``cursor``: the page after (or
    before) a row, read by its sort key, costs the same at any depth. For lists whose order
    a ``Keyset`` can seek; in any other order they page by offset as ``Pagination`` does.

    ``offset`` is still read (links made before, and clients that count pages), but no
    longer documented: its page costs what skipping that many rows costs, and its ``next``
    and ``previous`` are cursor links like any other page's.
    """

    by_keyset = True

    def get_schema_operation_parameters(self, view) -> list[dict]:
        limit, _offset = super().get_schema_operation_parameters(view)
        cursor = {
            "name": self.cursor_query_param,
            "required": False,
            "in": "query",
            "description": "Where the page starts, as the next or previous address of "
            "another page gives it (opaque: use it as it is). Without it, the first page. "
            "A cursor from another list, another order or edited by hand is refused (400).",
            "schema": {"type": "string"},
        }
        return [limit, cursor]


def _as_is(rows: Any) -> Any:
    return rows
