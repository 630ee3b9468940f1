import os
import socket

import pytest
from django.core.cache import caches

from tests.helpers import skip_unless_available

pytestmark = pytest.mark.django_db

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_cache(settings):
    skip_unless_available(_redis_reachable(), "no Redis server on 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": f"portal-test-{os.getpid()}",
        }
    }
    yield caches["default"]
    caches["default"].clear()


def test_redis_cache_stores_and_expires_values(redis_cache):
    redis_cache.set("answer", {"value": 42}, timeout=30)

    assert redis_cache.get("answer") == {"value": 42}
    redis_cache.delete("answer")
    assert redis_cache.get("answer") is None


def test_healthz_is_ok_on_redis(client, redis_cache):
    response = client.get("/healthz")

    assert response.json() == {"database": "ok", "cache": "ok"}
