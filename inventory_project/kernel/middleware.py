from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from inventory_project.kernel.api import is_api_request, json_error


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
