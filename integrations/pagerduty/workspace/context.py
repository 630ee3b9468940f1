"""The workspace: who acts, in which tenant, through which connection.

A `Workspace` is opened by `access.workspace_open` for one request, one
export or one tool call. Reads are cached per connection (`cache.py`);
writes go through `perform`, which every write operation calls
(`operations.operation`): it invalidates the cache and records who did
what in the audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.utils import timezone

from integrations.exceptions import PagerDutyError
from integrations.models import AuditAction, Connection, Membership
from integrations.pagerduty.client import Page, PagerDutyClient
from integrations.pagerduty.workspace.access import MissingScope
from integrations.pagerduty.workspace.cache import (
    cache_invalidate,
    cache_seconds,
    cache_version,
)
from integrations.services.audit import audit_record
from integrations.services.tokens import RefreshAfterUnauthorized, connection_client

if TYPE_CHECKING:
    from integrations.pagerduty.workspace.operations import Operation


@dataclass
class Workspace:
    """A member's view of a tenant's PagerDuty account, for one unit of work."""

    user: Any
    membership: Membership
    connection: Connection
    refresh: bool = False
    via: str = "portal"
    fetched_at: list[datetime] = field(default_factory=list)
    _client: PagerDutyClient | None = None
    _version: int | None = None

    @property
    def tenant(self):
        return self.membership.tenant

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.connection.granted_scope_list)

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str) -> None:
        """Raise MissingScope unless the connection was granted `scope`."""
        if scope not in self.scopes:
            raise MissingScope(scope)

    @property
    def as_of(self) -> datetime | None:
        """Return when the oldest data shown was fetched."""
        return min(self.fetched_at) if self.fetched_at else None

    @property
    def client(self) -> PagerDutyClient:
        if self._client is None:
            self._client = connection_client(connection=self.connection)
        return self._client

    def refresh_after_401(self) -> bool:
        """Refresh once after a 401 outside the client (the export's workers).

        Return whether a fresh token is in `connection.access_token`.
        """
        hook = self.client.on_unauthorized
        if not isinstance(hook, RefreshAfterUnauthorized):
            return False
        return hook()

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

    # --- Writes ----------------------------------------------------------

    def perform(
        self, operation: Operation, arguments: Mapping[str, Any], call: Callable
    ) -> Any:
        """Run a write operation's PagerDuty calls; invalidate and audit them.

        The cache is dropped even when the write fails: a failed bulk or a
        timeout may still have changed something upstream.
        """
        try:
            result = call()
        except PagerDutyError as exc:
            self.invalidate()
            self._audit(operation, arguments, None, failed=exc)
            raise
        self.invalidate()
        self._audit(operation, arguments, result)
        return result

    def _audit(self, operation, arguments, result, failed=None) -> None:
        target = arguments.get(operation.target, "") if operation.target else ""
        if not target:
            target = getattr(result, "id", "") or ""
        details: dict[str, Any] = {
            "operation": operation.name,
            "target_id": target,
            "outcome": "failed" if failed else "ok",
            "via": self.via,
            "connection_id": self.connection.pk,
            "pd_user_id": self.connection.pd_user_id,
        }
        if failed is not None:
            details["status"] = failed.status
        if isinstance(result, int) and not isinstance(result, bool):
            details["count"] = result
        audit_record(
            actor=self.user,
            action=(
                AuditAction.RESOURCE_CHANGE_FAILED
                if failed
                else AuditAction.RESOURCE_CHANGED
            ),
            target=f"{operation.name} {target}".strip(),
            environment=self.tenant.environment,
            tenant=self.tenant,
            details=details,
        )
