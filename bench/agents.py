"""Agents of the MCP section: one token through the consent flow, the rest minted.

The load needs fifty tokens of fifty people; fifty consents would measure
the consent page. So one agent goes through the real flow (registration,
PKCE, the consent page, the code exchange: Django's test client against
the portal's own views, `tests/gateway/oauth_flow.py`), and the others are
minted from the same rows that flow wrote: a registered client like its
client, an AgentAuthorization like its consent (through the same service),
an access token for the same resource and scopes and a refresh token that
starts its family. `verifier_view` shows the gateway's verifier sees both
kinds alike.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.forms.models import model_to_dict
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from integrations.gateway.models import AgentAuthorization, Client
from integrations.gateway.services import agent_authorization_create


@dataclass(frozen=True)
class AgentToken:
    access: str
    client_id: str
    user_id: int
    tenant_id: int


def flow_token(*, user, tenant) -> AgentToken:
    """Authorize an agent for `user` in `tenant` the way a person does."""
    from django.test import Client as Browser

    from tests.gateway.oauth_flow import issue

    browser = Browser()
    browser.force_login(user)
    issued = issue(browser, tenant=tenant)
    return AgentToken(issued.access, issued.client_id, user.pk, tenant.pk)


def mint_token(*, like: AgentToken, user, tenant, name: str) -> AgentToken:
    """Write the rows the flow writes for `user` in `tenant`; return the token."""
    template = Client.objects.get(client_id=like.client_id)
    consent = AgentAuthorization.objects.get(
        client=template, revoked_at__isnull=True, token_family__isnull=False
    )
    stored = _stored(like.access)
    fields = model_to_dict(
        template, exclude=["id", "client_id", "client_secret", "user", "name"]
    )
    client = Client.objects.create(**fields, name=name)
    authorization = agent_authorization_create(
        client=client,
        user=user,
        tenant=tenant,
        scope=consent.scope,
        resource=consent.resource,
        code_checksum=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
    )
    family = uuid.uuid4()
    AgentAuthorization.objects.filter(pk=authorization.pk).update(token_family=family)
    token = secrets.token_urlsafe(30)
    access = get_access_token_model().objects.create(
        user=user,
        application=client,
        token=token,
        expires=timezone.now() + timedelta(seconds=settings.MCP_ACCESS_TOKEN_SECONDS),
        scope=stored.scope,
        resource=stored.resource,
    )
    get_refresh_token_model().objects.create(
        user=user,
        application=client,
        token=secrets.token_urlsafe(30),
        access_token=access,
        token_family=family,
        resource=stored.resource,
    )
    return AgentToken(token, client.client_id, user.pk, tenant.pk)


def verifier_view(token: AgentToken) -> dict | None:
    """What the /mcp verifier makes of a token, less what names the agent."""
    from integrations.gateway.mcp.verifier import verify

    verified = verify(token.access)
    if verified is None:
        return None
    issued = int(_stored(token.access).created.timestamp())
    lifetime = verified.expires_at - issued
    return {
        "scopes": sorted(verified.scopes),
        "resource": verified.resource,
        "issuer": verified.claims.get("iss"),
        # As granted, in minutes: the flow's token was issued first.
        "lifetime_minutes": round(lifetime / 60),
        "subject_is_user": verified.subject == str(token.user_id),
        "agent_in_tenant": AgentAuthorization.objects.filter(
            pk=verified.claims.get("agent"), tenant_id=token.tenant_id
        ).exists(),
    }


def _stored(token: str):
    checksum = hashlib.sha256(token.encode()).hexdigest()
    return get_access_token_model().objects.get(token_checksum=checksum)
