"""Incident CSV export: planning, parallel pages, failures, the form and access.

PagerDuty is faked at the `requests` boundary by `FakeIncidents`, which
answers GET /incidents like PagerDuty (since/until, offset+limit ≤ 10,000,
`total` on request) from a list of creation times, and counts what it saw.
"""

import csv
import io
import json
import math
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.urls import reverse
from django.utils import timezone

from integrations.models import AuditAction, AuditEvent, Connection
from integrations.pagerduty.client import RateLimit
from integrations.pagerduty.workspace import export
from integrations.pagerduty.workspace.access import workspace_open
from integrations.pagerduty.workspace.context import Workspace
from tests.connect_fixtures import TOKEN_URL
from tests.integrations.pagerduty.workspace import payloads as pd
from tests.integrations.pagerduty.workspace.conftest import TOKEN

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 6, 1, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeIncidents:
    """GET /incidents over incidents created at the given times."""

    def __init__(self, times, *, barrier=None, budget=None, latency=0.0):
        self.times = sorted(times)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.pages: list[tuple[str, int]] = []
        self.counts: list[tuple[str, str]] = []
        self.tokens: list[str] = []
        # (since, offset) -> list of (status, headers, body) answered first
        self.scripted: dict[tuple[str, int], list] = {}
        self.barrier = barrier
        self.held = 0
        # Calls per one-second window, as PagerDuty's per-minute budget.
        self.budget = budget
        self.window = (0.0, 0)
        self.refused = 0
        self.latency = latency
        self.title = "Checkout is down"

    def register(self, rsps):
        rsps.add_callback(responses.GET, pd.url("/incidents"), callback=self)

    def __call__(self, request):
        query = parse_qs(urlsplit(request.url).query)
        since, until = query["since"][0], query["until"][0]
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.tokens.append(request.headers["Authorization"])
            held = (
                limit > 1
                and self.barrier is not None
                and self.held < self.barrier.parties
            )
            self.held += held
        try:
            if held:
                self.barrier.wait()
            # Responses that take a while let requests overlap, as upstream.
            time.sleep(self.latency)
            return self.answer(since, until, offset, limit, query)
        finally:
            with self.lock:
                self.in_flight -= 1

    def answer(self, since, until, offset, limit, query):
        with self.lock:
            script = self.scripted.get((since, offset))
            if script:
                return script.pop(0)
            headers = self.spend()
            if headers is None:
                self.refused += 1
                return 429, {"ratelimit-reset": "1"}, json.dumps(pd.error("Rate"))
        if offset + limit > 10_000:
            return 400, {}, json.dumps(pd.error("Invalid Input Provided"))
        low = datetime.fromisoformat(since)
        high = datetime.fromisoformat(until)
        assert high - low <= timedelta(days=183)
        matching = [(n, t) for n, t in enumerate(self.times, 1) if low <= t < high]
        page = matching[offset : offset + limit]
        with self.lock:
            if limit == 1:
                self.counts.append((since, until))
            else:
                self.pages.append((since, offset))
        body = {
            "incidents": [self.incident(n, t) for n, t in page],
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(matching),
            "total": len(matching) if query.get("total") == ["true"] else None,
        }
        return 200, headers, json.dumps(body)

    def spend(self):
        if self.budget is None:
            return {"ratelimit-remaining": "900", "ratelimit-reset": "30"}
        now = time.monotonic()
        started, used = self.window
        if now - started >= 1:
            started, used = now, 0
        if used >= self.budget:
            return None
        self.window = (started, used + 1)
        reset = max(1, math.ceil(1 - (now - started)))
        return {
            "ratelimit-limit": str(self.budget),
            "ratelimit-remaining": str(self.budget - used - 1),
            "ratelimit-reset": str(reset),
        }

    def incident(self, number, created):
        item = pd.incident(f"P{number:06d}", number, title=self.title)
        item["created_at"] = stamp(created)
        return item


def workspace_for(user, tenant) -> Workspace:
    return workspace_open(user=user, tenant_id=tenant.pk)


def rows_of(chunks) -> list[dict]:
    return list(csv.DictReader(io.StringIO("".join(chunks))))


def collect(stream, chunks: list) -> None:
    """Append what a stream yields to `chunks`, until it raises."""
    for chunk in stream:
        chunks.append(chunk)


def every(minutes: int, count: int, start=BASE) -> list[datetime]:
    return [start + timedelta(minutes=minutes * n) for n in range(count)]


# --- Planning ---


def test_a_window_past_the_offset_cap_is_halved_until_each_fits(
    tenant_member, tenant, ws_connection, mocked_responses
):
    fake = FakeIncidents(every(1, 25_000))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)

    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=30))

    assert plan.total == 25_000
    assert all(0 < window.total <= 10_000 for window in plan.windows)
    assert [w.since for w in plan.windows[1:]] == [w.until for w in plan.windows[:-1]]
    assert (plan.windows[0].since, plan.windows[-1].until) == (
        BASE,
        BASE + timedelta(days=30),
    )
    # 21,600 in the first half, 10,800 in its halves, 5,400 fit.
    assert [w.total for w in plan.windows] == [5_400, 5_400, 5_400, 5_400, 3_400]


def test_a_long_range_is_cut_into_windows_of_at_most_180_days(
    tenant_member, tenant, ws_connection, mocked_responses
):
    fake = FakeIncidents(every(60 * 24, 400))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    until = BASE + timedelta(days=400)

    plan = export.export_plan(ws=ws, since=BASE, until=until)

    assert [(w.since, w.until) for w in plan.windows] == [
        (BASE, BASE + timedelta(days=180)),
        (BASE + timedelta(days=180), BASE + timedelta(days=360)),
        (BASE + timedelta(days=360), until),
    ]
    assert plan.total == 400
    assert len(fake.counts) == 3


def test_more_than_the_cap_in_one_second_is_reported_not_looped(
    tenant_member, tenant, ws_connection, mocked_responses
):
    fake = FakeIncidents([BASE] * 10_001)
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)

    with pytest.raises(export.ExportTooDense, match="10,000 incidents"):
        export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=1))

    assert len(fake.counts) <= 20


# --- Fetching ---


def test_pages_arrive_complete_and_in_time_order(
    tenant_member, tenant, ws_connection, mocked_responses
):
    fake = FakeIncidents(every(1, 12_345))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=10))

    rows = rows_of(export.export_csv(ws=ws, plan=plan, concurrency=4))

    assert [row["id"] for row in rows] == [f"P{n:06d}" for n in range(1, 12_346)]
    assert len(fake.pages) == sum(w.pages for w in plan.windows)


def test_a_slow_reader_holds_back_the_fetching(
    tenant_member, tenant, ws_connection, mocked_responses
):
    """Pages are requested only two per worker ahead of the reader."""
    fake = FakeIncidents(every(1, 5_000))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=5))
    stream = export.export_csv(ws=ws, plan=plan, concurrency=2)

    chunks = [next(stream) for _ in range(1 + 3)]  # the header, three pages
    stream.close()

    assert plan.pages == 50
    assert len(rows_of(chunks)) == 300
    assert len(fake.pages) <= 3 + 2 * 2


def test_never_more_pages_in_flight_than_the_concurrency(
    tenant_member, tenant, ws_connection, mocked_responses
):
    # The barrier holds the first three pages until all three are in
    # flight at once, so the export must really run them in parallel.
    fake = FakeIncidents(every(1, 2_000), barrier=threading.Barrier(3, timeout=10))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=5))
    budget = export.RequestBudget(3)

    rows = rows_of(export.export_csv(ws=ws, plan=plan, concurrency=3, budget=budget))

    assert len(rows) == 2_000
    assert fake.max_in_flight == 3
    assert budget.max_in_flight == 3


def test_a_low_remaining_budget_makes_the_workers_wait_for_the_reset(
    tenant_member, tenant, ws_connection, mocked_responses
):
    # Three calls per one-second budget window, fewer than the nine needed
    # and fewer than the four workers.
    fake = FakeIncidents(every(1, 800), budget=3, latency=0.05)
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=5))
    budget = export.RequestBudget(4)

    rows = rows_of(export.export_csv(ws=ws, plan=plan, concurrency=4, budget=budget))

    assert len(rows) == 800
    assert fake.refused == 0
    assert budget.waits >= 1


def test_request_budget_counts_down_and_refills_after_the_reset():
    now = [100.0]
    budget = export.RequestBudget(8, clock=lambda: now[0])
    budget.observe(RateLimit(limit=960, remaining=3, reset=10))

    budget.acquire()
    budget.acquire()
    budget.release(RateLimit(limit=960, remaining=1, reset=10))
    remaining_after = budget.remaining
    now[0] = 111.0
    budget.acquire()

    assert remaining_after == 0  # 1 left, minus the call still in flight
    # A fresh window of 960, less the call in flight and the one just sent.
    assert budget.remaining == 958
    assert budget.in_flight == 2


def test_a_429_is_retried_after_the_reset_and_the_export_completes(
    tenant_member, tenant, ws_connection, mocked_responses
):
    fake = FakeIncidents(every(1, 500))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=5))
    limited = (429, {"ratelimit-reset": "0"}, json.dumps(pd.error("Rate", 2020)))
    # Twice: the workers' background clients sleep out each reset.
    fake.scripted[(stamp(BASE), 200)] = [limited, limited]

    rows = rows_of(export.export_csv(ws=ws, plan=plan, concurrency=2))

    assert [row["id"] for row in rows] == [f"P{n:06d}" for n in range(1, 501)]
    assert fake.pages.count((stamp(BASE), 200)) == 1


def test_a_401_mid_export_refreshes_the_token_once_and_carries_on(
    tenant_member, tenant, ws_connection, mocked_responses
):
    fake = FakeIncidents(every(1, 800))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=5))
    unauthorized = (401, {}, json.dumps(pd.error("Unauthorized", 2006)))
    fake.scripted[(stamp(BASE), 300)] = [unauthorized]
    refresh = mocked_responses.post(
        TOKEN_URL,
        json={
            "access_token": "fresh-access",
            "refresh_token": "fresh-refresh",
            "token_type": "bearer",
            "expires_in": 86400,
        },
    )

    rows = rows_of(export.export_csv(ws=ws, plan=plan, concurrency=2))

    ws_connection.refresh_from_db()
    assert len(rows) == 800
    assert refresh.call_count == 1
    assert ws_connection.access_token == "fresh-access"
    assert fake.tokens[-1] == "Bearer fresh-access"
    assert fake.tokens[0] == f"Bearer {TOKEN}"


def test_a_second_401_flags_the_connection_and_marks_the_file_incomplete(
    tenant_member, tenant, ws_connection, mocked_responses
):
    fake = FakeIncidents(every(1, 800))
    fake.register(mocked_responses)
    ws = workspace_for(tenant_member, tenant)
    plan = export.export_plan(ws=ws, since=BASE, until=BASE + timedelta(days=5))
    unauthorized = (401, {}, json.dumps(pd.error("Unauthorized", 2006)))
    fake.scripted[(stamp(BASE), 300)] = [unauthorized, unauthorized]
    mocked_responses.post(
        TOKEN_URL,
        json={
            "access_token": "fresh-access",
            "refresh_token": "fresh-refresh",
            "token_type": "bearer",
            "expires_in": 86400,
        },
    )
    mocked_responses.assert_all_requests_are_fired = False
    chunks = []

    with pytest.raises(export.ExportIncomplete):
        collect(export.export_csv(ws=ws, plan=plan, concurrency=2), chunks)

    ws_connection.refresh_from_db()
    assert ws_connection.status == Connection.Status.NEEDS_RECONNECT
    assert chunks[-1].startswith(export.INCOMPLETE_MARKER)
    assert len(rows_of(chunks[:-1])) == 300


def test_a_failure_mid_stream_ends_the_file_with_a_marker_and_aborts(
    linked_client, tenant, mocked_responses
):
    fake = FakeIncidents(every(1, 600, start=timezone.now() - timedelta(days=2)))
    fake.register(mocked_responses)
    mocked_responses.assert_all_requests_are_fired = False
    today = timezone.now().date()
    since = (today - timedelta(days=3)).isoformat()
    broken = (400, {}, json.dumps(pd.error("Invalid Input Provided", 2001)))
    url = reverse("integrations:incident_export_csv", args=[tenant.pk])

    response = linked_client.get(url, {"since": since, "until": today.isoformat()})
    window_since = stamp(datetime.fromisoformat(since).replace(tzinfo=UTC))
    fake.scripted[(window_since, 200)] = [broken]
    chunks = []
    with pytest.raises(export.ExportIncomplete):
        collect((chunk.decode() for chunk in response.streaming_content), chunks)

    text = "".join(chunks)
    assert response.status_code == 200
    assert response["X-Export-Total"] == "600"
    assert text.endswith(f"{export.INCOMPLETE_MARKER}: Invalid Input Provided\r\n")
    assert text.count("\r\n") == 1 + 200 + 1


# --- CSV cells ---


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tstarts with tab", "'\tstarts with tab"),
        ("\rstarts with CR", "'\rstarts with CR"),
        ("Checkout is down", "Checkout is down"),
        ("a = b", "a = b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_that_spreadsheets_would_run_get_an_apostrophe(value, cell):
    assert export.csv_safe(value) == cell


def test_an_export_is_audited_with_its_range_and_size(
    linked_client, tenant, tenant_admin, mocked_responses
):
    fake = FakeIncidents(every(1, 3, start=timezone.now() - timedelta(days=1)))
    fake.register(mocked_responses)
    today = timezone.now().date()
    since = today - timedelta(days=2)

    response = linked_client.get(
        reverse("integrations:incident_export_csv", args=[tenant.pk]),
        {"since": since.isoformat(), "until": today.isoformat()},
    )

    event = AuditEvent.objects.get()
    assert response.status_code == 200
    assert (event.action, event.actor, event.tenant) == (
        AuditAction.INCIDENTS_EXPORTED,
        tenant_admin,
        tenant,
    )
    assert event.details["total"] == 3
    assert event.details["since"] == f"{since.isoformat()}T00:00:00+00:00"


def test_the_downloaded_file_neutralises_formulas_in_titles(
    linked_client, tenant, mocked_responses
):
    fake = FakeIncidents(every(1, 3, start=timezone.now() - timedelta(days=1)))
    fake.title = '=HYPERLINK("http://evil.example","click")'
    fake.register(mocked_responses)
    today = timezone.now().date()

    response = linked_client.get(
        reverse("integrations:incident_export_csv", args=[tenant.pk]),
        {"since": (today - timedelta(days=2)).isoformat(), "until": today.isoformat()},
    )
    rows = rows_of(chunk.decode() for chunk in response.streaming_content)

    assert [row["title"] for row in rows] == [f"'{fake.title}"] * 3
    assert rows[0]["service_name"] == "Checkout"
    assert rows[0]["assignees"] == "Bob Baker"
    assert rows[0]["escalation_policy"] == "Checkout policy"


def test_a_row_has_the_columns_an_on_call_team_needs():
    incident = pd.incident("PINC001", 7, status="resolved")
    incident["priority"] = {"id": "PPRIO1", "summary": "P1"}
    incident["last_status_change_at"] = "2026-11-28T11:00:00Z"
    incident["resolved_at"] = "2026-11-28T11:00:00Z"

    row = dict(zip(export.CSV_COLUMNS, export.incident_csv_row(incident), strict=True))

    assert row == {
        "id": "PINC001",
        "incident_number": "7",
        "title": "Checkout is down",
        "status": "resolved",
        "urgency": "high",
        "priority": "P1",
        "service_id": "PSVC001",
        "service_name": "Checkout",
        "escalation_policy": "Checkout policy",
        "assignees": "Bob Baker",
        "created_at": "2026-11-28T10:00:00Z",
        "last_status_change_at": "2026-11-28T11:00:00Z",
        "resolved_at": "2026-11-28T11:00:00Z",
        "html_url": "https://acme.pagerduty.com/incidents/PINC001",
    }


# --- The pages ---


def export_url(tenant, name="incident_export_csv"):
    return reverse(f"integrations:{name}", args=[tenant.pk])


def test_the_export_page_defaults_to_the_last_30_days(linked_client, tenant):
    today = timezone.now().date()

    response = linked_client.get(export_url(tenant, "incident_export"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{(today - timedelta(days=30)).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html
    assert 'id="export-status" role="status" aria-live="polite"' in html
    assert "integrations/js/incident_export.js" in html


def test_the_incident_list_links_to_the_export(linked_client, tenant, mocked_responses):
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([]))
    pd.mock_directories(mocked_responses)

    html = linked_client.get(
        reverse("integrations:incident_list", args=[tenant.pk])
    ).content.decode()

    assert f'href="{export_url(tenant, "incident_export")}"' in html


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("yesterday", "2026-11-01", "Enter a valid date."),
        ("2026-11-10", "2026-11-01", "“From” must not be after “Until”."),
        ("2020-01-01", "2026-11-01", "Export at most 1098 days at a time."),
        ("2026-11-01", "2999-01-01", "The dates must not be in the future."),
    ],
)
@pytest.mark.parametrize("name", ["incident_export", "incident_export_csv"])
def test_bad_ranges_are_shown_on_the_page_and_call_nothing(
    linked_client, tenant, mocked_responses, since, until, message, name
):
    response = linked_client.get(
        export_url(tenant, name), {"since": since, "until": until}
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert len(mocked_responses.calls) == 0
    assert not AuditEvent.objects.exists()


def test_pagerduty_down_while_planning_gives_an_error_page_not_a_file(
    linked_client, tenant, mocked_responses, settings
):
    settings.PAGERDUTY_RETRY_BACKOFF = 0
    mocked_responses.get(pd.url("/incidents"), status=503)
    today = timezone.now().date().isoformat()

    response = linked_client.get(export_url(tenant), {"since": today, "until": today})

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert "PagerDuty is unavailable" in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_403_while_planning_names_the_missing_scope(
    linked_client, tenant, mocked_responses
):
    mocked_responses.get(
        pd.url("/incidents"),
        status=403,
        json={"error": {"message": "Forbidden", "code": 2010}},
    )
    today = timezone.now().date().isoformat()

    response = linked_client.get(export_url(tenant), {"since": today, "until": today})

    assert response.status_code == 403
    assert "the connection lacks incidents.read" in response.content.decode()


@pytest.mark.parametrize("name", ["incident_export", "incident_export_csv"])
def test_export_needs_the_incidents_read_scope(
    linked_client, tenant, ws_connection, mocked_responses, name
):
    ws_connection.granted_scopes = "openid services.read"
    ws_connection.save()
    today = timezone.now().date().isoformat()

    response = linked_client.get(
        export_url(tenant, name), {"since": today, "until": today}
    )

    assert response.status_code == 403
    assert "incidents.read" in response.content.decode()
    assert len(mocked_responses.calls) == 0


def test_a_connection_needing_reconnect_exports_nothing(
    linked_client, tenant, ws_connection, mocked_responses
):
    ws_connection.status = Connection.Status.NEEDS_RECONNECT
    ws_connection.save()
    today = timezone.now().date().isoformat()

    response = linked_client.get(export_url(tenant), {"since": today, "until": today})

    assert response.status_code == 409
    assert len(mocked_responses.calls) == 0


def test_exports_per_user_are_rate_limited(
    linked_client, tenant, mocked_responses, settings
):
    settings.PAGERDUTY_EXPORT_RATE_LIMIT = (1, 60)
    mocked_responses.get(pd.url("/incidents"), json=pd.incident_list([], total=0))
    today = timezone.now().date().isoformat()
    query = {"since": today, "until": today}

    first = linked_client.get(export_url(tenant), query)
    b"".join(first.streaming_content)
    second = linked_client.get(export_url(tenant), query)

    assert first.status_code == 200
    assert first["X-Export-Total"] == "0"
    assert second.status_code == 429
    assert "Too many exports" in second.content.decode()
    assert len(mocked_responses.calls) == 1


def test_another_tenants_member_gets_404_and_nothing_is_sent(
    client, tenant, ws_connection, other_tenant, mocked_responses
):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="gina"))
    today = timezone.now().date().isoformat()

    responses_ = [
        client.get(export_url(tenant, name), {"since": today, "until": today})
        for name in ("incident_export", "incident_export_csv")
    ]

    assert [r.status_code for r in responses_] == [404, 404]
    assert len(mocked_responses.calls) == 0
