"""What each workspace page costs against the sandbox: calls and queries.

The numbers are the ones the closing note of issue 6 reports; a change
that adds a call or a query to a page has to change this table.
"""

import re

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

# Session, user, the user's memberships with their tenants (the page's and
# the shell's tenant list), the connection with its webhook subscription
# (the overview's last event, the incident pages' live updates).
QUERIES = 4

# (URL name, object kind to pick or None, {path prefix: calls}).
PAGES = [
    ("workspace_overview", None, {"/incidents": 1, "/oncalls": 1}),
    # The page and the other open tab's count; the pickers' directory lists.
    ("incident_list", None, {"/incidents": 2, "/services": 1, "/teams": 1}),
    (
        "incident_detail",
        "incident",
        {
            "/incidents/ID": 1,
            "/incidents/ID/log_entries": 1,
            "/incidents/ID/notes": 1,
        },
    ),
    ("incident_reassign", "incident", {"/users": 1, "/escalation_policies": 1}),
    ("incident_create", None, {"/services": 1}),
    ("service_list", None, {"/services": 1}),
    ("service_detail", "service", {"/services/ID": 1, "/incidents": 1}),
    ("service_edit", "service", {"/services/ID": 1, "/escalation_policies": 1}),
    ("oncall_list", None, {"/oncalls": 2, "/schedules": 1, "/users": 1}),
    ("schedule_list", None, {"/schedules": 1}),
    (
        "schedule_detail",
        "schedule",
        {"/schedules/ID": 1, "/schedules/ID/overrides": 1},
    ),
    ("escalation_policy_list", None, {"/escalation_policies": 1}),
    ("escalation_policy_detail", "policy", {"/escalation_policies/ID": 1}),
    (
        "escalation_policy_edit",
        "policy",
        {"/escalation_policies/ID": 1, "/users": 1, "/schedules": 1},
    ),
    ("user_list", None, {"/users": 1}),
    ("user_detail", "user", {"/users/ID": 1}),
    ("team_list", None, {"/teams": 1}),
    (
        "team_detail",
        "team",
        {"/teams/ID": 1, "/teams/ID/members": 1, "/users": 1},
    ),
    ("webhook_list", None, {"/webhook_subscriptions": 1}),
]
LISTS = {
    "incident": ("incident_list", "?status=all"),
    "service": ("service_list", ""),
    "schedule": ("schedule_list", ""),
    "policy": ("escalation_policy_list", ""),
    "user": ("user_list", ""),
    "team": ("team_list", ""),
}


def pick(client, tenant, kind) -> str:
    name, query = LISTS[kind]
    html = client.get(reverse(f"integrations:{name}", args=[tenant.pk]) + query)
    return re.findall(rf'id="{kind}-([A-Z0-9]+)"', html.content.decode())[0]


@pytest.mark.parametrize(("name", "kind", "expected"), PAGES)
def test_page_cost(sandbox_linked, tenant, name, kind, expected):
    from django.core.cache import cache

    args = [pick(sandbox_linked, tenant, kind)] if kind else []
    cache.clear()
    sandbox = sandbox_linked.sandbox
    with sandbox.state.lock:
        sandbox.state.request_log.clear()

    with CaptureQueriesContext(db) as queries:
        response = sandbox_linked.get(
            reverse(f"integrations:{name}", args=[tenant.pk, *args])
        )

    assert response.status_code == 200
    paths = [path for _method, path, _status in sandbox.request_log]
    counted = {}
    for path in paths:
        key = path.replace(args[0], "ID") if args else path
        counted[key] = counted.get(key, 0) + 1
    assert counted == expected
    assert len(queries) == QUERIES
    assert sandbox_linked.connection.access_token not in response.content.decode()
