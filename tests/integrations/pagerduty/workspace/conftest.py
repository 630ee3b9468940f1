"""Fixtures for the workspace: a connected tenant, its members, the sandbox."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from integrations.models import Connection, Membership
from integrations.pagerduty import scopes as pd_scopes
from tests.connect_fixtures import API
from tests.factories import (
    MembershipFactory,
    OAuthClientFactory,
    TenantFactory,
    UserFactory,
)

ALL_GRANTED = "openid " + pd_scopes.canonical(pd_scopes.ALL_SCOPES)
TOKEN = "CANARY-AT-workspace-token"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def make_connection(
    tenant, oauth_client, *, scopes=ALL_GRANTED, api_url=API, token=TOKEN
):
    return Connection.objects.create(
        tenant=tenant,
        oauth_client=oauth_client,
        account_id="PACCT01",
        subdomain="acme",
        api_url=api_url,
        pd_user_id="PUSER01",
        pd_user_name="Alice Anders",
        pd_user_email="alice@acme.example",
        access_token=token,
        refresh_token="CANARY-RT-workspace",
        access_expires_at=timezone.now() + timedelta(days=1),
        granted_scopes=scopes,
        requested_scopes=oauth_client.scopes,
    )


@pytest.fixture
def ws_connection(tenant, pagerduty_client):
    """The tenant's active connection with every scope granted."""
    return make_connection(tenant, pagerduty_client)


@pytest.fixture
def member_client(client, tenant_member, ws_connection):
    client.force_login(tenant_member)
    return client


@pytest.fixture
def other_tenant(development):
    """A second tenant, connected, with its own member."""
    other = TenantFactory(environment=development, name="Globex", slug="globex")
    app = OAuthClientFactory(environment=development, tenant=other)
    make_connection(other, app, token="CANARY-AT-other-tenant")
    MembershipFactory(
        tenant=other, user=UserFactory(username="gina"), role=Membership.Role.ADMIN
    )
    return other


@pytest.fixture
def sandbox_member(client, tenant, tenant_member, pagerduty_client, sandbox_settings):
    """A member of a tenant connected to the sandbox's acme account as Alice."""
    token = sandbox_settings.issue_token(user_email="alice@acme.example")
    connection = make_connection(
        tenant, pagerduty_client, api_url=sandbox_settings.url, token=token
    )
    client.force_login(tenant_member)
    client.connection = connection
    client.sandbox = sandbox_settings
    return client
