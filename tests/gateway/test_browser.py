"""In Chromium: an agent's consent page, then revoking the agent."""

import pytest

from integrations.gateway.models import AgentAuthorization
from tests.browser_fixtures import save_screenshot
from tests.gateway.conftest import PASSWORD
from tests.gateway.harness import (
    CallbackServer,
    authorize_url,
    exchange,
    pkce_pair,
    register,
)
from tests.gateway.mcp_http import list_tools

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def callback():
    """The agent's local callback server, as Claude Code or the SDK run one."""
    with CallbackServer() as server:
        yield server


def test_a_person_authorizes_an_agent_then_revokes_it(
    page, gateway, acme, alice, callback
):
    registered = register(gateway.url, name="Claude Code", redirect_uris=[callback.url])
    client_id = registered.json()["client_id"]
    verifier, challenge = pkce_pair()

    page.goto(
        authorize_url(gateway.url, client_id, challenge, redirect_uri=callback.url)
    )
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#consent-form")
    save_screenshot(page, "agent-consent")

    assert "Authorize Claude Code?" in page.text_content("h1")
    assert page.is_visible("#loopback-warning")
    assert page.input_value("select[name=tenant]") == str(acme.pk)
    assert page.is_visible("input[name=read_only]")
    page.click("#authorize")
    page.wait_for_url(f"{callback.url}**")
    code = callback.query()["code"]
    token = exchange(
        gateway.url, client_id, code, verifier, redirect_uri=callback.url
    ).json()["access_token"]
    assert list_tools(gateway.mcp_url, token).status_code == 200

    page.goto(f"{gateway.url}/tenants/{acme.pk}/agents/")
    page.wait_for_selector("#agent-table")
    save_screenshot(page, "agents")
    assert "Claude Code" in page.text_content("#agent-table")
    page.click("#agent-table button:has-text('Revoke')")
    page.wait_for_selector("#no-agents")

    assert "can no longer act for alice" in page.text_content(".messages")
    assert AgentAuthorization.objects.get().revoked_at is not None
    assert list_tools(gateway.mcp_url, token).status_code == 401
