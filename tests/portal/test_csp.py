import json

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


def test_violation_reports_are_logged_on_one_line(client, caplog):
    report = {
        "csp-report": {
            "document-uri": "https://portal.example/tenants/1/",
            "violated-directive": "script-src 'self'",
            "blocked-uri": "inline",
        }
    }

    response = client.post(
        "/csp-report", json.dumps(report), content_type="application/csp-report"
    )

    assert response.status_code == 204
    assert "CSP violation: directive=script-src 'self' blocked=inline" in caplog.text


@pytest.mark.parametrize(
    ("body", "status"), [("x" * 20000, 413), ("not json", 400), ("[1]", 400)]
)
def test_oversized_or_malformed_reports_are_refused(client, body, status):
    response = client.post("/csp-report", body, content_type="application/csp-report")

    assert response.status_code == status


def test_policy_names_the_report_endpoint(client):
    assert _policy(client.get(reverse("account_login")))["report-uri"] == [
        "/csp-report"
    ]
