"""D. Upstream PagerDuty REST faults (SECURITY-TESTS T31–T40).

Each fault is tried on a page (incident list) and on a write (a note).
"""

import re
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest
import requests
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.urls import reverse

from integrations.exceptions import (
    PagerDutyError,
    PagerDutyOffsetCapReached,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.models import Connection
from integrations.pagerduty import identity
from integrations.pagerduty.client import PagerDutyClient
from portal.settings import base
from tests.connect_fixtures import API, TOKEN_URL
from tests.security.conftest import AT_A, bearer_tokens, url_exists

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not url_exists("integrations:incident_list", 1),
        reason="the tenant workspace pages are missing",
    ),
]
ANY_API = re.compile(rf"{re.escape(API)}/.*")
NOTE = "Customer impact confirmed — keep this text"


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0


@pytest.fixture
def member(client, world):
    client.force_login(world.users["a_admin"])
    return client


def _list(world):
    return reverse("integrations:incident_list", args=[world.tenant_a.pk])


def _note(world, incident="PINC001"):
    return reverse("integrations:incident_note", args=[world.tenant_a.pk, incident])


def _api_calls(outbound):
    return [c for c in outbound if c.url.startswith(API)]


def _token_calls(outbound):
    return [c for c in outbound if c.url == TOKEN_URL]


@pytest.mark.parametrize("action", ["page", "write"])
def test_t31_401_is_bounded_and_asks_for_a_reconnect(
    member, world, mocked_responses, outbound, action
):
    mocked_responses.add(responses.GET, ANY_API, status=401, json={})
    mocked_responses.add(responses.POST, ANY_API, status=401, json={})
    mocked_responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    mocked_responses.assert_all_requests_are_fired = False

    if action == "page":
        response = member.get(_list(world))
    else:
        response = member.post(_note(world), {"content": NOTE})

    html = response.content.decode()
    assert response.status_code in (200, 502, 503)
    assert len(_api_calls(outbound)) <= 2
    assert len(_token_calls(outbound)) <= 1
    assert "reconnect" in html.lower()
    assert Connection.objects.get(pk=world.conn_a.pk).status == "needs_reconnect"
    if action == "write":
        assert NOTE in html


def test_t31_401_tries_one_refresh_and_one_retry_first(
    member, world, mocked_responses, outbound
):
    mocked_responses.add(responses.GET, ANY_API, status=401, json={})
    mocked_responses.post(
        TOKEN_URL,
        json={
            "access_token": "CANARY-AT-fresh",
            "refresh_token": "CANARY-RT-fresh",
            "token_type": "bearer",
            "expires_in": 86400,
        },
    )
    mocked_responses.assert_all_requests_are_fired = False

    member.get(_list(world))

    assert len(_token_calls(outbound)) == 1
    assert len(_api_calls(outbound)) == 2


@pytest.mark.parametrize("code", [2010, 2100], ids=["scope", "permission"])
def test_t32_403_names_the_scope_changes_nothing_and_never_refreshes(
    member, world, mocked_responses, outbound, code
):
    mocked_responses.add(
        responses.POST,
        ANY_API,
        status=403,
        json={"error": {"code": code, "message": "Forbidden"}},
    )

    response = member.post(_note(world), {"content": NOTE})

    html = response.content.decode()
    assert response.status_code == 403
    assert "incidents.write" in html
    assert NOTE in html
    assert _token_calls(outbound) == []
    assert len(_api_calls(outbound)) == 1
    assert Connection.objects.get(pk=world.conn_a.pk).status == "active"


def test_t33_404_is_not_found_and_not_retried(
    member, world, mocked_responses, outbound
):
    mocked_responses.add(
        responses.GET,
        ANY_API,
        status=404,
        json={"error": {"code": 2100, "message": "Not Found"}},
    )
    mocked_responses.assert_all_requests_are_fired = False

    response = member.get(
        reverse("integrations:incident_detail", args=[world.tenant_a.pk, "PGONE01"])
    )

    assert response.status_code in (404, 502, 503)
    assert "not found" in response.content.decode().lower()
    assert len({c.url for c in _api_calls(outbound)}) == len(_api_calls(outbound))


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"ratelimit-reset": "20"}, "20"),
        ({"ratelimit-reset": "3"}, "3"),
        ({"retry-after": "20"}, "20"),
        ({}, "60"),
    ],
    ids=["ratelimit-reset", "reset-just-over-2s", "retry-after", "no-headers"],
)
@pytest.mark.parametrize("action", ["page", "write"])
def test_t34_429_answers_fast_with_the_wait(
    member, world, mocked_responses, outbound, headers, seconds, action
):
    for method in (responses.GET, responses.POST):
        mocked_responses.add(method, ANY_API, status=429, headers=headers, json={})
    mocked_responses.assert_all_requests_are_fired = False
    began = time.monotonic()

    if action == "page":
        response = member.get(_list(world))
    else:
        response = member.post(_note(world), {"content": NOTE})

    assert time.monotonic() - began < 2
    assert response.status_code == 429
    assert f"rate limiting this connection; try again in {seconds} s" in (
        response.content.decode()
    )
    assert len(_api_calls(outbound)) == 1
    assert Connection.objects.get(pk=world.conn_a.pk).status == "active"


def _client(**options):
    options.setdefault("sleep", lambda seconds: None)
    return PagerDutyClient(api_url=API, token_provider=lambda: AT_A, **options)


def test_t34_pages_wait_at_most_2s_and_background_callers_sleep_the_reset(
    mocked_responses,
):
    slept = []
    interactive = _client(sleep=slept.append)
    background = _client(sleep=slept.append, background=True)
    limited = {"status": 429, "headers": {"ratelimit-reset": "20"}}
    mocked_responses.get(f"{API}/incidents", **limited)  # the page's call
    mocked_responses.get(f"{API}/incidents", json={"incidents": []})

    with pytest.raises(PagerDutyRateLimited) as caught:
        interactive.get("/incidents")
    background.get("/incidents")

    assert interactive.max_rate_limit_wait <= 2
    assert caught.value.retry_after == 20
    # The job slept out the page's 429 (the cooldown is the connection's).
    assert len(slept) == 1
    assert 20 <= slept[0] <= 22


@pytest.mark.parametrize(
    ("headers", "waits"),
    [
        ({"ratelimit-reset": "20"}, [20, 20, 20]),
        ({}, [1, 2, 4]),
        ({"retry-after": "7"}, [7, 7, 7]),
        ({"ratelimit-reset": "3", "retry-after": "9"}, [9, 9, 9]),
    ],
    ids=["ratelimit-reset", "no-headers", "retry-after", "both"],
)
def test_t34_background_retries_3_times_after_the_reset_with_jitter(
    mocked_responses, headers, waits
):
    slept = []
    mocked_responses.get(f"{API}/incidents", status=429, headers=headers)

    with pytest.raises(PagerDutyRateLimited):
        _client(sleep=slept.append, background=True).get("/incidents")

    assert len(mocked_responses.calls) == 1 + 3
    assert len(slept) == len(waits)
    for seconds, wait in zip(slept, waits, strict=True):
        assert wait <= seconds <= wait * 1.1
    assert slept != waits  # jitter, so waiting callers do not wake together


def test_t34_a_retry_after_date_is_honoured(mocked_responses):
    slept = []
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    mocked_responses.get(f"{API}/incidents", status=429, headers={"Retry-After": later})
    mocked_responses.get(f"{API}/incidents", json={"incidents": []})

    _client(sleep=slept.append, background=True).get("/incidents")

    assert len(slept) == 1
    assert 20 <= slept[0] <= 31 * 1.1


def test_t34_a_page_answers_at_once_while_its_connection_cools_down(
    member, world, mocked_responses, outbound
):
    mocked_responses.add(
        responses.GET, ANY_API, status=429, headers={"ratelimit-reset": "20"}
    )
    mocked_responses.assert_all_requests_are_fired = False

    first = member.get(_list(world))
    second = member.get(_list(world))

    assert first.status_code == second.status_code == 429
    assert "try again in 20 s" in second.content.decode()
    assert len(_api_calls(outbound)) == 1


@pytest.mark.parametrize("background", [True, False], ids=["background", "pages"])
def test_t34_twenty_concurrent_callers_cost_at_most_20_plus_3_calls(
    mocked_responses, background
):
    callers = 20
    barrier = threading.Barrier(callers, timeout=30)
    first_calls = []
    lock = threading.Lock()

    def limited(request):
        with lock:
            first = len(first_calls) < callers
            first_calls.append(request.url)
        if first:
            barrier.wait()  # every caller's first call is in flight at once
        return 429, {"ratelimit-reset": "20"}, "{}"

    mocked_responses.add_callback(responses.GET, ANY_API, callback=limited)
    outcomes = []

    def call():
        client = _client(background=background, rate_limit_key="connection:1")
        try:
            client.get("/incidents")
        except PagerDutyRateLimited as exc:
            outcomes.append(exc.retry_after)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == callers
    assert callers <= len(mocked_responses.calls) <= callers + 3
    if not background:
        assert len(mocked_responses.calls) == callers


def test_t35_the_token_travels_only_in_the_authorization_header(
    member, world, mocked_responses, outbound
):
    mocked_responses.add(
        responses.GET,
        ANY_API,
        json={"incidents": [], "limit": 25, "offset": 0, "more": False, "total": 0},
    )
    mocked_responses.add(responses.POST, ANY_API, json={"note": {"id": "PN1"}})
    mocked_responses.assert_all_requests_are_fired = False

    member.get(_list(world))
    member.post(_note(world), {"content": NOTE})

    calls = _api_calls(outbound)
    assert len(calls) >= 2
    assert set(bearer_tokens(calls)) == {AT_A}
    for call in calls:
        assert AT_A not in call.url
        assert AT_A not in call.body
        assert AT_A not in repr(
            {k: v for k, v in call.headers.items() if k != "Authorization"}
        )


@pytest.mark.parametrize("case", ["read-timeout", "dns-failure"])
def test_t36_slow_or_unresolvable_pagerduty_gives_an_error_page_in_time(
    member, world, sandbox_settings, settings, case
):
    settings.PAGERDUTY_TIMEOUT = (0.5, 1.0)
    api_url = sandbox_settings.url if case == "read-timeout" else "https://pd.invalid"
    Connection.objects.filter(pk=world.conn_a.pk).update(api_url=api_url)
    sandbox_settings.set_latency(3000 if case == "read-timeout" else 0)
    began = time.monotonic()

    try:
        response = member.get(_list(world))
    finally:
        sandbox_settings.set_latency(0)

    assert response.status_code in (502, 503)
    assert time.monotonic() - began < 15
    assert base.PAGERDUTY_TIMEOUT == (3.05, 10.0)
    assert base.PAGERDUTY_TOKEN_TIMEOUT == (3.05, 5.0)
    assert base.SOCIALACCOUNT_REQUESTS_TIMEOUT == base.PAGERDUTY_TOKEN_TIMEOUT


class _Trickle(BaseHTTPRequestHandler):
    """Answer 200 at once, then one byte of body every quarter second."""

    requests = 0

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).requests += 1
        self._trickle()

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self._trickle()

    def _trickle(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "400")
        self.end_headers()
        try:
            for _ in range(400):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.25)
        except OSError:
            pass  # the client gave up, as it should

    def log_message(self, *args):
        pass


def _trickle_server():
    handler = type("Trickle", (_Trickle,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


def test_t36_a_trickling_token_endpoint_fails_within_its_timeouts(settings):
    server, _handler = _trickle_server()
    settings.PAGERDUTY_IDENTITY_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PAGERDUTY_TOKEN_TIMEOUT = (0.5, 1.0)
    began = time.monotonic()

    try:
        with pytest.raises(identity.TokenEndpointError) as caught:
            identity.refresh_token_grant(
                client_id="client", client_secret="secret", refresh_token="rt"
            )
    finally:
        server.shutdown()

    assert caught.value.kind == "unavailable"
    assert time.monotonic() - began < 3  # each byte arrives within 1 s


def test_t36_a_trickling_api_answer_gives_an_error_page_within_the_deadline(
    member, world, settings
):
    server, handler = _trickle_server()
    settings.PAGERDUTY_TIMEOUT = (0.5, 1.0)
    Connection.objects.filter(pk=world.conn_a.pk).update(
        api_url=f"http://127.0.0.1:{server.server_address[1]}"
    )
    began = time.monotonic()

    try:
        response = member.get(_list(world))
    finally:
        server.shutdown()

    assert response.status_code in (502, 503)
    assert "PagerDuty is unavailable" in response.content.decode()
    # Each byte arrives within the read timeout; only the whole-answer
    # deadline (connect + read, shared by the retries) stops the read.
    assert time.monotonic() - began < 15
    assert handler.requests == 1


def test_t36_retries_share_one_deadline(mocked_responses, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])

    def slow_timeout(request):
        clock[0] += 8  # a read timeout of the (3.05, 10) default, nearly
        raise requests.ReadTimeout("read timed out")

    mocked_responses.add_callback(responses.GET, ANY_API, callback=slow_timeout)
    client = PagerDutyClient(
        api_url=API,
        token_provider=lambda: AT_A,
        timeout=(3.05, 10),
        sleep=lambda s: None,
    )

    with pytest.raises(PagerDutyUnavailable):
        client.get("/incidents")

    # 3 attempts would take 24 s; the second is cut to the 5 s left.
    timeouts = [c.request.req_kwargs["timeout"] for c in mocked_responses.calls]
    assert timeouts == [(3.05, 10), (3.05, pytest.approx(5.05))]


def test_t38_an_answer_over_16_mb_is_refused_unread(mocked_responses):
    mocked_responses.get(f"{API}/incidents", body=b"[" + b" " * (17 * 2**20) + b"]")
    client = PagerDutyClient(api_url=API, token_provider=lambda: AT_A)

    with pytest.raises(PagerDutyError) as caught:
        client.get("/incidents")

    assert "more data than the portal reads" in str(caught.value)
    assert len(mocked_responses.calls) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@pytest.mark.parametrize("action", ["page", "write"])
def test_t37_gets_retry_twice_and_writes_never_retry(
    member, world, mocked_responses, outbound, status, action
):
    for method in (responses.GET, responses.POST):
        mocked_responses.add(method, ANY_API, status=status, body="upstream")
    mocked_responses.assert_all_requests_are_fired = False

    if action == "page":
        response = member.get(_list(world))
    else:
        response = member.post(_note(world), {"content": NOTE})

    assert response.status_code in (502, 503)
    if action == "page":
        assert len(_api_calls(outbound)) == 3
    else:
        assert len(_api_calls(outbound)) == 1
        assert NOTE in response.content.decode()


@pytest.mark.parametrize(
    "answer",
    [
        {"body": "<html>maintenance</html>", "content_type": "text/html"},
        {"body": '{"incidents": [', "content_type": "application/json"},
        {"json": {"incidents": {}, "more": "yes", "limit": "x"}},
        {"json": ["not", "an", "object"]},
        {"body": "x" * 20_000_000, "content_type": "application/json"},
    ],
    ids=["html", "truncated", "wrong-types", "array", "20mb"],
)
def test_t38_malformed_api_answers_never_give_a_500(
    member, world, mocked_responses, answer
):
    mocked_responses.add(responses.GET, ANY_API, **answer)
    mocked_responses.assert_all_requests_are_fired = False

    response = member.get(_list(world))

    assert response.status_code in (200, 502, 503)


def test_t38_endless_pagination_stops_at_the_offset_cap(mocked_responses):
    def page(request):
        offset = int(re.search(r"offset=(\d+)", request.url).group(1))
        items = [{"id": f"P{offset + i}"} for i in range(100)]
        body = {"incidents": items, "limit": 100, "offset": offset, "more": True}
        return 200, {}, __import__("json").dumps(body)

    mocked_responses.add_callback(responses.GET, ANY_API, callback=page)
    client = PagerDutyClient(
        api_url=API, token_provider=lambda: "tok", sleep=lambda s: None
    )
    seen = []

    with pytest.raises(PagerDutyOffsetCapReached):
        seen.extend(client.iter_all("/incidents", key="incidents"))

    assert len(mocked_responses.calls) <= 100


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:9/steal", "https://other.example/steal"]
)
def test_t39_redirects_are_not_followed_and_carry_no_token_away(
    member, world, mocked_responses, outbound, location
):
    mocked_responses.add(
        responses.GET, ANY_API, status=302, headers={"Location": location}
    )
    mocked_responses.assert_all_requests_are_fired = False

    response = member.get(_list(world))

    assert response.status_code in (502, 503)
    assert all(c.url.startswith(API) for c in outbound)


def _self_signed_server():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.utcnow()  # noqa: DTZ003 - certificate validity only
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"incidents": []}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    import tempfile

    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as pem:
        pem.write(cert.public_bytes(serialization.Encoding.PEM))
        pem.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    context.load_cert_chain(pem.name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def test_t40_a_self_signed_certificate_is_refused_and_logged(
    member, world, caplog, settings
):
    settings.PAGERDUTY_TIMEOUT = (1.0, 2.0)
    server = _self_signed_server()
    port = server.server_address[1]
    Connection.objects.filter(pk=world.conn_a.pk).update(
        api_url=f"https://127.0.0.1:{port}"
    )

    try:
        with caplog.at_level("WARNING"):
            response = member.get(_list(world))
    finally:
        server.shutdown()

    assert response.status_code in (502, 503)
    assert "SSLError" in caplog.text
    assert requests.get  # TLS verification is requests' default; never overridden
