"""Incident CSV export against the PagerDuty sandbox: real requests, counted."""

import csv
import io
import itertools
import math
from datetime import timedelta

import pytest
from django.urls import reverse

from pagerduty_sandbox import api as sandbox_api
from pagerduty_sandbox import ops

pytestmark = pytest.mark.django_db


def add_incidents(sandbox, count: int, *, start, step: timedelta) -> None:
    """Trigger `count` acme incidents, `step` apart from `start`."""
    state = sandbox.state
    with state.lock:
        account = state.account_by_subdomain("acme")
        services = [s for s in state.services.values() if s.account_id == account.id]
        for index in range(count):
            service = services[index % len(services)]
            ops.incident_create(
                state,
                service=service,
                title=f"Bulk incident {index}",
                agent=("service", service.id),
                at=start + step * index,
            )


def acme_ids_between(sandbox, since, until) -> list[str]:
    state = sandbox.state
    with state.lock:
        account = state.account_by_subdomain("acme")
        found = [
            i
            for i in state.incidents.values()
            if i.account_id == account.id and since <= i.created_at < until
        ]
    return [i.id for i in sorted(found, key=lambda i: i.created_at)]


def export(client, tenant, since, until):
    response = client.get(
        reverse("integrations:incident_export_csv", args=[tenant.pk]),
        {"since": since.date().isoformat(), "until": until.date().isoformat()},
    )
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content).decode()
    return response, list(csv.DictReader(io.StringIO(body)))


def test_a_range_past_the_offset_cap_arrives_complete_and_in_order(
    sandbox_linked, tenant
):
    sandbox = sandbox_linked.sandbox
    now = sandbox.state.now()
    start = now - timedelta(days=20)
    add_incidents(sandbox, 10_050, start=start, step=timedelta(seconds=150))
    since = (now - timedelta(days=29)).replace(hour=0, minute=0, second=0)
    expected = acme_ids_between(sandbox, since, now + timedelta(days=1))

    response, rows = export(sandbox_linked, tenant, since, now)

    log = sandbox.request_log
    assert len(expected) > 10_000
    assert int(response["X-Export-Total"]) == len(expected)
    assert [row["id"] for row in rows] == expected
    assert [row["created_at"] for row in rows] == sorted(
        row["created_at"] for row in rows
    )
    assert not [entry for entry in log if entry[2] >= 400]
    assert response["Content-Disposition"].startswith("attachment; filename=")


def test_a_range_longer_than_six_months_is_read_window_by_window(
    sandbox_linked, tenant
):
    sandbox = sandbox_linked.sandbox
    now = sandbox.state.now()
    start = now - timedelta(days=400)
    add_incidents(sandbox, 400, start=start, step=timedelta(days=1))
    since = start.replace(hour=0, minute=0, second=0)
    expected = acme_ids_between(sandbox, since, now + timedelta(days=1))

    until = now.replace(microsecond=0)
    edges = [since, since + timedelta(days=180), since + timedelta(days=360), until]
    pages = sum(
        math.ceil(len(acme_ids_between(sandbox, a, b)) / 100)
        for a, b in itertools.pairwise(edges)
    )

    response, rows = export(sandbox_linked, tenant, since, now)

    calls = [path for _, path, _ in sandbox.request_log if path == "/incidents"]
    assert [row["id"] for row in rows] == expected
    assert int(response["X-Export-Total"]) == len(expected)
    # One count per window of at most 180 days, then the pages of 100.
    assert len(calls) == 3 + pages


def test_a_small_rate_limit_is_waited_out_without_a_429(
    sandbox_linked, tenant, settings, monkeypatch
):
    sandbox = sandbox_linked.sandbox
    # A one-second budget window keeps the wait short; 4 calls per window
    # are fewer than the 8 workers and than the 11 calls the export needs.
    # Latency lets the workers' requests overlap, as they would upstream.
    monkeypatch.setattr(sandbox_api, "RATE_WINDOW", 1)
    sandbox.configure(rate_limit=4)
    sandbox.set_latency(30)
    settings.PAGERDUTY_EXPORT_CONCURRENCY = 8
    now = sandbox.state.now()
    add_incidents(
        sandbox, 1_000, start=now - timedelta(days=3), step=timedelta(minutes=4)
    )
    since = (now - timedelta(days=5)).replace(hour=0, minute=0, second=0)
    expected = acme_ids_between(sandbox, since, now + timedelta(days=1))

    response, rows = export(sandbox_linked, tenant, since, now)

    statuses = [status for _, path, status in sandbox.request_log]
    assert [row["id"] for row in rows] == expected
    assert 429 not in statuses
    assert len(statuses) > 8


def test_the_sandbox_refuses_pages_past_the_offset_cap(sandbox_linked):
    sandbox = sandbox_linked.sandbox
    token = sandbox.issue_token(user_email="alice@acme.example")
    import requests

    response = requests.get(
        f"{sandbox.url}/incidents",
        params={"offset": 9_901, "limit": 100, "date_range": "all"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    allowed = requests.get(
        f"{sandbox.url}/incidents",
        params={"offset": 9_900, "limit": 100, "date_range": "all"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2001
    assert allowed.status_code == 200
