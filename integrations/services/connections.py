"""A tenant's PagerDuty connection: connect, disconnect, keep alive.

Tokens are only ever written here and in `tokens.py` (refresh), encrypted,
into `Connection`; audit events name the connection and a reason code,
never a token.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.exceptions import (
    PagerDutyError,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.models import (
    AuditAction,
    Connection,
    OAuthClient,
    Provider,
    Tenant,
)
from integrations.pagerduty import scopes as pd_scopes
from integrations.pagerduty.flow import ConnectError, Reason
from integrations.services.audit import audit_record
from integrations.services.reconsent import reconsent_mark_reconnected
from integrations.services.tokens import (
    ConnectionNeedsReconnect,
    connection_client,
    connection_refresh_tokens,
    known_scopes,
)
from integrations.services.webhooks import (
    webhook_subscription_ensure,
    webhook_subscription_remove,
)

logger = logging.getLogger(__name__)

# Refresh idle connections well before their refresh token's 30 days run out.
KEEP_ALIVE_AFTER = timedelta(days=7)


def _live_or_latest(tenant: Tenant) -> Connection | None:
    """Return the tenant's live connection, else its most recent revoked one."""
    rows = Connection.objects.select_for_update().filter(
        tenant=tenant, provider=Provider.PAGERDUTY, kind=Connection.Kind.TENANT
    )
    live = rows.exclude(status=Connection.Status.REVOKED).first()
    if live is not None:
        return live
    return rows.order_by("-updated_at", "-pk").first()


@dataclass(frozen=True)
class Grant:
    """What a completed PagerDuty authorization brought back."""

    access_token: str
    refresh_token: str
    expires_at: object
    connect_data: dict

    @property
    def identity(self) -> dict:
        return self.connect_data["identity"]

    @property
    def user(self) -> dict:
        return self.connect_data["user"]


def _apply_grant(
    connection: Connection, *, grant: Grant, oauth_client: OAuthClient, actor
) -> None:
    """Fill a connection from a grant; the caller saves it."""
    found, user = grant.identity, grant.user
    now = timezone.now()
    connection.oauth_client = oauth_client
    connection.account_id = found["account_id"]
    connection.subdomain = found["subdomain"]
    connection.region = found["region"]
    connection.api_url = found["api_url"]
    connection.delegation_id = found["delegation_id"]
    connection.pd_user_id = str(user["id"])[:40]
    connection.pd_user_name = str(user.get("name") or "")[:200]
    connection.pd_user_email = _valid_email(user.get("email"))
    connection.pd_user_role = _role(user.get("role"))
    connection.access_token = grant.access_token
    connection.refresh_token = grant.refresh_token
    connection.access_expires_at = grant.expires_at
    connection.refresh_expires_at = now + oauth_client.refresh_token_lifetime
    connection.granted_scopes = known_scopes(grant.connect_data["granted_scope"])
    requested = pd_scopes.split(grant.connect_data["requested_scope"])
    connection.requested_scopes = (
        oauth_client.scopes
        if oauth_client.is_classic and requested == oauth_client.scope_list
        else pd_scopes.canonical(requested)
    )
    connection.status = Connection.Status.ACTIVE
    connection.last_error = ""
    connection.connected_by = actor
    connection.connected_at = now
    connection.refreshed_at = now


def _role(value) -> str:
    return value if isinstance(value, str) and value.isidentifier() else ""


@transaction.atomic
def connection_save_from_connect(
    *,
    tenant: Tenant,
    oauth_client: OAuthClient,
    actor,
    access_token: str,
    refresh_token: str,
    expires_at,
    connect_data: dict,
) -> Connection:
    """Store a completed connect in the tenant's one connection record.

    Reconnecting updates the same record. The admin who connects is linked
    through it (any personal link they had in the tenant is replaced).
    Raise `ConnectError` (and write nothing) when the PagerDuty account is
    not the app's or differs from the one already connected.
    """
    grant = Grant(access_token, refresh_token, expires_at, connect_data)
    found = grant.identity
    # A Scoped app serves only the account that registered it; a Classic
    # app serves any (NOTES §0.1).
    single_account = not oauth_client.is_classic and oauth_client.subdomain
    if single_account and found["subdomain"] != oauth_client.subdomain:
        raise ConnectError(
            Reason.OTHER_ACCOUNT_OWN_APP
            if oauth_client.tenant_id
            else Reason.OTHER_ACCOUNT,
            subdomain=found["subdomain"],
            expected=oauth_client.subdomain,
        )
    connection = _live_or_latest(tenant)
    is_live = connection is not None and connection.status != (
        Connection.Status.REVOKED
    )
    if is_live and connection.account_id not in ("", found["account_id"]):
        raise ConnectError(
            Reason.ACCOUNT_CHANGED,
            subdomain=found["subdomain"],
            current=connection.subdomain or connection.account_id,
        )
    creating = not is_live
    if connection is None:
        connection = Connection(tenant=tenant, provider=Provider.PAGERDUTY)
    _release_links(
        tenant=tenant,
        user=actor,
        pd_user_id=str(grant.user["id"]),
        keep=connection,
        actor=actor,
    )
    _apply_grant(connection, grant=grant, oauth_client=oauth_client, actor=actor)
    connection.user = actor
    connection.full_clean()
    connection.save()
    audit_record(
        actor=actor,
        action=(
            AuditAction.CONNECTION_CREATED
            if creating
            else AuditAction.CONNECTION_RECONNECTED
        ),
        target=str(connection),
        environment=tenant.environment,
        tenant=tenant,
        details={
            "connection_id": connection.pk,
            "account_id": connection.account_id,
            "subdomain": connection.subdomain,
            "pd_user_id": connection.pd_user_id,
        },
    )
    reconsent_mark_reconnected(tenant=tenant, connection=connection, actor=actor)
    # After commit: a PagerDuty call must not hold the row lock, and a
    # subscription must not outlive a connect that rolled back. Failures
    # are recorded on the subscription; the connect itself stands.
    transaction.on_commit(
        partial(_subscribe_webhooks, connection_id=connection.pk, actor=actor),
        robust=True,
    )
    return connection


def _release_links(*, tenant, user, pd_user_id: str, keep: Connection, actor):
    """Make room for `user`'s new link in the tenant, or raise ConnectError.

    The user's previous link is replaced (a personal one revoked, the
    tenant connection only unlinked). A PagerDuty user already linked to
    another person stays theirs: one PagerDuty identity, one portal person.
    """
    live = (
        Connection.objects.select_for_update()
        .filter(tenant=tenant, provider=Provider.PAGERDUTY)
        .exclude(status=Connection.Status.REVOKED)
        .exclude(pk=keep.pk)
    )
    taken = live.filter(pd_user_id=pd_user_id, user__isnull=False).exclude(user=user)
    if taken.exists():
        raise ConnectError(Reason.LINK_TAKEN)
    for link in live.filter(user=user):
        _unlink(link, actor=actor, reason="replaced")
    if keep.pk and keep.user_id and keep.user_id != user.pk:
        _unlink(keep, actor=actor, reason="tenant_reconnected")


def _unlink(link: Connection, *, actor, reason: str) -> None:
    """Stop a link acting for its user; a personal link's tokens go too."""
    person = link.user
    if link.kind == Connection.Kind.PERSONAL:
        _erase_tokens(link)
    link.user = None if link.kind == Connection.Kind.TENANT else link.user
    link.save()
    audit_record(
        actor=actor,
        action=AuditAction.LINK_REMOVED,
        target=str(link.tenant),
        environment=link.tenant.environment,
        tenant=link.tenant,
        details={
            "connection_id": link.pk,
            "user": person.get_username() if person else "",
            "pd_user_id": link.pd_user_id,
            "reason": reason,
        },
    )


def _erase_tokens(connection: Connection) -> None:
    connection.access_token = ""
    connection.refresh_token = ""
    connection.access_expires_at = None
    connection.refresh_expires_at = None
    connection.status = Connection.Status.REVOKED
    connection.last_error = ""


@transaction.atomic
def link_save_from_connect(
    *,
    tenant: Tenant,
    oauth_client: OAuthClient,
    user,
    access_token: str,
    refresh_token: str,
    expires_at,
    connect_data: dict,
) -> Connection:
    """Store a person's own PagerDuty link in a tenant; audit it.

    The PagerDuty user must belong to the tenant's connected account.
    Linking again updates the same record. Raise `ConnectError` (and write
    nothing) otherwise.
    """
    grant = Grant(access_token, refresh_token, expires_at, connect_data)
    tenant_connection = (
        Connection.objects.select_for_update()
        .filter(tenant=tenant, provider=Provider.PAGERDUTY, kind=Connection.Kind.TENANT)
        .filter(status=Connection.Status.ACTIVE)
        .first()
    )
    if tenant_connection is None:
        raise ConnectError(Reason.NOT_CONNECTED)
    if grant.identity["account_id"] != tenant_connection.account_id:
        raise ConnectError(
            Reason.LINK_OTHER_ACCOUNT,
            subdomain=grant.identity["subdomain"],
            expected=tenant_connection.subdomain or tenant_connection.account_id,
        )
    link = (
        Connection.objects.select_for_update()
        .filter(
            tenant=tenant,
            provider=Provider.PAGERDUTY,
            kind=Connection.Kind.PERSONAL,
            user=user,
        )
        .exclude(status=Connection.Status.REVOKED)
        .first()
    )
    creating = link is None
    if link is None:
        link = Connection(
            tenant=tenant,
            provider=Provider.PAGERDUTY,
            kind=Connection.Kind.PERSONAL,
            user=user,
        )
    _release_links(
        tenant=tenant,
        user=user,
        pd_user_id=str(grant.user["id"]),
        keep=link,
        actor=user,
    )
    _apply_grant(link, grant=grant, oauth_client=oauth_client, actor=user)
    link.full_clean()
    link.save()
    audit_record(
        actor=user,
        action=AuditAction.LINK_CREATED if creating else AuditAction.LINK_RELINKED,
        target=str(tenant),
        environment=tenant.environment,
        tenant=tenant,
        details={
            "connection_id": link.pk,
            "pd_user_id": link.pd_user_id,
            "pd_role": link.pd_user_role,
        },
    )
    return link


@transaction.atomic
def link_remove(*, link: Connection, actor) -> Connection:
    """Unlink a person: their writes stop at once; audit it.

    A personal link's tokens are deleted. When the link is the tenant
    connection itself, only the person is unlinked: the connection keeps
    serving the tenant.
    """
    locked = Connection.objects.select_for_update().get(pk=link.pk)
    if locked.user_id is not None and locked.status != Connection.Status.REVOKED:
        _unlink(locked, actor=actor, reason="unlinked")
    return locked


def _subscribe_webhooks(*, connection_id: int, actor) -> None:
    connection = Connection.objects.select_related("tenant__environment").get(
        pk=connection_id
    )
    webhook_subscription_ensure(connection=connection, actor=actor)


def _valid_email(value) -> str:
    if not isinstance(value, str) or len(value) > 254:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value


def connection_disconnect(*, connection: Connection, actor) -> Connection:
    """Delete the tenant's tokens, its people's links too; audit it.

    The webhook subscription is deleted first, while the token still works.
    PagerDuty documents no token revocation endpoint (NOTES §1
    "Revocation"), so the tenant page tells admins what to do in PagerDuty.
    """
    webhook_subscription_remove(connection=connection, actor=actor)
    return _disconnect(connection=connection, actor=actor)


@transaction.atomic
def _disconnect(*, connection: Connection, actor) -> Connection:
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    links = (
        Connection.objects.select_for_update()
        .filter(tenant=locked.tenant, kind=Connection.Kind.PERSONAL)
        .exclude(status=Connection.Status.REVOKED)
    )
    for link in links:
        _unlink(link, actor=actor, reason="tenant_disconnected")
    _erase_tokens(locked)
    locked.user = None
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.CONNECTION_DISCONNECTED,
        target=str(locked),
        environment=locked.tenant.environment,
        tenant=locked.tenant,
        details={"connection_id": locked.pk, "subdomain": locked.subdomain},
    )
    return locked


@dataclass
class KeepAliveResult:
    refreshed: int = 0
    needs_reconnect: int = 0
    unavailable: int = 0


def connection_keep_alive(*, idle_for: timedelta = KEEP_ALIVE_AFTER) -> KeepAliveResult:
    """Refresh active connections whose tokens were not refreshed lately.

    PagerDuty drops a Scoped refresh token unused for 30 days (NOTES §0.4),
    so an idle tenant would silently need a reconnect; run this daily.
    """
    result = KeepAliveResult()
    cutoff = timezone.now() - idle_for
    due = (
        Connection.objects.filter(
            provider=Provider.PAGERDUTY, status=Connection.Status.ACTIVE
        )
        .filter(Q(refreshed_at__lt=cutoff) | Q(refreshed_at__isnull=True))
        .order_by("refreshed_at", "pk")
    )
    for connection in due:
        try:
            connection_refresh_tokens(connection=connection, force=True)
        except ConnectionNeedsReconnect:
            result.needs_reconnect += 1
        except PagerDutyUnavailable:
            result.unavailable += 1
        else:
            result.refreshed += 1
    return result


@dataclass
class CheckResult:
    checked: int = 0
    needs_reconnect: int = 0
    unavailable: int = 0


def connection_check(*, idle_for: timedelta = timedelta(0)) -> CheckResult:
    """Ask PagerDuty once with each active connection; flag those it refuses.

    A tenant nobody uses would otherwise show as active long after its
    tokens were revoked (Revoke All Tokens, a removed user). The probe is
    the cheapest read every connection may make (one incident); a 401 is
    refreshed once and, refused again, marks the connection Needs reconnect
    (`RefreshAfterUnauthorized`). `idle_for` skips connections refreshed
    more recently than that.
    """
    result = CheckResult()
    active = Connection.objects.filter(
        provider=Provider.PAGERDUTY, status=Connection.Status.ACTIVE
    ).order_by("pk")
    if idle_for:
        cutoff = timezone.now() - idle_for
        active = active.filter(
            Q(refreshed_at__lt=cutoff) | Q(refreshed_at__isnull=True)
        )
    for connection in active:
        result.checked += 1
        try:
            with connection_client(connection=connection) as client:
                client.get(
                    "/incidents",
                    {"limit": 1},
                    required_scope=pd_scopes.Scope.INCIDENTS_READ,
                )
        except (PagerDutyUnavailable, PagerDutyRateLimited):
            result.unavailable += 1
            continue
        except PagerDutyError as exc:
            logger.info("Connection %s check answered %s", connection.pk, exc.status)
        connection.refresh_from_db(fields=["status"])
        if connection.status != Connection.Status.ACTIVE:
            result.needs_reconnect += 1
    return result
