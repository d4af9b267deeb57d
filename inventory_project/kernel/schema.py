"""How the OpenAPI schema describes what every endpoint shares: its error answers, the
Idempotency-Key header of stock-changing POSTs, and the per-device token scheme."""

import functools
import json

from django.http import HttpRequest, HttpResponse
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from inventory_project.kernel import events
from inventory_project.kernel.api import ApiErrorSerializer

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID, say), up to 255 printable characters. Retrying with the same "
        "key and body answers the first response again without applying anything twice; the "
        "same key with another body is refused (422). Keys are kept at least 24 hours."
    ),
    pattern=r"^[\x21-\x7e]{1,255}$",
)

ERRORS = {
    "400": "The input is invalid; `fields` names what is wrong.",
    "401": "No valid credentials: sign in, or send `Authorization: Token <token>`.",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object, or one of a branch you cannot see.",
    "406": "The Accept header asks for a format the API does not produce.",
    "409": "Refused by the current state: e.g. insufficient stock, an inactive product, "
    "or a concurrent request with the same Idempotency-Key still running.",
    "413": "The request body is too large.",
    "415": "The body is not JSON (or a form).",
    "422": "The Idempotency-Key was used before with a different request.",
    "429": "Too many requests; `Retry-After` says when to try again.",
    "503": "The database was too busy with the same rows; retry after `Retry-After` seconds.",
}


class AutoSchema(openapi.AutoSchema):
    """Adds the error answers each operation can give, described once, to every operation."""

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        if self._is_idempotent():
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(
                code,
                {
                    **self._get_response_for_code(ApiErrorSerializer, code, direction=direction),
                    "description": ERRORS[code],
                },
            )
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["403", "404", "406", "429", "503"]
        if self.get_auth() or self.method != "GET":
            codes.append("401")
        if self.method != "GET" or self._get_filter_parameters() or self._is_list_view():
            codes.append("400")
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            codes += ["409", "413", "415"]
        if self._is_idempotent():
            codes.append("422")
        return sorted(codes)

    def _is_idempotent(self) -> bool:
        return self.method == "POST" and getattr(self.view, "idempotent", False)


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict:
        definition = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
        definition["description"] = (
            "A per-device token from `POST /api/v1/auth/token/`, sent as `Token <token>`."
        )
        return definition


# The websocket protocol ------------------------------------------------------------------


@functools.cache
def _websocket_document() -> bytes:
    # Every app has declared its events by the time a request arrives (AppConfig.ready).
    return json.dumps(events.asyncapi_document(), indent=2).encode()


def websocket_schema(request: HttpRequest) -> HttpResponse:
    """The live-update websocket's protocol as an AsyncAPI 3.0 document, generated from the
    event catalogue: every event's envelope and data, the socket's frames and the client's
    messages, in JSON Schema."""
    return HttpResponse(_websocket_document(), content_type="application/json")
