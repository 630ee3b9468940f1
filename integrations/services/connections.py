"""A tenant's PagerDuty connection: connect, refresh, needs-reconnect, disconnect.

Tokens are only ever written here, encrypted, into `Connection`; audit
events name the connection and a reason code, never a token.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import OperationalError, transaction
from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyAuthError, PagerDutyUnavailable
from integrations.models import (
    AuditAction,
    Connection,
    OAuthClient,
    Provider,
    Tenant,
)
from integrations.pagerduty import identity
from integrations.pagerduty import scopes as pd_scopes
from integrations.pagerduty.flow import ConnectError, Reason
from integrations.services.audit import audit_record

logger = logging.getLogger(__name__)

# Refresh this long before the access token expires, so a call that starts
# with a valid token does not fail half-way (Scoped access tokens live 1 day).
REFRESH_MARGIN = timedelta(minutes=5)
# PagerDuty documents 30 days for Scoped refresh tokens (NOTES §0.4).
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
# Refresh idle connections well before their refresh token's 30 days run out.
KEEP_ALIVE_AFTER = timedelta(days=7)


SYNCED_FIELDS = [
    "access_token",
    "refresh_token",
    "access_expires_at",
    "refresh_expires_at",
    "granted_scopes",
    "status",
    "last_error",
    "refreshed_at",
]
# How long a caller waits for another's refresh before giving up; longer
# than the token request's own (connect, read) timeout.
LOCK_TIMEOUT_SECONDS = 20


class ConnectionNeedsReconnect(PagerDutyAuthError):
    """The connection cannot be used until a tenant admin reconnects."""


def _known_scopes(scope: str) -> str:
    """Return the granted scope names worth storing (known ones and openid)."""
    allowed = {*pd_scopes.ALL_SCOPES, pd_scopes.OPENID}
    names = [name for name in pd_scopes.split(scope) if name in allowed]
    return " ".join(dict.fromkeys(names))


def _live_or_latest(tenant: Tenant) -> Connection | None:
    """Return the tenant's live connection, else its most recent revoked one."""
    rows = Connection.objects.select_for_update().filter(
        tenant=tenant, provider=Provider.PAGERDUTY
    )
    live = rows.exclude(status=Connection.Status.REVOKED).first()
    if live is not None:
        return live
    return rows.order_by("-updated_at", "-pk").first()


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

    Reconnecting updates the same record. Raise `ConnectError` (and write
    nothing) when the PagerDuty account is not the app's or differs from
    the one already connected.
    """
    found = connect_data["identity"]
    user = connect_data["user"]
    if oauth_client.subdomain and found["subdomain"] != oauth_client.subdomain:
        raise ConnectError(
            Reason.OTHER_ACCOUNT,
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
    connection.access_token = access_token
    connection.refresh_token = refresh_token
    connection.access_expires_at = expires_at
    connection.refresh_expires_at = now + REFRESH_TOKEN_LIFETIME
    connection.granted_scopes = _known_scopes(connect_data["granted_scope"])
    connection.requested_scopes = pd_scopes.canonical(
        pd_scopes.split(connect_data["requested_scope"])
    )
    connection.status = Connection.Status.ACTIVE
    connection.last_error = ""
    connection.connected_by = actor
    connection.connected_at = now
    connection.refreshed_at = now
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
    # After commit: a PagerDuty call must not hold the row lock, and a
    # subscription must not outlive a connect that rolled back. Failures
    # are recorded on the subscription; the connect itself stands.
    transaction.on_commit(
        partial(_subscribe_webhooks, connection_id=connection.pk, actor=actor),
        robust=True,
    )
    return connection


def _subscribe_webhooks(*, connection_id: int, actor) -> None:
    from integrations.services.webhooks import webhook_subscription_ensure

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


UNREADABLE = _(
    "The stored PagerDuty credentials cannot be decrypted with the portal's "
    "encryption keys (the key changed); a tenant admin must reconnect."
)


def connection_get_access_token(*, connection: Connection) -> str:
    """Return a usable access token, refreshing it first when close to expiry.

    Raise `ConnectionNeedsReconnect` when PagerDuty refused the refresh (or
    the connection already needs reconnecting) and `PagerDutyUnavailable`
    when the token endpoint failed transiently; the latter changes nothing.
    """
    if connection.status != Connection.Status.ACTIVE:
        raise ConnectionNeedsReconnect(
            _("PagerDuty is not connected for this tenant; an admin must reconnect.")
        )
    if connection.credentials_unreadable:
        connection_mark_needs_reconnect(connection=connection, reason=UNREADABLE)
        raise ConnectionNeedsReconnect(UNREADABLE)
    if not connection.expires_within(REFRESH_MARGIN):
        return connection.access_token
    try:
        connection_refresh_tokens(connection=connection)
    finally:
        # Keep the caller's copy current, so its next call needs no lock.
        connection.refresh_from_db(fields=SYNCED_FIELDS)
    return connection.access_token


def connection_refresh_tokens(
    *, connection: Connection, force: bool = False
) -> Connection:
    """Refresh the tokens once, however many callers ask at the same time.

    The row is locked (`SELECT … FOR UPDATE` on PostgreSQL) and expiry is
    checked again under the lock, so callers that waited reuse the token the
    first one stored; PagerDuty rotates refresh tokens, so a second refresh
    with the old one would fail.
    """
    failure = None
    with transaction.atomic():
        try:
            locked = _lock(connection.pk)
        except OperationalError:
            raise PagerDutyUnavailable(
                _("PagerDuty is slow to answer; try again shortly.")
            ) from None
        if locked.status != Connection.Status.ACTIVE:
            raise ConnectionNeedsReconnect(locked.last_error or _("Reconnect needed."))
        if not force and not locked.expires_within(REFRESH_MARGIN):
            return locked
        client = locked.oauth_client
        if locked.credentials_unreadable or (client and client.secret_unreadable):
            failure = UNREADABLE
            _mark(locked, reason="undecryptable", message=failure)
        elif client is None or not client.has_secret or not locked.refresh_token:
            failure = _(
                "The PagerDuty app these tokens belong to is no longer "
                "configured; a tenant admin must reconnect."
            )
            _mark(locked, reason="no_app", message=failure)
        else:
            try:
                token = identity.refresh_token_grant(
                    client_id=client.client_id,
                    client_secret=client.client_secret,
                    refresh_token=locked.refresh_token,
                )
            except identity.TokenEndpointError as exc:
                if exc.kind != "rejected" or exc.status == 429:
                    # Transient: keep everything; the caller may retry.
                    raise PagerDutyUnavailable(
                        _("PagerDuty is not answering; try again shortly.")
                    ) from None
                failure = _refusal_text(exc)
                _mark(locked, reason=exc.error or "rejected", message=failure)
            else:
                _store_refresh(locked, token)
    if failure:
        raise ConnectionNeedsReconnect(failure)
    return locked


def _lock(pk: int) -> Connection:
    """Return the connection row locked until the transaction ends."""
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
    return (
        Connection.objects.select_for_update(of=("self",))
        .select_related("oauth_client", "tenant__environment")
        .get(pk=pk)
    )


def _refusal_text(exc: identity.TokenEndpointError) -> str:
    if exc.error == "invalid_grant":
        return _(
            "PagerDuty no longer accepts this connection's refresh token: it "
            "expired (30 days unused, or a year after connecting) or access "
            "was revoked in PagerDuty. A tenant admin must reconnect."
        )
    if exc.error in ("invalid_client", "unauthorized_client") or exc.status == 401:
        return _(
            "PagerDuty refused the app's credentials while refreshing. A "
            "portal administrator should check the app, then a tenant admin "
            "must reconnect."
        )
    return _(
        "PagerDuty refused to refresh this connection's tokens. A tenant "
        "admin must reconnect."
    )


def _store_refresh(connection: Connection, token: identity.TokenResponse) -> None:
    now = timezone.now()
    connection.access_token = token.access_token
    # RFC 6749 §6: keep the old refresh token when none is returned.
    if token.refresh_token:
        connection.refresh_token = token.refresh_token
        connection.refresh_expires_at = now + REFRESH_TOKEN_LIFETIME
    connection.access_expires_at = now + timedelta(seconds=token.expires_in)
    if token.scope:
        connection.granted_scopes = _known_scopes(token.scope)
    connection.refreshed_at = now
    connection.last_error = ""
    connection.save(
        update_fields=[
            "access_token",
            "refresh_token",
            "refresh_expires_at",
            "access_expires_at",
            "granted_scopes",
            "refreshed_at",
            "last_error",
            "updated_at",
        ]
    )


def _mark(connection: Connection, *, reason: str, message: str) -> None:
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.last_error = message
    connection.save(update_fields=["status", "last_error", "updated_at"])
    logger.warning("PagerDuty connection %s needs reconnect: %s", connection.pk, reason)
    audit_record(
        actor=None,
        action=AuditAction.CONNECTION_REFRESH_FAILED,
        target=str(connection),
        environment=connection.tenant.environment,
        tenant=connection.tenant,
        details={"connection_id": connection.pk, "reason": reason},
    )


@transaction.atomic
def connection_mark_needs_reconnect(
    *, connection: Connection, reason: str
) -> Connection:
    """Flag a connection that PagerDuty refused (e.g. a 401 on an API call).

    `reason` is shown to tenant admins, so it must be plain words with no
    upstream text. Connections that are not active are left as they are.
    """
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    if locked.status == Connection.Status.ACTIVE:
        _mark(locked, reason="api_refused", message=reason)
    return locked


def connection_disconnect(*, connection: Connection, actor) -> Connection:
    """Delete the connection's tokens and mark it revoked; audit it.

    Its webhook subscription is deleted first, while the token still works.
    PagerDuty documents no token revocation endpoint (NOTES §1
    "Revocation"), so the tenant page tells admins what to do in PagerDuty.
    """
    from integrations.services.webhooks import webhook_subscription_remove

    webhook_subscription_remove(connection=connection, actor=actor)
    return _disconnect(connection=connection, actor=actor)


@transaction.atomic
def _disconnect(*, connection: Connection, actor) -> Connection:
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    locked.access_token = ""
    locked.refresh_token = ""
    locked.access_expires_at = None
    locked.refresh_expires_at = None
    locked.status = Connection.Status.REVOKED
    locked.last_error = ""
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
