"""django-oauth-toolkit's request validator, with the tenant binding.

The consent page passes the chosen tenant with the authorization
credentials; the code records it in an AgentAuthorization, the code
exchange links that authorization to the new refresh-token family, and
every later refresh carries the family, so the binding follows the tokens
without forking DOT's models. A replayed code revokes what it issued
(RFC 6749 §4.1.2); a reused refresh token revokes its family (DOT's reuse
protection) and the authorization with it.
"""

import hashlib
import logging

from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from integrations.gateway.models import AgentAuthorization
from integrations.gateway.services import (
    agent_authorization_create,
    agent_authorization_revoke,
)
from integrations.models import Membership, Tenant

logger = logging.getLogger(__name__)


def checksum(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class GatewayValidator(OAuth2Validator):
    def _create_authorization_code(self, request, code, expires=None):
        """Store the grant and the consent's tenant binding with it."""
        tenant_id = getattr(request, "gateway_tenant_id", None)
        if tenant_id is None:
            # Only the consent page (ConsentView) binds a tenant; no other
            # path may mint a code.
            raise errors.AccessDeniedError(request=request)
        grant = super()._create_authorization_code(request, code, expires)
        agent_authorization_create(
            client=request.client,
            user=request.user,
            tenant=Tenant.objects.get(pk=tenant_id),
            scope=" ".join(request.scopes),
            resource=" ".join(getattr(request, "resource", None) or []),
            code_checksum=checksum(code["code"]),
        )
        return grant

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        authorization = (
            AgentAuthorization.objects.filter(code_checksum=checksum(code))
            .select_related("tenant")
            .first()
        )
        if not valid:
            if authorization is not None and authorization.token_family:
                logger.warning(
                    "Authorization code of agent %s replayed; revoking its tokens",
                    authorization.pk,
                )
                agent_authorization_revoke(
                    authorization=authorization, reason="authorization code replayed"
                )
            return False
        return _bind(request, authorization)

    def _create_refresh_token(
        self, request, refresh_token_code, access_token, previous_refresh_token
    ):
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        authorization = getattr(request, "agent_authorization", None)
        if previous_refresh_token is None and authorization is not None:
            AgentAuthorization.objects.filter(pk=authorization.pk).update(
                token_family=refresh_token.token_family
            )
        return refresh_token

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        valid = super().validate_refresh_token(
            refresh_token, client, request, *args, **kwargs
        )
        stored = (
            get_refresh_token_model()
            .objects.filter(token_checksum=checksum(refresh_token))
            .order_by("-id")
            .first()
        )
        if stored is None or not stored.token_family:
            return False
        authorization = AgentAuthorization.objects.filter(
            token_family=stored.token_family
        ).first()
        if not valid:
            if stored.revoked is not None and authorization is not None:
                # DOT has just revoked the family for a replayed token.
                agent_authorization_revoke(
                    authorization=authorization, reason="refresh token reused"
                )
            return False
        return _bind(request, authorization)


def _bind(request, authorization: AgentAuthorization | None) -> bool:
    """Accept a live authorization of a person still in its tenant."""
    if authorization is None or authorization.is_revoked:
        return False
    if not Membership.objects.filter(
        user_id=authorization.user_id, tenant_id=authorization.tenant_id
    ).exists():
        return False
    request.agent_authorization = authorization
    return True
