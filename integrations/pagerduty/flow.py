"""The connect flow's server-side state and its failure reasons.

The tenant being connected is chosen by the connect view (after checking
that the user is its admin) and kept in the session; on the callback it is
read back from allauth's stashed state, never from a query parameter.
"""

import logging
from http import HTTPStatus

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.providers.base import ProviderException
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

SESSION_KEY = "pagerduty_connect_tenant"
# Whether the pending connect is the tenant's connection or a person's link.
PURPOSE_KEY = "pagerduty_connect_purpose"
PURPOSE_TENANT = "tenant"
PURPOSE_LINK = "link"
PROVIDER_ID = "pagerduty"
# Audit events for unverifiable callbacks per user (or address) and window:
# (events, seconds). Past it only the log notes them, so a flood of forged
# links cannot fill the audit table.
STATE_AUDIT_LIMIT = (20, 60)


class Reason:
    STATE = "state"
    CANCELLED = "cancelled"
    PROVIDER_ERROR = "provider_error"
    CODE_REJECTED = "code_rejected"
    CLIENT_REJECTED = "client_rejected"
    UNAVAILABLE = "unavailable"
    MALFORMED = "malformed"
    ID_TOKEN = "id_token"  # noqa: S105 - a reason code, not a secret
    PROFILE = "profile"
    OTHER_ACCOUNT = "other_account"
    ACCOUNT_CHANGED = "account_changed"
    NOT_CONFIGURED = "not_configured"
    NOT_ADMIN = "not_admin"
    RATE_LIMITED = "rate_limited"
    NOT_CONNECTED = "not_connected"
    LINK_OTHER_ACCOUNT = "link_other_account"
    LINK_TAKEN = "link_taken"
    OTHER_ACCOUNT_OWN_APP = "other_account_own_app"


# reason: (title, explanation, HTTP status). Explanations take %(name)s
# parameters from ConnectError.params and never include upstream text.
MESSAGES = {
    Reason.STATE: (
        _("This connection attempt could not be verified"),
        _(
            "The link back from PagerDuty did not match a connection started "
            "in this browser: it expired (after 10 minutes), was already used, "
            "or came from somewhere else. Nothing was changed. Start again "
            "from the tenant page."
        ),
        HTTPStatus.BAD_REQUEST,
    ),
    Reason.CANCELLED: (
        _("You cancelled the connection"),
        _("PagerDuty reports that access was not approved. Nothing was changed."),
        HTTPStatus.OK,
    ),
    Reason.PROVIDER_ERROR: (
        _("PagerDuty reported an error"),
        _(
            "PagerDuty sent the browser back without an authorization. "
            "Nothing was changed. Try again; if it keeps happening, check the "
            "app's redirect URL and scopes on PagerDuty."
        ),
        HTTPStatus.BAD_REQUEST,
    ),
    Reason.CODE_REJECTED: (
        _("PagerDuty rejected the authorization"),
        _(
            "PagerDuty did not accept the authorization code. It lives only "
            "30 seconds and works once, and it must match the sign-in started "
            "in this browser. Nothing was changed. Please connect again."
        ),
        HTTPStatus.BAD_REQUEST,
    ),
    Reason.CLIENT_REJECTED: (
        _("PagerDuty rejected the app's credentials"),
        _(
            "PagerDuty refused the app's Client ID or Client Secret. Nothing "
            "was changed. Whoever set the app up must check its settings: a "
            "portal administrator for the environment's app, a tenant admin "
            "for the tenant's own app (Use your own PagerDuty app)."
        ),
        HTTPStatus.BAD_GATEWAY,
    ),
    Reason.UNAVAILABLE: (
        _("PagerDuty is not answering"),
        _(
            "PagerDuty did not answer in time or reported a server error. "
            "Nothing was changed. Try again in a few minutes."
        ),
        HTTPStatus.BAD_GATEWAY,
    ),
    Reason.MALFORMED: (
        _("PagerDuty's answer could not be used"),
        _(
            "PagerDuty answered, but without usable tokens. Nothing was "
            "changed. Try again; if it keeps happening, contact support."
        ),
        HTTPStatus.BAD_GATEWAY,
    ),
    Reason.ID_TOKEN: (
        _("PagerDuty's sign-in could not be verified"),
        _(
            "The ID token that tells which PagerDuty account and user signed "
            "in was missing, expired, not signed by PagerDuty or not meant "
            "for this app. Nothing was changed."
        ),
        HTTPStatus.BAD_GATEWAY,
    ),
    Reason.PROFILE: (
        _("PagerDuty did not return your profile"),
        _(
            "The portal could not read the signed-in PagerDuty user "
            "(/users/me). Nothing was changed. Try again."
        ),
        HTTPStatus.BAD_GATEWAY,
    ),
    Reason.OTHER_ACCOUNT: (
        _("That PagerDuty account cannot use this app"),
        _(
            "You signed in to the PagerDuty account “%(subdomain)s”, but this "
            "environment's PagerDuty app was registered by “%(expected)s”. A "
            "Scoped OAuth app only works for users of the PagerDuty account "
            "that registered it. Sign in to “%(expected)s”, or ask a portal "
            "administrator to set up an app registered in your own account. "
            "Nothing was changed."
        ),
        HTTPStatus.FORBIDDEN,
    ),
    Reason.ACCOUNT_CHANGED: (
        _("This tenant is connected to another PagerDuty account"),
        _(
            "This tenant is connected to “%(current)s”, but you signed in to "
            "“%(subdomain)s”. Nothing was changed. To switch accounts, "
            "disconnect first, then connect again."
        ),
        HTTPStatus.CONFLICT,
    ),
    Reason.NOT_CONFIGURED: (
        _("PagerDuty is not available here"),
        _(
            "PagerDuty is not configured, or is switched off, for this "
            "tenant's environment. Nothing was changed. Ask a portal "
            "administrator to set up the PagerDuty integration."
        ),
        HTTPStatus.CONFLICT,
    ),
    Reason.NOT_ADMIN: (
        _("Only tenant admins can do this"),
        _(
            "Connecting or disconnecting PagerDuty needs the tenant's admin "
            "role. Nothing was changed."
        ),
        HTTPStatus.FORBIDDEN,
    ),
    Reason.RATE_LIMITED: (
        _("Too many connection attempts"),
        _(
            "PagerDuty was opened for this tenant too often in the last few "
            "minutes. Nothing was changed. Wait a few minutes, then connect "
            "again from the tenant page."
        ),
        HTTPStatus.TOO_MANY_REQUESTS,
    ),
}


MESSAGES.update(
    {
        Reason.NOT_CONNECTED: (
            _("This tenant is not connected to PagerDuty"),
            _(
                "A tenant admin must connect PagerDuty before people can link "
                "their own PagerDuty accounts. Nothing was changed."
            ),
            HTTPStatus.CONFLICT,
        ),
        Reason.LINK_OTHER_ACCOUNT: (
            _("That PagerDuty user belongs to another account"),
            _(
                "You signed in to PagerDuty account %(subdomain)s, but this "
                "tenant is connected to %(expected)s. Link the PagerDuty user "
                "you have on %(expected)s. Nothing was changed."
            ),
            HTTPStatus.BAD_REQUEST,
        ),
        Reason.OTHER_ACCOUNT_OWN_APP: (
            _("That PagerDuty account cannot use this tenant's app"),
            _(
                "You signed in to the PagerDuty account “%(subdomain)s”, but "
                "this tenant's own PagerDuty app was registered by "
                "“%(expected)s”. A Scoped OAuth app only works for users of the "
                "account that registered it. Sign in to “%(expected)s”, or fix "
                "the app under Use your own PagerDuty app. Nothing was changed."
            ),
            HTTPStatus.FORBIDDEN,
        ),
        Reason.LINK_TAKEN: (
            _("That PagerDuty user is linked to someone else"),
            _(
                "Another person in this tenant acts in PagerDuty as this "
                "PagerDuty user. Sign in to PagerDuty as yourself, or ask a "
                "tenant admin to unlink them first. Nothing was changed."
            ),
            HTTPStatus.CONFLICT,
        ),
    }
)


class ConnectError(ProviderException):
    """A connect attempt failed for a known reason; safe to show and log."""

    def __init__(self, reason: str, **params: str):
        self.reason = reason
        self.params = params
        super().__init__(f"PagerDuty connect failed: {reason}")


def describe(reason: str, params: dict | None = None) -> tuple[str, str, int]:
    """Return the title, explanation and HTTP status for a failure reason."""
    title, text, status = MESSAGES.get(reason, MESSAGES[Reason.PROVIDER_ERROR])
    return str(title), str(text) % (params or {}), int(status)


def pending_tenant_id(request) -> int | None:
    """Return the tenant a connect is in progress for, from server-side state.

    On the callback the stashed state named by `state` is read without
    consuming it (allauth consumes it right after); otherwise the session
    key the connect view set is used.
    """
    if request is None or not hasattr(request, "session"):
        return None
    state_id = request.GET.get("state")
    if state_id:
        stashed = statekit.get_states(request).get(state_id)
        if stashed and len(stashed) == 3 and stashed[2] == PROVIDER_ID:
            tenant_id = (stashed[0].get("data") or {}).get("tenant_id")
            if isinstance(tenant_id, int):
                return tenant_id
    tenant_id = request.session.get(SESSION_KEY)
    return tenant_id if isinstance(tenant_id, int) else None


def pending_purpose(request) -> str:
    """Return what the pending connect is for: the tenant, or a person's link."""
    purpose = getattr(request, "session", {}).get(PURPOSE_KEY)
    return PURPOSE_LINK if purpose == PURPOSE_LINK else PURPOSE_TENANT


def audit_state_invalid(request) -> None:
    """Audit a callback whose state is missing, forged, expired or reused.

    The tenant is the one this browser was connecting, if any; a state
    that was never ours names none.
    """
    from integrations.ratelimit import rate_limit_allows
    from integrations.selectors import membership_get_for_user
    from integrations.services.audit import audit_connect_state_invalid

    user = request.user
    if user.is_authenticated:
        source = f"user:{user.pk}"
    else:
        try:
            source = f"ip:{get_account_adapter(request).get_client_ip(request)}"
        except Exception:  # noqa: BLE001 - no address is still a source
            source = "ip:unknown"
    limit, window = STATE_AUDIT_LIMIT
    if not rate_limit_allows(
        key=f"pd-state-audit:{source}", limit=limit, window=window
    ):
        logger.warning("Unverifiable PagerDuty callback (audit throttled)")
        return
    membership = membership_get_for_user(
        user=user, tenant_id=request.session.get(SESSION_KEY)
    )
    audit_connect_state_invalid(
        actor=user,
        tenant=membership.tenant if membership else None,
        state_sent=bool(request.GET.get("state")),
        provider_error="error" in request.GET,
    )
