"""The credential and isolation T-items, run for tenants' own apps.

A tenant admin of one tenant can't read, change or use another tenant's
app (T41–T43); a tenant app's secret is write-only, encrypted and never
echoed or logged (T58–T61); its form refuses bad input field by field
(T64, T65), every change is audited by field name (T67) and its check is
rate-limited per tenant (T69).
"""

import pytest
from django.urls import reverse

from integrations.models import AuditEvent, Connection, OAuthClient
from integrations.pagerduty import scopes as pd_scopes
from integrations.selectors import oauth_client_for_connect
from integrations.services.oauth_clients import VERIFY_LIMIT, oauth_client_verify
from tests.connect_fixtures import AUTHORIZE_URL, TOKEN_URL
from tests.security.conftest import CS_A, CS_B
from tests.security.test_h_forms import BAD_IDS, BAD_SCOPES, BAD_SECRETS, STRIPPED

pytestmark = pytest.mark.django_db

MINIMUM = sorted(pd_scopes.MINIMUM_SCOPES)
GOOD = {
    "app_type": "scoped",
    "client_id": "acme-own-client-0001",
    "new_client_secret": "CANARY-CS-acme-own-app-0001",
    "region": "us",
    "subdomain": "acme",
    "scopes": MINIMUM,
}


@pytest.fixture
def allowed(world):
    environment = world.tenant_a.environment
    environment.tenant_apps_allowed = True
    environment.save()
    world.app_b.refresh_from_db()
    return world


def _url(name, tenant):
    return reverse(f"integrations:{name}", args=[tenant.pk])


def _as(client, world, role):
    client.force_login(world.users[role])
    return client


def test_t41_another_tenants_app_cannot_be_read_changed_or_used(
    client, allowed, outbound
):
    world = allowed
    _as(client, world, "a_admin")
    before = OAuthClient.objects.get(pk=world.app_b.pk)

    answers = [
        client.get(_url("tenant_app", world.tenant_b)),
        client.get(_url("tenant_app", world.tenant_b), {"tab": "guide"}),
        client.post(_url("tenant_app", world.tenant_b), {**GOOD}),
        client.post(_url("tenant_app_verify", world.tenant_b)),
        client.post(_url("tenant_app_use", world.tenant_b), {"used": "0"}),
    ]

    after = OAuthClient.objects.get(pk=world.app_b.pk)
    assert [a.status_code for a in answers] == [404] * 5
    assert all(CS_B not in a.content.decode() for a in answers)
    assert all(world.app_b.client_id not in a.content.decode() for a in answers)
    assert (after.client_id, after.enabled, after.updated_at) == (
        before.client_id,
        before.enabled,
        before.updated_at,
    )
    assert outbound == []
    assert not AuditEvent.objects.exists()


def test_t41_a_tenants_connect_never_uses_another_tenants_app(client, allowed):
    world = allowed
    _as(client, world, "a_admin")

    response = client.post(_url("tenant_connect", world.tenant_a))

    assert response["Location"].startswith(AUTHORIZE_URL)
    assert f"client_id={world.app_a.client_id}" in response["Location"]
    assert world.app_b.client_id not in response["Location"]
    assert oauth_client_for_connect(tenant_id=world.tenant_b.pk) == world.app_b


def test_t41_the_tenant_app_page_shows_neither_the_environments_nor_other_secrets(
    client, allowed
):
    world = allowed
    _as(client, world, "b_admin")

    pages = [
        client.get(_url("tenant_app", world.tenant_b), {"tab": tab}).content.decode()
        for tab in ("configuration", "guide")
    ]

    for html in pages:
        assert CS_A not in html
        assert CS_B not in html
        assert world.app_a.client_id not in html
    assert f"•••• {CS_B[-4:]}" in pages[0]


@pytest.mark.parametrize(
    "extra",
    [
        {"tenant": "A"},
        {"tenant_id": "A"},
        {"environment": "staging"},
        {"environment_id": "2"},
        {"provider": "other"},
        {"staff_disabled": "on"},
        {"enabled": ""},
        {"oauth_client_id": "A"},
    ],
)
def test_t43_mass_assignment_on_the_tenant_app_form_is_ignored(
    client, allowed, staging, extra
):
    world = allowed
    _as(client, world, "b_admin")
    value = {"A": str(world.tenant_a.pk)}
    extra = {k: value.get(v, v) for k, v in extra.items()}

    response = client.post(
        f"{_url('tenant_app', world.tenant_b)}?tenant={world.tenant_a.pk}",
        {
            **GOOD,
            "client_id": "globex-new-client-0002",
            "confirm_client_id_change": "on",
            **extra,
        },
    )

    world.app_b.refresh_from_db()
    assert response.status_code == 302
    assert (world.app_b.client_id, world.app_b.tenant_id) == (
        "globex-new-client-0002",
        world.tenant_b.pk,
    )
    assert world.app_b.environment.slug == "development"
    assert world.app_b.staff_disabled is False
    assert world.app_b.enabled is True
    assert not OAuthClient.objects.filter(tenant=world.tenant_a).exists()


def test_t58_t59_a_rejected_tenant_app_form_never_echoes_the_typed_secret(
    client, allowed, leak_scan
):
    world = allowed
    _as(client, world, "a_admin")

    response = leak_scan.keep(
        client.post(
            _url("tenant_app", world.tenant_a),
            {**GOOD, "client_id": "bad id", "new_client_secret": CS_B},
        )
    )

    assert response.status_code == 400
    assert CS_B not in response.content.decode()
    assert not OAuthClient.objects.filter(tenant=world.tenant_a).exists()
    leak_scan.assert_clean()


def test_t60_t61_a_tenant_app_lifecycle_leaves_no_secret_anywhere(
    client, allowed, leak_scan, mocked_responses
):
    world = allowed
    _as(client, world, "b_admin")
    mocked_responses.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    urls = [_url(n, world.tenant_b) for n in ("tenant_app", "tenant_home")]

    leak_scan.keep(
        client.post(
            urls[0], {**GOOD, "client_id": "globex-x-0003", "new_client_secret": CS_B}
        )
    )
    leak_scan.keep(client.post(_url("tenant_app_verify", world.tenant_b)))
    for url in urls:
        leak_scan.keep(client.get(url, {"tab": "configuration"}))
    leak_scan.keep(client.post(_url("tenant_app_use", world.tenant_b), {"used": "0"}))

    token_call = mocked_responses.calls[0].request
    assert f"client_secret={CS_B}" in token_call.body
    leak_scan.assert_clean()


@pytest.mark.parametrize("name", list(BAD_SCOPES))
def test_t64_tenant_app_scopes_outside_the_allowlist_are_refused(client, allowed, name):
    world = allowed
    _as(client, world, "a_admin")

    response = client.post(
        _url("tenant_app", world.tenant_a), {**GOOD, "scopes": BAD_SCOPES[name]}
    )

    assert response.status_code == 400
    assert not OAuthClient.objects.filter(tenant=world.tenant_a).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("client_id", v) for k, v in BAD_IDS.items() if k not in STRIPPED]
    + [("new_client_secret", v) for v in BAD_SECRETS.values()],
    ids=[f"id-{k}" for k in BAD_IDS if k not in STRIPPED]
    + [f"secret-{k}" for k in BAD_SECRETS],
)
def test_t65_bad_tenant_app_credentials_give_a_field_error_and_save_nothing(
    client, allowed, field, value
):
    world = allowed
    _as(client, world, "a_admin")

    response = client.post(
        _url("tenant_app", world.tenant_a),
        {**GOOD, "new_client_secret": CS_B, field: value},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert CS_B not in html
    assert 'value="acme"' in html
    assert not OAuthClient.objects.filter(tenant=world.tenant_a).exists()


def test_t67_tenant_app_changes_are_audited_by_field_name_only(client, allowed):
    world = allowed
    _as(client, world, "b_admin")

    client.post(
        _url("tenant_app", world.tenant_b),
        {
            **GOOD,
            "client_id": world.app_b.client_id,
            "subdomain": "globex-eu",
            "new_client_secret": "CANARY-CS-replaced-0004",
        },
    )

    events = AuditEvent.objects.order_by("id")
    assert [(e.action, e.tenant_id, e.actor_label) for e in events] == [
        ("config.updated", world.tenant_b.pk, "b_admin"),
        ("config.secret_replaced", world.tenant_b.pk, "b_admin"),
    ]
    assert events[0].details == {"fields": ["scopes", "subdomain"]}
    assert "CANARY-CS-replaced-0004" not in str(list(events.values()))


def test_t69_tenant_app_checks_are_rate_limited_per_tenant(
    client, allowed, mocked_responses
):
    world = allowed
    mocked_responses.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    _as(client, world, "b_admin")
    for _ in range(VERIFY_LIMIT + 1):
        client.post(_url("tenant_app_verify", world.tenant_b))
    tenant_b_calls = len(mocked_responses.calls)

    events = AuditEvent.objects.filter(action="config.verify_failed")
    assert tenant_b_calls == VERIFY_LIMIT
    assert events.count() == VERIFY_LIMIT
    page = client.get(
        _url("tenant_app", world.tenant_b), {"tab": "configuration"}
    ).content.decode()
    assert "Not checked" in page
    assert CS_B not in page
    staff_check = oauth_client_verify(client=world.app_a, actor=world.users["staff"])
    assert staff_check.outcome == "invalid_client"


def test_t45_a_former_admin_loses_the_tenant_app_at_once(client, allowed):
    world = allowed
    _as(client, world, "b_admin")
    before = client.get(_url("tenant_app", world.tenant_b)).status_code

    world.users["b_admin"].memberships.update(role="member")

    after = client.get(_url("tenant_app", world.tenant_b)).status_code
    assert (before, after) == (200, 403)
    assert Connection.objects.filter(tenant=world.tenant_b).exists()
