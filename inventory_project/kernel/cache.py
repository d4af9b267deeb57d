"""Django's Redis cache, keeping its Redis client instead of making one per operation.

Django's client builds a new ``redis.Redis`` (with its table of some 170 response
callbacks) for every get or set; a request that checks a token and counts its rate paid for
two of them. The client is thread-safe and its connections come from the same pool, so one
per pool serves every operation.
"""

from django.core.cache.backends import redis as django_redis


class _Client(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _Client
