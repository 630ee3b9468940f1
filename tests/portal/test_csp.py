import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part)
    }


def test_pages_forbid_inline_script_and_style(client):
    policy = _policy(client.get(reverse("account_login")))

    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_forms_may_only_lead_to_the_portal_and_pagerduty_identity(client, settings):
    settings.PAGERDUTY_IDENTITY_URL = "http://127.0.0.1:8765"

    policy = _policy(client.get(reverse("account_login")))

    assert policy["form-action"] == ["'self'", "http://127.0.0.1:8765"]
