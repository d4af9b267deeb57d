"""How people prove who they are: per-device API tokens and sign-in throttling hooks."""

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from knox.auth import TokenAuthentication

from accounts.models import ApiToken

# How stale a token's "last used" may get before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class DeviceTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>``, checked against the stored digest by knox.

    Expired tokens are deleted on sight; tokens of deactivated users are refused. Each use
    stamps the token's ``last_used_at`` (at most once a minute) so devices can be told apart.
    """

    def validate_user(self, auth_token: ApiToken) -> tuple:
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token


def attempted_email(request: HttpRequest, credentials: dict | None) -> str:
    """The e-mail address a sign-in attempt named, as django-axes should count it.

    Addresses are matched case-insensitively at sign-in, so failures are counted that way too.
    """
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username", "")
    return str(value).strip().lower()
