import pytest
from django.urls import reverse

from integrations.models import AuditEvent, Connection, OAuthClient
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db

ACCESS = "CANARY-AT-admin-7c1e"
REFRESH = "CANARY-RT-admin-9d2f"


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_oauth_client_list_and_change_pages_show_no_secret(
    staff_client, pagerduty_client
):
    pages = [
        reverse("admin:integrations_oauthclient_changelist"),
        reverse("admin:integrations_oauthclient_change", args=[pagerduty_client.pk]),
    ]

    for url in pages:
        html = staff_client.get(url).content.decode()
        assert CLIENT_SECRET not in html
        assert f"set ••••{CLIENT_SECRET[-4:]}" in html


def test_change_form_has_an_empty_write_only_secret_input(
    staff_client, pagerduty_client
):
    url = reverse("admin:integrations_oauthclient_change", args=[pagerduty_client.pk])

    html = staff_client.get(url).content.decode()

    assert 'name="new_client_secret"' in html
    assert 'type="password"' in html
    assert 'name="client_secret"' not in html


def _post_data(client_obj, **overrides):
    data = {
        "environment": client_obj.environment_id,
        "tenant": "",
        "provider": "pagerduty",
        "client_id": client_obj.client_id,
        "new_client_secret": "",
        "scopes": client_obj.scope_list,
        "region": client_obj.region,
        "subdomain": client_obj.subdomain,
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_saving_without_a_new_secret_keeps_it_and_audits_field_names(
    staff_client, pagerduty_client
):
    url = reverse("admin:integrations_oauthclient_change", args=[pagerduty_client.pk])

    response = staff_client.post(url, _post_data(pagerduty_client, subdomain="acme-eu"))

    assert response.status_code == 302
    pagerduty_client.refresh_from_db()
    assert pagerduty_client.client_secret == CLIENT_SECRET
    event = AuditEvent.objects.get()
    assert event.action == "config.updated"
    assert event.details == {"fields": ["subdomain"]}
    assert event.actor_label == "staff"


def test_replacing_the_secret_stores_it_and_audits_without_the_value(
    staff_client, pagerduty_client
):
    url = reverse("admin:integrations_oauthclient_change", args=[pagerduty_client.pk])

    staff_client.post(
        url, _post_data(pagerduty_client, new_client_secret="new-secret-1234")
    )

    pagerduty_client.refresh_from_db()
    assert pagerduty_client.client_secret == "new-secret-1234"
    assert pagerduty_client.secret_last4 == "1234"
    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "config.secret_replaced"
    ]
    assert "new-secret-1234" not in str(AuditEvent.objects.values().get())


def test_invalid_submission_keeps_the_stored_secret_and_writes_nothing(
    staff_client, pagerduty_client
):
    url = reverse("admin:integrations_oauthclient_change", args=[pagerduty_client.pk])

    response = staff_client.post(
        url,
        _post_data(
            pagerduty_client, scopes=["schedules.read"], new_client_secret="x" * 9
        ),
    )

    assert response.status_code == 200
    assert (
        "missing: incidents.read incidents.write services.read"
        in response.content.decode()
    )
    assert "x" * 9 not in response.content.decode()
    pagerduty_client.refresh_from_db()
    assert pagerduty_client.client_secret == CLIENT_SECRET
    assert AuditEvent.objects.count() == 0


def test_creating_an_app_in_the_admin_encrypts_the_secret(staff_client, development):
    client_obj = OAuthClient(
        environment=development, client_id="abcdef123456", region="us"
    )
    client_obj.scopes = "incidents.read incidents.write services.read"
    data = _post_data(client_obj, new_client_secret="brand-new-secret")

    response = staff_client.post(reverse("admin:integrations_oauthclient_add"), data)

    assert response.status_code == 302
    assert OAuthClient.objects.get().client_secret == "brand-new-secret"
    assert AuditEvent.objects.get().action == "config.created"


def test_connection_admin_pages_show_no_tokens(staff_client, tenant):
    connection = Connection.objects.create(
        tenant=tenant, access_token=ACCESS, refresh_token=REFRESH, subdomain="acme"
    )
    pages = [
        reverse("admin:integrations_connection_changelist"),
        reverse("admin:integrations_connection_change", args=[connection.pk]),
    ]

    for url in pages:
        response = staff_client.get(url)
        assert response.status_code == 200
        assert ACCESS not in response.content.decode()
        assert REFRESH not in response.content.decode()


def test_audit_events_are_read_only(staff_client, tenant):
    event = AuditEvent.objects.create(action="config.updated", actor_label="x")
    change_url = reverse("admin:integrations_auditevent_change", args=[event.pk])

    add = staff_client.get(reverse("admin:integrations_auditevent_add"))
    post = staff_client.post(change_url, {"action": "config.created"})
    delete = staff_client.post(
        reverse("admin:integrations_auditevent_delete", args=[event.pk]),
        {"post": "yes"},
    )

    assert add.status_code == 403
    assert post.status_code == 403
    assert delete.status_code == 403
    assert AuditEvent.objects.get().action == "config.updated"


@pytest.mark.parametrize(
    "model",
    ["environment", "tenant", "membership", "oauthclient", "connection", "auditevent"],
)
def test_every_model_has_an_admin_list_page(staff_client, model):
    response = staff_client.get(reverse(f"admin:integrations_{model}_changelist"))

    assert response.status_code == 200


def test_a_classic_app_is_edited_in_the_admin_with_its_one_scope(
    staff_client, pagerduty_client
):
    url = reverse("admin:integrations_oauthclient_change", args=[pagerduty_client.pk])

    response = staff_client.post(
        url,
        _post_data(
            pagerduty_client, app_type="classic", classic_scope="read", scopes=[]
        ),
    )

    pagerduty_client.refresh_from_db()
    assert response.status_code == 302
    assert (pagerduty_client.app_type, pagerduty_client.scopes) == ("classic", "read")
    assert AuditEvent.objects.get().details == {"fields": ["app_type", "scopes"]}


def test_staff_disabled_is_refused_on_an_environment_app_in_the_admin(
    staff_client, pagerduty_client
):
    url = reverse("admin:integrations_oauthclient_change", args=[pagerduty_client.pk])

    response = staff_client.post(url, _post_data(pagerduty_client, staff_disabled="on"))

    pagerduty_client.refresh_from_db()
    assert response.status_code == 200
    assert pagerduty_client.staff_disabled is False
    assert not AuditEvent.objects.exists()
