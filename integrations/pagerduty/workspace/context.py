"""The workspace: who acts, in which tenant, through which connection.

A `Workspace` is opened by `access.workspace_open` for one request, one
export or one tool call. Reads go through the tenant connection where the
tenant lets members read through it (admins always), else through the
person's own link; they are cached per connection (`cache.py`). Writes
only ever go through the person's own link (`write_client`), bounded by
their portal role and PagerDuty role (`roles.py`), and run through
`perform`: it invalidates the caches and records who did what, as which
PagerDuty user, in the audit log.
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
from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyError
from integrations.models import AuditAction, Connection, Membership
from integrations.pagerduty import roles
from integrations.pagerduty.client import Page, PagerDutyClient
from integrations.pagerduty.workspace.access import (
    LinkRequired,
    MissingScope,
    NotAllowed,
)
from integrations.pagerduty.workspace.cache import (
    DIRECTORY,
    cache_invalidate,
    cache_seconds,
    cache_version,
    directory_cache_seconds,
)
from integrations.pagerduty.workspace.views.presentation import ROLE_LABELS
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
    link: Connection | None = None
    refresh: bool = False
    via: str = "portal"
    fetched_at: list[datetime] = field(default_factory=list)
    _client: PagerDutyClient | None = None
    _write_client: PagerDutyClient | None = None
    _version: int | None = None
    _directory_version: int | None = None

    @property
    def tenant(self):
        return self.membership.tenant

    @property
    def is_admin(self) -> bool:
        return self.membership.is_admin

    @property
    def usable_link(self) -> Connection | None:
        """Return the person's own link if PagerDuty still takes it."""
        link = self.link
        return link if link is not None and link.is_usable else None

    @property
    def read_connection(self) -> Connection | None:
        """Return the connection reads go through, or None without one."""
        if self.is_admin or self.tenant.members_read_through_tenant:
            return self.connection
        return self.usable_link

    @property
    def scopes(self) -> frozenset[str]:
        """Return the read scopes granted to the connection reads use."""
        reader = self.read_connection
        return reader.effective_scopes if reader else frozenset()

    def can(self, scope: str) -> bool:
        """Return whether this person may use `scope` here now."""
        try:
            self.require(scope)
        except (LinkRequired, MissingScope, NotAllowed):
            return False
        return True

    def require(self, scope: str) -> None:
        """Raise unless this person may use `scope`: reads and writes alike.

        A read needs the scope on the connection reads go through. A write
        needs the person's own link, the scope granted to it, and both
        their portal role and their PagerDuty role to allow it.
        """
        ability = roles.ability_for(scope)
        if not ability:
            if self.read_connection is None:
                raise LinkRequired
            if scope not in self.scopes:
                raise MissingScope(scope)
            return
        link = self.usable_link
        if link is None:
            raise LinkRequired
        if not link.has_scope(scope):
            raise MissingScope(scope)
        if not roles.portal_allows(is_admin=self.is_admin, ability=ability):
            raise NotAllowed(
                _("Your portal role (member) does not allow you to %(what)s.")
                % {"what": roles.ABILITY_LABELS[ability]}
            )
        if not roles.pagerduty_allows(role=link.pd_user_role, ability=ability):
            raise NotAllowed(
                _("Your PagerDuty role (%(role)s) does not allow you to %(what)s.")
                % {
                    "role": ROLE_LABELS.get(link.pd_user_role, link.pd_user_role),
                    "what": roles.ABILITY_LABELS[ability],
                }
            )

    @property
    def as_of(self) -> datetime | None:
        """Return when the oldest data shown was fetched."""
        return min(self.fetched_at) if self.fetched_at else None

    @property
    def client(self) -> PagerDutyClient:
        """Return the client reads go through."""
        if self._client is None:
            reader = self.read_connection
            if reader is None:
                raise LinkRequired
            self._client = connection_client(connection=reader)
        return self._client

    @property
    def write_client(self) -> PagerDutyClient:
        """Return the client of the person's own link: the only one that writes."""
        if self._write_client is None:
            link = self.usable_link
            if link is None:
                raise LinkRequired
            if self._client is not None and link.pk == self.read_connection.pk:
                self._write_client = self._client
            else:
                self._write_client = connection_client(connection=link)
        return self._write_client

    def refresh_after_401(self) -> bool:
        """Refresh once after a 401 outside the client (the export's workers).

        Return whether a fresh token is in `connection.access_token`.
        """
        hook = self.client.on_unauthorized
        if not isinstance(hook, RefreshAfterUnauthorized):
            return False
        return hook()

    def close(self) -> None:
        for client in (self._client, self._write_client):
            if client is not None:
                client.close()

    # --- Cached reads ----------------------------------------------------

    def _cached(
        self,
        parts: Mapping[str, Any],
        fetch: Callable[[], Any],
        *,
        directory: bool = False,
    ) -> Any:
        seconds = directory_cache_seconds() if directory else cache_seconds()
        if seconds <= 0:
            self.fetched_at.append(timezone.now())
            return fetch()
        reader = self.read_connection
        if directory:
            if self._directory_version is None:
                self._directory_version = cache_version(reader.pk, DIRECTORY)
            version = f"{DIRECTORY}{self._directory_version}"
        else:
            if self._version is None:
                self._version = cache_version(reader.pk)
            version = self._version
        digest = hashlib.sha256(
            json.dumps(parts, sort_keys=True, default=str).encode()
        ).hexdigest()
        key = f"pdws:{reader.pk}:{version}:{digest}"
        if not self.refresh:
            hit = cache.get(key)
            if hit is not None:
                if not directory:
                    self.fetched_at.append(hit[0])
                return hit[1]
        value = fetch()
        now = timezone.now()
        cache.set(key, (now, value), timeout=seconds)
        if not directory:
            self.fetched_at.append(now)
        return value

    def read(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        scope: str,
        directory: bool = False,
    ) -> dict[str, Any]:
        """Return a GET's JSON body, from the cache when fresh.

        `directory` keeps it with the directory lists (longer, and kept
        through incident changes).
        """
        return self._cached(
            {"get": path, "params": dict(params or {})},
            lambda: self.client.get(path, params, required_scope=scope),
            directory=directory,
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
        directory: bool = False,
    ) -> Page:
        """Return one page of a list, from the cache when fresh.

        With `build`, the page's items are `build(item)` and cached that way:
        entities pickle in a fraction of the time of the raw JSON they come
        from, and a cache hit does not build them again. `directory` keeps
        the page with the directory lists.
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

        return self._cached(parts, fetch, directory=directory)

    def invalidate(self, *, directory: bool = True) -> None:
        """Forget the cached reads of the tenant (after a write).

        A write through one link changes what every connection of the
        tenant reads, so the tenant connection's and the link's caches go.
        With `directory=False` (an incident write) the directory lists stay.
        """
        for connection in {self.connection.pk, getattr(self.link, "pk", None)}:
            if connection is not None:
                cache_invalidate(connection)
                if directory:
                    cache_invalidate(connection, DIRECTORY)
        self._version = None
        if directory:
            self._directory_version = None

    # --- Writes ----------------------------------------------------------

    def perform(
        self, operation: Operation, arguments: Mapping[str, Any], call: Callable
    ) -> Any:
        """Run a write operation's PagerDuty calls; invalidate and audit them.

        The cache is dropped even when the write fails: a failed bulk or a
        timeout may still have changed something upstream.
        """
        directory = not operation.scope.startswith("incidents.")
        try:
            result = call()
        except PagerDutyError as exc:
            self.invalidate(directory=directory)
            self._audit(operation, arguments, None, failed=exc)
            raise
        self.invalidate(directory=directory)
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
            "connection_id": self.link.pk if self.link else None,
            "pd_user_id": self.link.pd_user_id if self.link else "",
            "pd_user_name": self.link.pd_user_name if self.link else "",
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
