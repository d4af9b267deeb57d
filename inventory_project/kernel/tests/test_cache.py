import pytest
from django.conf import settings
from django.core.cache import caches

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis cache needs REDIS_URL")


def test_the_cache_keeps_one_redis_client_for_every_operation():
    cache = caches["default"]

    first = cache._cache.get_client("a", write=True)
    cache.set("kernel-cache-test", 1, 5)
    cache.get("kernel-cache-test")

    assert cache._cache.get_client("b", write=True) is first
    assert cache._cache.get_client("c") is first


def test_the_kept_client_reads_and_writes_as_django_s_does():
    cache = caches["default"]

    cache.set("kernel-cache-test-value", {"n": 1}, 5)

    assert cache.get("kernel-cache-test-value") == {"n": 1}
    cache.delete("kernel-cache-test-count")
    assert cache.add("kernel-cache-test-count", 1, 5)
    assert cache.incr("kernel-cache-test-count") == 2
