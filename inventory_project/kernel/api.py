"""What every API endpoint shares: one error shape, strict input, pagination and throttling.

Every 4xx and 5xx answer of the API has the same body, ``{"code", "message", "fields"}``:
``code`` is stable and machine-readable, ``message`` is for people, and ``fields`` maps each
offending input field (dotted for nested ones, ``lines.2.quantity``) to its messages.
"""

import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
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

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = view.list_rows(queryset) if hasattr(view, "list_rows") else queryset
        page = list(rows[self.offset : self.offset + self.limit + 1])
        self.has_next = len(page) > self.limit
        page = page[: self.limit]
        self.count_is_estimate = False
        if not self.has_next and (page or self.offset == 0):
            self.count = self.offset + len(page)
        else:
            self.count = self.limited_count(queryset, already=self.offset + len(page))
        return page

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
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

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
