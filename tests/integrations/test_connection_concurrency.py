"""Single-flight refresh under real row locks (PostgreSQL only)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from integrations.models import Connection
from integrations.services.tokens import connection_get_access_token
from tests.connect_fixtures import TOKEN_URL
from tests.factories import UserFactory
from tests.helpers import run_in_threads, skip_unless_available

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _environments(seeded_environments):
    return seeded_environments


THREADS = 20


@pytest.mark.parametrize("kind", [Connection.Kind.TENANT, Connection.Kind.PERSONAL])
@pytest.mark.parametrize("rep", range(3))
def test_twenty_threads_on_an_expired_connection_refresh_once(
    connection, mocked_responses, rep, kind
):
    skip_unless_available(
        db_connection.vendor == "postgresql",
        "row locks need PostgreSQL: set DATABASE_URL=postgres://…",
    )
    connection.access_expires_at = timezone.now() - timedelta(minutes=1)
    if kind == Connection.Kind.PERSONAL:
        # A person's own link refreshes the same way, once.
        connection.kind = kind
        connection.user = UserFactory()
    connection.save()
    calls = []

    def token_endpoint(request):
        calls.append(request.body)
        time.sleep(0.2)  # widen the race window
        body = (
            '{"access_token": "AT2", "refresh_token": "RT2", '
            '"token_type": "bearer", "expires_in": 86400}'
        )
        return 200, {"Content-Type": "application/json"}, body

    mocked_responses.add_callback("POST", TOKEN_URL, callback=token_endpoint)

    def get_token():
        fresh = Connection.objects.get(pk=connection.pk)
        return connection_get_access_token(connection=fresh)

    results, errors = run_in_threads(get_token, THREADS)

    stored = Connection.objects.get(pk=connection.pk)
    assert errors == []
    assert results == ["AT2"] * THREADS
    assert len(calls) == 1
    assert (stored.access_token, stored.refresh_token) == ("AT2", "RT2")
    assert stored.status == Connection.Status.ACTIVE


def test_twenty_threads_on_a_fresh_connection_never_refresh(
    connection, mocked_responses
):
    skip_unless_available(
        db_connection.vendor == "postgresql",
        "row locks need PostgreSQL: set DATABASE_URL=postgres://…",
    )

    def get_token():
        fresh = Connection.objects.get(pk=connection.pk)
        return connection_get_access_token(connection=fresh)

    results, errors = run_in_threads(get_token, THREADS)

    assert errors == []
    assert set(results) == {connection.access_token}
    assert len(mocked_responses.calls) == 0


def test_waiting_for_a_stuck_refresh_gives_up_with_unavailable(
    connection, mocked_responses, monkeypatch
):
    skip_unless_available(
        db_connection.vendor == "postgresql",
        "row locks need PostgreSQL: set DATABASE_URL=postgres://…",
    )
    from django.db import transaction

    from integrations.exceptions import PagerDutyUnavailable
    from integrations.services import tokens

    monkeypatch.setattr(tokens, "LOCK_TIMEOUT_SECONDS", 1)
    connection.access_expires_at = timezone.now() - timedelta(minutes=1)
    connection.save()
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Connection.objects.select_for_update().get(pk=connection.pk)
                locked.set()
                release.wait(10)
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    locked.wait(10)
    began = time.monotonic()
    try:
        with pytest.raises(PagerDutyUnavailable):
            connection_get_access_token(connection=connection)
        waited = time.monotonic() - began
    finally:
        release.set()
        holder.join(10)

    assert 0.9 < waited < 5
    assert len(mocked_responses.calls) == 0
    assert Connection.objects.get(pk=connection.pk).status == "active"
