"""H. Form and input validation of the integration config (T64–T69)."""

import pytest
import requests
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations import validators
from integrations.models import AuditEvent, Environment, OAuthClient, Tenant
from integrations.pagerduty import scopes as pd_scopes
from integrations.services.oauth_clients import oauth_client_verify
from tests.connect_fixtures import TOKEN_URL
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db

MINIMUM = sorted(pd_scopes.MINIMUM_SCOPES)
GOOD = {
    "client_id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "new_client_secret": "a-good-secret-0001",
    "region": "us",
    "subdomain": "acme",
    "scopes": MINIMUM,
}


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _config(environment="development"):
    return reverse("integrations:pagerduty_config", args=[environment])


BAD_SCOPES = {
    "unknown": [*MINIMUM, "admin.write"],
    "case": [*MINIMUM, "Incidents.Read"],
    "comma-joined": [*MINIMUM, "services.write,users.write"],
    "space-joined": [*MINIMUM, "services.write users.write"],
    "tab": [*MINIMUM, "services.write\t"],
    "nbsp": [*MINIMUM, "services.write\u00a0"],
    "zero-width": [*MINIMUM, "services\u200b.write"],
    "url-injection": [*MINIMUM, "read&redirect_uri=https://evil.example"],
    "encoded-injection": [*MINIMUM, "read%26client_id%3Devil"],
    "thousand": [*MINIMUM, *(f"scope{i}.read" for i in range(1000))],
    "empty": [],
    "minimum-missing": ["incidents.read", "services.read"],
    "openid": [*MINIMUM, "openid"],
    "as-account": [*MINIMUM, "as_account-us.acme"],
}


@pytest.mark.parametrize("name", list(BAD_SCOPES))
def test_t64_scopes_outside_the_allowlist_are_refused(staff_client, name):
    response = staff_client.post(_config(), {**GOOD, "scopes": BAD_SCOPES[name]})

    assert response.status_code == 400
    assert OAuthClient.objects.count() == 0


@pytest.mark.parametrize(
    "stored",
    [
        "incidents.read incidents.write services.read admin.write",
        "incidents.read  incidents.write services.read",
        " incidents.read incidents.write services.read",
        "incidents.read incidents.write services.read incidents.read",
        "incidents.read,incidents.write,services.read",
        "incidents.read incidents.write",
    ],
)
def test_t64_stored_scope_strings_are_validated_too(stored):
    with pytest.raises(ValidationError):
        validators.validate_scope_string(stored)


def test_t64_duplicate_checkbox_values_are_stored_once(staff_client):
    response = staff_client.post(_config(), {**GOOD, "scopes": [*MINIMUM, *MINIMUM]})

    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert OAuthClient.objects.get().scope_list == MINIMUM


BAD_IDS = {
    "empty": "",
    "spaces": "   ",
    "10000": "a" * 10_000,
    "nul": "abcdefgh\x00",
    "crlf": "abcdefgh\r\nX-Injected: 1",
    "leading-space": " abcdefgh123",
    "trailing-space": "abcdefgh123 ",
    "rtl-override": "abcdefgh\u202e123",
    "zero-width": "abcd\u200befgh",
    "homoglyph": "аbcdefgh123",  # Cyrillic a
    "emoji": "abcdefgh🔥",
    "sql": "' OR 1=1 --",
    "script": "<script>alert(1)</script>",
    "ampersand": "abcdefgh&client_secret=x",
    "short": "abc",
}
BAD_SECRETS = {
    key: value for key, value in BAD_IDS.items() if key not in ("empty", "ampersand")
}


# Surrounding spaces are stripped (a copy-paste slip), never kept.
STRIPPED = {"leading-space", "trailing-space"}
BAD_SECRETS = {k: v for k, v in BAD_SECRETS.items() if k not in STRIPPED}
# A secret may be any printable ASCII: "<script>…" is a valid (stored,
# never rendered) secret, so it is checked in the accepted list below.
BAD_SECRETS.pop("script")
BAD_SECRETS.pop("sql")


@pytest.mark.parametrize(
    ("field", "value"),
    [("client_id", v) for k, v in BAD_IDS.items() if k not in STRIPPED]
    + [("new_client_secret", v) for v in BAD_SECRETS.values()],
    ids=[f"id-{k}" for k in BAD_IDS if k not in STRIPPED]
    + [f"secret-{k}" for k in BAD_SECRETS],
)
def test_t65_bad_client_id_or_secret_gives_a_field_error_and_loses_nothing(
    staff_client, field, value
):
    response = staff_client.post(
        _config(), {**GOOD, "new_client_secret": CLIENT_SECRET, field: value}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert OAuthClient.objects.count() == 0
    assert CLIENT_SECRET not in html
    assert 'value="acme"' in html  # other fields keep their values


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("client_id", " abcdefgh123", "abcdefgh123"),
        ("client_id", "abcdefgh123 ", "abcdefgh123"),
        ("new_client_secret", " secret-0001", "secret-0001"),
        ("new_client_secret", "secret-0001 ", "secret-0001"),
        ("new_client_secret", "<script>alert(1)</script>", None),
        ("new_client_secret", "'OR'1'='1'--", None),
    ],
)
def test_t65_surrounding_spaces_are_stripped_and_odd_secrets_never_shown(
    staff_client, field, value, stored
):
    response = staff_client.post(_config(), {**GOOD, field: value})
    page = staff_client.get(_config()).content.decode()

    client = OAuthClient.objects.get()
    assert response.status_code == 302
    saved = client.client_id if field == "client_id" else client.client_secret
    assert saved == (stored or value)
    if field == "new_client_secret":
        assert value.strip() not in page


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Cafe\u0301", "Café"),
        ("Acme\u202e Corp", "Acme Corp"),
        ("Acme\u200b Corp", "Acme Corp"),
        ("\u2066Acme\u2069", "Acme"),
        ("  Acme  ", "Acme"),
        ("Überlastung 🔥", "Überlastung 🔥"),
        ("株式会社", "株式会社"),
    ],
)
def test_t66_tenant_names_are_nfc_and_free_of_bidi_controls(development, raw, stored):
    tenant = Tenant(environment=development, name=raw, slug="t66")

    tenant.full_clean()

    assert tenant.name == stored


def test_t66_names_are_escaped_and_length_limited(client, tenant, tenant_member):
    Tenant.objects.filter(pk=tenant.pk).update(name="<script>alert(1)</script>")
    client.force_login(tenant_member)

    html = client.get(
        reverse("integrations:tenant_home", args=[tenant.pk])
    ).content.decode()
    too_long = Tenant(environment=tenant.environment, name="x" * 121, slug="long")

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html
    with pytest.raises(ValidationError):
        too_long.full_clean()


def test_t66_environment_names_are_cleaned_like_tenant_names():
    environment = Environment(name="Prod\u202eved", slug="t66-env")

    environment.full_clean()

    assert environment.name == "Prodved"


def test_t67_config_changes_are_audited_by_field_name_and_last_write_wins(
    client, staff_user, pagerduty_client, second_staff_client
):
    client.force_login(staff_user)
    first = {**GOOD, "new_client_secret": "", "subdomain": "first"}
    second = {**GOOD, "new_client_secret": "", "subdomain": "second"}
    first["scopes"] = second["scopes"] = pagerduty_client.scope_list

    client.post(_config(), first)
    second_staff_client.post(_config(), second)

    events = list(AuditEvent.objects.order_by("id"))
    assert OAuthClient.objects.get().subdomain == "second"
    assert [e.details["fields"] for e in events] == [["subdomain"], ["subdomain"]]
    assert [e.actor_label for e in events] == ["staff", "staff2"]
    assert "first" not in str([e.details for e in events])
    assert CLIENT_SECRET not in str([e.details for e in events])


@pytest.fixture
def second_staff_client(db):
    from django.test import Client

    from tests.factories import UserFactory

    other = Client()
    other.force_login(UserFactory(username="staff2", is_staff=True))
    return other


@pytest.mark.parametrize(
    "url",
    [
        "http://portal.example",
        "file:///etc/passwd",
        "https://user:pass@portal.example",
        "https://identity.pagerduty.com@evil.example",
        "https://portal.example/",
        "https://portal.example?x=1",
        "https://portal.example#frag",
        "javascript:alert(1)",
        "ftp://portal.example",
        "https://",
    ],
)
def test_t68_gateway_url_must_be_a_plain_https_base_url(url):
    with pytest.raises(ValidationError):
        validators.validate_base_url(url)


def test_t68_pagerduty_hosts_are_not_configurable_per_environment():
    fields = {
        f.name for model in (Environment, OAuthClient) for f in model._meta.fields
    }

    assert not {"identity_url", "token_url", "authorize_url", "api_url"} & fields


def test_t69_verify_is_rate_limited_tells_failures_apart_and_never_echoes_the_secret(
    pagerduty_client, staff_user, mocked_responses
):
    answers = [
        {"status": 401, "json": {"error": "invalid_client"}},
        {"status": 400, "json": {"error": "invalid_scope"}},
        {"status": 503, "body": "down"},
        {"body": requests.exceptions.ConnectionError("down")},
        {"status": 401, "json": {"error": "invalid_client", "secret": CLIENT_SECRET}},
    ]
    for answer in answers:
        mocked_responses.post(TOKEN_URL, **answer)

    outcomes = [
        oauth_client_verify(client=pagerduty_client, actor=staff_user) for _ in range(6)
    ]

    kinds = [o.outcome for o in outcomes]
    assert kinds[0] == "invalid_client"
    assert kinds[2] == kinds[3] == "unavailable"
    assert kinds[1] not in ("invalid_client", "unavailable")
    assert kinds[5] == "rate_limited"
    assert all(CLIENT_SECRET not in o.message for o in outcomes)
