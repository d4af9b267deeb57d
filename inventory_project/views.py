import functools

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from redis import Redis, RedisError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from inventory_project.kernel.api import is_api_request, json_error
from inventory_project.shell import shell_of


def live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing else is asked, so that an outage of the
    database or Redis never has the orchestrator restart every process."""
    return JsonResponse({"status": "ok"})


def health(request: HttpRequest) -> JsonResponse:
    """``/healthz``, kept for the clients that used it: the readiness check, answering
    ``{"status": "ok"}`` while ready as it always did (a Redis outage, "degraded" on
    /health/ready, included: the app still serves), and naming the failed check when not."""
    response = ready(request)
    if response.status_code == 200:
        return JsonResponse({"status": "ok"})
    return response


def ready(request: HttpRequest) -> JsonResponse:
    """Readiness, naming each check: 503 without the database or with migrations not yet
    applied (this code must not serve an older schema); "degraded" (still 200, the app
    serves: see ``inventory_project.kernel.outage``) while Redis, with ``REDIS_URL``, does
    not answer, so that a Redis outage does not take every process out of the balancer.
    At most two queries, one once the migrations were found applied."""
    checks = {}
    if _migrated:
        checks["database"] = "ok" if _database_up() else "down"
        if checks["database"] == "ok":
            checks["migrations"] = "ok"
    else:
        # Reading the applied migrations is the database's check too.
        pending = _pending_migrations()
        checks["database"] = "down" if pending is None else "ok"
        if pending is not None:
            checks["migrations"] = "pending" if pending else "ok"
    if settings.REDIS_URL:
        try:
            _redis(settings.REDIS_URL).ping()
            checks["redis"] = "ok"
        except RedisError:
            checks["redis"] = "down"
    if checks["database"] == "down" or checks.get("migrations") != "ok":
        return _unlogged(JsonResponse({"status": "unavailable", "checks": checks}, status=503))
    degraded = any(state == "down" for state in checks.values())
    return JsonResponse({"status": "degraded" if degraded else "ok", "checks": checks})


def _database_up() -> bool:
    # One query on a connection kept open: cheap enough for a probe a second.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


# Once applied, migrations stay applied for this process's life: asked until then only.
_migrated = False


def _pending_migrations() -> int | None:
    """How many migrations are not applied (two queries); None without the database."""
    global _migrated
    try:
        executor = MigrationExecutor(connection)
        pending = len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
    except DatabaseError:
        return None
    _migrated = not pending
    return pending


def _unlogged(response: JsonResponse) -> JsonResponse:
    # A probe every few seconds during an outage would log an ERROR each time (Django logs
    # every 5xx); what is down is in the answer, and Redis's absence is warned of elsewhere.
    response._has_been_logged = True
    return response


@functools.lru_cache(maxsize=4)
def _redis(url: str) -> Redis:
    # A probe must answer within its own timeout even when Redis hangs rather than refuses.
    return Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)


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


# The API's documentation pages: every asset from this server (drf-spectacular-sidecar's
# static files). What the bundles would still fetch from elsewhere on their own (ReDoc's
# Redocly logo, Swagger UI's validator badge) the browser is told not to.
OWN_ASSETS_ONLY = "img-src 'self' data:; font-src 'self' data:; connect-src 'self'"


class ApiDocs(SpectacularSwaggerView):
    @extend_schema(exclude=True)
    def get(self, request: Request, *args, **kwargs) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = OWN_ASSETS_ONLY
        return response


class ApiReference(SpectacularRedocView):
    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args, **kwargs) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = OWN_ASSETS_ONLY
        return response


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


@login_required
@require_GET
def alert_badge(request: HttpRequest) -> HttpResponse:
    """The navigation's count of open alerts, refreshed live when one is raised or resolved."""
    return render(request, "alerts/badge.html", {"count": shell_of(request).open_alerts})
