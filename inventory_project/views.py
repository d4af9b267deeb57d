from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


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
                "users": link("api-users"),
                "memberships": link("api-memberships"),
            }
        )
