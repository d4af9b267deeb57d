"""What every API endpoint shares: domain errors as HTTP answers, and strict input."""

import logging

from axes.helpers import get_client_ip_address
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts import permissions
from inventory_project.errors import Conflict, DomainError, InvalidInput, NotFound, NotPermitted

logger = logging.getLogger("inventory_project.api")

NOT_ACCEPTED = "not_accepted"

DOMAIN_STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    NotPermitted: status.HTTP_403_FORBIDDEN,
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    Conflict: status.HTTP_409_CONFLICT,
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answer a DomainError with its status and ``{"detail", "code"}``, and log every
    refusal once, with who asked: refused access and refused fields at WARNING."""
    if isinstance(exc, DomainError):
        code = next(
            (answer for kind, answer in DOMAIN_STATUS.items() if isinstance(exc, kind)),
            status.HTTP_400_BAD_REQUEST,
        )
        response = Response({"detail": exc.message, "code": exc.code}, status=code)
    else:
        response = drf_exception_handler(exc, context)
    if response is not None and not getattr(exc, "logged", False):
        request = context["request"]
        refused = response.status_code in {401, 403, 404} or _names_refused_fields(exc)
        logger.log(
            logging.WARNING if refused else logging.INFO,
            "Refused %s %s for %s from %s (%s): %s",
            request.method,
            request.path,
            permissions.who(request.user),
            get_client_ip_address(request),
            response.status_code,
            response.data,
        )
    return response


def _names_refused_fields(exc: Exception) -> bool:
    if not isinstance(exc, exceptions.ValidationError):
        return False
    codes = exc.get_codes()
    return isinstance(codes, dict) and NOT_ACCEPTED in [
        code for field in codes.values() for code in (field if isinstance(field, list) else [])
    ]


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know instead of silently dropping them, so that a client
    sending ``is_admin`` or ``role`` where they are not accepted learns it was not applied."""

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
