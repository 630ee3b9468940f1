from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from responses import matchers

from integrations.exceptions import PagerDutyUnavailable
from integrations.models import AuditEvent, Connection
from integrations.services.connections import connection_disconnect
from integrations.services.tokens import (
    ConnectionNeedsReconnect,
    connection_get_access_token,
    connection_mark_needs_reconnect,
    connection_refresh_tokens,
)
from tests.connect_fixtures import (
    CLIENT_ID,
    OLD_ACCESS,
    OLD_REFRESH,
    TOKEN_URL,
    connection_snapshot,
)
from tests.factories import CLIENT_SECRET

pytestmark = pytest.mark.django_db


def _expire(connection, *, minutes=-1):
    connection.access_expires_at = timezone.now() + timedelta(minutes=minutes)
    connection.save(update_fields=["access_expires_at"])
    return connection


def _refreshed(rsps, *, access="AT2", refresh="RT2", **extra):
    body = {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "bearer",
        "scope": "openid incidents.read incidents.write services.read",
        "expires_in": 86400,
        **extra,
    }
    return rsps.post(TOKEN_URL, json={k: v for k, v in body.items() if v is not None})


def test_fresh_token_is_returned_without_a_refresh(connection, mocked_responses):
    token = connection_get_access_token(connection=connection)

    assert token == OLD_ACCESS
    assert len(mocked_responses.calls) == 0


def test_expired_token_is_refreshed_and_the_rotated_token_stored(
    connection, mocked_responses
):
    _expire(connection)
    mocked_responses.post(
        TOKEN_URL,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "refresh_token": OLD_REFRESH,
                }
            )
        ],
        json={
            "access_token": "AT2",
            "refresh_token": "RT2",
            "token_type": "bearer",
            "scope": "openid incidents.read",
            "expires_in": 86400,
        },
    )

    token = connection_get_access_token(connection=connection)

    connection.refresh_from_db()
    assert token == "AT2"
    assert (connection.access_token, connection.refresh_token) == ("AT2", "RT2")
    assert connection.granted_scopes == "openid incidents.read"
    assert connection.access_expires_at > timezone.now() + timedelta(hours=23)
    assert connection.status == Connection.Status.ACTIVE


def test_token_inside_the_margin_is_refreshed(connection, mocked_responses):
    _expire(connection, minutes=4)
    _refreshed(mocked_responses)

    assert connection_get_access_token(connection=connection) == "AT2"


def test_refresh_without_a_new_refresh_token_keeps_the_old_one(
    connection, mocked_responses
):
    _expire(connection)
    _refreshed(mocked_responses, refresh=None)

    connection_get_access_token(connection=connection)

    connection.refresh_from_db()
    assert connection.refresh_token == OLD_REFRESH
    assert connection.access_token == "AT2"


def test_three_refreshes_send_each_rotated_token_in_turn(connection, mocked_responses):
    for n in (2, 3, 4):
        previous = OLD_REFRESH if n == 2 else f"RT{n - 1}"
        mocked_responses.post(
            TOKEN_URL,
            match=[
                matchers.urlencoded_params_matcher(
                    {"refresh_token": previous}, strict_match=False
                )
            ],
            json={
                "access_token": f"AT{n}",
                "refresh_token": f"RT{n}",
                "token_type": "bearer",
                "expires_in": 86400,
            },
        )

    for _ in range(3):
        connection_refresh_tokens(connection=connection, force=True)

    connection.refresh_from_db()
    assert connection.refresh_token == "RT4"


def test_caller_holding_a_stale_copy_reuses_the_stored_refresh(
    connection, mocked_responses
):
    stale = _expire(connection)
    fresh = Connection.objects.get(pk=connection.pk)
    fresh.access_token = "AT-from-sibling"
    fresh.access_expires_at = timezone.now() + timedelta(days=1)
    fresh.save()

    token = connection_get_access_token(connection=stale)

    assert token == "AT-from-sibling"
    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, "invalid_grant"), (401, "invalid_client"), (400, "invalid_request")],
)
def test_refusal_marks_the_connection_needs_reconnect(
    connection, mocked_responses, status, error
):
    _expire(connection)
    mocked_responses.post(TOKEN_URL, status=status, json={"error": error})

    with pytest.raises(ConnectionNeedsReconnect):
        connection_get_access_token(connection=connection)

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert "reconnect" in connection.last_error
    assert connection.refresh_token == OLD_REFRESH
    event = AuditEvent.objects.get(action="connection.refresh_failed")
    assert event.details == {"connection_id": connection.pk, "reason": error}


def test_invalid_grant_explains_expiry_in_words(connection, mocked_responses):
    _expire(connection)
    mocked_responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(ConnectionNeedsReconnect):
        connection_get_access_token(connection=connection)

    connection.refresh_from_db()
    assert connection.last_error.startswith(
        "PagerDuty no longer accepts this connection's refresh token"
    )


@pytest.mark.parametrize(
    "mock",
    [
        {"status": 500, "json": {"error": "server_error"}},
        {"status": 429, "json": {"error": {"code": 2020}}},
        {"status": 502, "body": "bad gateway"},
        {"body": requests.exceptions.ReadTimeout("slow")},
        {"status": 200, "json": {"access_token": "x", "expires_in": "abc"}},
    ],
    ids=["500", "429", "502", "timeout", "malformed"],
)
def test_transient_failure_leaves_the_connection_untouched(
    connection, tenant, mocked_responses, mock
):
    _expire(connection)
    before = connection_snapshot(tenant)
    mocked_responses.post(TOKEN_URL, **mock)

    with pytest.raises(PagerDutyUnavailable):
        connection_get_access_token(connection=connection)

    assert connection_snapshot(tenant) == before
    assert not AuditEvent.objects.exists()


def test_connection_needing_reconnect_is_not_refreshed(connection, mocked_responses):
    connection.status = Connection.Status.NEEDS_RECONNECT
    connection.save()

    with pytest.raises(ConnectionNeedsReconnect):
        connection_get_access_token(connection=connection)

    assert len(mocked_responses.calls) == 0


def test_connection_without_its_app_needs_reconnect(connection, mocked_responses):
    _expire(connection)
    connection.oauth_client.delete()
    connection.refresh_from_db()

    with pytest.raises(ConnectionNeedsReconnect):
        connection_get_access_token(connection=connection)

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT


def test_mark_needs_reconnect_records_the_reason(connection):
    connection_mark_needs_reconnect(
        connection=connection, reason="PagerDuty answered 401 Unauthorized."
    )

    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_RECONNECT
    assert connection.last_error == "PagerDuty answered 401 Unauthorized."
    assert connection.access_token == OLD_ACCESS


def test_mark_needs_reconnect_leaves_a_revoked_connection_alone(connection):
    connection.status = Connection.Status.REVOKED
    connection.save()

    connection_mark_needs_reconnect(connection=connection, reason="401")

    connection.refresh_from_db()
    assert connection.status == Connection.Status.REVOKED


def test_disconnect_deletes_tokens_and_audits(connection, tenant_admin):
    connection_disconnect(connection=connection, actor=tenant_admin)

    connection.refresh_from_db()
    assert connection.status == Connection.Status.REVOKED
    assert (connection.access_token, connection.refresh_token) == ("", "")
    event = AuditEvent.objects.get()
    assert event.action == "connection.disconnected"
    assert event.actor == tenant_admin


def test_callers_copy_is_updated_so_the_next_call_needs_no_refresh(
    connection, mocked_responses
):
    _expire(connection)
    _refreshed(mocked_responses)

    first = connection_get_access_token(connection=connection)
    second = connection_get_access_token(connection=connection)

    assert (first, second) == ("AT2", "AT2")
    assert len(mocked_responses.calls) == 1


def test_callers_copy_learns_that_a_reconnect_is_needed(connection, mocked_responses):
    _expire(connection)
    mocked_responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    with pytest.raises(ConnectionNeedsReconnect):
        connection_get_access_token(connection=connection)

    assert connection.status == Connection.Status.NEEDS_RECONNECT
