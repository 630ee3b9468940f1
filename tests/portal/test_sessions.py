from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _sign_in(client):
    return client.post(
        reverse("account_login"), {"login": "alice", "password": "password"}
    )


def test_activity_keeps_a_session_alive_past_the_idle_timeout(
    client, tenant_admin, tenant, settings
):
    settings.SESSION_IDLE_TIMEOUT = 3600
    home = reverse("integrations:tenant_home", args=[tenant.pk])
    _sign_in(client)
    start = timezone.now()

    statuses = []
    for minutes in (50, 100, 150):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            statuses.append(client.get(home).status_code)

    assert statuses == [200, 200, 200]


def test_an_idle_session_is_signed_out(client, tenant_admin, tenant, settings):
    settings.SESSION_IDLE_TIMEOUT = 3600
    home = reverse("integrations:tenant_home", args=[tenant.pk])
    _sign_in(client)

    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        response = client.get(home)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_the_500_page_names_the_request_id(rf):
    from portal.views import server_error

    request = rf.get("/")
    request.request_id = "abc123def456"

    response = server_error(request)

    assert response.status_code == 500
    assert "abc123def456" in response.content.decode()
