import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests


class Receiver:
    """A local endpoint that records deliveries and answers `status`."""

    def __init__(self):
        self.requests = []
        self.status = 202
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        ).start()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.server.shutdown()
    endpoint.server.server_close()


@pytest.fixture
def api(pagerduty_sandbox):
    token = pagerduty_sandbox.issue_token("alice@acme.example")
    pagerduty_sandbox.configure(webhook_retry_delays=(0.05, 0.05))
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Bearer {token}", "From": "alice@acme.example"}
    )
    return session


def _subscribe(sandbox, api, url, events=("incident.acknowledged",), **extra):
    response = api.post(
        f"{sandbox.url}/webhook_subscriptions",
        json={
            "webhook_subscription": {
                "type": "webhook_subscription",
                "delivery_method": {
                    "type": "http_delivery_method",
                    "url": url,
                    "custom_headers": [{"name": "X-Tenant", "value": "acme-secret"}],
                },
                "events": list(events),
                "filter": {"type": "account_reference"},
                **extra,
            }
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["webhook_subscription"]


def _settled(sandbox, count=1):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with sandbox.state.lock:
            done = [
                d for d in sandbox.state.webhook_deliveries if d["outcome"] != "pending"
            ]
        if len(done) >= count:
            return done
        time.sleep(0.02)
    raise AssertionError("webhook delivery did not settle")


def test_secret_is_shown_only_in_the_create_response(pagerduty_sandbox, api, receiver):
    created = _subscribe(pagerduty_sandbox, api, receiver.url)

    fetched = api.get(
        f"{pagerduty_sandbox.url}/webhook_subscriptions/{created['id']}", timeout=5
    ).json()["webhook_subscription"]

    assert len(created["delivery_method"]["secret"]) > 32
    assert fetched["delivery_method"]["secret"] is None
    assert fetched["delivery_method"]["custom_headers"] == [
        {"name": "X-Tenant", "value": "-- redacted --"}
    ]


def test_ping_is_signed_with_the_subscription_secret(pagerduty_sandbox, api, receiver):
    created = _subscribe(pagerduty_sandbox, api, receiver.url)

    response = api.post(
        f"{pagerduty_sandbox.url}/webhook_subscriptions/{created['id']}/ping",
        timeout=5,
    )
    _settled(pagerduty_sandbox)

    headers, body = receiver.requests[0]
    expected = hmac.new(
        created["delivery_method"]["secret"].encode(), body, hashlib.sha256
    ).hexdigest()
    event = json.loads(body)["event"]
    assert response.status_code == 202
    assert headers["X-PagerDuty-Signature"] == f"v1={expected}"
    assert headers["X-Webhook-Id"]
    assert headers["X-Tenant"] == "acme-secret"
    assert event["event_type"] == "pagey.ping"
    assert event["data"]["message"] == "Hello from your friend Pagey!"


def test_incident_changes_are_delivered_to_matching_subscriptions(
    pagerduty_sandbox, api, receiver
):
    _subscribe(pagerduty_sandbox, api, receiver.url)
    acme = pagerduty_sandbox.state.account_by_subdomain("acme")
    incident = next(
        i
        for i in pagerduty_sandbox.state.incidents.values()
        if i.account_id == acme.id and i.status == "triggered"
    )

    api.put(
        f"{pagerduty_sandbox.url}/incidents/{incident.id}",
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
        timeout=5,
    )
    api.post(
        f"{pagerduty_sandbox.url}/incidents/{incident.id}/notes",
        json={"note": {"content": "not subscribed"}},
        timeout=5,
    )
    _settled(pagerduty_sandbox)

    assert len(receiver.requests) == 1
    event = json.loads(receiver.requests[0][1])["event"]
    assert event["event_type"] == "incident.acknowledged"
    assert event["resource_type"] == "incident"
    assert event["agent"]["summary"] == "Alice Anders"
    assert event["data"]["id"] == incident.id
    assert event["data"]["status"] == "acknowledged"


def test_server_errors_are_retried(pagerduty_sandbox, api, receiver):
    receiver.status = 503
    created = _subscribe(pagerduty_sandbox, api, receiver.url)

    api.post(
        f"{pagerduty_sandbox.url}/webhook_subscriptions/{created['id']}/ping",
        timeout=5,
    )
    delivery = _settled(pagerduty_sandbox)[0]

    assert delivery["attempts"] == 3
    assert delivery["outcome"] == "dropped"
    assert len({h["X-Webhook-Id"] for h, _ in receiver.requests}) == 1


def test_three_dropped_deliveries_disable_until_enabled(
    pagerduty_sandbox, api, receiver
):
    receiver.status = 410
    created = _subscribe(pagerduty_sandbox, api, receiver.url)
    ping = f"{pagerduty_sandbox.url}/webhook_subscriptions/{created['id']}/ping"

    for count in range(1, 4):
        api.post(ping, timeout=5)
        _settled(pagerduty_sandbox, count)
    refused = api.post(ping, timeout=5)
    fetched = api.get(
        f"{pagerduty_sandbox.url}/webhook_subscriptions/{created['id']}", timeout=5
    ).json()["webhook_subscription"]
    enabled = api.post(
        f"{pagerduty_sandbox.url}/webhook_subscriptions/{created['id']}/enable",
        timeout=5,
    ).json()["webhook_subscription"]

    assert len(receiver.requests) == 3
    assert fetched["delivery_method"]["temporarily_disabled"] is True
    assert refused.status_code == 400
    assert enabled["delivery_method"]["temporarily_disabled"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"delivery_method": {"url": "https://x.example"}}, "cannot be changed"),
        ({"events": []}, "events must be a non-empty array"),
        ({"events": ["incident.exploded"]}, "Unknown event type"),
        ({"filter": {"type": "service_reference"}}, "filter.id is required"),
    ],
)
def test_subscription_update_rules(pagerduty_sandbox, api, receiver, body, message):
    created = _subscribe(pagerduty_sandbox, api, receiver.url)

    response = api.put(
        f"{pagerduty_sandbox.url}/webhook_subscriptions/{created['id']}",
        json={"webhook_subscription": body},
        timeout=5,
    )

    assert response.status_code == 400
    assert message in response.json()["error"]["errors"][0]


def test_changes_in_the_sandbox_ui_are_delivered_too(pagerduty_sandbox, api, receiver):
    from tests.pagerduty_sandbox.flow import hidden_fields, signed_in_session

    _subscribe(pagerduty_sandbox, api, receiver.url, events=["incident.resolved"])
    acme = pagerduty_sandbox.state.account_by_subdomain("acme")
    incident = next(
        i
        for i in pagerduty_sandbox.state.incidents.values()
        if i.account_id == acme.id and i.status == "acknowledged"
    )
    session = signed_in_session(pagerduty_sandbox, "bob@acme.example")
    fields = hidden_fields(
        session.get(f"{pagerduty_sandbox.url}/app/incidents", timeout=5).text
    )

    session.post(
        f"{pagerduty_sandbox.url}/app/incidents/{incident.id}/resolve",
        data=fields,
        timeout=5,
    )
    _settled(pagerduty_sandbox)

    event = json.loads(receiver.requests[0][1])["event"]
    assert event["event_type"] == "incident.resolved"
    assert event["agent"]["summary"] == "Bob Baker"
