"""G. Secrets never leak: logs, HTML, admin, DB (SECURITY-TESTS T58–T63)."""

import json
import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.socialaccount.internal import statekit
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import Connection, OAuthClient
from integrations.pagerduty import scopes as pd_scopes
from integrations.services.tokens import connection_get_access_token
from tests.connect_fixtures import TOKEN_URL, callback, start_connect
from tests.factories import UserFactory
from tests.security.conftest import (
    AT_A,
    CANARIES,
    CS_A,
    CS_B,
    RT_A,
    sandbox_consent,
    url_exists,
)

pytestmark = pytest.mark.django_db

SANDBOX_CS = "CANARY-CS-d46c-sandbox-app-secret"


def _admin_urls(obj) -> list[str]:
    meta = obj._meta
    base = f"admin:{meta.app_label}_{meta.model_name}"
    return [reverse(f"{base}_changelist"), reverse(f"{base}_change", args=[obj.pk])]


def test_t58_no_admin_page_renders_a_secret_or_token(client, world, leak_scan):
    client.force_login(world.users["superuser"])
    pages = []
    for model in admin.site._registry:
        for obj in model._default_manager.all()[:3]:
            pages += _admin_urls(obj)
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))

    for url in sorted(set(pages)):
        response = leak_scan.keep(client.get(url))
        assert response.status_code == 200, url

    assert not {SocialApp, SocialToken, SocialAccount} & set(admin.site._registry)
    assert len(leak_scan.responses) >= 10
    leak_scan.assert_clean()


def test_t59_config_form_with_an_error_never_echoes_the_submitted_secret(
    client, staff_user, development
):
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_config", args=[development.slug])

    response = client.post(
        url,
        {
            "client_id": "bad id with spaces",
            "new_client_secret": CS_B,
            "region": "us",
            "subdomain": "acme",
            "scopes": sorted(pd_scopes.MINIMUM_SCOPES),
        },
    )

    assert response.status_code == 400
    assert CS_B not in response.content.decode()
    assert OAuthClient.objects.count() == 0


def test_t60_database_at_rest_holds_only_ciphertext_and_allauth_tables_are_empty(
    world, leak_scan
):
    sinks = leak_scan.sinks()

    assert [c for c in CANARIES if c in sinks["database"]] == []
    assert [c for c in CANARIES if c in sinks["dumpdata"]] == []
    assert SocialToken.objects.count() == 0
    assert SocialApp.objects.count() == 0
    assert SocialAccount.objects.count() == 0


def test_t60_mfa_secrets_are_ciphertext_at_rest_and_never_in_the_admin(
    client, world, leak_scan
):
    superuser = world.users["superuser"]
    secret = generate_totp_secret()
    TOTP.activate(superuser, secret)
    codes = RecoveryCodes.activate(superuser).get_unused_codes()
    client.force_login(superuser)
    for authenticator in Authenticator.objects.all():
        for url in _admin_urls(authenticator):
            leak_scan.keep(client.get(url))

    sinks = leak_scan.sinks()

    assert len(leak_scan.responses) == 4
    for value in (secret, *codes):
        assert [name for name, text in sinks.items() if value in text] == []
    assert "data" not in admin.site._registry[Authenticator].get_fields(
        leak_scan.responses[0].wsgi_request
    )


@pytest.fixture
def error_reports(settings):
    """Mail 500s to ADMINS with the HTML report (frame locals), as a
    deployment with `include_html` or an error tracker would see them."""
    from django.utils.log import AdminEmailHandler

    settings.ADMINS = [("Ops", "ops@example.test")]
    handler = AdminEmailHandler(include_html=True)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)


def test_t61_token_body_under_an_unexpected_key_reaches_no_log_or_page(
    tenant_admin_client, tenant, pagerduty_client, mocked_responses, leak_scan
):
    state = start_connect(tenant_admin_client, tenant)["state"][0]
    mocked_responses.post(
        TOKEN_URL, json={"token": AT_A, "refresh_token": RT_A, "scope": "openid"}
    )

    response = leak_scan.keep(
        callback(tenant_admin_client, code="code-0001", state=state)
    )

    assert response.status_code == 502
    leak_scan.assert_clean()


def test_t61_crash_while_holding_the_client_secret_reports_no_secret(
    client,
    staff_user,
    pagerduty_client,
    monkeypatch,
    mailoutbox,
    leak_scan,
    error_reports,
):
    def broken_network(*args, **kwargs):
        raise RuntimeError("network stack crashed")

    # An unexpected failure at the network boundary, with the secret in
    # the caller's local variables (request_token's `client_secret`).
    monkeypatch.setattr(requests, "post", broken_network)
    client.raise_request_exception = False
    client.force_login(staff_user)

    response = leak_scan.keep(
        client.post(reverse("integrations:pagerduty_verify", args=["development"]))
    )

    reports = [
        m.body + "".join(content for content, _type in m.alternatives)
        for m in mailoutbox
    ]
    assert response.status_code == 500
    assert any("request_token" in report for report in reports)
    assert [r for r in reports if CS_A in r] == []
    leak_scan.assert_clean()


def test_t62_the_browser_never_holds_a_token(client, world, leak_scan):
    login = client.post(
        reverse("account_login"), {"login": "a_admin", "password": "password"}
    )

    leak_scan.keep(
        client.get(reverse("integrations:tenant_home", args=[world.tenant_a.pk]))
    )

    assert login.cookies["sessionid"]["httponly"]
    home = leak_scan.responses[0]
    assert "no-store" in home["Cache-Control"]
    assert "localStorage" not in home.content.decode()
    leak_scan.assert_clean()


def test_t63_canary_leak_scan_over_configure_connect_refresh_browse_act_disconnect(
    client, tenant, tenant_admin, sandbox_settings, development, leak_scan
):
    sandbox = sandbox_settings
    demo = sandbox.demo_app
    with sandbox.state.lock:
        sandbox.state.app_by_client_id(demo.client_id).client_secret = SANDBOX_CS
    identity_token_url = f"{sandbox.url}/oauth/token"
    leak_scan.token_urls = {identity_token_url}
    staff = Client()
    staff.force_login(UserFactory(username="ops", is_staff=True, is_superuser=True))
    config = reverse("integrations:pagerduty_config", args=[development.slug])
    keep = leak_scan.keep

    # configure and verify
    keep(
        staff.post(
            config,
            {
                "client_id": demo.client_id,
                "new_client_secret": SANDBOX_CS,
                "region": "us",
                "subdomain": "acme",
                "scopes": list(demo.scopes),
            },
            follow=True,
        )
    )
    keep(
        staff.post(
            reverse("integrations:pagerduty_verify", args=[development.slug]),
            follow=True,
        )
    )
    # connect
    client.force_login(tenant_admin)
    connect = keep(
        client.post(reverse("integrations:tenant_connect", args=[tenant.pk]))
    )
    query = parse_qs(urlsplit(connect["Location"]).query)
    state = query["state"][0]
    verifier = statekit.get_states(client)[state][0]["pkce_code_verifier"]
    answer = sandbox_consent(sandbox, query, recorder=leak_scan.outbound)
    done = keep(callback(client, **answer))
    keep(client.get(done["Location"]))
    connection = Connection.objects.get(tenant=tenant)
    # refresh
    Connection.objects.filter(pk=connection.pk).update(
        access_expires_at=timezone.now() - timedelta(minutes=1)
    )
    connection_get_access_token(connection=Connection.objects.get(pk=connection.pk))
    # browse and act (workspace pages, once they exist)
    acted = False
    if url_exists("integrations:incident_list", tenant.pk):
        keep(client.get(reverse("integrations:incident_list", args=[tenant.pk])))
        with sandbox.state.lock:
            incident = next(
                i
                for i in sandbox.state.incidents.values()
                if i.status == "triggered"
                and sandbox.state.accounts[i.account_id].subdomain == "acme"
            )
        detail = reverse("integrations:incident_detail", args=[tenant.pk, incident.id])
        keep(client.get(detail))
        keep(
            client.post(
                reverse(
                    "integrations:incident_acknowledge", args=[tenant.pk, incident.id]
                ),
                follow=True,
            )
        )
        acted = True
    # admin pages, then disconnect
    keep(
        staff.get(reverse("admin:integrations_connection_change", args=[connection.pk]))
    )
    keep(staff.get(reverse("admin:integrations_oauthclient_changelist")))
    keep(
        client.post(
            reverse("integrations:tenant_disconnect", args=[tenant.pk]),
            {"confirm": "yes"},
            follow=True,
        )
    )

    issued = set()
    for call in leak_scan.outbound:
        if call.url == identity_token_url and call.status == 200:
            body = json.loads(call.response_body)
            issued |= {body.get("access_token"), body.get("refresh_token")}
    issued.discard(None)
    canaries = [SANDBOX_CS, answer["code"], verifier, *sorted(issued)]
    refreshes = [c for c in leak_scan.outbound if "grant_type=refresh_token" in c.body]
    assert done.status_code == 302
    assert len(issued) >= 5  # verify's app token, connect's two, refresh's two
    assert len(refreshes) == 1
    assert Connection.objects.get(pk=connection.pk).status == "revoked"
    assert acted or not url_exists("integrations:incident_list", tenant.pk)
    leak_scan.assert_clean([*canaries, *CANARIES])
    assert leak_scan.checks >= len(canaries) * 10
