"""The reports in the API, under /api/v1/reports/: the figures the report pages show, read by
the same selectors (``stock.reports``) and checked by the same forms, so a range the page
refuses beside its field is a 400 here naming the same field.

For ADMINs and MANAGERs (403 for others); ``branch`` is a branch's id, and one the caller
may not see answers 404 as one that does not exist. Days are the branch's, else the site's.
"""

import uuid
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.permissions import Action
from branches.errors import UnknownBranch
from catalog.models import QUANTITY_DECIMAL_PLACES
from inventory_project.kernel.api import ApiErrorSerializer
from inventory_project.kernel.errors import NotPermitted
from inventory_project.kernel.schema import ERRORS
from stock import reports
from stock.views import reports as pages

# Serializers of the answers ---------------------------------------------------------------


def _quantity(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=None, decimal_places=QUANTITY_DECIMAL_PLACES, **kwargs
    )


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=2, **kwargs)


class ValueRowSerializer(serializers.Serializer):
    branch_id = serializers.UUIDField()
    branch_code = serializers.CharField()
    category_id = serializers.UUIDField(allow_null=True, help_text="Null: no category.")
    category_name = serializers.CharField(allow_null=True)
    products = serializers.IntegerField(help_text="Products with something on hand.")
    quantity = _quantity(help_text="On hand summed, whatever the units.")
    value = _money(
        help_text="On hand at each level's moving average cost (the product's cost price "
        "where none was received with a cost yet)."
    )


class StockValueSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text="Stock as it was at the end of this day.")
    timezone = serializers.CharField(help_text="The time zone the day is counted in.")
    total_value = _money()
    rows = ValueRowSerializer(many=True, help_text="By branch code, then category name.")


class PeriodRowSerializer(serializers.Serializer):
    period_start = serializers.DateField(source="period")
    branch_id = serializers.UUIDField()
    branch_code = serializers.CharField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Movements per kind (kinds with none left out)."
    )
    quantities = serializers.DictField(
        child=_quantity(), help_text="Signed quantities summed per kind."
    )
    total = serializers.IntegerField(help_text="Movements of every kind.")


class MovementsSerializer(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=reports.GRANULARITIES)
    start = serializers.DateField(help_text="First day counted (the start of its period).")
    end = serializers.DateField(help_text="Last day counted.")
    timezone = serializers.CharField()
    rows = PeriodRowSerializer(
        many=True, help_text="Oldest period first, then by branch; only pairs with movements."
    )


class MoverSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    issued = _quantity(help_text="Quantity issued in the range.")
    issues = serializers.IntegerField(help_text="Issue movements in the range.")


class SlowMoverSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    on_hand = _quantity()
    value = _money(help_text="On hand at each level's moving average cost (else cost price).")
    last_issue = serializers.DateTimeField(allow_null=True, help_text="Null: never issued.")


class MoversSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    timezone = serializers.CharField()
    top = MoverSerializer(many=True, help_text="Most issued first.")
    slow = SlowMoverSerializer(
        many=True, help_text="Held but not issued in the range; never issued first, then oldest."
    )


class SurplusSerializer(serializers.Serializer):
    branch_id = serializers.UUIDField()
    branch_code = serializers.CharField()
    available = _quantity(
        help_text="On hand beyond the branch's own maximum (its reorder rule's, else twice its "
        "threshold), rounded down for countable units."
    )


class ReorderLineSerializer(serializers.Serializer):
    level_id = serializers.UUIDField()
    branch_id = serializers.UUIDField()
    branch_code = serializers.CharField()
    product_id = serializers.UUIDField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    on_hand = _quantity()
    threshold = _quantity(help_text="The level's low-stock threshold: its own, else the product's.")
    minimum = _quantity(
        help_text="The reorder minimum: the level's reorder rule's, else its threshold. "
        "The level is listed because on hand is below it."
    )
    maximum = _quantity(
        help_text="What a reorder brings the level up to: the rule's maximum, else twice "
        "the threshold."
    )
    from_rule = serializers.BooleanField(
        help_text="True: the level's reorder rule sets the minimum and maximum; false: the "
        "defaults (the threshold and twice that)."
    )
    suggested = _quantity(help_text="The maximum minus on hand, rounded up for countable units.")
    sources = SurplusSerializer(
        many=True, help_text="Other branches you may see with spare, the most first."
    )
    hidden_surplus = serializers.BooleanField(
        help_text="A branch you may not see has spare too: ask the warehouse."
    )


class ReorderSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReorderLineSerializer(many=True)


# Reading the query ------------------------------------------------------------------------

BRANCH = OpenApiParameter(
    "branch",
    OpenApiTypes.UUID,
    OpenApiParameter.QUERY,
    required=False,
    description="Only this branch (its days, too). One you may not see answers 404; a value "
    "that is not a UUID answers 400.",
)
CATEGORY = OpenApiParameter("category", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=False)
FROM = OpenApiParameter("from", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False)
TO = OpenApiParameter("to", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False)
ANSWERS = {
    400: OpenApiResponse(ApiErrorSerializer, description=ERRORS["400"]),
    403: OpenApiResponse(ApiErrorSerializer, description="Only managers and administrators."),
    404: OpenApiResponse(ApiErrorSerializer, description=ERRORS["404"]),
}


def _scope(request: Request) -> pages.Scope:
    """The caller's branches and the one ``branch`` names; refusals as the API answers."""
    if Action.MANAGE_STAFF not in permissions.actions_anywhere(request.user):
        raise NotPermitted("Only managers and administrators read the reports.")
    visible = list(permissions.visible_branches(request.user).order_by("code"))
    text = request.query_params.get("branch", "").strip()
    branch = None
    if text:
        try:
            wanted = uuid.UUID(text)
        except ValueError:
            raise serializers.ValidationError({"branch": ["Must be a valid UUID."]}) from None
        branch = next((b for b in visible if b.pk == wanted), None)
        if branch is None:
            raise UnknownBranch(f"No branch with id {text[:40]}.")
    return pages.Scope(branch, [branch] if branch else visible, visible, pages.zone_of(branch))


def _refuse(form) -> None:
    """A 400 naming each field the report's form found wrong, in the form's words."""
    if form.errors:
        raise serializers.ValidationError(
            {name: [str(message) for message in messages] for name, messages in form.errors.items()}
        )


# Endpoints --------------------------------------------------------------------------------


class StockValueApi(APIView):
    @extend_schema(
        operation_id="reports_stock_value",
        summary="Stock on hand and its value per branch and category",
        description="As it was at the end of `as_of` (default: now), reconstructed from the "
        "ledger: each level held its last movement's on-hand-after, valued at the moving "
        "average cost after that movement (the product's cost price for a level never "
        "received with a cost). A day that has not ended is a 400.",
        parameters=[
            BRANCH,
            CATEGORY,
            OpenApiParameter("as_of", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False),
        ],
        responses={200: StockValueSerializer, **ANSWERS},
    )
    def get(self, request: Request) -> Response:
        scope = _scope(request)
        form, found = pages.read_stock_value(request.query_params, scope)
        _refuse(form)
        rows = found["rows"]
        data = {
            "as_of": found["as_of"],
            "timezone": str(scope.zone),
            "total_value": sum((row.value for row in rows), start=Decimal("0.00")),
            "rows": rows,
        }
        return Response(StockValueSerializer(data).data)


class MovementsApi(APIView):
    @extend_schema(
        operation_id="reports_movements",
        summary="Movements per day, week or month by branch and kind",
        description="From `from` to `to` (default: the last 30 days, 12 weeks or 12 months "
        "up to today). A start after the end, or a range of more than 92 days by day, 105 "
        "weeks by week or 60 months by month, is a 400 naming `from`.",
        parameters=[
            BRANCH,
            OpenApiParameter(
                "granularity",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                enum=list(reports.GRANULARITIES),
            ),
            FROM,
            TO,
        ],
        responses={200: MovementsSerializer, **ANSWERS},
    )
    def get(self, request: Request) -> Response:
        scope = _scope(request)
        form, found = pages.read_movements(request.query_params, scope)
        _refuse(form)
        data = {**found, "timezone": str(scope.zone)}
        return Response(MovementsSerializer(data).data)


class MoversApi(APIView):
    @extend_schema(
        operation_id="reports_movers",
        summary="Top movers and slow movers",
        description="Top: the products issued most from `from` to `to` (default: the last 30 "
        "days). Slow: products held that were not issued in that range, never issued first, "
        "then the longest ago. At most 366 days; `limit` 10, 20 (default), 50 or 100.",
        parameters=[
            BRANCH,
            CATEGORY,
            FROM,
            TO,
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                required=False,
                enum=list(pages.MOVER_LIMITS),
            ),
        ],
        responses={200: MoversSerializer, **ANSWERS},
    )
    def get(self, request: Request) -> Response:
        scope = _scope(request)
        form, found = pages.read_movers(request.query_params, scope)
        _refuse(form)
        data = {**found, "timezone": str(scope.zone)}
        return Response(MoversSerializer(data).data)


class ReorderApi(APIView):
    @extend_schema(
        operation_id="reports_reorder",
        summary="Levels below their reorder minimum, with a suggested quantity and where to get it",
        description="Levels of active products below their reorder minimum (the level's "
        "reorder rule's, else its threshold: the level's own, else the product's), by branch "
        "code and product name, 50 a page. `suggested` brings the level up to its maximum (the "
        "rule's, else twice the threshold). `sources` are other active branches you may see "
        "holding more than their own maximum, with what they can spare; `hidden_surplus` says "
        "a branch you may not see has some too. The same terms as `/api/v1/replenishment/`, "
        "which also counts what is on order or on its way.",
        parameters=[
            BRANCH,
            CATEGORY,
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False),
        ],
        responses={200: ReorderSerializer, **ANSWERS},
    )
    def get(self, request: Request) -> Response:
        scope = _scope(request)
        form = pages.read_form(request.query_params, pages.ReorderForm, scope)
        _refuse(form)
        page = form.get("page", 1)
        visible = (
            None
            if permissions.is_admin(request.user)
            else frozenset(branch.pk for branch in scope.visible)
        )
        lines, more = reports.reorder_page(
            scope.branches,
            offset=(page - 1) * pages.PER_PAGE,
            limit=pages.PER_PAGE,
            visible=visible,
            category_id=form.get("category"),
        )

        def link(number: int) -> str:
            query = request.query_params.copy()
            query["page"] = str(number)
            return request.build_absolute_uri(request.path + "?" + query.urlencode())

        data = {
            "page": page,
            "next": link(page + 1) if more else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": lines,
        }
        return Response(ReorderSerializer(data).data)
