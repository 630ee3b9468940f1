"""J. Deployment configuration, headers, sessions, rate limits (T77–T84).

In-process tests apply the security settings of `portal.settings.prod` on
top of the test profile (`prod_profile`); `check --deploy` runs the real
production module in a subprocess.
"""

import importlib
import time
from datetime import timedelta

import pytest
import requests
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.services.webhooks import INVALID_SIGNATURE_LIMIT
from portal.settings import base
from tests.integrations.test_mfa import sign_in, totp_code
from tests.integrations.webhook_helpers import (
    OTHER_SECRET,
    deliver,
    envelope,
    make_subscription,
    sign,
)
from tests.portal.test_settings import PRODUCTION_ENV, _run

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"
PROD_KEYS = (
    "SECURE_",
    "SESSION_",
    "CSRF_COOKIE",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
)


@pytest.fixture
def prod_profile(settings):
    """Apply production's security settings to this test."""
    prod = importlib.import_module("portal.settings.prod")
    for name in dir(prod):
        if name.startswith(PROD_KEYS):
            setattr(settings, name, getattr(prod, name))
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
    return settings


def test_t77_check_deploy_passes_with_production_settings():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV
    )

    prod = importlib.import_module("portal.settings.prod")
    assert result.returncode == 0, result.stderr
    assert "no issues (0 silenced)" in result.stdout
    assert set(getattr(prod, "SILENCED_SYSTEM_CHECKS", [])) <= {"security.W021"}


@pytest.fixture
def representative_responses(client, tenant, tenant_admin, monkeypatch, prod_profile):
    client.force_login(tenant_admin)
    client.raise_request_exception = False
    pages = {
        "html": client.get(
            reverse("integrations:tenant_home", args=[tenant.pk]), secure=True
        ),
        "callback": client.get(
            reverse("pagerduty_callback"), {"state": "x"}, secure=True
        ),
        "404": client.get("/no/such/page/", secure=True),
        "login": Client().get(reverse("account_login"), secure=True),
    }

    def broken_network(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(requests, "post", broken_network)
    staff = Client(raise_request_exception=False)
    from tests.factories import OAuthClientFactory, UserFactory

    OAuthClientFactory()
    staff.force_login(UserFactory(username="ops", is_staff=True))
    pages["500"] = staff.post(
        reverse("integrations:pagerduty_verify", args=["development"]), secure=True
    )
    return pages


def test_t78_security_headers_on_representative_responses(representative_responses):
    statuses = {k: r.status_code for k, r in representative_responses.items()}

    for name, response in representative_responses.items():
        assert "Strict-Transport-Security" in response, name
        csp = response["Content-Security-Policy"]
        assert (
            "max-age=31536000; includeSubDomains"
            in response["Strict-Transport-Security"]
        ), name
        for directive in (
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ):
            assert directive in csp, (name, directive)
        assert "unsafe-inline" not in csp
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response["Referrer-Policy"] in ("same-origin", "no-referrer")
        assert "charset=" in response["Content-Type"]
    assert representative_responses["callback"]["Referrer-Policy"] == "no-referrer"
    assert statuses == {
        "html": 200,
        "callback": 400,
        "404": 404,
        "login": 200,
        "500": 500,
    }


def test_t78_csp_reports_violations(representative_responses):
    csp = representative_responses["html"]["Content-Security-Policy"]

    assert "report-uri" in csp or "report-to" in csp


def test_t79_cookies_are_secure_httponly_and_lax(client, tenant_admin, prod_profile):
    login_page = client.get(reverse("account_login"), secure=True)
    login = client.post(
        reverse("account_login"),
        {"login": "alice", "password": "password"},
        secure=True,
    )

    session = login.cookies[django_settings.SESSION_COOKIE_NAME]
    csrf = login_page.cookies[django_settings.CSRF_COOKIE_NAME]
    assert session["secure"]
    assert csrf["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert csrf["samesite"] == "Lax"
    assert not session["domain"]
    assert session["path"] == "/"


def test_t79_cookie_names_carry_the_host_prefix(prod_profile):
    assert prod_profile.SESSION_COOKIE_NAME == "__Host-sessionid"
    assert prod_profile.CSRF_COOKIE_NAME == "__Host-csrftoken"


def _login(client):
    return client.post(
        reverse("account_login"), {"login": "alice", "password": "password"}
    )


def test_t80_session_key_changes_on_login_and_logout_kills_it(
    client, tenant_admin, prod_profile
):
    client.get(reverse("account_login"))
    client.session["planted"] = "x"
    client.session.save()
    before = client.session.session_key
    _login(client)
    after = client.session.session_key
    stolen = Client()
    stolen.cookies[django_settings.SESSION_COOKIE_NAME] = after

    client.post(reverse("account_logout"))
    replay = stolen.get(reverse("home"))

    assert after != before
    assert not Session.objects.filter(session_key=after).exists()
    assert replay.status_code == 302
    assert replay["Location"].startswith("/accounts/login/")
    assert prod_profile.SESSION_ENGINE in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    )


def test_t80_absolute_timeout_and_deactivation_end_sessions(
    client, tenant_admin, tenant, prod_profile
):
    _login(client)
    home = reverse("integrations:tenant_home", args=[tenant.pk])
    later = timezone.now() + timedelta(seconds=prod_profile.SESSION_COOKIE_AGE + 60)
    other = Client()
    _login(other)

    with time_machine.travel(later):
        expired = client.get(home)
    tenant_admin.is_active = False
    tenant_admin.save()
    deactivated = other.get(home)

    assert expired.status_code == 302
    assert deactivated.status_code == 302
    assert prod_profile.SESSION_COOKIE_AGE <= 14 * 86400


def test_t80_idle_sessions_expire(client, tenant_admin, tenant, prod_profile):
    _login(client)
    home = reverse("integrations:tenant_home", args=[tenant.pk])

    with time_machine.travel(timezone.now() + timedelta(hours=12)):
        response = client.get(home)

    assert response.status_code == 302


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_HOST": "evil.example"},
        {"HTTP_HOST": "127.0.0.1:8000@evil.example"},
        {"HTTP_X_FORWARDED_HOST": "evil.example", "HTTP_HOST": "localhost"},
    ],
)
def test_t81_foreign_hosts_are_refused_and_forwarded_hosts_ignored(client, headers):
    response = client.get(reverse("account_login"), **headers)

    if "evil" in headers["HTTP_HOST"]:
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert "evil.example" not in response.content.decode()
    assert django_settings.USE_X_FORWARDED_HOST is False


def test_t81_spoofed_forwarded_for_does_not_escape_the_login_rate_limit(
    client, tenant_admin
):
    pages = [
        client.post(
            reverse("account_login"),
            {"login": f"nobody{n}", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).content.decode()
        for n in range(12)
    ]

    assert [TOO_MANY in page for page in pages] == [False] * 10 + [True] * 2


def test_t82_500_page_is_generic_and_production_cannot_run_with_debug(
    representative_responses,
):
    page = representative_responses["500"]
    html = page.content.decode()

    result = _run(
        ["-c", "from portal.settings import prod; print(prod.DEBUG)"],
        {**PRODUCTION_ENV, "DJANGO_DEBUG": "true"},
    )
    assert "Traceback" not in html
    assert "SECRET_KEY" not in html
    assert "SELECT" not in html
    assert len(page["X-Request-ID"]) == 32
    assert result.stdout.strip() == "False"


def test_t82_500_page_shows_the_correlation_id(representative_responses):
    page = representative_responses["500"]

    assert page["X-Request-ID"] in page.content.decode()


def test_t83_the_eleventh_failed_login_from_one_ip_is_refused(client, db):
    pages = [
        client.post(
            reverse("account_login"), {"login": f"user{n}", "password": "wrong"}
        )
        for n in range(11)
    ]

    refused = [TOO_MANY in page.content.decode() for page in pages]
    assert refused == [False] * 10 + [True]
    assert not pages[10].wsgi_request.user.is_authenticated


def test_t83_oauth_start_is_rate_limited(
    tenant_admin_client, tenant, pagerduty_client, settings
):
    settings.PAGERDUTY_CONNECT_RATE_LIMIT = importlib.import_module(
        "portal.settings.base"
    ).PAGERDUTY_CONNECT_RATE_LIMIT
    url = reverse("integrations:tenant_connect", args=[tenant.pk])
    began = time.monotonic()

    statuses = [tenant_admin_client.post(url).status_code for _ in range(25)]

    assert time.monotonic() - began < 60
    assert 429 in statuses


def test_t83_webhook_bad_signature_floods_are_limited_per_ip_not_valid_ones(
    connection,
):
    subscription = make_subscription(connection)
    limit, _window = INVALID_SIGNATURE_LIMIT
    flooder = Client(REMOTE_ADDR="203.0.113.9")
    bystander = Client(REMOTE_ADDR="198.51.100.7")
    body = envelope()
    forged = sign(body, OTHER_SECRET)

    flood = []
    for n in range(limit + 5):
        # A made-up X-Forwarded-For is no way out (T81).
        flooder.defaults["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{n}"
        flood.append(deliver(flooder, subscription, body, signature=forged))
    subscription.refresh_from_db()
    refusals_counted = subscription.consecutive_refusals
    valid = deliver(flooder, subscription, body)
    elsewhere = deliver(bystander, subscription, body, signature=forged)

    assert [r.status_code for r in flood] == [403] * limit + [429] * 5
    assert flood[-1]["Retry-After"] == "60"
    assert refusals_counted == limit  # past the limit nothing is written
    assert valid.status_code == 202
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 1
    assert elsewhere.status_code == 403


def test_t84_admin_needs_staff_and_tenant_admins_are_not_staff(
    client, tenant_admin, connection
):
    client.force_login(tenant_admin)

    response = client.get(reverse("admin:integrations_connection_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not tenant_admin.is_staff


def test_t84_admin_requires_staff_plus_mfa(client, staff_user, prod_profile):
    prod = importlib.import_module("portal.settings.prod")
    prod_profile.PORTAL_REQUIRE_STAFF_MFA = prod.PORTAL_REQUIRE_STAFF_MFA
    changelist = reverse("admin:integrations_oauthclient_changelist")
    sign_in(client, "staff")

    without_mfa = client.get(changelist)
    secret = generate_totp_secret()
    TOTP.activate(staff_user, secret)
    still_password_only = client.get(changelist)
    client.post(reverse("account_logout"))
    sign_in(client, "staff")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    with_mfa = client.get(changelist)

    assert prod.PORTAL_REQUIRE_STAFF_MFA is True
    assert base.PORTAL_REQUIRE_STAFF_MFA is True
    assert without_mfa.status_code == 302
    assert without_mfa["Location"].startswith(reverse("mfa_activate_totp"))
    assert still_password_only.status_code == 302
    assert still_password_only["Location"].startswith(reverse("mfa_reauthenticate"))
    assert with_mfa.status_code == 200
