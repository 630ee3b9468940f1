"""The per-request workspace: a tenant's live connection, its client, its cache.

Reads are cached per connection for `PAGERDUTY_CACHE_SECONDS` (default 30)
under a version number that every write bumps, so one write invalidates all
of that connection's cached reads at once, in every worker.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.models import Connection, Membership
from integrations.pagerduty.client import Page, PagerDutyClient
from integrations.services.connections import (
    SYNCED_FIELDS,
    ConnectionNeedsReconnect,
    connection_get_access_token,
    connection_mark_needs_reconnect,
    connection_refresh_tokens,
)


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


@dataclass
class Workspace:
    """What every workspace view needs: who, which tenant, which connection."""

    membership: Membership
    connection: Connection | None
    refresh: bool = False
    section: str = ""
    fetched_at: list[datetime] = field(default_factory=list)
    _client: PagerDutyClient | None = None
    _version: int | None = None
    _refreshed_after_401: bool = False

    @property
    def tenant(self):
        return self.membership.tenant

    @property
    def scopes(self) -> frozenset[str]:
        if self.connection is None:
            return frozenset()
        return frozenset(self.connection.granted_scope_list)

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def as_of(self) -> datetime | None:
        """Return when the oldest data on the page was fetched."""
        return min(self.fetched_at) if self.fetched_at else None

    @property
    def client(self) -> PagerDutyClient:
        if self._client is None:
            connection = self.connection
            self._client = PagerDutyClient.for_connection(
                connection,
                token_provider=lambda: connection_get_access_token(
                    connection=connection
                ),
                on_unauthorized=self._after_unauthorized,
                backoff=settings.PAGERDUTY_RETRY_BACKOFF,
            )
        return self._client

    def _after_unauthorized(self) -> bool:
        """Refresh once after a 401; flag the connection if that did not help.

        PagerDuty can drop an access token while its refresh token still
        works. Return True when the request is worth sending again.
        """
        connection = self.connection
        if not self._refreshed_after_401:
            self._refreshed_after_401 = True
            try:
                connection_refresh_tokens(connection=connection, force=True)
            except ConnectionNeedsReconnect:
                return False  # refused and already flagged by the refresh
            connection.refresh_from_db(fields=SYNCED_FIELDS)
            return True
        connection_mark_needs_reconnect(
            connection=connection,
            reason=_(
                "PagerDuty rejected this connection's token: it expired "
                "or access was revoked. A tenant admin must reconnect."
            ),
        )
        return False

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # --- Cached reads ----------------------------------------------------

    def _cached(self, parts: Mapping[str, Any], fetch: Callable[[], Any]) -> Any:
        seconds = cache_seconds()
        if seconds <= 0:
            self.fetched_at.append(timezone.now())
            return fetch()
        if self._version is None:
            self._version = cache_version(self.connection.pk)
        digest = hashlib.sha256(
            json.dumps(parts, sort_keys=True, default=str).encode()
        ).hexdigest()
        key = f"pdws:{self.connection.pk}:{self._version}:{digest}"
        if not self.refresh:
            hit = cache.get(key)
            if hit is not None:
                self.fetched_at.append(hit[0])
                return hit[1]
        value = fetch()
        now = timezone.now()
        cache.set(key, (now, value), timeout=seconds)
        self.fetched_at.append(now)
        return value

    def read(
        self, path: str, params: Mapping[str, Any] | None = None, *, scope: str
    ) -> dict[str, Any]:
        """Return a GET's JSON body, from the cache when fresh."""
        return self._cached(
            {"get": path, "params": dict(params or {})},
            lambda: self.client.get(path, params, required_scope=scope),
        )

    def read_page(
        self,
        path: str,
        *,
        key: str,
        scope: str,
        params: Mapping[str, Any] | None = None,
        offset: int = 0,
        limit: int = 25,
        total: bool = False,
        build: Callable[[dict[str, Any]], Any] | None = None,
    ) -> Page:
        """Return one page of a list, from the cache when fresh.

        With `build`, the page's items are `build(item)` and cached that way:
        entities pickle in a fraction of the time of the raw JSON they come
        from, and a cache hit does not build them again.
        """
        parts = {
            "page": path,
            "params": dict(params or {}),
            "offset": offset,
            "limit": limit,
            "total": total,
        }
        if build is not None:
            parts["build"] = f"{build.__module__}.{build.__qualname__}"

        def fetch() -> Page:
            page = self.client.list_page(
                path,
                key=key,
                params=params,
                offset=offset,
                limit=limit,
                total=total,
                required_scope=scope,
            )
            if build is None:
                return page
            return replace(page, items=[build(item) for item in page.items])

        return self._cached(parts, fetch)

    def invalidate(self) -> None:
        """Forget every cached read of this connection (after a write)."""
        cache_invalidate(self.connection.pk)
        self._version = None
