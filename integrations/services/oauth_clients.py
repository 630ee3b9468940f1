"""Writes to OAuth app settings; each change is audited by field name."""

import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from integrations.models import AuditAction, Connection, OAuthClient
from integrations.pagerduty import identity
from integrations.pagerduty import scopes as pd_scopes
from integrations.ratelimit import rate_limit_allows
from integrations.services.audit import audit_record

logger = logging.getLogger(__name__)

# Fields whose changes are audited by name; values never enter the log.
AUDITED_CLIENT_FIELDS = (
    "app_type",
    "client_id",
    "scopes",
    "enabled",
    "region",
    "subdomain",
    "staff_disabled",
)


@transaction.atomic
def oauth_client_save(
    *,
    client: OAuthClient,
    actor,
    new_secret: str = "",
    changed_fields: list[str] | tuple[str, ...] = (),
) -> OAuthClient:
    """Validate and save an app's settings; audit which fields changed.

    `client` carries the new field values; `new_secret`, when given,
    replaces the stored client secret (an empty string keeps it).
    """
    creating = client.pk is None
    if new_secret:
        client.set_client_secret(new_secret)
    if actor is not None and actor.is_authenticated:
        client.updated_by = actor
    client.full_clean()
    client.save()

    changed = sorted(f for f in changed_fields if f in AUDITED_CLIENT_FIELDS)
    target = str(client)
    details = {"fields": changed}
    if "client_id" in changed and not creating:
        # Tokens belong to the app that issued them; a new app cannot
        # refresh them, so every tenant has to authorise again.
        details["connections_to_reconnect"] = _connections_mark_for_reconnect(
            client=client
        )
    if creating:
        audit_record(
            actor=actor,
            action=AuditAction.CONFIG_CREATED,
            target=target,
            environment=client.environment,
            tenant=client.tenant,
            details={"fields": changed},
        )
    elif changed:
        audit_record(
            actor=actor,
            action=AuditAction.CONFIG_UPDATED,
            target=target,
            environment=client.environment,
            tenant=client.tenant,
            details=details,
        )
    if new_secret and not creating:
        audit_record(
            actor=actor,
            action=AuditAction.CONFIG_SECRET_REPLACED,
            target=target,
            environment=client.environment,
            tenant=client.tenant,
        )
    return client


def _connections_mark_for_reconnect(*, client: OAuthClient) -> int:
    return (
        Connection.objects.filter(oauth_client=client)
        .exclude(status=Connection.Status.REVOKED)
        .update(
            status=Connection.Status.NEEDS_RECONNECT,
            last_error=_("The integration's Client ID changed; reconnect PagerDuty."),
        )
    )


def oauth_client_set_enabled(
    *, client: OAuthClient, enabled: bool, actor
) -> OAuthClient:
    """Turn an app on or off for its environment; audit only real changes."""
    if client.enabled == enabled:
        return client
    client.enabled = enabled
    if actor is not None and actor.is_authenticated:
        client.updated_by = actor
    client.full_clean()
    client.save(update_fields=["enabled", "updated_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.CONFIG_ENABLED if enabled else AuditAction.CONFIG_DISABLED,
        target=str(client),
        environment=client.environment,
        tenant=client.tenant,
    )
    return client


VERIFY_LIMIT = 5
VERIFY_WINDOW = 60


@dataclass(frozen=True)
class Verification:
    """The outcome of a credentials check, in words; never holds a secret.

    `outcome` is "ok", "unreadable", "no_subdomain", "invalid_client",
    "not_scoped", "rejected", "unavailable", "malformed" or "rate_limited".
    `classic` marks a Classic app's check, which proves the credentials
    only: Classic apps get no app token to compare scopes with.
    """

    outcome: str
    message: str
    selected: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    classic: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def missing(self) -> list[str]:
        return [s for s in self.selected if s not in self.granted]

    def as_dict(self) -> dict:
        """Return plain data for the session, including the missing scopes."""
        return {**asdict(self), "missing": self.missing}


def _verify_allowed(client: OAuthClient) -> bool:
    return rate_limit_allows(
        key=f"pagerduty-verify:{client.environment_id}:{client.tenant_id}",
        limit=VERIFY_LIMIT,
        window=VERIFY_WINDOW,
    )


def _rate_limited(selected: list[str], *, classic: bool = False) -> Verification:
    return Verification(
        "rate_limited",
        _(
            "Credentials were checked %(limit)s times in the last minute. "
            "Wait a minute and try again."
        )
        % {"limit": VERIFY_LIMIT},
        selected,
        classic=classic,
    )


def oauth_client_verify(*, client: OAuthClient, actor) -> Verification:
    """Ask PagerDuty for an app token with the stored credentials; audit it.

    Uses the client_credentials grant on `as_account-<region>.<subdomain>`
    with the selected scopes, which proves the Client ID, the secret, the
    account and that the app holds those scopes.
    """
    selected = client.scope_list
    if client.is_classic and not client.secret_unreadable:
        return _verify_classic(client=client, actor=actor)
    if client.secret_unreadable:
        return Verification(
            "unreadable",
            _(
                "The stored Client Secret cannot be decrypted with the portal's "
                "encryption keys (the key changed). Replace the secret, then "
                "verify again."
            ),
            selected,
        )
    if not client.subdomain:
        return Verification(
            "no_subdomain",
            _(
                "Enter the PagerDuty subdomain of the account that registered "
                "the app, then verify: PagerDuty only issues an app token for "
                "a named account."
            ),
            selected,
        )
    if not _verify_allowed(client):
        return _rate_limited(selected)
    account = f"{client.region}.{client.subdomain}"
    try:
        token = identity.client_credentials_token(
            client_id=client.client_id,
            client_secret=client.client_secret,
            region=client.region,
            subdomain=client.subdomain,
            scopes=selected,
        )
    except identity.TokenEndpointError as exc:
        verification = _failure(exc, client=client, selected=selected)
    else:
        granted = [s for s in token.scopes if s in pd_scopes.ALL_SCOPES]
        verification = Verification(
            "ok",
            _(
                "PagerDuty accepted the Client ID and Client Secret and issued "
                "an app token for the account %(account)s."
            )
            % {"account": account},
            selected,
            granted,
        )
    audit_record(
        actor=actor,
        action=(
            AuditAction.CONFIG_VERIFIED
            if verification.ok
            else AuditAction.CONFIG_VERIFY_FAILED
        ),
        target=str(client),
        environment=client.environment,
        tenant=client.tenant,
        details={"outcome": verification.outcome, "missing": verification.missing}
        if verification.ok
        else {"outcome": verification.outcome},
    )
    logger.info("Verified OAuth client %s: %s", client.pk, verification.outcome)
    return verification


def _verify_classic(*, client: OAuthClient, actor) -> Verification:
    """Check a Classic app's Client ID and secret; audit it.

    Classic apps get no app token (only Scoped apps do, DD
    02-Private-Apps.md), so the token endpoint is asked to redeem a code
    that cannot exist (`identity.client_authentication_check`).
    """
    selected = client.scope_list
    if not _verify_allowed(client):
        return _rate_limited(selected, classic=True)
    try:
        error = identity.client_authentication_check(
            client_id=client.client_id,
            client_secret=client.client_secret,
            redirect_uri=client.redirect_url,
        )
    except identity.TokenEndpointError as exc:
        failed = _failure(exc, client=client, selected=selected)
        verification = Verification(failed.outcome, failed.message, selected)
    else:
        verification = _classic_outcome(error, selected)
    verification = Verification(
        verification.outcome,
        verification.message,
        selected,
        selected if verification.ok else [],
        classic=True,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CONFIG_VERIFIED,
        target=str(client),
        environment=client.environment,
        tenant=client.tenant,
        details={"outcome": verification.outcome, "app_type": client.app_type},
    )
    logger.info("Verified OAuth client %s: %s", client.pk, verification.outcome)
    return verification


def _classic_outcome(error: str, selected: list[str]) -> Verification:
    if error == "invalid_grant":
        return Verification(
            "ok",
            _(
                "PagerDuty accepted the Client ID and Client Secret (it refused "
                "only the made-up authorization code the check sends). A "
                "Classic app gets no app token, so the redirect URL and the "
                "Read or Read/Write permission are confirmed when a tenant "
                "connects."
            ),
            selected,
        )
    if error in ("invalid_client", "unauthorized_client"):
        return Verification(
            "invalid_client",
            _(
                "PagerDuty does not recognise this Client ID and Client Secret: "
                "the Client ID is unknown or the secret is wrong. Copy the Client "
                "ID from the app's page again; if the secret is lost, delete the "
                "app's OAuth client in PagerDuty, add it again and enter the new "
                "secret here."
            ),
            selected,
        )
    return Verification(
        "rejected",
        _(
            "PagerDuty refused the check without saying whether the Client ID "
            "and Client Secret are right. Check both, and that the app uses "
            "Classic User OAuth, then connect a tenant to test."
        ),
        selected,
    )


def _failure(
    exc: identity.TokenEndpointError, *, client: OAuthClient, selected: list[str]
) -> Verification:
    params = {
        "subdomain": client.subdomain,
        "region": client.get_region_display(),
        "status": exc.status,
    }
    if exc.kind == "unavailable":
        outcome, message = (
            "unavailable",
            _(
                "PagerDuty could not be reached or answered with a server error "
                "(HTTP %(status)s). Nothing is wrong with the settings as far as "
                "the portal knows; try again in a minute."
            ),
        )
        if exc.status is None:
            message = _(
                "PagerDuty could not be reached (timeout or connection "
                "failure). Try again in a minute."
            )
    elif exc.kind == "malformed":
        outcome, message = (
            "malformed",
            _(
                "PagerDuty answered, but not with a token the portal could read, "
                "so the credentials are not confirmed. Try again later."
            ),
        )
    elif exc.error == "invalid_client" or (exc.error == "other" and exc.status == 401):
        outcome, message = (
            "invalid_client",
            _(
                "PagerDuty does not recognise this Client ID and Client Secret: "
                "the Client ID is unknown or the secret is wrong. Copy the Client "
                "ID from the app's page again; if the secret is lost, generate a "
                "new one there and replace it here."
            ),
        )
    elif exc.error in {"unauthorized_client", "unsupported_grant_type"}:
        outcome, message = (
            "not_scoped",
            _(
                "PagerDuty refused to issue an app token to this client. Only "
                "Scoped OAuth apps can get one: check that the app uses Scoped "
                "OAuth (step 3 of the setup guide)."
            ),
        )
    elif exc.error in {"invalid_request", "invalid_scope", "invalid_grant"}:
        outcome, message = (
            "rejected",
            _(
                "PagerDuty knows the client but refused the account or the scopes. "
                "Check that the subdomain '%(subdomain)s' and the service region "
                "%(region)s are those of the account that registered the app, and "
                "that every selected scope is enabled on the app's Permission "
                "Scope list. PagerDuty does not say which of these is wrong."
            ),
        )
    else:
        outcome, message = (
            "rejected",
            _(
                "PagerDuty refused the request (HTTP %(status)s) without saying "
                "why. Check the Client ID, the secret, the subdomain '%(subdomain)s' "
                "and the region %(region)s."
            ),
        )
    return Verification(outcome, message % params, selected)
