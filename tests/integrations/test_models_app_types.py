"""Classic and Scoped apps, tenants' own apps: the models' invariants."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from integrations.models import AppType, Connection, Environment, OAuthClient
from integrations.pagerduty import scopes as pd_scopes
from tests.factories import OAuthClientFactory, TenantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("scope", ["read", "write"])
def test_a_classic_app_holds_read_or_write(development, scope):
    client = OAuthClientFactory.build(
        environment=development, app_type=AppType.CLASSIC, scopes=scope
    )

    client.full_clean()
    client.save()

    assert OAuthClient.objects.get().scope_list == [scope]


@pytest.mark.parametrize(
    ("app_type", "scopes", "code"),
    [
        (
            "classic",
            "incidents.read incidents.write services.read",
            "invalid_classic_scope",
        ),
        ("classic", "read write", "invalid_classic_scope"),
        ("classic", "Read", "invalid_classic_scope"),
        ("scoped", "write", "classic_scope_on_scoped_app"),
        ("scoped", "incidents.read", "missing_minimum_scope"),
    ],
)
def test_scopes_that_do_not_fit_the_app_type_are_refused(
    development, app_type, scopes, code
):
    client = OAuthClientFactory.build(
        environment=development, app_type=app_type, scopes=scopes
    )

    with pytest.raises(ValidationError) as caught:
        client.full_clean()

    codes = [e.code for e in caught.value.error_dict["scopes"]]
    assert code in codes


@pytest.mark.parametrize(
    ("app_type", "scopes"),
    [
        ("classic", "incidents.read incidents.write services.read"),
        ("scoped", "write"),
        ("scoped", "read"),
        ("other", "write"),
    ],
)
def test_the_database_refuses_scopes_of_the_other_app_type(
    pagerduty_client, app_type, scopes
):
    with pytest.raises(IntegrityError), transaction.atomic():
        OAuthClient.objects.filter(pk=pagerduty_client.pk).update(
            app_type=app_type, scopes=scopes
        )


def test_the_database_lets_a_classic_app_go_without_the_scoped_minimum(
    pagerduty_client,
):
    OAuthClient.objects.filter(pk=pagerduty_client.pk).update(
        app_type=AppType.CLASSIC, scopes="read"
    )

    assert OAuthClient.objects.get().is_classic


def test_only_a_tenants_own_app_can_be_turned_off_by_staff(pagerduty_client):
    with pytest.raises(IntegrityError), transaction.atomic():
        OAuthClient.objects.filter(pk=pagerduty_client.pk).update(staff_disabled=True)


def test_refresh_tokens_live_30_days_scoped_and_210_days_classic(development):
    scoped = OAuthClientFactory.build(environment=development)
    classic = OAuthClientFactory.build(
        environment=development, app_type=AppType.CLASSIC, scopes="write"
    )

    assert scoped.refresh_token_lifetime == timedelta(days=30)
    assert classic.refresh_token_lifetime == timedelta(days=210)


def test_a_tenant_app_is_in_use_only_when_allowed_enabled_and_not_blocked(
    development,
):
    tenant = TenantFactory(environment=development)
    own = OAuthClientFactory(environment=development, tenant=tenant)

    states = []
    for allowed, enabled, blocked in [
        (False, True, False),
        (True, True, False),
        (True, False, False),
        (True, True, True),
    ]:
        development.tenant_apps_allowed = allowed
        own.enabled, own.staff_disabled = enabled, blocked
        states.append(own.in_use)

    assert states == [False, True, False, False]


def test_classic_scopes_are_offered_to_tenant_apps_only_when_all_they_cover_is(
    development,
):
    reads = [s for s in pd_scopes.ALL_SCOPES if s.endswith(".read")]
    offers = {}
    for label, allowed in {
        "all": pd_scopes.ALL_SCOPES,
        "reads": [*reads, "incidents.write"],
        "minimum": pd_scopes.MINIMUM_SCOPES,
    }.items():
        development.tenant_app_scopes = pd_scopes.canonical(allowed)
        offers[label] = development.tenant_app_classic_scopes

    assert offers == {"all": ["read", "write"], "reads": ["read"], "minimum": []}


def test_tenant_app_scopes_must_be_known_scopes(development):
    with pytest.raises(IntegrityError), transaction.atomic():
        Environment.objects.filter(pk=development.pk).update(
            tenant_app_scopes="incidents.read admin"
        )


def test_a_classic_grant_is_stored_and_spelled_out_on_the_connection(
    pagerduty_client, tenant
):
    connection = Connection.objects.create(
        tenant=tenant,
        oauth_client=pagerduty_client,
        granted_scopes="openid write",
        requested_scopes="write",
    )

    assert connection.has_scope("schedules.write")
    assert "users.read" in connection.effective_scopes
    assert connection.granted_scope_list == ["openid", "write"]
