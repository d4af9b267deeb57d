from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from inventory_project.kernel.api import is_api_request, json_error


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and container health checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


class ApiRoot(APIView):
    """The inventory API. Sign a device in at `auth/token/` and send
    `Authorization: Token <token>`; in a browser, your session works too."""

    # A page of links for the browsable API; the schema itself is the index for clients.
    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        def link(name: str) -> str:
            return reverse(name, request=request)

        return Response(
            {
                "me": link("api-me"),
                "token_login": link("api-token-login"),
                "tokens": link("api-tokens"),
                "logout": link("api-logout"),
                "logout_all": link("api-logout-all"),
                "dashboard": link("api-dashboard"),
                "branches": link("api-branches"),
                "categories": link("api-categories"),
                "products": link("api-products"),
                "product_lookup": link("api-product-lookup"),
                "stock_levels": link("api-stock-levels"),
                "movements": link("api-movements"),
                "receive": link("api-stock-receive"),
                "issue": link("api-stock-issue"),
                "adjust": link("api-stock-adjust"),
                "count": link("api-stock-count"),
                "batch": link("api-stock-batch"),
                "transfers": link("api-transfers"),
                "alerts": link("api-alerts"),
                "transfer_request": link("api-transfer-request"),
                "transfer_send": link("api-transfer-send"),
                "users": link("api-users"),
                "memberships": link("api-memberships"),
                "schema": link("api-schema"),
                "docs": link("api-docs"),
                "redoc": link("api-redoc"),
            }
        )


# Django's own error pages, answered in the API's error shape under /api/.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("bad_request", "The request could not be understood.", 400)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return json_error("not_found", "There is nothing at this address.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return json_error("server_error", "Something went wrong on our side; it is logged.", 500)
    return defaults.server_error(request)
