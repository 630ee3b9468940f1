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
    tenant,
    oauth_client,
    *,
    scopes=ALL_GRANTED,
    api_url=API,
    token=TOKEN,
    user=None,
    kind=Connection.Kind.TENANT,
    pd_user=("PUSER01", "Alice Anders", "alice@acme.example", "owner"),
):
    pd_id, pd_name, pd_email, pd_role = pd_user
    return Connection.objects.create(
        tenant=tenant,
        kind=kind,
        user=user,
        oauth_client=oauth_client,
        account_id="PACCT01",
        subdomain="acme",
        api_url=api_url,
        pd_user_id=pd_id,
        pd_user_name=pd_name,
        pd_user_email=pd_email,
        pd_user_role=pd_role,
        access_token=token,
        refresh_token="CANARY-RT-workspace",
        access_expires_at=timezone.now() + timedelta(days=1),
        granted_scopes=scopes,
        requested_scopes=oauth_client.scopes,
    )


@pytest.fixture
def ws_connection(tenant, tenant_admin, pagerduty_client):
    """The tenant's active connection with every scope granted.

    Its admin connected it, so it is also her link: she acts as Alice.
    """
    return make_connection(tenant, pagerduty_client, user=tenant_admin)


@pytest.fixture
def linked_client(client, tenant_admin, ws_connection):
    """The tenant admin, signed in and acting through her own link."""
    client.force_login(tenant_admin)
    return client


@pytest.fixture
def member_client(client, tenant_member, ws_connection):
    """A tenant member with no PagerDuty link of his own."""
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
def sandbox_linked(client, tenant, tenant_admin, pagerduty_client, sandbox_settings):
    """The admin of a tenant connected to the sandbox's acme account as Alice."""
    token = sandbox_settings.issue_token(user_email="alice@acme.example")
    connection = make_connection(
        tenant,
        pagerduty_client,
        api_url=sandbox_settings.url,
        token=token,
        user=tenant_admin,
    )
    client.force_login(tenant_admin)
    client.connection = connection
    client.sandbox = sandbox_settings
    return client


def sandbox_pd_user(sandbox, email="alice@acme.example") -> tuple:
    """Return a sandbox user as `make_connection`'s pd_user (id, name, email, role)."""
    with sandbox.state.lock:
        user = next(u for u in sandbox.state.users.values() if u.email == email)
    return (user.id, user.name, user.email, user.role)


def connect_acme(sandbox_settings):
    """Acme Corp connected to the sandbox as Alice, its admin; return the tenant."""
    from integrations.models import Environment

    development = Environment.objects.get(slug="development")
    tenant = TenantFactory(environment=development, name="Acme Corp", slug="acme")
    app = OAuthClientFactory(environment=development)
    token = sandbox_settings.issue_token(user_email="alice@acme.example")
    user = UserFactory(username="alice", email="alice@acme.example")
    MembershipFactory(tenant=tenant, user=user, role="admin")
    make_connection(
        tenant,
        app,
        api_url=sandbox_settings.url,
        token=token,
        user=user,
        pd_user=sandbox_pd_user(sandbox_settings),
    )
    return tenant


def sign_in(page, live_server, username, password="password"):  # noqa: S107
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def workspace(seeded_environments, sandbox_settings, live_server, page):
    """The tenant admin signed in, acting as herself (Alice) in the sandbox.

    Returns the workspace's base URL; the browser tests use it.
    """
    tenant = connect_acme(sandbox_settings)
    sign_in(page, live_server, "alice")
    return f"{live_server.url}/tenants/{tenant.pk}/pagerduty"


@pytest.fixture
def device_workspace(seeded_environments, sandbox_settings, live_server, device_page):
    """`workspace` at desktop, then at phone width (in `device_page`)."""
    tenant = connect_acme(sandbox_settings)
    sign_in(device_page, live_server, "alice")
    return f"{live_server.url}/tenants/{tenant.pk}/pagerduty"
