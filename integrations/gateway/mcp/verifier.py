"""The /mcp token verifier: a portal access token, for this resource, alive.

Tokens are looked up by their SHA-256 checksum (only the checksum is
stored). Refused: unknown tokens (PagerDuty's, made-up ones), expired or
revoked ones, tokens of a revoked agent or of a person no longer in the
tenant, and tokens without an agent (DCR's registration token). The
token's real resource is reported, so the SDK's resource check
(`validate_token_resource`) refuses a token for another resource, or one
with none.
"""

import hashlib
import logging

from django.utils import timezone
from mcp.server.auth.provider import AccessToken
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from integrations.gateway import conf
from integrations.gateway.mcp.threads import run_sync
from integrations.gateway.models import AgentAuthorization
from integrations.models import Membership

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 512


def verify(token: str) -> AccessToken | None:
    """Return what a bearer token stands for, or None when it is no good."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    checksum = hashlib.sha256(token.encode()).hexdigest()
    stored = (
        get_access_token_model()
        .objects.select_related("application")
        .filter(token_checksum=checksum)
        .first()
    )
    if stored is None or stored.expires <= timezone.now():
        return None
    family = (
        get_refresh_token_model()
        .objects.filter(access_token=stored)
        .values_list("token_family", flat=True)
        .first()
    )
    if family is None:
        return None
    authorization = (
        AgentAuthorization.objects.select_related("tenant__environment", "user")
        .filter(token_family=family, revoked_at__isnull=True)
        .first()
    )
    if authorization is None or not authorization.user.is_active:
        return None
    if not Membership.objects.filter(
        user_id=authorization.user_id, tenant_id=authorization.tenant_id
    ).exists():
        return None
    resources = list(stored.resource or [])
    resource = resources[0] if len(resources) == 1 else None
    tenant_resource = conf.resource_url_for(authorization.tenant.environment.base_url)
    if resource == conf.resource_url() and tenant_resource != resource:
        # The tenant's environment is served by another gateway now.
        return None
    return AccessToken(
        token=checksum,
        client_id=stored.application.client_id,
        scopes=stored.scope.split(),
        expires_at=int(stored.expires.timestamp()),
        resource=resource,
        subject=str(authorization.user_id),
        claims={"iss": conf.issuer(), "agent": authorization.pk},
    )


class PortalTokenVerifier:
    """The SDK's TokenVerifier over the portal's own token tables."""

    async def verify_token(self, token: str) -> AccessToken | None:
        return await run_sync(verify, token)
