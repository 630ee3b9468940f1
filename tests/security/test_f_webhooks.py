"""F. Webhooks (SECURITY-TESTS T46–T57), against the receiver at
/hooks/pagerduty/<receiver id>/ (URL name `pagerduty_webhook`).

The receiver's own tests (tests/integrations/test_webhook_receiver.py) own
the helpers reused here; the items below use the plan's exact inputs.
Before the receiver exists, every item skips with that reason.
"""

import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection as db_connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.security.test_e_isolation import all_routes

RECEIVER = "pagerduty_webhook"


def _receiver_missing() -> bool:
    try:
        reverse(RECEIVER, args=[uuid.UUID(int=0)])
    except NoReverseMatch:
        return True
    return False


NO_RECEIVER = pytest.mark.skipif(
    _receiver_missing(),
    reason=f"no webhook receiver yet: the portal has no URL named {RECEIVER!r}",
)
pytestmark = [pytest.mark.django_db]


@pytest.fixture
def wh():
    return pytest.importorskip("tests.integrations.webhook_helpers")


@pytest.fixture
def sub_a(wh, world):
    return wh.make_subscription(world.conn_a)


@pytest.fixture
def sub_b(wh, world):
    return wh.make_subscription(world.conn_b, secret=wh.OTHER_SECRET, pd_id="PWHSUB2")


def _deliveries(subscription):
    return subscription.deliveries.count()


@NO_RECEIVER
@pytest.mark.parametrize(
    "title",
    ["Disk full on db-1", "Überlastung 🔥 — ☃", "x" * 55_000],
    ids=["ascii", "unicode", "55kb"],
)
def test_t46_valid_delivery_is_accepted_and_handled_once(client, wh, sub_a, title):
    body = wh.envelope(title=title)

    response = wh.deliver(client, sub_a, body)

    assert response.status_code == 202
    assert _deliveries(sub_a) == 1


def _forgeries(wh):
    body = wh.envelope()
    good = wh.sign(body)[3:]
    pretty = json.dumps(json.loads(body), indent=2).encode()
    return body, {
        "no-header": (None, {400}),
        "empty": ("", {400}),
        "v1-empty": ("v1=", {400}),
        "unknown-version": (f"v2={good}", {400}),
        "uppercase": (f"v1={good.upper()}", {400, 403}),
        "63-hex": (f"v1={good[:63]}", {400}),
        "non-hex": ("v1=" + "zz" * 32, {400}),
        "other-body": (wh.sign(b'{"event": {}}'), {403}),
        "pretty-json": (wh.sign(pretty), {403}),
        "tenant-b-secret": (wh.sign(body, wh.OTHER_SECRET), {403}),
        "secret-as-hex": (f"v1={wh.SECRET}", {400}),
        "200-entries": (",".join(["v1=" + "0" * 64] * 200), {400}),
        "header-injection": (f"v1={good}\r\nX-Evil: 1", {400, 403}),
        "truncated-body": ("truncate", {403}),
        "appended-byte": ("append", {403}),
        "empty-body": ("empty-body", {400}),
    }


@NO_RECEIVER
@pytest.mark.parametrize(
    "case",
    [
        "no-header",
        "empty",
        "v1-empty",
        "unknown-version",
        "uppercase",
        "63-hex",
        "non-hex",
        "other-body",
        "pretty-json",
        "tenant-b-secret",
        "secret-as-hex",
        "200-entries",
        "header-injection",
        "truncated-body",
        "appended-byte",
        "empty-body",
    ],
)
def test_t47_signature_forgery_matrix(client, wh, sub_a, caplog, case):
    body, cases = _forgeries(wh)
    signature, statuses = cases[case]
    if signature == "truncate":
        signature, body = wh.sign(body), body[:-1]
    elif signature == "append":
        signature, body = wh.sign(body), body + b" "
    elif signature == "empty-body":
        signature, body = wh.sign(b""), b""

    response = wh.deliver(client, sub_a, body, signature=signature)

    assert response.status_code in statuses
    assert _deliveries(sub_a) == 0
    assert wh.SECRET not in caplog.text
    assert body.decode(errors="replace")[:40] not in caplog.text or not body


@NO_RECEIVER
def test_t48_one_matching_signature_among_several_is_enough(client, wh, sub_a):
    body = wh.envelope()

    response = wh.deliver(
        client, sub_a, body, signature=f"v1={'0' * 64},{wh.sign(body)}"
    )

    assert response.status_code == 202


@NO_RECEIVER
def test_t49_signatures_are_compared_in_constant_time(client, wh, sub_a):
    body = wh.envelope()

    with mock.patch("hmac.compare_digest", wraps=hmac.compare_digest) as compare:
        response = wh.deliver(client, sub_a, body)

    assert response.status_code == 202
    assert compare.call_count >= 1


@NO_RECEIVER
def test_t50_replays_and_duplicates_are_processed_once(client, wh, sub_a):
    body = wh.envelope()
    stale = wh.envelope(
        event_id="evt-old", occurred_at=timezone.now() - timedelta(hours=49 + 24)
    )

    answers = [
        wh.deliver(client, sub_a, body).status_code,
        wh.deliver(client, sub_a, body).status_code,
        wh.deliver(client, sub_a, body, webhook_id="wh-other").status_code,
        wh.deliver(client, sub_a, stale, webhook_id="wh-stale").status_code,
    ]

    outcomes = list(sub_a.deliveries.values_list("outcome", flat=True))
    assert answers == [202, 202, 202, 202]
    assert sorted(outcomes) == ["processed", "stale"]


@NO_RECEIVER
def test_t51_deliveries_are_routed_by_receiver_id_only(client, wh, sub_a, sub_b):
    body = wh.envelope()

    unknown = wh.deliver(client, sub_a, body, receiver_id=uuid.uuid4())
    wrong_secret = wh.deliver(client, sub_b, body, signature=wh.sign(body))
    right = wh.deliver(client, sub_b, body, signature=wh.sign(body, wh.OTHER_SECRET))

    assert unknown.status_code == 404
    assert wrong_secret.status_code == 403
    assert right.status_code == 202
    assert (_deliveries(sub_a), _deliveries(sub_b)) == (0, 1)


@NO_RECEIVER
def test_t52_our_database_failing_answers_503_never_4xx(client, wh, sub_a):
    # The deliveries table goes away mid-flight (rolled back with the test).
    with db_connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE integrations_webhookdelivery RENAME TO wh_unavailable"
        )

    response = wh.deliver(client, sub_a, wh.envelope())

    assert response.status_code == 503


@NO_RECEIVER
@pytest.mark.parametrize("case", ["too-large", "get", "put", "delete", "text-plain"])
def test_t53_size_method_and_content_type_limits(client, wh, sub_a, case):
    url = reverse(RECEIVER, args=[sub_a.receiver_id])
    body = wh.envelope()
    if case == "too-large":
        body = wh.envelope(title="x" * (256 * 1024))
        response = wh.deliver(client, sub_a, body)
        expected = 413
    elif case == "text-plain":
        response = wh.deliver(client, sub_a, body, content_type="text/plain")
        expected = 415
    else:
        response = getattr(client, case)(url)
        expected = 405

    assert response.status_code == expected
    assert _deliveries(sub_a) == 0


def test_t54_only_the_webhook_receiver_is_csrf_exempt():
    exempt = {
        route.name or route.route
        for route in all_routes()
        if getattr(route.callback, "csrf_exempt", False)
        and not route.route.startswith("admin/")
    }

    # Browsers post CSP violation reports without a CSRF token; the report
    # endpoint only logs, so it is one other exemption allowed. The MCP
    # gateway's OAuth endpoints are called by agents, not browsers: they
    # ignore cookies and authenticate by PKCE, client or registration token
    # (RFC 6749 §3.2, RFC 7591); the consent page itself keeps CSRF.
    oauth = {
        "oauth2_provider:token",
        "oauth2_provider:revoke-token",
        "oauth2_provider:dcr-register",
        "oauth2_provider:dcr-register-management",
    }
    assert exempt <= {RECEIVER, "csp_report", *oauth}
    assert "oauth2_provider:authorize" not in exempt


@NO_RECEIVER
def test_t55_older_events_never_overwrite_newer_state(client, wh, sub_a, world):
    now = timezone.now()
    newer = wh.envelope(
        "incident.resolved",
        event_id="evt-new",
        status="resolved",
        occurred_at=now - timedelta(minutes=1),
    )
    older = wh.envelope(
        "incident.acknowledged",
        event_id="evt-old",
        status="acknowledged",
        occurred_at=now - timedelta(minutes=2),
    )
    wh.deliver(client, sub_a, newer, webhook_id="wh-new")
    wh.deliver(client, sub_a, older, webhook_id="wh-old")
    client.force_login(world.users["a_member"])

    response = client.get(
        reverse("integrations:incident_changes", args=[world.tenant_a.pk]),
        {"since": (now - timedelta(hours=1)).isoformat()},
    )

    assert _deliveries(sub_a) == 2
    assert response.status_code == 200
    assert [(c["id"], c["status"]) for c in response.json()["changes"]] == [
        ("PINC001", "resolved")
    ]


@NO_RECEIVER
@pytest.mark.parametrize("event_type", ["pagey.ping", "service.created.v9"])
def test_t56_ping_and_unknown_events_are_accepted_without_effect(
    client, wh, sub_a, event_type
):
    body = wh.envelope(event_type=event_type, resource_type="service")

    response = wh.deliver(client, sub_a, body)

    assert response.status_code == 202
    assert sub_a.deliveries.get().outcome in ("ping", "ignored")


@NO_RECEIVER
def test_t57_subscription_secret_is_stored_encrypted(wh, sub_a):
    from integrations.models import WebhookSubscription
    from tests.helpers import raw_column

    raw = raw_column(WebhookSubscription, "signing_secret", sub_a.pk)

    assert wh.SECRET not in raw
    assert WebhookSubscription.objects.get(pk=sub_a.pk).signing_secret == wh.SECRET
    digest = hashlib.sha256(wh.SECRET.encode()).hexdigest()
    assert digest not in raw


@NO_RECEIVER
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_t50_parallel_copies_of_one_delivery_are_processed_once(
    seeded_environments, wh, world
):
    import threading

    from django.test import Client

    from tests.helpers import skip_unless_available

    skip_unless_available(
        db_connection.vendor == "postgresql",
        "row locks need PostgreSQL: set DATABASE_URL=postgres://…",
    )
    subscription = wh.make_subscription(world.conn_a)
    body = wh.envelope()
    barrier = threading.Barrier(50)
    statuses = []

    def post():
        try:
            barrier.wait(10)
            statuses.append(wh.deliver(Client(), subscription, body).status_code)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert statuses == [202] * 50
    assert subscription.deliveries.count() == 1
