"""Opening a tenant's workspace, and what every front door says when it can't.

`workspace_open` is the one way into the operation layer, for pages, the
live-updates endpoint, the export and the MCP gateway alike: membership
first (another tenant answers like an unknown one, before anything is sent
upstream), then the live connection. Operations then check the scope they
need (`Workspace.require`) and their own arguments (`inputs.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)

if TYPE_CHECKING:
    from integrations.models import Connection, Membership
    from integrations.pagerduty.workspace.context import Workspace


class WorkspaceError(Exception):
    """The workspace cannot do this; `message` is safe to show anyone."""

    code = "workspace"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAMember(WorkspaceError):
    """The user is not a member of the tenant (or it does not exist)."""

    code = "not_a_member"

    def __init__(self):
        super().__init__(_("No such tenant."))


class NotConnected(WorkspaceError):
    """The tenant has no usable PagerDuty connection."""

    code = "not_connected"

    def __init__(self, membership: Membership, connection: Connection | None):
        if connection is None:
            message = _("PagerDuty is not connected for this tenant.")
        else:
            message = _(
                "This tenant's PagerDuty connection needs a reconnect by a "
                "tenant admin."
            )
        super().__init__(message)
        self.membership = membership
        self.connection = connection

    @property
    def needs_reconnect(self) -> bool:
        return self.connection is not None


class MissingScope(WorkspaceError):
    """The connection was not granted the PagerDuty scope an operation needs."""

    code = "missing_scope"

    def __init__(self, scope: str):
        super().__init__(
            _("This connection was not granted the PagerDuty scope %(scope)s.")
            % {"scope": scope}
        )
        self.scope = scope


class LinkRequired(WorkspaceError):
    """The person has no PagerDuty link of their own, and this needs one."""

    code = "link_required"

    def __init__(self):
        super().__init__(_("Link your PagerDuty account to act as yourself."))


class NotAllowed(WorkspaceError):
    """The person's portal role or PagerDuty role does not allow this."""

    code = "not_allowed"


class InvalidInput(WorkspaceError, ValueError):
    """An argument an operation will not send; `field` names it."""

    code = "invalid_input"

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def workspace_open(
    *,
    user,
    tenant_id: int,
    refresh: bool = False,
    membership: Membership | None = None,
    via: str = "portal",
) -> Workspace:
    """Return the user's workspace of a tenant, ready for operations.

    Raise `NotAMember` when the user is not a member and `NotConnected`
    when the tenant has no live, usable connection. `membership` may be
    passed when the caller already read it (pages do, for the navigation).
    """
    from integrations.pagerduty.workspace.context import Workspace
    from integrations.selectors import (
        connection_get_live,
        link_get_live,
        membership_get,
    )

    if not getattr(user, "is_authenticated", False):
        raise NotAMember
    if membership is None or membership.tenant_id != tenant_id:
        membership = membership_get(user=user, tenant_id=tenant_id)
    if membership is None or membership.user_id != user.pk:
        raise NotAMember
    connection = connection_get_live(tenant=membership.tenant)
    if connection is None or not connection.is_usable:
        raise NotConnected(membership, connection)
    link = connection if connection.user_id == user.pk else None
    if link is None:
        link = link_get_live(tenant=membership.tenant, user=user)
    return Workspace(
        user=user,
        membership=membership,
        connection=connection,
        link=link,
        refresh=refresh,
        via=via,
    )


@dataclass(frozen=True)
class ErrorInfo:
    """An upstream or workspace failure, described for a person or an agent."""

    message: str
    reconnect: bool = False
    retry: bool = False
    status: int = 502
    retry_after: int | None = None
    scope: str = ""


def describe_error(exc: PagerDutyError | WorkspaceError) -> ErrorInfo:
    """Return what to say about a failure, with the status a page answers."""
    if isinstance(exc, MissingScope):
        return ErrorInfo(exc.message, status=403, scope=exc.scope)
    if isinstance(exc, LinkRequired | NotAllowed):
        return ErrorInfo(exc.message, status=403)
    if isinstance(exc, NotConnected):
        return ErrorInfo(exc.message, reconnect=exc.needs_reconnect, status=409)
    if isinstance(exc, InvalidInput):
        return ErrorInfo(exc.message, status=400)
    if isinstance(exc, WorkspaceError):
        return ErrorInfo(exc.message, status=404)
    if isinstance(exc, PagerDutyAuthError):
        if exc.status == 403:
            return ErrorInfo(
                _(
                    "PagerDuty refused: your PagerDuty role does not allow "
                    "this (or the connection lacks %(scope)s)."
                )
                % {"scope": exc.required_scope or _("the permission it needs")},
                status=403,
                scope=exc.required_scope,
            )
        return ErrorInfo(
            _(
                "PagerDuty no longer accepts this connection: it expired or "
                "access was revoked. A tenant admin must reconnect."
            ),
            reconnect=True,
        )
    if isinstance(exc, PagerDutyRateLimited):
        return ErrorInfo(
            exc.message, retry=True, status=429, retry_after=exc.retry_after
        )
    if isinstance(exc, PagerDutyUnavailable):
        return ErrorInfo(_("PagerDuty is unavailable"), retry=True, status=503)
    status = exc.status if exc.status in (400, 404, 409) else 502
    return ErrorInfo(exc.message, status=status)
