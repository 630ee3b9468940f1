"""Each environment's redirect URL is edited in the portal; links to
PagerDuty's own pages go where PAGERDUTY_WEB_URL says (the sandbox in the demo)."""

import pytest
from django.urls import reverse

from integrations.models import AuditEvent, Environment
from integrations.pagerduty.web import web_link, web_url
from tests.factories import OAuthClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def gateway_url(slug="development"):
    return reverse("integrations:pagerduty_gateway", args=[slug])


def test_staff_set_an_environments_gateway_url_and_it_is_audited(
    client, staff_user, development
):
    client.force_login(staff_user)

    response = client.post(
        gateway_url(), {"gateway_url": "https://portal.acme.example"}, follow=True
    )

    development.refresh_from_db()
    html = response.content.decode()
    assert development.redirect_url == (
        "https://portal.acme.example/integration-callback"
    )
    assert "https://portal.acme.example/integration-callback" in html
    assert "Add it to the PagerDuty app" in html
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.ENVIRONMENT_GATEWAY_CHANGED
    assert event.details == {"field": "gateway_url", "uses_portal_base_url": False}
    assert event.environment == development


@pytest.mark.parametrize(
    "value",
    [
        "http://portal.acme.example",
        "https://portal.acme.example/",
        "https://portal.acme.example?x=1",
        "https://user:pw@portal.acme.example",
        "javascript:alert(1)",
        "https://" + "a" * 250 + ".example",
    ],
)
def test_a_bad_gateway_url_is_refused_and_nothing_changes(
    client, staff_user, development, value
):
    client.force_login(staff_user)

    response = client.post(gateway_url(), {"gateway_url": value})

    development.refresh_from_db()
    assert response.status_code == 400
    assert 'id="gateway-form"' in response.content.decode()
    assert "errorlist" in response.content.decode()
    assert development.gateway_url == ""
    assert not AuditEvent.objects.exists()


def test_an_empty_gateway_url_goes_back_to_the_portals_own(
    client, staff_user, development, settings
):
    development.gateway_url = "https://old.example"
    development.save()
    client.force_login(staff_user)

    client.post(gateway_url(), {"gateway_url": ""})

    development.refresh_from_db()
    assert (
        development.redirect_url == f"{settings.PORTAL_BASE_URL}/integration-callback"
    )
    assert AuditEvent.objects.get().details["uses_portal_base_url"] is True


def test_non_staff_cannot_change_it(client, development):
    client.force_login(UserFactory(username="eve"))

    response = client.post(gateway_url(), {"gateway_url": "https://evil.example"})

    assert response.status_code == 403
    assert Environment.objects.get(pk=development.pk).gateway_url == ""


def test_the_guide_says_what_the_gateway_url_is(client, staff_user, development):
    client.force_login(staff_user)

    html = client.get(
        reverse("integrations:pagerduty_config", args=["development"]) + "?tab=guide"
    ).content.decode()

    assert 'id="gateway-explained"' in html
    assert "gateway base URL" in html


# --- Links to PagerDuty's web pages ---


def test_links_go_to_pagerduty_by_default(settings):
    settings.PAGERDUTY_WEB_URL = ""

    assert web_url("acme", "/developer/applications") == (
        "https://acme.pagerduty.com/developer/applications"
    )
    assert web_link("https://acme.pagerduty.com/incidents/PINC001") == (
        "https://acme.pagerduty.com/incidents/PINC001"
    )


@pytest.mark.parametrize(
    ("html_url", "expected"),
    [
        ("https://acme.pagerduty.com/incidents/PINC001", "/web/incidents/PINC001"),
        (
            "https://acme.eu.pagerduty.com/service-directory/PSVC001",
            "/web/service-directory/PSVC001",
        ),
        ("http://acme.pagerduty.com/incidents/P1", ""),
        ("https://evil.example/incidents/P1", ""),
        ("https://pagerduty.com.evil.example/x", ""),
        ("javascript:alert(1)", ""),
        (None, ""),
    ],
)
def test_links_go_to_the_sandbox_in_the_demo(settings, html_url, expected):
    settings.PAGERDUTY_WEB_URL = "http://127.0.0.1:8765/web"

    link = web_link(html_url)

    assert link == (f"http://127.0.0.1:8765{expected}" if expected else "")


def test_app_registration_link_follows_the_setting(settings, development):
    settings.PAGERDUTY_WEB_URL = "http://127.0.0.1:8765/web"

    app = OAuthClientFactory(environment=development, subdomain="acme")

    assert app.developer_url == "http://127.0.0.1:8765/web/developer/applications"
