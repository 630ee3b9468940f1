"""C. Refresh and concurrency (SECURITY-TESTS T21–T30).

Row locks need PostgreSQL: those items are marked `postgres` and fail in CI
(PORTAL_REQUIRE_ALL=1) when the database is anything else.
"""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests
import time_machine
from django.core.management import call_command
from django.db import connection as db_connection
from django.utils import timezone

from integrations.exceptions import PagerDutyUnavailable
from integrations.models import AuditEvent, Connection
from integrations.services.tokens import (
    ConnectionNeedsReconnect,
    connection_get_access_token,
)
from tests.connect_fixtures import TOKEN_URL
from tests.helpers import run_in_threads, skip_unless_available
from tests.security.conftest import AT_B, RT_A, RT_B, make_connection

ROOT = Path(__file__).resolve().parent.parent.parent
THREADS = 20
POSTGRES_ONLY = "row locks need PostgreSQL: set DATABASE_URL=postgres://…"


def _expire(conn, delta=timedelta(minutes=-1)):
    Connection.objects.filter(pk=conn.pk).update(
        access_expires_at=timezone.now() + delta
    )


def _token_json(access, refresh=None, expires_in=86400):
    body = {"access_token": access, "token_type": "bearer", "expires_in": expires_in}
    if refresh:
        body["refresh_token"] = refresh
    return json.dumps(body)


class FakeTokenEndpoint:
    """PagerDuty's refresh grant: rotates, and refuses a used refresh token."""

    def __init__(self, current: str, delay: float = 0.0):
        self.current = current
        self.delay = delay
        self.seen: list[str] = []
        self.generation = 1
        self.lock = threading.Lock()

    def __call__(self, request):
        sent = parse_qs(request.body)["refresh_token"][0]
        time.sleep(self.delay)
        with self.lock:
            self.seen.append(sent)
            if sent != self.current:
                return 400, {}, '{"error": "invalid_grant"}'
            self.generation += 1
            access = f"CANARY-AT-gen{self.generation}"
            self.current = f"CANARY-RT-gen{self.generation}"
            return 200, {}, _token_json(access, self.current)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("case", "rep"),
    [("expired", rep) for rep in range(10)] + [("fresh", 0), ("inside-margin", 0)],
)
def test_t21_twenty_callers_at_expiry_refresh_exactly_once(
    seeded_environments, world, mocked_responses, case, rep
):
    skip_unless_available(db_connection.vendor == "postgresql", POSTGRES_ONLY)
    fake = FakeTokenEndpoint(current=RT_A, delay=0.2)
    mocked_responses.add_callback("POST", TOKEN_URL, callback=fake)
    mocked_responses.assert_all_requests_are_fired = False
    expiry = {
        "expired": timedelta(minutes=-1),
        "fresh": timedelta(hours=2),
        "inside-margin": timedelta(minutes=4),
    }[case]
    _expire(world.conn_a, expiry)
    b_before = Connection.objects.filter(pk=world.conn_b.pk).values().get()

    def get_token():
        return connection_get_access_token(
            connection=Connection.objects.get(pk=world.conn_a.pk)
        )

    results, errors = run_in_threads(get_token, THREADS)

    stored = Connection.objects.get(pk=world.conn_a.pk)
    expected_calls = 0 if case == "fresh" else 1
    assert errors == []
    assert len(fake.seen) == expected_calls
    assert len(set(results)) == 1
    assert len(results) == THREADS
    assert AT_B not in results
    assert stored.status == Connection.Status.ACTIVE
    if expected_calls:
        assert results[0] == stored.access_token == "CANARY-AT-gen2"
        assert stored.refresh_token == "CANARY-RT-gen2"
    assert Connection.objects.filter(pk=world.conn_b.pk).values().get() == b_before


WORKER = """
import json, os, sys, threading, time
import django
django.setup()
from django.conf import settings
from django.db import connection
settings.PAGERDUTY_IDENTITY_URL = os.environ["SANDBOX_URL"]
from integrations.models import Connection
from integrations.services.tokens import connection_get_access_token
go_at, pk = float(sys.argv[1]), int(sys.argv[2])
results, errors = [], []
def work():
    try:
        time.sleep(max(0, go_at - time.time()))
        fresh = Connection.objects.get(pk=pk)
        results.append(connection_get_access_token(connection=fresh))
    except Exception as exc:
        errors.append(type(exc).__name__)
    finally:
        connection.close()
threads = [threading.Thread(target=work) for _ in range(10)]
[t.start() for t in threads]
[t.join(30) for t in threads]
print(json.dumps({"results": results, "errors": errors}))
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_t22_two_processes_of_ten_threads_refresh_once(
    seeded_environments, tenant, sandbox_app, sandbox_settings
):
    skip_unless_available(db_connection.vendor == "postgresql", POSTGRES_ONLY)
    sandbox = sandbox_settings
    access = sandbox.issue_token(user_email="alice@acme.example")
    with sandbox.state.lock:
        refresh = sandbox.state.grant_for_access_token(access).refresh_token
    conn = make_connection(tenant, sandbox_app, access=access, refresh=refresh)
    _expire(conn)
    sandbox.set_latency(200)  # widen the race window
    db = db_connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}"
        f"@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "SANDBOX_URL": sandbox.url,
    }
    go_at = str(time.time() + 3)

    workers = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WORKER, go_at, str(conn.pk)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [json.loads(w.communicate(timeout=60)[0]) for w in workers]

    sandbox.set_latency(0)
    results = [r for out in outputs for r in out["results"]]
    stored = Connection.objects.get(pk=conn.pk)
    assert [e for out in outputs for e in out["errors"]] == []
    assert sandbox.count("/oauth/token", method="POST") == 1
    assert results == [stored.access_token] * 20
    assert stored.status == Connection.Status.ACTIVE


@pytest.mark.django_db
def test_t23_rotation_persists_and_a_missing_refresh_token_keeps_the_old_one(
    world, mocked_responses
):
    fake = FakeTokenEndpoint(current=RT_A)
    mocked_responses.add_callback("POST", TOKEN_URL, callback=fake)
    for _ in range(3):
        _expire(world.conn_a)
        connection_get_access_token(
            connection=Connection.objects.get(pk=world.conn_a.pk)
        )
    mocked_responses.replace("POST", TOKEN_URL, body=_token_json("CANARY-AT-no-rt"))
    _expire(world.conn_a)

    token = connection_get_access_token(
        connection=Connection.objects.get(pk=world.conn_a.pk)
    )

    stored = Connection.objects.get(pk=world.conn_a.pk)
    assert fake.seen == [RT_A, "CANARY-RT-gen2", "CANARY-RT-gen3"]
    assert token == "CANARY-AT-no-rt"
    assert stored.refresh_token == "CANARY-RT-gen4"


@pytest.mark.django_db
def test_t23_a_failed_write_after_the_refresh_rolls_back(world, mocked_responses):
    skip_unless_available(
        db_connection.vendor in ("sqlite", "postgresql"), "needs a trigger"
    )
    mocked_responses.post(TOKEN_URL, body=_token_json("CANARY-AT-2", "CANARY-RT-2"))
    _expire(world.conn_a)
    before = Connection.objects.filter(pk=world.conn_a.pk).values().get()
    _install_update_failure()

    with pytest.raises(Exception, match="storage failed"):
        connection_get_access_token(
            connection=Connection.objects.get(pk=world.conn_a.pk)
        )

    _remove_update_failure()
    assert Connection.objects.filter(pk=world.conn_a.pk).values().get() == before


def _install_update_failure():
    with db_connection.cursor() as cursor:
        if db_connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER fail_update BEFORE UPDATE ON integrations_connection "
                "BEGIN SELECT RAISE(ABORT, 'storage failed'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION fail_update() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'storage failed'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER fail_update BEFORE UPDATE ON integrations_connection "
                "FOR EACH ROW EXECUTE FUNCTION fail_update()"
            )


def _remove_update_failure():
    with db_connection.cursor() as cursor:
        if db_connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER fail_update")
        else:
            cursor.execute("DROP TRIGGER fail_update ON integrations_connection")
            cursor.execute("DROP FUNCTION fail_update()")


@pytest.mark.django_db
def test_t24_stale_caller_reuses_the_siblings_refresh(world, mocked_responses):
    fake = FakeTokenEndpoint(current=RT_A)
    mocked_responses.add_callback("POST", TOKEN_URL, callback=fake)
    _expire(world.conn_a)
    stale_a = Connection.objects.get(pk=world.conn_a.pk)
    stale_b = Connection.objects.get(pk=world.conn_a.pk)

    first = connection_get_access_token(connection=stale_a)
    second = connection_get_access_token(connection=stale_b)

    assert first == second == "CANARY-AT-gen2"
    assert fake.seen == [RT_A]
    assert Connection.objects.get(pk=world.conn_a.pk).status == "active"


@pytest.mark.django_db
def test_t24_lost_refresh_response_then_invalid_grant_needs_reconnect_once(
    world, mocked_responses
):
    fake = FakeTokenEndpoint(current=RT_A)

    def rotate_then_time_out(request):
        fake(request)  # PagerDuty rotated, but the answer never arrives
        raise requests.exceptions.ReadTimeout("read timed out")

    lost = mocked_responses.add_callback(
        "POST", TOKEN_URL, callback=rotate_then_time_out
    )
    _expire(world.conn_a)
    with pytest.raises(PagerDutyUnavailable):
        connection_get_access_token(
            connection=Connection.objects.get(pk=world.conn_a.pk)
        )
    kept = Connection.objects.get(pk=world.conn_a.pk)
    mocked_responses.remove(lost)
    mocked_responses.add_callback("POST", TOKEN_URL, callback=fake)

    with pytest.raises(ConnectionNeedsReconnect):
        connection_get_access_token(
            connection=Connection.objects.get(pk=world.conn_a.pk)
        )

    stored = Connection.objects.get(pk=world.conn_a.pk)
    assert (kept.status, kept.refresh_token) == ("active", RT_A)
    assert stored.status == Connection.Status.NEEDS_RECONNECT
    assert "reconnect" in stored.last_error
    assert stored.oauth_client_id == world.app_a.pk
    assert stored.account_id == world.conn_a.account_id
    assert AuditEvent.objects.filter(action="connection.refresh_failed").count() == 1


@pytest.mark.django_db
def test_t25_five_days_of_hourly_jobs_refresh_five_times(world, mocked_responses):
    calls = []

    def token(request):
        calls.append(request.body)
        return (
            200,
            {},
            _token_json(f"CANARY-AT-{len(calls)}", f"CANARY-RT-{len(calls)}"),
        )

    mocked_responses.add_callback("POST", TOKEN_URL, callback=token)
    start = timezone.now()
    Connection.objects.filter(pk=world.conn_a.pk).update(
        access_expires_at=start + timedelta(days=1)
    )

    for hour in range(1, 5 * 24 + 1):
        with time_machine.travel(start + timedelta(hours=hour, seconds=1), tick=False):
            connection_get_access_token(
                connection=Connection.objects.get(pk=world.conn_a.pk)
            )

    assert len(calls) == 5


@pytest.mark.django_db
def test_t26_a_hanging_token_endpoint_releases_the_lock_quickly(
    tenant, sandbox_app, sandbox_settings, settings
):
    sandbox = sandbox_settings
    access = sandbox.issue_token(user_email="alice@acme.example")
    with sandbox.state.lock:
        refresh = sandbox.state.grant_for_access_token(access).refresh_token
    conn = make_connection(tenant, sandbox_app, access=access, refresh=refresh)
    _expire(conn)
    settings.PAGERDUTY_TOKEN_TIMEOUT = (0.5, 1.0)
    sandbox.set_latency(5000)
    began = time.monotonic()

    try:
        with pytest.raises(PagerDutyUnavailable):
            connection_get_access_token(connection=Connection.objects.get(pk=conn.pk))
    finally:
        sandbox.set_latency(0)

    elapsed = time.monotonic() - began
    stored = Connection.objects.get(pk=conn.pk)
    assert elapsed < 3
    assert (stored.status, stored.refresh_token) == ("active", refresh)


def test_t27_distributed_lock_correctness():
    pytest.skip(
        "not applicable: refresh is serialised by the connection's row lock "
        "(SELECT … FOR UPDATE, T21/T22), no Redis or advisory lock is used"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ({"status": 400, "json": {"error": "invalid_grant"}}, "reconnect"),
        ({"status": 401, "json": {"error": "invalid_client"}}, "reconnect"),
        ({"status": 400, "json": {"error": "unauthorized_client"}}, "reconnect"),
        ({"status": 500, "body": "oops"}, "transient"),
        ({"status": 503, "json": {"error": "temporarily_unavailable"}}, "transient"),
        ({"status": 429, "headers": {"ratelimit-reset": "20"}}, "transient"),
        ({"body": requests.exceptions.ReadTimeout("slow")}, "transient"),
        ({"body": requests.exceptions.ConnectionError("down")}, "transient"),
    ],
    ids=[
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
        "500",
        "503",
        "429",
        "timeout",
        "connection-error",
    ],
)
def test_t28_refresh_failures_are_classified_and_never_retried_in_a_loop(
    world, mocked_responses, answer, outcome
):
    token = mocked_responses.post(TOKEN_URL, **answer)
    _expire(world.conn_a)
    expected = (
        ConnectionNeedsReconnect if outcome == "reconnect" else PagerDutyUnavailable
    )

    with pytest.raises(expected):
        connection_get_access_token(
            connection=Connection.objects.get(pk=world.conn_a.pk)
        )

    stored = Connection.objects.get(pk=world.conn_a.pk)
    assert token.call_count == 1
    assert stored.refresh_token == RT_A
    if outcome == "transient":
        assert stored.status == Connection.Status.ACTIVE
    else:
        assert stored.status == Connection.Status.NEEDS_RECONNECT
    if answer.get("json", {}).get("error") == "invalid_client":
        assert "credentials" in stored.last_error


@pytest.mark.django_db
def test_t29_idle_tenants_are_kept_alive_and_a_dead_one_asks_for_reconnect(
    world, mocked_responses
):
    fake = FakeTokenEndpoint(current=RT_A)
    mocked_responses.add_callback("POST", TOKEN_URL, callback=fake)
    start = timezone.now()
    # B is not due during the first 29 days; A is refreshed by the job.
    Connection.objects.filter(pk=world.conn_b.pk).update(
        refreshed_at=start + timedelta(days=100)
    )
    Connection.objects.filter(pk=world.conn_a.pk).update(refreshed_at=start)

    for day in range(1, 30):  # the daily job, for 29 idle days
        with time_machine.travel(start + timedelta(days=day), tick=False):
            call_command("pagerduty_keep_alive", stdout=StringIO())
    alive = Connection.objects.get(pk=world.conn_a.pk)
    # Tenant B's refresh token died unused (the job did not reach it):
    Connection.objects.filter(pk=world.conn_b.pk).update(refreshed_at=None)
    fake.current = "rotated-for-a-only"
    with time_machine.travel(start + timedelta(days=31), tick=False):
        call_command("pagerduty_keep_alive", stdout=StringIO())

    dead = Connection.objects.get(pk=world.conn_b.pk)
    assert fake.seen[:3] == [RT_A, "CANARY-RT-gen2", "CANARY-RT-gen3"]
    assert alive.status == Connection.Status.ACTIVE
    assert alive.refresh_token.startswith("CANARY-RT-gen")
    assert dead.status == Connection.Status.NEEDS_RECONNECT


@pytest.mark.django_db
def test_t30_refresh_after_the_one_year_maximum_asks_for_a_reconnect(
    world, mocked_responses
):
    mocked_responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with (
        time_machine.travel(timezone.now() + timedelta(days=366)),
        pytest.raises(ConnectionNeedsReconnect),
    ):
        connection_get_access_token(
            connection=Connection.objects.get(pk=world.conn_a.pk)
        )

    stored = Connection.objects.get(pk=world.conn_a.pk)
    assert stored.status == Connection.Status.NEEDS_RECONNECT
    assert "a year after connecting" in stored.last_error
    assert Connection.objects.get(pk=world.conn_b.pk).refresh_token == RT_B
