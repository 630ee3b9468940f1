import json
import logging
import threading
import traceback
from datetime import UTC, datetime
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from responses import matchers

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyOffsetCapReached,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.models import Connection
from integrations.pagerduty.client import Page, PagerDutyClient, RateLimit
from tests.helpers import load_json

API = "https://api.pagerduty.test"
TOKEN = "CANARY-AT-pdus+_0XBPWQQ_client"
EMAIL = "earline@example.com"
ACCEPT = "application/vnd.pagerduty+json;version=2"
INCIDENTS = f"{API}/incidents"
INCIDENT = f"{API}/incidents/PT4KHLK"


class Sleeps(list):
    """Record waits instead of sleeping; a runaway retry loop fails fast."""

    def append(self, seconds):
        assert len(self) < 20, "retrying without end"
        super().append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make_client(sleeps):
    def make(**options):
        options.setdefault("api_url", API)
        options.setdefault("token_provider", lambda: TOKEN)
        options.setdefault("from_email", EMAIL)
        options.setdefault("sleep", sleeps.append)
        return PagerDutyClient(**options)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


def _incidents(start, count):
    return [
        {"id": f"P{number:05d}", "type": "incident"}
        for number in range(start, start + count)
    ]


def test_get_sends_the_version_and_bearer_headers_only(client, mocked_responses):
    mocked_responses.get(
        INCIDENT,
        match=[
            matchers.header_matcher(
                {"Accept": ACCEPT, "Authorization": f"Bearer {TOKEN}"}
            )
        ],
        json=load_json("pagerduty/incident.json"),
    )

    incident = client.get_entity("/incidents/PT4KHLK", "incident")

    assert incident["id"] == "PT4KHLK"
    assert incident["status"] == "acknowledged"
    sent = mocked_responses.calls[0].request.headers
    assert "From" not in sent
    assert "Content-Type" not in sent


def test_every_call_uses_the_configured_timeout(
    make_client, settings, mocked_responses
):
    settings.PAGERDUTY_TIMEOUT = (1.5, 7.0)
    mocked_responses.get(INCIDENT, json=load_json("pagerduty/incident.json"))
    mocked_responses.post(
        f"{INCIDENT}/notes", json=load_json("pagerduty/incident_note.json")
    )

    make_client().get("/incidents/PT4KHLK")
    make_client(timeout=(2, 3)).post("/incidents/PT4KHLK/notes", {"note": {}})

    assert mocked_responses.calls[0].request.req_kwargs["timeout"] == (1.5, 7.0)
    assert mocked_responses.calls[1].request.req_kwargs["timeout"] == (2, 3)


@pytest.mark.parametrize(
    ("method", "path", "sends_from"),
    [
        ("POST", "/incidents", True),
        ("PUT", "/incidents", True),
        ("PUT", "/incidents/PT4KHLK", True),
        ("POST", "/incidents/PT4KHLK/notes", True),
        ("POST", "/incidents/PT4KHLK/snooze", True),
        ("PUT", "/incidents/PT4KHLK/merge", True),
        ("POST", "/users", True),
        ("POST", "/escalation_policies", True),
        ("POST", "/services", False),
        ("PUT", "/services/PIJ90N7", False),
        ("PUT", "/users/PXPGF42", False),
        ("POST", "/incidents/PT4KHLK/responder_requests", False),
        ("POST", "/webhook_subscriptions/PY1OPKS/ping", False),
        ("DELETE", "/incidents/PT4KHLK/notes/PWL7QXS", False),
    ],
)
def test_from_header_is_sent_only_on_operations_that_take_it(
    client, mocked_responses, method, path, sends_from
):
    mocked_responses.add(method, f"{API}{path}", json={})

    client.request(method, path, json={"x": {}} if method != "DELETE" else None)

    sent = mocked_responses.calls[0].request.headers
    assert sent.get("From") == (EMAIL if sends_from else None)


def test_from_header_is_omitted_without_an_email(make_client, mocked_responses):
    mocked_responses.post(
        INCIDENTS, status=201, json=load_json("pagerduty/incident.json")
    )

    make_client(from_email="").create_entity("/incidents", "incident", {"title": "x"})

    assert "From" not in mocked_responses.calls[0].request.headers


def test_create_entity_wraps_the_body_and_unwraps_the_answer(client, mocked_responses):
    data = {
        "type": "incident",
        "title": "The server is on fire.",
        "service": {"id": "PIJ90N7", "type": "service_reference"},
    }
    mocked_responses.post(
        INCIDENTS,
        match=[
            matchers.json_params_matcher({"incident": data}),
            matchers.header_matcher(
                {"Content-Type": "application/json", "From": EMAIL}
            ),
        ],
        status=201,
        json=load_json("pagerduty/incident.json"),
    )

    incident = client.create_entity("/incidents", "incident", data)

    assert incident["id"] == "PT4KHLK"


def test_update_entity_puts_the_wrapped_change(client, mocked_responses):
    change = {"type": "incident_reference", "status": "resolved"}
    mocked_responses.put(
        INCIDENT,
        match=[matchers.json_params_matcher({"incident": change})],
        json=load_json("pagerduty/incident_resolved.json"),
    )

    incident = client.update_entity("/incidents/PT4KHLK", "incident", change)

    assert incident["status"] == "resolved"


def test_delete_returns_an_empty_dict_for_no_content(client, mocked_responses):
    mocked_responses.delete(f"{INCIDENT}/notes/PWL7QXS", status=204)

    assert client.delete("/incidents/PT4KHLK/notes/PWL7QXS") == {}


def test_a_missing_wrapped_entity_is_an_error(client, mocked_responses):
    mocked_responses.get(INCIDENT, json={"incidents": []})

    with pytest.raises(PagerDutyError, match="without the expected incident"):
        client.get_entity("/incidents/PT4KHLK", "incident")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_idempotent_calls_retry_5xx_with_exponential_backoff(
    client, sleeps, mocked_responses, method
):
    mocked_responses.add(method, INCIDENT, status=502, body="<html>Bad gateway</html>")
    mocked_responses.add(method, INCIDENT, status=503)
    mocked_responses.add(method, INCIDENT, json={"incident": {"id": "PT4KHLK"}})

    body = client.request(method, "/incidents/PT4KHLK")

    assert body == {"incident": {"id": "PT4KHLK"}}
    assert len(mocked_responses.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_get_gives_up_after_max_retries(make_client, sleeps, mocked_responses):
    mocked_responses.get(INCIDENT, status=500, json={"error": {"message": "Oops"}})

    with pytest.raises(PagerDutyUnavailable) as caught:
        make_client(max_retries=3, backoff=2).get("/incidents/PT4KHLK")

    assert str(caught.value) == "PagerDuty is unavailable"
    assert caught.value.status == 500
    assert len(mocked_responses.calls) == 4
    assert sleeps == [2, 4, 8]


def test_post_is_not_retried_on_5xx(client, sleeps, mocked_responses):
    mocked_responses.post(INCIDENTS, status=503)

    with pytest.raises(PagerDutyUnavailable, match="^PagerDuty is unavailable$"):
        client.post("/incidents", {"incident": {"title": "x"}})

    assert len(mocked_responses.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("connection refused"),
        requests.ConnectTimeout("connect timed out"),
        requests.ReadTimeout("read timed out"),
    ],
)
def test_get_retries_network_failures(client, sleeps, mocked_responses, failure):
    mocked_responses.get(INCIDENT, body=failure)
    mocked_responses.get(INCIDENT, json=load_json("pagerduty/incident.json"))

    incident = client.get_entity("/incidents/PT4KHLK", "incident")

    assert incident["id"] == "PT4KHLK"
    assert len(mocked_responses.calls) == 2
    assert sleeps == [0.5]


def test_persistent_network_failure_reads_unavailable(client, mocked_responses):
    failure = requests.ConnectionError(f"refused with Bearer {TOKEN}")
    mocked_responses.get(INCIDENT, body=failure)

    with pytest.raises(PagerDutyUnavailable) as caught:
        client.get("/incidents/PT4KHLK")

    assert str(caught.value) == "PagerDuty is unavailable"
    assert TOKEN not in "".join(traceback.format_exception(caught.value))
    assert len(mocked_responses.calls) == 3


def test_post_timeout_is_not_retried(client, sleeps, mocked_responses):
    mocked_responses.post(f"{INCIDENT}/notes", body=requests.ReadTimeout("timed out"))

    with pytest.raises(PagerDutyUnavailable):
        client.post("/incidents/PT4KHLK/notes", {"note": {"content": "x"}})

    assert len(mocked_responses.calls) == 1
    assert sleeps == []


def test_short_rate_limit_wait_sleeps_the_reset_then_retries(
    client, sleeps, mocked_responses
):
    mocked_responses.get(
        INCIDENTS,
        status=429,
        headers={"ratelimit-remaining": "0", "ratelimit-reset": "2"},
        json=load_json("pagerduty/error_rate_limit.json"),
    )
    mocked_responses.get(INCIDENTS, json=load_json("pagerduty/incidents_list.json"))

    page = client.list_page("/incidents", key="incidents")

    assert [incident["id"] for incident in page.items] == ["PT4KHLK"]
    assert sleeps == [2]
    assert len(mocked_responses.calls) == 2


def test_interactive_client_gives_up_on_a_wait_over_two_seconds(
    client, sleeps, mocked_responses
):
    mocked_responses.get(INCIDENTS, status=429, headers={"ratelimit-reset": "3"})

    with pytest.raises(PagerDutyRateLimited) as caught:
        client.get("/incidents")

    assert caught.value.retry_after == 3
    assert sleeps == []
    assert len(mocked_responses.calls) == 1


def test_background_client_may_wait_longer_for_the_reset(
    make_client, sleeps, mocked_responses
):
    client = make_client(max_rate_limit_wait=30)
    mocked_responses.get(INCIDENTS, status=429, headers={"ratelimit-reset": "20"})
    mocked_responses.get(INCIDENTS, json=load_json("pagerduty/incidents_list.json"))

    client.get("/incidents")

    assert sleeps == [20]
    assert len(mocked_responses.calls) == 2


def test_short_rate_limit_wait_also_retries_a_post(client, sleeps, mocked_responses):
    mocked_responses.post(INCIDENTS, status=429, headers={"ratelimit-reset": "1"})
    mocked_responses.post(
        INCIDENTS, status=201, json=load_json("pagerduty/incident.json")
    )

    client.create_entity("/incidents", "incident", {"title": "x"})

    assert sleeps == [1]
    assert len(mocked_responses.calls) == 2


def test_long_rate_limit_wait_raises_with_the_reset(client, sleeps, mocked_responses):
    mocked_responses.get(
        INCIDENTS,
        status=429,
        headers={
            "ratelimit-limit": "960",
            "ratelimit-remaining": "0",
            "ratelimit-reset": "42",
        },
        json=load_json("pagerduty/error_rate_limit.json"),
    )

    with pytest.raises(PagerDutyRateLimited) as caught:
        client.get("/incidents")

    assert str(caught.value) == (
        "PagerDuty is rate limiting this connection; try again in 42 s"
    )
    assert caught.value.retry_after == 42
    assert sleeps == []
    assert len(mocked_responses.calls) == 1


def test_rate_limit_without_headers_raises_without_waiting(
    client, sleeps, mocked_responses
):
    mocked_responses.get(INCIDENTS, status=429)

    with pytest.raises(PagerDutyRateLimited) as caught:
        client.get("/incidents")

    assert caught.value.retry_after == 60
    assert str(caught.value) == (
        "PagerDuty is rate limiting this connection; try again in 60 s"
    )
    assert sleeps == []


def test_rate_limit_is_waited_out_once_only(client, sleeps, mocked_responses):
    mocked_responses.get(INCIDENTS, status=429, headers={"ratelimit-reset": "2"})
    mocked_responses.get(INCIDENTS, status=429, headers={"ratelimit-reset": "4"})

    with pytest.raises(PagerDutyRateLimited) as caught:
        client.get("/incidents")

    assert caught.value.retry_after == 4
    assert sleeps == [2]
    assert len(mocked_responses.calls) == 2


def test_a_probe_answered_ok_ends_the_cooldown_for_every_client(
    make_client, sleeps, mocked_responses
):
    listed = load_json("pagerduty/incidents_list.json")
    mocked_responses.get(INCIDENTS, status=429, headers={"ratelimit-reset": "1"})
    mocked_responses.get(INCIDENTS, json=listed)
    mocked_responses.get(INCIDENTS, json=listed)

    make_client().get("/incidents")
    make_client().get("/incidents")

    assert sleeps == [1]
    assert len(mocked_responses.calls) == 3


def test_the_cooldown_belongs_to_one_connection(make_client, mocked_responses):
    mocked_responses.get(INCIDENTS, status=429, headers={"ratelimit-reset": "30"})
    mocked_responses.get(INCIDENTS, json=load_json("pagerduty/incidents_list.json"))

    with pytest.raises(PagerDutyRateLimited):
        make_client(rate_limit_key="connection:1").get("/incidents")
    make_client(rate_limit_key="connection:2").get("/incidents")
    with pytest.raises(PagerDutyRateLimited) as caught:
        make_client(rate_limit_key="connection:1").get("/incidents")

    assert caught.value.retry_after == 30
    assert len(mocked_responses.calls) == 2


def test_last_rate_limit_headers_are_exposed(client, mocked_responses):
    mocked_responses.get(
        INCIDENTS,
        headers={
            "ratelimit-limit": "960",
            "ratelimit-remaining": "958",
            "ratelimit-reset": "31",
        },
        json=load_json("pagerduty/incidents_list.json"),
    )
    assert client.rate_limit is None

    client.get("/incidents")

    assert client.rate_limit == RateLimit(limit=960, remaining=958, reset=31)


def test_unauthorized_flags_the_connection_once_and_is_not_retried(
    make_client, sleeps, mocked_responses
):
    flagged = []
    mocked_responses.get(
        INCIDENTS, status=401, json={"error": {"message": "Unauthorized", "code": 2006}}
    )

    with pytest.raises(PagerDutyAuthError) as caught:
        make_client(on_unauthorized=lambda: flagged.append(True)).get("/incidents")

    assert flagged == [True]
    assert caught.value.status == 401
    assert "reconnect" in str(caught.value)
    assert len(mocked_responses.calls) == 1
    assert sleeps == []


def test_unauthorized_is_retried_once_when_the_callback_has_a_fresh_token(
    make_client, mocked_responses
):
    tokens = iter(["old-token", "fresh-token", "fresh-token"])
    calls = []
    mocked_responses.get(INCIDENTS, status=401, json={})
    mocked_responses.get(INCIDENTS, status=401, json={})

    client = make_client(
        token_provider=lambda: next(tokens),
        on_unauthorized=lambda: calls.append(1) or True,
    )
    with pytest.raises(PagerDutyAuthError):
        client.get("/incidents")

    sent = [c.request.headers["Authorization"] for c in mocked_responses.calls]
    assert sent == ["Bearer old-token", "Bearer fresh-token"]
    assert calls == [1, 1]


def test_forbidden_names_the_scope_the_caller_gives(client, mocked_responses):
    mocked_responses.put(INCIDENT, status=403, json={"error": {"message": "Forbidden"}})

    with pytest.raises(PagerDutyAuthError) as caught:
        client.update_entity(
            "/incidents/PT4KHLK",
            "incident",
            {"status": "acknowledged"},
            required_scope="incidents.write",
        )

    assert str(caught.value) == (
        "PagerDuty refused: the token lacks incidents.write "
        "or your PagerDuty role lacks permission"
    )
    assert caught.value.required_scope == "incidents.write"
    assert caught.value.status == 403


def test_forbidden_prefers_the_scopes_pagerduty_names(client, mocked_responses):
    mocked_responses.post(
        f"{API}/services",
        status=403,
        json=load_json("pagerduty/error_missing_scope.json"),
    )

    with pytest.raises(PagerDutyAuthError) as caught:
        client.post("/services", {"service": {}}, required_scope="services.read")

    assert str(caught.value) == (
        "PagerDuty refused: the token lacks services.write "
        "or your PagerDuty role lacks permission"
    )
    assert caught.value.required_scope == "services.write"


@pytest.mark.parametrize(
    ("body", "lacks"),
    [
        ("", "the scope this needs"),
        ("<html>Forbidden</html>", "the scope this needs"),
        ('{"error": {"required_scopes": "<b>x</b>"}}', "the scope this needs"),
        ('{"required_scopes": ["users.read", 7]}', "users.read"),
        ('{"required_scopes": "users.read, teams.read"}', "users.read and teams.read"),
    ],
)
def test_forbidden_reads_well_whatever_the_body(client, mocked_responses, body, lacks):
    mocked_responses.get(f"{API}/users", status=403, body=body)

    with pytest.raises(PagerDutyAuthError) as caught:
        client.get("/users")

    assert str(caught.value) == (
        f"PagerDuty refused: the token lacks {lacks} "
        "or your PagerDuty role lacks permission"
    )


def test_client_error_keeps_pagerdutys_own_message(client, mocked_responses):
    mocked_responses.put(
        INCIDENT,
        status=400,
        json=load_json("pagerduty/error_incident_already_resolved.json"),
    )

    with pytest.raises(PagerDutyError) as caught:
        client.update_entity("/incidents/PT4KHLK", "incident", {"status": "resolved"})

    assert type(caught.value) is PagerDutyError
    assert str(caught.value) == "Incident Already Resolved"
    assert caught.value.code == 1001
    assert caught.value.status == 400
    assert caught.value.errors == ("Incident Already Resolved",)
    assert len(mocked_responses.calls) == 1


def test_client_error_appends_pagerdutys_details(client, mocked_responses):
    mocked_responses.post(
        INCIDENTS, status=400, json=load_json("pagerduty/error_invalid_input.json")
    )

    with pytest.raises(PagerDutyError) as caught:
        client.create_entity("/incidents", "incident", {"title": ""})

    assert str(caught.value) == "Invalid Input Provided: Title cannot be empty."
    assert caught.value.code == 2001


@pytest.mark.parametrize(
    "body", ["Not Found", "<html><body>404</body></html>", "[]", '{"error": "gone"}']
)
def test_client_error_without_pagerduty_json_is_generic(client, mocked_responses, body):
    mocked_responses.get(f"{API}/services/PNOPE00", status=404, body=body)

    with pytest.raises(PagerDutyError) as caught:
        client.get("/services/PNOPE00")

    assert str(caught.value) == "PagerDuty refused the request (HTTP 404)"
    assert caught.value.status == 404


def test_success_that_is_not_json_is_an_error(client, mocked_responses):
    mocked_responses.get(INCIDENTS, body="<html>captive portal</html>")

    with pytest.raises(PagerDutyError, match="not JSON"):
        client.get("/incidents")


def test_an_array_body_is_returned_as_it_is(client, mocked_responses):
    overrides = f"{API}/schedules/PSCH001/overrides"
    results = [{"status": 201, "override": {"id": "POVR001"}}]
    mocked_responses.post(overrides, status=201, json=results)

    body = client.post("/schedules/PSCH001/overrides", {"overrides": []})

    assert body == results


@pytest.mark.parametrize("body", ["a string", 42, None])
def test_a_body_that_is_neither_object_nor_array_is_an_error(
    client, mocked_responses, body
):
    mocked_responses.get(INCIDENTS, body=json.dumps(body))

    with pytest.raises(PagerDutyError, match="unexpected shape"):
        client.get("/incidents")


def test_entity_helpers_refuse_an_array_body(client, mocked_responses):
    mocked_responses.get(INCIDENT, json=[{"incident": {"id": "PT4KHLK"}}])

    with pytest.raises(PagerDutyError, match="without the expected incident"):
        client.get_entity("/incidents/PT4KHLK", "incident")


def test_redirects_are_not_followed(client, mocked_responses):
    mocked_responses.get(
        INCIDENTS, status=301, headers={"Location": "https://elsewhere.test/incidents"}
    )

    with pytest.raises(PagerDutyError, match="redirect"):
        client.get("/incidents")

    assert len(mocked_responses.calls) == 1


def test_list_page_sends_offset_limit_and_total(client, mocked_responses):
    mocked_responses.get(
        INCIDENTS,
        match=[
            matchers.query_string_matcher(
                "statuses[]=triggered&offset=50&limit=25&total=true"
            )
        ],
        json={
            "incidents": _incidents(50, 25),
            "offset": 50,
            "limit": 25,
            "more": True,
            "total": 180,
        },
    )

    page = client.list_page(
        "/incidents",
        key="incidents",
        params={"statuses[]": ["triggered"]},
        offset=50,
        limit=25,
        total=True,
    )

    assert page == Page(
        items=_incidents(50, 25), offset=50, limit=25, more=True, total=180
    )
    assert page.next_offset == 75


@pytest.mark.parametrize(("offset", "limit"), [(0, 0), (0, 101), (-1, 25)])
def test_list_page_rejects_limits_pagerduty_refuses(client, offset, limit):
    with pytest.raises(ValueError, match="must"):
        client.list_page("/incidents", key="incidents", offset=offset, limit=limit)


def test_list_page_past_the_cap_raises_without_calling(client, mocked_responses):
    with pytest.raises(PagerDutyOffsetCapReached) as caught:
        client.list_page("/incidents", key="incidents", offset=9_950, limit=100)

    assert "narrow the date window" in str(caught.value)
    assert (caught.value.offset, caught.value.limit) == (9_950, 100)
    assert len(mocked_responses.calls) == 0


def test_iter_all_follows_pages_until_more_is_false(client, mocked_responses):
    for offset, count, more in [(0, 100, True), (100, 100, True), (200, 37, False)]:
        mocked_responses.get(
            INCIDENTS,
            match=[
                matchers.query_string_matcher(
                    f"urgencies[]=high&offset={offset}&limit=100"
                )
            ],
            json={"incidents": _incidents(offset, count), "more": more},
        )

    items = list(
        client.iter_all("/incidents", key="incidents", params={"urgencies": ["high"]})
    )

    assert items == _incidents(0, 237)


def test_iter_all_advances_by_what_pagerduty_sent(client, mocked_responses):
    mocked_responses.get(
        INCIDENTS,
        match=[matchers.query_string_matcher("offset=0&limit=50")],
        json={"incidents": _incidents(0, 30), "more": True},
    )
    mocked_responses.get(
        INCIDENTS,
        match=[matchers.query_string_matcher("offset=30&limit=50")],
        json={"incidents": _incidents(30, 5), "more": False},
    )

    items = list(client.iter_all("/incidents", key="incidents", page_size=50))

    assert items == _incidents(0, 35)


def _paged_callback(total):
    def callback(request):
        query = parse_qs(urlsplit(request.url).query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        count = max(0, min(limit, total - offset))
        body = {
            "incidents": _incidents(offset, count),
            "offset": offset,
            "limit": limit,
            "more": offset + count < total,
        }
        return 200, {}, json.dumps(body)

    return callback


def test_iter_all_raises_at_the_ten_thousand_cap(client, mocked_responses):
    mocked_responses.add_callback("GET", INCIDENTS, callback=_paged_callback(12_000))
    received = []

    with pytest.raises(PagerDutyOffsetCapReached) as caught:
        received.extend(client.iter_all("/incidents", key="incidents", page_size=75))

    assert len(received) == 10_000
    assert received[-1]["id"] == "P09999"
    last = parse_qs(urlsplit(mocked_responses.calls[-1].request.url).query)
    assert (last["offset"], last["limit"]) == (["9975"], ["25"])
    assert len(mocked_responses.calls) == 134
    assert "narrow the date window" in str(caught.value)


def test_iter_all_of_exactly_ten_thousand_items_completes(client, mocked_responses):
    mocked_responses.add_callback("GET", INCIDENTS, callback=_paged_callback(10_000))

    items = list(client.iter_all("/incidents", key="incidents"))

    assert len(items) == 10_000
    assert len(mocked_responses.calls) == 100


def test_multi_value_params_are_encoded_as_pagerduty_documents(
    client, mocked_responses
):
    mocked_responses.get(INCIDENTS, json=load_json("pagerduty/incidents_list.json"))

    client.get(
        "/incidents",
        {
            "statuses[]": ["triggered", "acknowledged"],
            "include": ("services", "assignees"),
            "since": datetime(2026, 11, 1, tzinfo=UTC),
            "date_range": None,
            "total": False,
        },
    )

    url = urlsplit(mocked_responses.calls[0].request.url)
    assert url.path == "/incidents"
    assert parse_qsl(url.query) == [
        ("statuses[]", "triggered"),
        ("statuses[]", "acknowledged"),
        ("include[]", "services"),
        ("include[]", "assignees"),
        ("since", "2026-11-01T00:00:00+00:00"),
        ("total", "false"),
    ]


def test_the_token_provider_is_asked_before_every_request(
    make_client, mocked_responses
):
    tokens = iter(["token-one", "token-two"])
    client = make_client(token_provider=lambda: next(tokens))
    for token in ("token-one", "token-two"):
        mocked_responses.get(
            INCIDENTS,
            match=[matchers.header_matcher({"Authorization": f"Bearer {token}"})],
            json=load_json("pagerduty/incidents_list.json"),
        )

    client.get("/incidents")
    client.get("/incidents")

    assert len(mocked_responses.calls) == 2


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak", None])
def test_an_unusable_token_is_refused_before_sending(
    make_client, mocked_responses, token
):
    with pytest.raises(PagerDutyAuthError) as caught:
        make_client(token_provider=lambda: token).get("/incidents")

    assert str(caught.value) == (
        "The PagerDuty connection has no usable token; reconnect PagerDuty."
    )
    assert len(mocked_responses.calls) == 0


def test_tokens_never_reach_logs_or_errors(client, mocked_responses, caplog):
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"message": f"Bad token {TOKEN}", "errors": [f"Bearer {TOKEN}"]}}
    mocked_responses.get(INCIDENTS, status=500)
    mocked_responses.get(INCIDENTS, body=requests.ConnectionError(f"Bearer {TOKEN}"))
    mocked_responses.get(
        INCIDENTS, status=200, json=load_json("pagerduty/incidents_list.json")
    )
    mocked_responses.put(INCIDENT, status=400, json=echo)
    mocked_responses.get(f"{API}/users", status=401, json=echo)
    errors = []

    client.get("/incidents")
    for call in (
        lambda: client.put("/incidents/PT4KHLK", {"incident": {}}),
        lambda: client.get("/users"),
    ):
        with pytest.raises(PagerDutyError) as caught:
            call()
        errors.append(caught.value)

    assert "PagerDuty GET /incidents answered 500 (attempt 1)" in caplog.text
    assert "PagerDuty GET /incidents failed: ConnectionError (attempt 2)" in caplog.text
    assert "PagerDuty PUT /incidents/PT4KHLK answered 400 (attempt 1)" in caplog.text
    assert TOKEN not in caplog.text
    assert str(errors[0]) == "Bad token [redacted]: Bearer [redacted]"
    for error in errors:
        assert TOKEN not in str(error)
        assert TOKEN not in repr(error.args)
        assert TOKEN not in "".join(traceback.format_exception(error))


@pytest.mark.parametrize(
    "path", ["incidents", "/../users", "/incidents?x=1", "//evil.test/x", "/a b"]
)
def test_paths_must_be_plain_api_paths(client, mocked_responses, path):
    with pytest.raises(ValueError, match="path"):
        client.get(path)


def test_for_connection_uses_the_region_host_and_user_email(mocked_responses, sleeps):
    connection = Connection(region="eu", api_url="", pd_user_email=EMAIL)
    mocked_responses.post(
        "https://api.eu.pagerduty.test/incidents",
        match=[matchers.header_matcher({"From": EMAIL})],
        status=201,
        json=load_json("pagerduty/incident.json"),
    )
    client = PagerDutyClient.for_connection(
        connection, token_provider=lambda: TOKEN, sleep=sleeps.append
    )

    client.create_entity("/incidents", "incident", {"title": "x"})

    assert client.api_url == "https://api.eu.pagerduty.test"


class RecordingSession(requests.Session):
    closed = False

    def close(self):
        self.closed = True
        super().close()


def test_an_injected_session_is_used_and_left_open(make_client, mocked_responses):
    session = RecordingSession()
    mocked_responses.get(INCIDENTS, json=load_json("pagerduty/incidents_list.json"))

    with make_client(session=session) as client:
        client.get("/incidents")
        client.get("/incidents")

    assert client.session is session
    assert len(mocked_responses.calls) == 2
    assert session.closed is False


def test_clients_in_one_thread_share_the_pooled_session_of_their_host(make_client):
    first = make_client()
    second = make_client()
    other_host = make_client(api_url="https://api.eu.pagerduty.test")

    assert first.session is second.session
    assert other_host.session is not first.session
    first.close()
    assert make_client().session is first.session


def test_clients_in_different_threads_get_their_own_session(make_client):
    here = make_client().session
    there = []
    worker = threading.Thread(target=lambda: there.append(make_client().session))
    worker.start()
    worker.join()

    assert there[0] is not here


def test_the_pooled_session_keeps_no_cookie_between_calls(
    make_client, mocked_responses
):
    mocked_responses.get(
        INCIDENTS,
        json=load_json("pagerduty/incidents_list.json"),
        headers={"Set-Cookie": "tenant=acme; Path=/"},
    )
    client = make_client()

    client.get("/incidents")
    make_client(token_provider=lambda: "other-token").get("/incidents")

    assert len(client.session.cookies) == 0
    second = mocked_responses.calls[1].request
    assert "Cookie" not in second.headers
    assert second.headers["Authorization"] == "Bearer other-token"
    assert "Authorization" not in client.session.headers
