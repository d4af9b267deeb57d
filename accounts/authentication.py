"""How people prove who they are: per-device API tokens and sign-in throttling hooks.

A token is found by its digest, one indexed query, and the answer is kept in this process for
a few seconds (``API_TOKEN_CACHE_SECONDS``), so that a device sending request after request
costs no query at all. Revocation is still seen at once by every process: each token has a
stamp in the shared cache (Redis), which every change to the token or its user replaces after
commit (``forget``), and a remembered answer is used only while the stamp it was read under is
still the one there. One cache read a request; without Redis, or with Redis down, every
request asks the database.
"""

import binascii
import dataclasses
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

from accounts import permissions
from accounts.models import ApiToken, User
from inventory_project.kernel import outage

logger = logging.getLogger(__name__)

# How stale a token's "last used" may get before a request writes it again.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a stamp stays in Redis: a stamp that has gone merely costs a database read.
STAMP_SECONDS = 24 * 60 * 60

_INVALID = _("Invalid token.")
_INACTIVE = _("User inactive or deleted.")


class DeviceTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>``, looked up by its digest.

    Expired tokens are deleted on sight; tokens of deactivated users are refused. Each use
    stamps the token's ``last_used_at`` and, with ``AUTO_REFRESH``, extends its expiry, each
    at most once a minute, so devices can be told apart and stay signed in while used.
    """

    def authenticate_credentials(self, token: bytes) -> tuple[User, ApiToken]:
        try:
            digest = hash_token(token.decode("utf-8"))
        except (UnicodeDecodeError, TypeError, ValueError, binascii.Error):
            raise exceptions.AuthenticationFailed(_INVALID) from None
        user, auth_token = _look_up(digest)
        now = timezone.now()
        if auth_token.expiry is not None and auth_token.expiry < now:
            ApiToken.objects.filter(pk=auth_token.pk).delete()
            forget([digest])
            token_expired.send(
                sender=self.__class__, username=user.get_username(), source="auth_token"
            )
            raise exceptions.AuthenticationFailed(_INVALID)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_INACTIVE)
        _note_use(auth_token, digest, now)
        return user, auth_token


def forget(digests: Iterable[str]) -> None:
    """Make every process read these tokens (revoked, or their user changed) from the
    database again: call after the change committed."""
    digests = list(digests)
    if not digests:
        return
    for digest in digests:
        _remembered.pop(digest)
    try:
        cache.delete_many([_stamp_key(digest) for digest in digests])
    except Exception as error:
        if not outage.is_outage(error):
            raise
        # Other processes trust what they remember for at most API_TOKEN_CACHE_SECONDS.
        logger.error("Redis is unreachable; revoked tokens may work elsewhere briefly: %s", error)


# Looking a token up ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    """A token and its user as read from the database, under ``stamp``."""

    stamp: str
    read_at: float  # time.monotonic()
    user: tuple
    token: tuple
    # What the user may do where, as the requests with this token found it: forgotten with
    # the answer when the user's rights change (their tokens' stamps go), or sooner.
    rights: permissions.NotedRights = field(default_factory=permissions.NotedRights)


_USER_FIELDS = [field.attname for field in User._meta.concrete_fields]
_TOKEN_FIELDS = [field.attname for field in ApiToken._meta.concrete_fields]


class _Remembered:
    """The answers of the last few hundred tokens used in this process (least recently used
    go first); shared by the threads of the process."""

    def __init__(self) -> None:
        self._answers: OrderedDict[str, _Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> _Answer | None:
        with self._lock:
            answer = self._answers.get(digest)
            if answer is not None:
                self._answers.move_to_end(digest)
            return answer

    def put(self, digest: str, answer: _Answer) -> None:
        size = getattr(settings, "API_TOKEN_CACHE_SIZE", 1000)
        with self._lock:
            self._answers[digest] = answer
            self._answers.move_to_end(digest)
            while len(self._answers) > size:
                self._answers.popitem(last=False)

    def pop(self, digest: str) -> None:
        with self._lock:
            self._answers.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


_remembered = _Remembered()


def _cache_seconds() -> float:
    # Only a cache shared by every process can carry a revocation to all of them.
    default = 10 if getattr(settings, "REDIS_URL", "") else 0
    return getattr(settings, "API_TOKEN_CACHE_SECONDS", default)


def _look_up(digest: str) -> tuple[User, ApiToken]:
    seconds = _cache_seconds()
    stamp = _stamp(digest) if seconds > 0 else None
    if stamp is not None:
        answer = _remembered.get(digest)
        if (
            answer is not None
            and answer.stamp == stamp
            and time.monotonic() - answer.read_at < seconds
        ):
            return _restore(answer)
    # The stamp was read before the database: a revocation committing after this read
    # replaces it, so what is read now is not trusted past it.
    read_at = time.monotonic()
    auth_token = ApiToken.objects.select_related("user").filter(digest=digest).first()
    if auth_token is None:
        _remembered.pop(digest)
        raise exceptions.AuthenticationFailed(_INVALID)
    user = auth_token.user
    if stamp is not None:
        answer = _Answer(
            stamp=stamp,
            read_at=read_at,
            user=tuple(getattr(user, name) for name in _USER_FIELDS),
            token=tuple(getattr(auth_token, name) for name in _TOKEN_FIELDS),
        )
        permissions.share_noted_rights(user, answer.rights)
        _remembered.put(digest, answer)
    return user, auth_token


def _restore(answer: _Answer) -> tuple[User, ApiToken]:
    # Fresh instances each request; only the rights noted are shared, with the answer.
    user = User.from_db("default", _USER_FIELDS, answer.user)
    auth_token = ApiToken.from_db("default", _TOKEN_FIELDS, answer.token)
    auth_token.user = user
    permissions.share_noted_rights(user, answer.rights)
    return user, auth_token


def _stamp(digest: str) -> str | None:
    """The token's current stamp, set now if there is none; None when Redis is down."""
    key = _stamp_key(digest)
    try:
        stamp = cache.get(key)
        if stamp is None:
            fresh = uuid.uuid4().hex
            stamp = fresh if cache.add(key, fresh, STAMP_SECONDS) else cache.get(key)
    except Exception as error:
        if not outage.is_outage(error):
            raise
        outage.warn(
            logger,
            "token-stamp",
            "Redis is unreachable; tokens are read from the database: %s",
            error,
        )
        return None
    return stamp


def _stamp_key(digest: str) -> str:
    return f"api-token-stamp:{digest}"


# Recording use --------------------------------------------------------------------------------


def _note_use(auth_token: ApiToken, digest: str, now: datetime) -> None:
    """Extend the token (AUTO_REFRESH) and stamp its last use, each at most once a minute:
    one write when either is due, none otherwise."""
    changes: dict[str, datetime] = {}
    if knox_settings.AUTO_REFRESH and auth_token.expiry is not None:
        expiry = now + knox_settings.TOKEN_TTL
        if knox_settings.AUTO_REFRESH_MAX_TTL is not None:
            expiry = min(expiry, auth_token.created + knox_settings.AUTO_REFRESH_MAX_TTL)
        if (expiry - auth_token.expiry).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:
            changes["expiry"] = expiry
    if auth_token.last_used_at is None or now - auth_token.last_used_at > LAST_USED_RESOLUTION:
        changes["last_used_at"] = now
    if not changes:
        return
    if not ApiToken.objects.filter(pk=auth_token.pk).update(**changes):
        # Revoked since it was read.
        _remembered.pop(digest)
        raise exceptions.AuthenticationFailed(_INVALID)
    for name, value in changes.items():
        setattr(auth_token, name, value)
    answer = _remembered.get(digest)
    if answer is not None:
        token = dict(zip(_TOKEN_FIELDS, answer.token, strict=True))
        token.update(changes)  # expiry and last_used_at are their own column names
        _remembered.put(
            digest,
            dataclasses.replace(answer, token=tuple(token[name] for name in _TOKEN_FIELDS)),
        )


def attempted_email(request: HttpRequest, credentials: dict | None) -> str:
    """The e-mail address a sign-in attempt named, as django-axes should count it.

    Addresses are matched case-insensitively at sign-in, so failures are counted that way too.
    """
    value = (credentials or {}).get("username")
    if value is None:
        value = request.POST.get("username", "")
    return str(value).strip().lower()
