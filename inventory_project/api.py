"""What every API endpoint shares: domain errors as HTTP answers, and strict input."""

import logging

from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from inventory_project.errors import Conflict, DomainError, InvalidInput, NotFound, NotPermitted

logger = logging.getLogger("inventory_project.api")

DOMAIN_STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    NotPermitted: status.HTTP_403_FORBIDDEN,
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    Conflict: status.HTTP_409_CONFLICT,
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Answer a DomainError with its status and ``{"detail", "code"}``; log refusals.

    Refusals the permission module decides are logged there; the ones DRF decides
    (no or bad credentials, a missing permission class) are logged here.
    """
    if isinstance(exc, DomainError):
        code = next(
            (answer for kind, answer in DOMAIN_STATUS.items() if isinstance(exc, kind)),
            status.HTTP_400_BAD_REQUEST,
        )
        return Response({"detail": exc.message, "code": exc.code}, status=code)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        request = context["request"]
        logger.warning(
            "Refused %s %s from %s: %s",
            request.method,
            request.path,
            request.META.get("REMOTE_ADDR"),
            exc.detail,
        )
    return response


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know instead of silently dropping them, so that a client
    sending ``is_admin`` or ``role`` where they are not accepted learns it was not applied."""

    def to_internal_value(self, data: object) -> dict:
        if hasattr(data, "keys"):
            # The browsable API's HTML forms send their CSRF token along with the fields.
            unknown = sorted(set(data.keys()) - set(self.fields) - {"csrfmiddlewaretoken"})
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is not accepted here."] for name in unknown}
                )
        return super().to_internal_value(data)
