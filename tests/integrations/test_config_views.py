import pytest
from django.core.cache import cache
from django.urls import reverse

from integrations.models import AuditEvent, Connection, OAuthClient
from integrations.pagerduty import scopes as pd_scopes
from tests.factories import CLIENT_SECRET, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    """Verification counts live in the cache; leave none behind."""
    cache.clear()
    yield
    cache.clear()


NEW_SECRET = "CANARY-NEW-SECRET-7d1c9e"
CLIENT_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def config_url(slug="development"):
    return reverse("integrations:pagerduty_config", args=[slug])


def valid_post(**overrides):
    data = {
        "client_id": CLIENT_ID,
        "new_client_secret": NEW_SECRET,
        "region": "us",
        "subdomain": "acme",
        "scopes": ["incidents.read", "incidents.write", "services.read"],
    }
    data.update(overrides)
    return data


def test_unconfigured_page_opens_on_the_setup_guide(client, staff_user, development):
    client.force_login(staff_user)

    response = client.get(config_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["tab"] == "guide"
    assert "http://testserver/integration-callback" not in html
    assert f'value="{development.redirect_url}"' in html
    assert development.redirect_url.endswith("/integration-callback")
    assert "Not configured" in html
    assert "only works for users of the PagerDuty account that registered it" in html
    assert "PagerDuty shows the Client Secret only once" in html
    assert html.count("<code>incidents.read</code>") >= 2
    assert "https://YOUR_SUBDOMAIN.pagerduty.com/developer/applications" in html


def test_guide_lists_all_fifteen_scopes_in_pagerduty_order(client, staff_user):
    client.force_login(staff_user)

    response = client.get(config_url(), {"tab": "guide"})

    html = response.content.decode()
    assert pd_scopes.canonical(pd_scopes.ALL_SCOPES) in html
    for scope in pd_scopes.ALL_SCOPES:
        assert f"<code>{scope}</code>" in html


def test_guide_links_the_app_registration_page_once_the_subdomain_is_known(
    client, staff_user, pagerduty_client
):
    client.force_login(staff_user)

    response = client.get(config_url(), {"tab": "guide"})

    assert 'href="https://acme.pagerduty.com/developer/applications"' in (
        response.content.decode()
    )


def test_configuration_form_renders_the_scope_table_and_selected_field(
    client, staff_user
):
    client.force_login(staff_user)

    response = client.get(config_url(), {"tab": "configuration"})

    html = response.content.decode()
    assert html.count('name="scopes"') == 15
    assert 'value="oncalls.read"' in html
    assert 'value="oncalls.write"' not in html
    assert (
        '<textarea id="selected-scope" readonly rows="4" '
        'data-scope-order="' + pd_scopes.canonical(pd_scopes.ALL_SCOPES) + '">'
        "incidents.read incidents.write services.read</textarea>"
    ) in html
    assert "Client ID" in html
    assert "Client Secret" in html


def test_first_save_creates_the_app_and_audits_field_names(
    client, staff_user, development
):
    client.force_login(staff_user)

    response = client.post(
        config_url(),
        valid_post(scopes=["services.read", "incidents.write", "incidents.read"]),
        follow=True,
    )

    app = OAuthClient.objects.get(environment=development)
    assert app.client_id == CLIENT_ID
    assert app.client_secret == NEW_SECRET
    assert app.scopes == "incidents.read incidents.write services.read"
    assert (app.region, app.subdomain, app.enabled) == ("us", "acme", True)
    assert "PagerDuty is configured for Development" in response.content.decode()
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.CONFIG_CREATED
    assert event.actor == staff_user
    assert NEW_SECRET not in str(event.details)
    assert NEW_SECRET not in response.content.decode()


def test_saved_secret_shows_only_its_last_four_characters(
    client, staff_user, pagerduty_client
):
    client.force_login(staff_user)

    response = client.get(config_url())

    html = response.content.decode()
    assert response.context["tab"] == "configuration"
    assert f"•••• {CLIENT_SECRET[-4:]}" in html
    assert CLIENT_SECRET not in html
    assert CLIENT_SECRET[:-4] not in html
    assert "Replace secret" in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"client_id": "bad id"}, "client_id", "Enter the Client ID exactly"),
        ({"client_id": ""}, "client_id", "This field is required."),
        ({"new_client_secret": ""}, "new_client_secret", "Enter the Client Secret"),
        ({"new_client_secret": "short"}, "new_client_secret", "8 to 512 printable"),
        ({"region": "ap"}, "region", "Select a valid choice"),
        ({"subdomain": "Not A Sub!"}, "subdomain", "Enter the subdomain only"),
        ({"scopes": ["incidents.read"]}, "scopes", "minimum scopes are required"),
        ({"scopes": ["admin.write"]}, "scopes", "Select a valid choice"),
    ],
)
def test_invalid_input_shows_the_error_keeps_the_input_and_saves_nothing(
    client, staff_user, overrides, field, message
):
    client.force_login(staff_user)

    response = client.post(config_url(), valid_post(**overrides))

    html = response.content.decode()
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert message.replace("'", "&#x27;") in html
    assert "Nothing was saved" in html
    assert NEW_SECRET not in html
    assert not OAuthClient.objects.exists()
    assert not AuditEvent.objects.exists()


def test_invalid_input_keeps_what_was_typed_but_asks_to_reenter_the_secret(
    client, staff_user
):
    client.force_login(staff_user)

    response = client.post(
        config_url(),
        valid_post(
            subdomain="Bad Sub",
            scopes=["incidents.read", "incidents.write", "services.read", "teams.read"],
        ),
    )

    html = response.content.decode()
    assert f'value="{CLIENT_ID}"' in html
    assert 'value="Bad Sub"' in html
    assert 'value="teams.read" checked' in html
    assert "incidents.read incidents.write services.read teams.read</textarea>" in html
    assert "re-enter it before saving" in html
    assert NEW_SECRET not in html


def test_update_without_a_secret_keeps_the_stored_one(
    client, staff_user, pagerduty_client
):
    client.force_login(staff_user)

    response = client.post(
        config_url(),
        valid_post(new_client_secret="", subdomain="globex", region="eu"),
    )

    pagerduty_client.refresh_from_db()
    assert response.status_code == 302
    assert pagerduty_client.client_secret == CLIENT_SECRET
    assert (pagerduty_client.subdomain, pagerduty_client.region) == ("globex", "eu")
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.CONFIG_UPDATED
    assert event.details == {"fields": ["region", "scopes", "subdomain"]}


def test_replacing_the_secret_is_audited_without_its_value(
    client, staff_user, pagerduty_client
):
    client.force_login(staff_user)

    client.post(
        config_url(),
        valid_post(scopes=list(pd_scopes.ALL_SCOPES)),
    )

    pagerduty_client.refresh_from_db()
    assert pagerduty_client.client_secret == NEW_SECRET
    assert pagerduty_client.secret_last4 == NEW_SECRET[-4:]
    actions = list(AuditEvent.objects.values_list("action", "details"))
    assert actions == [(AuditEvent.Action.CONFIG_SECRET_REPLACED, {})]


def test_changing_the_client_id_needs_confirmation_and_the_new_secret(
    client, staff_user, pagerduty_client
):
    client.force_login(staff_user)

    response = client.post(
        config_url(),
        valid_post(client_id="new-client-0001", new_client_secret=""),
    )

    form = response.context["form"]
    assert response.status_code == 400
    assert form.errors["confirm_client_id_change"][0].startswith(
        "Changing the Client ID disconnects every tenant"
    )
    assert "its own Client Secret" in form.errors["new_client_secret"][0]
    pagerduty_client.refresh_from_db()
    assert pagerduty_client.client_id == CLIENT_ID
    assert not AuditEvent.objects.exists()


def test_confirmed_client_id_change_asks_every_tenant_to_reconnect(
    client, staff_user, pagerduty_client, tenant
):
    connection = Connection.objects.create(
        tenant=tenant, oauth_client=pagerduty_client, granted_scopes="incidents.read"
    )
    revoked = Connection.objects.create(
        tenant=TenantFactory(),
        oauth_client=pagerduty_client,
        status=Connection.Status.REVOKED,
    )
    client.force_login(staff_user)

    response = client.post(
        config_url(),
        valid_post(
            client_id="new-client-0001",
            confirm_client_id_change="on",
            scopes=list(pd_scopes.ALL_SCOPES),
        ),
        follow=True,
    )

    pagerduty_client.refresh_from_db()
    connection.refresh_from_db()
    revoked.refresh_from_db()
    assert pagerduty_client.client_id == "new-client-0001"
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "Client ID changed" in connection.last_error
    assert revoked.status == Connection.Status.REVOKED
    assert "every tenant has to reconnect" in response.content.decode()
    updated = AuditEvent.objects.get(action=AuditEvent.Action.CONFIG_UPDATED)
    assert updated.details == {
        "fields": ["client_id"],
        "connections_to_reconnect": 1,
    }


def test_the_secret_never_reaches_the_page_after_a_save(
    client, staff_user, development
):
    client.force_login(staff_user)

    response = client.post(config_url(), valid_post(), follow=True)

    html = response.content.decode()
    assert NEW_SECRET not in html
    assert NEW_SECRET[:-4] not in html
    assert f"•••• {NEW_SECRET[-4:]}" in html


def test_config_view_hides_the_secret_from_error_reports(rf, staff_user, development):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.views.debug import SafeExceptionReporterFilter

    from integrations.views.config import pagerduty_config

    request = rf.post(config_url(), valid_post())
    request.user = staff_user
    request.session = {}
    request._messages = FallbackStorage(request)
    pagerduty_config(request, environment="development")

    cleaned = SafeExceptionReporterFilter().get_post_parameters(request)
    assert cleaned["new_client_secret"] != NEW_SECRET
    assert cleaned["client_id"] == CLIENT_ID


def test_unknown_environment_is_404(client, staff_user):
    client.force_login(staff_user)

    response = client.get(config_url("moon"))

    assert response.status_code == 404


def test_enable_and_disable_are_audited(client, staff_user, pagerduty_client):
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_set_enabled", args=["development"])

    response = client.post(url, {"enabled": "0", "confirm": "yes"}, follow=True)
    pagerduty_client.refresh_from_db()
    assert pagerduty_client.enabled is False
    assert "PagerDuty is disabled for Development" in response.content.decode()
    assert "This integration is disabled." in response.content.decode()

    client.post(url, {"enabled": "1"})
    pagerduty_client.refresh_from_db()
    assert pagerduty_client.enabled is True

    client.post(url, {"enabled": "1"})
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        AuditEvent.Action.CONFIG_DISABLED,
        AuditEvent.Action.CONFIG_ENABLED,
    ]


@pytest.mark.parametrize("data", [{}, {"enabled": "maybe"}])
def test_enable_rejects_bad_input_without_writing(
    client, staff_user, pagerduty_client, data
):
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_set_enabled", args=["development"])

    response = client.post(url, data)

    pagerduty_client.refresh_from_db()
    assert response.status_code == 302
    assert pagerduty_client.enabled is True
    assert not AuditEvent.objects.exists()


def test_enable_without_an_app_says_to_configure_first(client, staff_user):
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_set_enabled", args=["development"])

    response = client.post(url, {"enabled": "1"}, follow=True)

    assert "Configure PagerDuty before enabling it." in response.content.decode()
    assert not OAuthClient.objects.exists()


def test_enable_and_verify_refuse_get(client, staff_user, pagerduty_client):
    client.force_login(staff_user)

    for name in ("pagerduty_set_enabled", "pagerduty_verify"):
        url = reverse(f"integrations:{name}", args=["development"])
        assert client.get(url).status_code == 405


def test_forms_carry_a_csrf_token(client, staff_user, pagerduty_client):
    client.force_login(staff_user)

    html = client.get(config_url()).content.decode()

    assert html.count('name="csrfmiddlewaretoken"') == html.count("<form")


def test_other_environments_keep_their_own_app(
    client, staff_user, pagerduty_client, staging
):
    client.force_login(staff_user)

    response = client.get(config_url("staging"))

    assert response.context["client"] is None
    assert f'value="{staging.redirect_url}"' in response.content.decode()


def test_no_page_or_log_line_carries_the_secret(
    client, staff_user, development, mocked_responses, caplog
):
    """Save, fail, verify and browse: the secret never comes back."""
    caplog.set_level("DEBUG")
    mocked_responses.post(
        "https://identity.pagerduty.test/oauth/token",
        status=401,
        json={"error": "invalid_client", "error_description": NEW_SECRET},
    )
    client.force_login(staff_user)
    pages = [
        client.post(config_url(), valid_post(client_id="bad id")),
        client.post(config_url(), valid_post(), follow=True),
        client.post(
            reverse("integrations:pagerduty_verify", args=["development"]),
            follow=True,
        ),
        client.get(config_url(), {"tab": "guide"}),
        client.get(reverse("integrations:integration_list", args=["development"])),
        client.get(reverse("integrations:audit_list")),
        client.get(reverse("integrations:tenant_list", args=["development"])),
    ]

    for response in pages:
        assert NEW_SECRET not in response.content.decode()
    assert NEW_SECRET not in caplog.text
    assert NEW_SECRET not in str(list(AuditEvent.objects.values()))
    assert NEW_SECRET not in str(dict(client.session))


def test_a_rejected_edit_leaves_the_page_showing_the_stored_settings(
    client, staff_user, pagerduty_client
):
    client.force_login(staff_user)

    response = client.post(
        config_url(),
        valid_post(client_id="other-client-0002", subdomain="Bad Sub"),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert f'data-original-client-id="{CLIENT_ID}"' in html
    assert 'value="other-client-0002"' in html
    assert 'href="https://acme.pagerduty.com/developer/applications"' in html
    assert "Bad Sub.pagerduty.com" not in html


def test_disable_first_names_how_many_tenants_it_stops(
    client, staff_user, development, pagerduty_client
):
    from tests.integrations.pagerduty.workspace.conftest import make_connection

    for slug in ("acme", "globex", "initech"):
        tenant = TenantFactory(environment=development, slug=slug, name=slug)
        if slug != "initech":
            make_connection(tenant, pagerduty_client)
    client.force_login(staff_user)
    url = reverse("integrations:pagerduty_set_enabled", args=["development"])

    response = client.post(url, {"enabled": "0"})

    html = response.content.decode()
    pagerduty_client.refresh_from_db()
    assert response.status_code == 200
    assert "Disable PagerDuty for Development?" in html
    assert "The 3 tenants of Development cannot connect PagerDuty" in html
    assert "2 tenants connected through this app keep working" in html
    assert 'name="confirm" value="yes"' in html
    assert pagerduty_client.enabled is True
    assert not AuditEvent.objects.exists()


def test_the_client_id_confirmation_says_how_many_must_reconnect(
    client, staff_user, development, pagerduty_client
):
    from tests.integrations.pagerduty.workspace.conftest import make_connection

    tenant = TenantFactory(environment=development, slug="acme", name="Acme")
    make_connection(tenant, pagerduty_client)
    client.force_login(staff_user)

    html = client.get(config_url() + "?tab=configuration").content.decode()

    assert "1 tenant connected now will have to reconnect." in html
    assert 'id="client-id-confirm-needed" role="alert" hidden' in html
