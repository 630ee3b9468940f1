import pytest

from tests.browser_fixtures import save_screenshot
from tests.pagerduty_sandbox.flow import pkce_pair

pytestmark = pytest.mark.browser

# The portal's 15 scopes in the registration table's (alphabetical) order.
PORTAL_SCOPES = (
    "escalation_policies.read escalation_policies.write incidents.read "
    "incidents.write oncalls.read schedules.read schedules.write services.read "
    "services.write teams.read teams.write users.read users.write "
    "webhook_subscriptions.read webhook_subscriptions.write"
)


def _sign_in(page, sandbox, email="alice@acme.example"):
    page.goto(f"{sandbox.url}/sign_in")
    page.fill("#email", email)
    page.fill("#password", "sandbox")
    page.click("button:has-text('Sign In')")


def test_register_an_app_through_the_six_steps(page, pagerduty_sandbox):
    _sign_in(page, pagerduty_sandbox)

    page.goto(f"{pagerduty_sandbox.url}/developer/applications")
    save_screenshot(page, "sandbox-app-list")
    page.click("text=New App")
    page.fill("#name", "Frontegg Integration")
    page.fill("#description", "Connects our portal")
    page.check("#functionality-oauth2")
    page.click("button:has-text('Next')")
    page.fill("#redirect-url-1", "https://gateway.example/integration-callback")
    for scope in PORTAL_SCOPES.split():
        page.check(f"input[name=scope][value='{scope}']")
    selected = page.input_value("#selected-scope")
    save_screenshot(page, "sandbox-app-scopes")
    page.click("button:has-text('Register App')")

    assert selected == PORTAL_SCOPES
    client_id = page.input_value("#client-id")
    secret = page.input_value("#client-secret")
    save_screenshot(page, "sandbox-client-information")
    app = pagerduty_sandbox.state.app_by_client_id(client_id)
    assert app.client_secret == secret
    assert " ".join(app.scopes) == PORTAL_SCOPES
    page.click("text=I have stored the secret")
    assert client_id in page.content()
    assert secret not in page.content()


def test_consent_page_in_a_browser(page, pagerduty_sandbox):
    _, challenge = pkce_pair()
    demo = pagerduty_sandbox.demo_app
    _sign_in(page, pagerduty_sandbox)
    page.goto(
        f"{pagerduty_sandbox.url}/oauth/authorize?client_id={demo.client_id}"
        f"&redirect_uri={demo.redirect_uris[0]}&response_type=code"
        f"&scope=incidents.read+incidents.write+services.read"
        f"&code_challenge={challenge}&code_challenge_method=S256&state=s1"
    )

    save_screenshot(page, "sandbox-consent")

    assert page.locator("h1").inner_text() == "Authorize Portal demo"
    assert page.locator(".scopes li").count() == 3


def test_incident_page_acknowledges_in_a_browser(page, pagerduty_sandbox):
    _sign_in(page, pagerduty_sandbox, "bob@acme.example")
    page.goto(f"{pagerduty_sandbox.url}/")
    save_screenshot(page, "sandbox-home")

    page.goto(f"{pagerduty_sandbox.url}/app/incidents")
    before = page.locator("button:has-text('Acknowledge')").count()
    page.locator("button:has-text('Acknowledge')").first.click()
    save_screenshot(page, "sandbox-incidents")

    assert page.locator("button:has-text('Acknowledge')").count() == before - 1
    assert page.url.endswith("/app/incidents")
