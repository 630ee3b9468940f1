"""Versioned cache keys for a connection's PagerDuty reads.

Reads are cached per connection for `PAGERDUTY_CACHE_SECONDS` (default 30)
under a version number that every write bumps, so one write invalidates all
of that connection's cached reads at once, in every worker. This module
imports nothing of the portal, so anything may call `cache_invalidate`
(the webhook receiver does) without importing the workspace.
"""

from django.conf import settings
from django.core.cache import cache


def cache_seconds() -> int:
    """Return how long reads stay cached; 0 turns the cache off."""
    return settings.PAGERDUTY_CACHE_SECONDS


def _version_key(connection_id: int) -> str:
    return f"pdws:{connection_id}:version"


def cache_version(connection_id: int) -> int:
    """Return the connection's current cache version (1 when unset)."""
    key = _version_key(connection_id)
    version = cache.get(key)
    if version is not None:
        return version
    # One round trip on the usual path; `add` settles a race with a write.
    if cache.add(key, 1, timeout=None):
        return 1
    return cache.get(key) or 1


def cache_invalidate(connection_id: int) -> None:
    """Bump the connection's cache version so none of its reads are reused."""
    key = _version_key(connection_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, timeout=None)
