"""Fixed-window counters in Django's cache (shared when REDIS_URL is set)."""

from django.core.cache import cache


def rate_limit_allows(*, key: str, limit: int, window: int) -> bool:
    """Count one attempt on `key`; return whether it is within the limit.

    At most `limit` attempts are allowed per `window` seconds.
    """
    cache_key = f"ratelimit:{key}"
    cache.add(cache_key, 0, window)
    try:
        return cache.incr(cache_key) <= limit
    except ValueError:  # the window expired between add and incr
        cache.add(cache_key, 1, window)
        return True
