import pytest
from django.db import IntegrityError, transaction

from integrations.models import Connection, Environment, Membership, OAuthClient
from tests.factories import CLIENT_SECRET, OAuthClientFactory, TenantFactory
from tests.helpers import raw_column

pytestmark = pytest.mark.django_db

ACCESS = "CANARY-AT-pdus+_0XBPWQQ_b2b2060b"
REFRESH = "CANARY-RT-pdus+_1XBPWQQ_f85dd2f1"


def test_three_environments_are_seeded_in_order():
    assert list(Environment.objects.values_list("slug", flat=True)) == [
        "development",
        "staging",
        "production",
    ]


def test_redirect_url_is_gateway_url_plus_callback_path(development):
    development.gateway_url = "https://gateway.acme.example"

    assert (
        development.redirect_url == "https://gateway.acme.example/integration-callback"
    )


def test_redirect_url_falls_back_to_portal_base_url(development, settings):
    settings.PORTAL_BASE_URL = "https://portal.example"

    assert development.redirect_url == "https://portal.example/integration-callback"


def test_client_secret_is_encrypted_in_the_database_row(pagerduty_client):
    stored = raw_column(OAuthClient, "client_secret", pagerduty_client.pk)

    assert CLIENT_SECRET not in stored
    assert OAuthClient.objects.get().client_secret == CLIENT_SECRET


def test_tokens_are_encrypted_in_the_database_row(tenant):
    connection = Connection.objects.create(
        tenant=tenant, access_token=ACCESS, refresh_token=REFRESH
    )

    assert ACCESS not in raw_column(Connection, "access_token", connection.pk)
    assert REFRESH not in raw_column(Connection, "refresh_token", connection.pk)
    assert Connection.objects.get().access_token == ACCESS


def _assert_rejected_by_database(**changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        OAuthClient.objects.update(**changes)


@pytest.mark.parametrize(
    "scopes",
    [
        "incidents.read incidents.write services.read admin.write",
        "Incidents.Read incidents.write services.read",
        "incidents.read,incidents.write,services.read",
        "incidents.read incidents.write",
        "",
    ],
)
def test_database_rejects_unknown_or_insufficient_scopes(pagerduty_client, scopes):
    _assert_rejected_by_database(scopes=scopes)


def test_database_rejects_unknown_region(pagerduty_client):
    _assert_rejected_by_database(region="ap")


def test_database_allows_one_app_per_environment(pagerduty_client, development):
    with pytest.raises(IntegrityError), transaction.atomic():
        OAuthClientFactory(environment=development)


def test_tenant_may_hold_its_own_app_beside_the_environments(pagerduty_client, tenant):
    own = OAuthClientFactory(environment=tenant.environment, tenant=tenant)

    assert OAuthClient.objects.filter(environment=tenant.environment).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        OAuthClientFactory(environment=tenant.environment, tenant=tenant)
    assert own.tenant == tenant


def test_tenant_app_in_another_environment_is_invalid(tenant, staging):
    client = OAuthClientFactory.build(environment=staging, tenant=tenant)

    with pytest.raises(Exception, match="another environment"):
        client.full_clean()


def test_at_most_one_live_connection_per_tenant(tenant):
    Connection.objects.create(tenant=tenant, status=Connection.Status.REVOKED)
    Connection.objects.create(tenant=tenant, status=Connection.Status.ACTIVE)

    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(
            tenant=tenant, status=Connection.Status.NEEDS_RECONNECT
        )
    assert Connection.objects.filter(tenant=tenant).count() == 2


def test_database_rejects_unknown_connection_status(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(tenant=tenant, status="paused")


def test_database_rejects_unknown_membership_role(tenant, django_user_model):
    user = django_user_model.objects.create(username="carol")

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, tenant=tenant, role="owner")


def test_tenant_slug_is_unique_within_an_environment(tenant, staging):
    TenantFactory(environment=staging, slug=tenant.slug)

    with pytest.raises(IntegrityError), transaction.atomic():
        TenantFactory(environment=tenant.environment, slug=tenant.slug)


def test_tenant_name_is_normalised_and_stripped_of_bidi_controls(development):
    tenant = TenantFactory.build(
        environment=development, name="  Cafe\u0301 \u202eevil\u200b ", slug="cafe"
    )

    tenant.full_clean()

    assert tenant.name == "Café evil"
