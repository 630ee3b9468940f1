"""Versioned cache keys for a connection's PagerDuty reads.

Reads are cached per connection for `PAGERDUTY_CACHE_SECONDS` (default 30)
under a version number that every write bumps, so one write invalidates all
of that connection's cached reads at once, in every worker. This module
imports nothing of the portal, so anything may call `cache_invalidate`
(the webhook receiver does) without importing the workspace.

Directory lists (the names pickers offer: services, teams, users,
schedules, escalation policies) live under a second version, `DIRECTORY`,
for `PAGERDUTY_DIRECTORY_CACHE_SECONDS` (default 300): an incident event
or an incident write leaves them alone, a write to the directory drops them.
"""

from django.conf import settings
from django.core.cache import cache

DIRECTORY = "dir"


def cache_seconds() -> int:
    """Return how long reads stay cached; 0 turns the cache off."""
    return settings.PAGERDUTY_CACHE_SECONDS


def directory_cache_seconds() -> int:
    """Return how long directory lists stay cached; 0 when caching is off."""
    if cache_seconds() <= 0:
        return 0
    return max(0, settings.PAGERDUTY_DIRECTORY_CACHE_SECONDS)


def _version_key(connection_id: int, kind: str = "") -> str:
    suffix = f":{kind}" if kind else ""
    return f"pdws:{connection_id}:version{suffix}"


def cache_version(connection_id: int, kind: str = "") -> int:
    """Return the connection's current cache version (1 when unset)."""
    key = _version_key(connection_id, kind)
    version = cache.get(key)
    if version is not None:
        return version
    # One round trip on the usual path; `add` settles a race with a write.
    if cache.add(key, 1, timeout=None):
        return 1
    return cache.get(key) or 1


def cache_invalidate(connection_id: int, kind: str = "") -> None:
    """Bump the connection's cache version so none of its reads are reused.

    With `kind=DIRECTORY`, only its directory lists are dropped.
    """
    key = _version_key(connection_id, kind)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, timeout=None)
