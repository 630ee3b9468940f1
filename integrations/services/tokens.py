"""A connection's tokens: hand out a usable access token, refresh, flag.

Tokens are only ever written here and in `connections.py`, encrypted, into
`Connection`; audit events name the connection and a reason code, never a
token. Every PagerDuty client acting through a connection is built by
`connection_client`.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import OperationalError, transaction
from django.db import connection as db_connection
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.exceptions import PagerDutyAuthError, PagerDutyUnavailable
from integrations.models import (
    REFRESH_TOKEN_LIFETIMES,
    AppType,
    AuditAction,
    Connection,
)
from integrations.pagerduty import identity
from integrations.pagerduty import scopes as pd_scopes
from integrations.pagerduty.client import PagerDutyClient
from integrations.services.audit import audit_record

logger = logging.getLogger(__name__)

# Refresh this long before the access token expires, so a call that starts
# with a valid token does not fail half-way (Scoped access tokens live 1 day).
REFRESH_MARGIN = timedelta(minutes=5)
# PagerDuty documents 30 days for Scoped refresh tokens (NOTES §0.4) and
# 210 days for Classic ones (NOTES §1 "Refresh"); the app's type decides.
REFRESH_TOKEN_LIFETIME = REFRESH_TOKEN_LIFETIMES[AppType.SCOPED]

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


def known_scopes(scope: str) -> str:
    """Return the granted scope names worth storing (known ones and openid).

    Classic apps' `read` and `write` are kept as granted; what they allow
    is spelled out where it is asked (`scopes.expand`).
    """
    allowed = {*pd_scopes.ALL_SCOPES, *pd_scopes.CLASSIC_SCOPES, pd_scopes.OPENID}
    names = [name for name in pd_scopes.split(scope) if name in allowed]
    return " ".join(dict.fromkeys(names))


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


class RefreshAfterUnauthorized:
    """A client's 401 hook: refresh once, then flag the connection.

    PagerDuty can drop an access token while its refresh token still works,
    so the first 401 refreshes and the request is sent again; a 401 after
    that marks the connection as needing a reconnect. Calling it returns
    whether the request is worth sending again.
    """

    def __init__(self, connection: Connection):
        self.connection = connection
        self.refreshed = False

    def __call__(self) -> bool:
        connection = self.connection
        if not self.refreshed:
            self.refreshed = True
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


def connection_client(
    *,
    connection: Connection,
    background: bool = False,
    token_provider=None,
    on_unauthorized=None,
) -> PagerDutyClient:
    """Return a PagerDuty client acting through a connection's tokens.

    By default the token is refreshed shortly before it expires and once
    after a 401 (`RefreshAfterUnauthorized`). Callers that share a token
    across threads pass their own `token_provider` and no 401 hook, since
    refreshing needs the database (the CSV export does).
    """
    if token_provider is None:
        token_provider = partial(connection_get_access_token, connection=connection)
        on_unauthorized = on_unauthorized or RefreshAfterUnauthorized(connection)
    return PagerDutyClient.for_connection(
        connection,
        token_provider=token_provider,
        on_unauthorized=on_unauthorized,
        backoff=settings.PAGERDUTY_RETRY_BACKOFF,
        background=background,
    )


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
                failure = _refusal_text(exc, classic=client.is_classic)
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


def _refusal_text(exc: identity.TokenEndpointError, *, classic: bool) -> str:
    if exc.error == "invalid_grant" and classic:
        return _(
            "PagerDuty no longer accepts this connection's refresh token: it "
            "expired (210 days unused, or three years after connecting) or "
            "access was revoked in PagerDuty. A tenant admin must reconnect."
        )
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
        connection.refresh_expires_at = now + refresh_token_lifetime(connection)
    connection.access_expires_at = now + timedelta(seconds=token.expires_in)
    if token.scope:
        connection.granted_scopes = known_scopes(token.scope)
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


def refresh_token_lifetime(connection: Connection) -> timedelta:
    """Return how long a new refresh token of this connection's app lives."""
    client = connection.oauth_client
    return client.refresh_token_lifetime if client else REFRESH_TOKEN_LIFETIME


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
