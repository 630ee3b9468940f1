import pytest
from django.urls import reverse

from integrations.models import AuditEvent
from integrations.services.audit import audit_record
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("integrations:audit_list")


@pytest.fixture
def events(development, staging, tenant):
    carol = UserFactory(username="carol")
    dave = UserFactory(username="dave")
    return [
        audit_record(
            actor=carol,
            action=AuditEvent.Action.CONFIG_CREATED,
            target="PagerDuty app for Development",
            environment=development,
            details={"fields": ["client_id", "scopes"]},
        ),
        audit_record(
            actor=dave,
            action=AuditEvent.Action.CONFIG_DISABLED,
            target="PagerDuty app for Staging",
            environment=staging,
        ),
        audit_record(
            actor=carol,
            action=AuditEvent.Action.CONNECTION_CREATED,
            target="Acme Corp",
            environment=development,
            tenant=tenant,
            details={"outcome": "ok"},
        ),
    ]


def targets(response):
    return [event.target for event in response.context["page"].object_list]


def test_audit_log_lists_events_newest_first(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(URL)

    html = response.content.decode()
    assert targets(response) == [
        "Acme Corp",
        "PagerDuty app for Staging",
        "PagerDuty app for Development",
    ]
    assert "client_id, scopes" in html
    assert "Integration disabled" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"environment": "staging"}, ["PagerDuty app for Staging"]),
        ({"actor": "CAROL"}, ["Acme Corp", "PagerDuty app for Development"]),
        ({"action": "config.created"}, ["PagerDuty app for Development"]),
        ({"environment": "development", "actor": "dave"}, []),
    ],
)
def test_audit_log_filters(client, staff_user, events, params, expected):
    client.force_login(staff_user)

    response = client.get(URL, params)

    assert targets(response) == expected


def test_audit_log_filters_by_tenant(client, staff_user, events, tenant):
    client.force_login(staff_user)

    response = client.get(URL, {"tenant": tenant.pk})

    assert targets(response) == ["Acme Corp"]


def test_audit_log_reports_an_invalid_filter(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(URL, {"action": "config.exploded"})

    assert "Select a valid choice" in response.content.decode()
    assert len(targets(response)) == 3


def test_audit_log_is_paginated_and_keeps_filters(client, staff_user, development):
    other = TenantFactory()
    for n in range(55):
        audit_record(
            actor=None,
            action=AuditEvent.Action.CONFIG_UPDATED,
            target=f"event {n}",
            environment=development,
            tenant=other if n % 2 else None,
        )
    client.force_login(staff_user)

    first = client.get(URL, {"environment": "development"})
    second = client.get(URL, {"environment": "development", "page": 2})

    assert len(targets(first)) == 50
    assert "environment=development&amp;page=2" in first.content.decode()
    assert targets(second) == [f"event {n}" for n in range(4, -1, -1)]


def test_tenant_filter_names_each_tenants_environment(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(URL)

    assert "Acme Corp (Development)" in response.content.decode()


def test_audit_log_runs_a_constant_number_of_queries(
    client, staff_user, events, development, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff_user)
    client.get(URL)
    with CaptureQueriesContext(connection) as baseline:
        client.get(URL)
    for n in range(30):
        audit_record(
            actor=staff_user,
            action=AuditEvent.Action.CONNECTION_CREATED,
            target=f"tenant {n}",
            environment=development,
            tenant=TenantFactory(),
        )

    with django_assert_max_num_queries(len(baseline)):
        response = client.get(URL)

    assert len(targets(response)) == 33
