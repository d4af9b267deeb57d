import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from inventory_project.kernel import db_router
from inventory_project.kernel import logging as request_logging
from inventory_project.kernel.api import is_api_request, json_error
from inventory_project.kernel.logging import REQUEST_ID_HEADER

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class ApiBodyLimitMiddleware:
    """Refuse an API request whose declared body exceeds ``API_MAX_BODY_BYTES`` (413)
    before anything reads it; nginx enforces the same limit in front."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_request(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return json_error("bad_length", "Content-Length is not a number.", 400)
            limit = settings.API_MAX_BODY_BYTES
            if length > limit:
                return json_error(
                    "too_large", f"The request body is larger than {limit} bytes.", 413
                )
        return self.get_response(request)


request_log = logging.getLogger("inventory_project.requests")


class RequestIdMiddleware:
    """Serves each request under its id (``inventory_project.kernel.logging``): the
    incoming ``X-Request-ID`` when well-formed, else a new one; the response carries it.
    Writes one line per request to ``inventory_project.requests``: method, path, status,
    duration in milliseconds and the user's id. First in the middleware, so that every
    other middleware's lines carry the id and the duration includes them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request_logging.request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = value
        started = time.perf_counter()
        with request_logging.bound_request_id(value):
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = value
            if request_log.isEnabledFor(logging.INFO):
                request_log.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "user_id": _user_id(request),
                    },
                )
        return response


def _user_id(request: HttpRequest) -> str | None:
    """The signed-in user's id, when something in the request already looked them up:
    logging it costs no query of its own."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return str(user.pk) if user.is_authenticated else None


class RecentWriteMiddleware:
    """Read-your-writes with a read replica (``inventory_project.kernel.db_router``): a
    request that may have written (POST, PUT, PATCH, DELETE) marks its response with a
    signed ``recent_write`` cookie for ``DATABASE_REPLICA_LAG_SECONDS``; a request carrying
    it reads from the primary, even where a view opted in to the replica. Does nothing
    without a replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not db_router.replica_configured():
            return self.get_response(request)
        seconds = settings.DATABASE_REPLICA_LAG_SECONDS
        writes = request.method not in SAFE_METHODS
        recent = writes or (
            request.get_signed_cookie(
                db_router.RECENT_WRITE_COOKIE,
                default=None,
                salt=db_router.RECENT_WRITE_COOKIE,
                max_age=seconds,
            )
            is not None
        )
        with db_router.primary_only(recent):
            response = self.get_response(request)
        if writes:
            response.set_signed_cookie(
                db_router.RECENT_WRITE_COOKIE,
                "1",
                salt=db_router.RECENT_WRITE_COOKIE,
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
