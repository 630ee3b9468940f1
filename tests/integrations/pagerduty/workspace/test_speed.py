"""Each page's upstream calls and database queries, which must not grow with data."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.integrations.pagerduty.workspace import payloads as pd

pytestmark = pytest.mark.django_db

# Session, user, the user's memberships with their tenants (the page's and
# the shell's list), and the connection with its webhook subscription.
MAX_QUERIES = 4


def count_queries(client, url) -> int:
    with CaptureQueriesContext(db) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("rows", [1, 100])
def test_incident_list_costs_two_calls_and_few_queries_whatever_the_rows(
    linked_client, tenant, mocked_responses, django_assert_max_num_queries, rows
):
    items = [pd.incident(f"P{n:06d}", n) for n in range(rows)]
    call = mocked_responses.get(
        pd.url("/incidents"), json=pd.incident_list(items, limit=100)
    )
    pd.mock_directories(mocked_responses)
    url = reverse("integrations:incident_list", args=[tenant.pk]) + "?per_page=100"

    with django_assert_max_num_queries(MAX_QUERIES):
        response = linked_client.get(url)

    assert response.status_code == 200
    assert call.call_count == 2  # the page, and the other open tab's count


@pytest.mark.parametrize("rows", [1, 100])
def test_service_list_costs_one_call_and_few_queries_whatever_the_rows(
    linked_client, tenant, mocked_responses, django_assert_max_num_queries, rows
):
    services = [pd.service(f"P{n:06d}", f"Service {n}") for n in range(rows)]
    listed = mocked_responses.get(
        pd.url("/services"), json={"services": services, "more": False}
    )

    with django_assert_max_num_queries(MAX_QUERIES):
        linked_client.get(reverse("integrations:service_list", args=[tenant.pk]))

    assert listed.call_count == 1


def test_query_counts_do_not_grow_with_the_data(
    linked_client, tenant, mocked_responses
):
    small = [pd.incident("P000001", 1)]
    large = [pd.incident(f"P{n:06d}", n) for n in range(100)]
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list(small))
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list(large))
    pd.mock_directories(mocked_responses)
    url = reverse("integrations:incident_list", args=[tenant.pk])

    first = count_queries(linked_client, url)
    second = count_queries(linked_client, url + "?refresh=1")

    assert first == second


def test_a_cached_page_costs_no_call(linked_client, tenant, mocked_responses):
    call = mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)
    url = reverse("integrations:incident_list", args=[tenant.pk])

    linked_client.get(url)
    linked_client.get(url)

    assert call.call_count == 2
    assert len(mocked_responses.calls) == 4


def test_cache_seconds_zero_turns_the_cache_off(
    linked_client, tenant, mocked_responses, settings
):
    settings.PAGERDUTY_CACHE_SECONDS = 0
    call = mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)
    url = reverse("integrations:incident_list", args=[tenant.pk])

    linked_client.get(url)
    linked_client.get(url)

    assert call.call_count == 4
    assert len(mocked_responses.calls) == 8  # the directory lists too


LISTS = [
    ("schedule_list", "/schedules", "schedules"),
    ("escalation_policy_list", "/escalation_policies", "escalation_policies"),
    ("user_list", "/users", "users"),
    ("team_list", "/teams", "teams"),
    ("webhook_list", "/webhook_subscriptions", "webhook_subscriptions"),
]


@pytest.mark.parametrize("rows", [1, 100])
@pytest.mark.parametrize(("name", "path", "key"), LISTS)
def test_directory_lists_cost_one_call_and_few_queries(
    linked_client,
    tenant,
    mocked_responses,
    django_assert_max_num_queries,
    rows,
    name,
    path,
    key,
):
    items = [{"id": f"P{n:06d}", "summary": f"Item {n}"} for n in range(rows)]
    call = mocked_responses.get(
        pd.url(path), json={key: items, "more": False, "total": rows}
    )

    with django_assert_max_num_queries(MAX_QUERIES):
        response = linked_client.get(reverse(f"integrations:{name}", args=[tenant.pk]))

    assert response.status_code == 200
    assert call.call_count == 1


@pytest.mark.parametrize(("name", "path", "key"), LISTS)
def test_directory_lists_cost_one_sandbox_call(sandbox_linked, tenant, name, path, key):
    response = sandbox_linked.get(reverse(f"integrations:{name}", args=[tenant.pk]))

    assert response.status_code == 200
    assert sandbox_linked.sandbox.count(path) == 1
    assert len(sandbox_linked.sandbox.request_log) == 1
