"""Fixtures of the gateway tests: a live gateway and a connected tenant."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Connection, Environment, Membership, OAuthClient
from integrations.pagerduty import scopes as pd_scopes
from tests.factories import (
    MembershipFactory,
    OAuthClientFactory,
    TenantFactory,
    UserFactory,
)
from tests.gateway.harness import Browser, GatewayServer, free_port

PASSWORD = "correct horse battery"
ALL_GRANTED = "openid " + pd_scopes.canonical(pd_scopes.ALL_SCOPES)


@pytest.fixture
def gateway(
    transactional_db, seeded_environments, sandbox_settings, settings, monkeypatch
):
    """The ASGI app on a free port, its base URL the portal's (issuer, /mcp)."""
    from django.db import connection

    # The server's threads close their connections after each piece of
    # work, so none is left open when the test database is dropped.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings.PORTAL_BASE_URL = base
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": base}
    server = GatewayServer(port).start()
    yield server
    server.stop()


def connect_to_sandbox(tenant, sandbox, *, scopes=ALL_GRANTED) -> Connection:
    """Give a tenant a live connection to the sandbox's acme account as Alice."""
    token = sandbox.issue_token(
        "alice@acme.example", [s for s in scopes.split() if s != "openid"]
    )
    app = OAuthClient.objects.filter(tenant=tenant).first() or OAuthClientFactory(
        environment=tenant.environment, tenant=tenant
    )
    with sandbox.state.lock:
        alice = sandbox.state.user_by_email("alice@acme.example")
    return Connection.objects.create(
        tenant=tenant,
        oauth_client=app,
        account_id="PACME",
        subdomain="acme",
        api_url=sandbox.url,
        pd_user_id=alice.id,
        pd_user_name="Alice",
        pd_user_email="alice@acme.example",
        access_token=token,
        refresh_token="unused",
        access_expires_at=timezone.now() + timedelta(hours=1),
        granted_scopes=scopes,
        requested_scopes=app.scopes,
    )


@pytest.fixture
def acme(gateway, pagerduty_sandbox):
    """Acme Corp in Development, connected to the sandbox, with alice (admin)."""
    tenant = TenantFactory(
        environment=Environment.objects.get(slug="development"),
        name="Acme Corp",
        slug="acme",
    )
    connect_to_sandbox(tenant, pagerduty_sandbox)
    return tenant


@pytest.fixture
def alice(acme):
    user = UserFactory(username="alice")
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(tenant=acme, user=user, role=Membership.Role.ADMIN)
    # Alice connected Acme, so her own PagerDuty user is that connection's.
    Connection.objects.filter(tenant=acme, kind=Connection.Kind.TENANT).update(
        user=user, pd_user_role="owner"
    )
    return user


@pytest.fixture
def visitor(gateway):
    """A person's browser (requests), for flows that need no rendering."""
    return Browser(gateway.url)


@pytest.fixture
def issue_token(gateway):
    """Return a function that authorizes an agent and returns its tokens."""
    from django.test import Client

    from tests.gateway.oauth_flow import issue

    def issue_for(user, tenant, *, read_only=False):
        client = Client()
        client.force_login(user)
        return issue(client, tenant=tenant, read_only=read_only)

    return issue_for


@pytest.fixture
def token(issue_token, alice, acme):
    """An agent token of alice in Acme Corp, read and write."""
    return issue_token(alice, acme).access


@pytest.fixture
def governance_off(settings):
    """Every tool allowed, for tests of a tool's own behaviour.

    By default destructive writes are held for approval (README, Agent
    governance); a test of what such a tool does asks for this fixture.
    """
    settings.MCP_GOVERNANCE_POLICY = "integrations.gateway.tools.governance.allow_all"


@pytest.fixture(scope="session", autouse=True)
def governance_tally():
    """With PORTAL_TALLY=1, count the governed outcomes the tests exercised.

    Held, denied, budget-refused and masked calls, for the closing figures
    of the governance work; off by default, it costs nothing then.
    """
    import os
    from collections import Counter

    if not os.environ.get("PORTAL_TALLY"):
        yield
        return
    from django.db.models.signals import post_save

    from integrations.gateway.models import ToolCall
    from integrations.gateway.tools import governance

    tally = Counter()

    def count(sender, instance, created, **kwargs):
        if created:
            tally[instance.outcome] += 1
            if instance.reason == "budget_exhausted":
                tally["budget_exhausted"] += 1

    original = governance.filter_result

    def filter_result(request, result):
        masked = original(request, result)
        if masked != result:
            tally["masked"] += 1
        return masked

    post_save.connect(count, sender=ToolCall, weak=False)
    governance.filter_result = filter_result
    yield
    governance.filter_result = original
    post_save.disconnect(count, sender=ToolCall)
    print(f"\ngovernance tally: {dict(sorted(tally.items()))}")
