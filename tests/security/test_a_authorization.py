"""A. Authorization request and callback (SECURITY-TESTS T01–T16)."""

import base64
import hashlib
import re
import string
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import statekit
from django.test import Client
from django.urls import reverse

from integrations.models import AuditEvent, Connection
from tests.connect_fixtures import (
    AUTHORIZE_URL,
    CLIENT_ID,
    ISSUER,
    TOKEN_URL,
    callback,
    connection_snapshot,
    start_connect,
)
from tests.security.conftest import CODE, reason_of, sandbox_consent

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://127.0.0.1:8000/integration-callback"
AUTHORIZE_KEYS = {
    "client_id",
    "redirect_uri",
    "scope",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
}
VERIFIER_ALPHABET = set(string.ascii_letters + string.digits + "-._~")


def b64url_sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def started(tenant_admin_client, tenant, pagerduty_client, connection):
    """A connect in progress over an existing connection."""
    before = connection_snapshot(tenant)
    query = start_connect(tenant_admin_client, tenant)
    return query["state"][0], before


def test_t01_state_and_pkce_have_128_bits_and_never_repeat(
    tenant_admin_client, tenant, pagerduty_client
):
    adapter = get_adapter()
    sampled = {adapter.generate_state_param({}) for _ in range(10_000)}
    flows = [start_connect(tenant_admin_client, tenant) for _ in range(200)]

    states = [query["state"][0] for query in flows]
    stashed = statekit.get_states(tenant_admin_client)
    assert len(sampled) == 10_000
    assert len(set(states)) == 200
    for state in sampled | set(states):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", state)
        assert len(base64.urlsafe_b64decode(state + "=")) == 32
    for query in flows[-10:]:  # allauth keeps the 10 newest in the session
        verifier = stashed[query["state"][0]][0]["pkce_code_verifier"]
        assert 43 <= len(verifier) <= 128
        assert set(verifier) <= VERIFIER_ALPHABET
        assert query["code_challenge"] == [b64url_sha256(verifier)]


def _forged_states(client, tenant, valid):
    other = Client()
    other.force_login(tenant.memberships.get(role="admin").user)
    from_other_session = start_connect(other, tenant)["state"][0]
    return {
        "missing": {},
        "empty": {"state": ""},
        "random-1000": {"state": "x" * 1000},
        "valid-format": {"state": "A" * 43},
        "wrong-case": {"state": valid.swapcase()},
        "other-session": {"state": from_other_session},
        "two-states": {"state": ["forged", valid][::-1]},
    }


@pytest.mark.parametrize(
    "variant",
    [
        "missing",
        "empty",
        "random-1000",
        "valid-format",
        "wrong-case",
        "other-session",
        "two-states",
        "state-in-post-body",
    ],
)
def test_t02_missing_empty_or_forged_state_is_refused_before_any_token_call(
    tenant_admin_client, tenant_admin, tenant, started, mocked_responses, variant
):
    state, before = started
    if variant == "state-in-post-body":
        response = tenant_admin_client.post(
            reverse("pagerduty_callback"), {"code": CODE, "state": state}
        )
    else:
        params = _forged_states(tenant_admin_client, tenant, state)[variant]
        response = tenant_admin_client.get(
            reverse("pagerduty_callback"), {"code": CODE, **params}
        )

    assert response.status_code in (400, 405)
    assert len(mocked_responses.calls) == 0
    assert connection_snapshot(tenant) == before
    assert CODE not in str(list(AuditEvent.objects.values("details", "target")))
    if variant == "state-in-post-body":
        assert response.status_code == 405 or reason_of(response) == "provider_error"
    else:
        assert reason_of(response) == "state"
        assert "could not be verified" in response.content.decode()
        event = AuditEvent.objects.get(action="oauth.callback.state_invalid")
        assert (event.actor, event.tenant) == (tenant_admin, tenant)
        assert event.details == {
            "state": "missing" if variant in ("missing", "empty") else "sent",
            "provider_error": False,
        }


def test_t03_a_consumed_state_cannot_be_replayed(
    tenant_admin_client, tenant, started, fake_identity, mocked_responses
):
    state, _ = started
    fake_identity.mock_success()
    first = callback(tenant_admin_client, code="code-first", state=state)
    before = connection_snapshot(tenant)
    calls = len(mocked_responses.calls)

    replay = callback(tenant_admin_client, code="code-second", state=state)

    assert first.status_code == 302
    assert replay.status_code == 400
    assert reason_of(replay) == "state"
    assert len(mocked_responses.calls) == calls
    assert connection_snapshot(tenant) == before
    event = AuditEvent.objects.get(action="oauth.callback.state_invalid")
    assert event.details == {"state": "sent", "provider_error": False}
    assert state not in str(event.details) + event.target


@pytest.mark.parametrize("case", ["attacker-session", "expired-601s"])
def test_t04_state_from_another_session_or_expired_is_refused(
    tenant_admin_client, tenant, started, tenant_admin, mocked_responses, case
):
    state, before = started
    victim = tenant_admin_client
    if case == "attacker-session":
        victim = Client()
        victim.force_login(tenant_admin)
    else:
        session = victim.session
        stashed = session[statekit.STATES_SESSION_KEY]
        stashed[state][1] = time.time() - 601
        session[statekit.STATES_SESSION_KEY] = stashed
        session.save()

    response = callback(victim, code=CODE, state=state)

    assert response.status_code == 400
    assert reason_of(response) == "state"
    assert len(mocked_responses.calls) == 0
    assert connection_snapshot(tenant) == before


INJECTIONS = {
    "client_id": "auth_params=client_id%3Devilclient",
    "redirect_uri": "auth_params=redirect_uri%3Dhttps%3A%2F%2Fevil.example%2Fcb",
    "state": "auth_params=state%3DATTACKER",
    "response_type": "auth_params=response_type%3Dtoken",
    "scope": "scope=admin:org,delete_repo&auth_params=scope%3Dusers.write",
    "code_challenge": "auth_params=code_challenge%3DATTACKERCHALLENGE",
    "code_challenge_method": "auth_params=code_challenge_method%3Dplain",
    "prompt": "auth_params=prompt%3Dnone",
    "request_uri": "auth_params=request_uri%3Dhttps%3A%2F%2Fevil.example%2Fr",
    "duplicate-keys": "auth_params=client_id%3Da%26client_id%3Db&scope=a&scope=b",
    "encoded-ampersand": "auth_params=x%3D1%2526client_id%253Devil",
    "encoded-newline": "auth_params=x%3D1%0D%0Aclient_id%3Devil&scope=a%0Ab",
}


@pytest.mark.parametrize("name", list(INJECTIONS))
def test_t05_login_url_cannot_rewrite_authorize_params(
    tenant_admin_client, tenant, pagerduty_client, name
):
    start_connect(tenant_admin_client, tenant)

    response = tenant_admin_client.post(
        f"{reverse('pagerduty_login')}?{INJECTIONS[name]}"
    )

    location = urlsplit(response["Location"])
    query = parse_qs(location.query, strict_parsing=True)
    assert f"{location.scheme}://{location.netloc}{location.path}" == AUTHORIZE_URL
    assert set(query) == AUTHORIZE_KEYS
    assert all(len(values) == 1 for values in query.values())
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split(" ")) == set(pagerduty_client.scope_list)
    state = query["state"][0]
    verifier = statekit.get_states(tenant_admin_client)[state][0]["pkce_code_verifier"]
    assert query["code_challenge"] == [b64url_sha256(verifier)]


@pytest.mark.parametrize(
    "switch_off",
    [
        {"SOCIALACCOUNT_PROVIDERS": {"pagerduty": {"OAUTH_PKCE_ENABLED": False}}},
        {"app_setting": False},
    ],
    ids=["provider-setting", "app-setting"],
)
def test_t06_pkce_is_always_on_and_s256_only(
    tenant_admin_client, tenant, pagerduty_client, fake_identity, settings, switch_off
):
    if "SOCIALACCOUNT_PROVIDERS" in switch_off:
        settings.SOCIALACCOUNT_PROVIDERS = switch_off["SOCIALACCOUNT_PROVIDERS"]
    else:
        original = type(pagerduty_client).as_social_app

        def without_pkce(client):
            app = original(client)
            app.settings["oauth_pkce_enabled"] = False
            return app

        # The only place an app's settings come from: make it ask for no PKCE.
        type(pagerduty_client).as_social_app = without_pkce
    try:
        query = start_connect(tenant_admin_client, tenant)
    finally:
        if "app_setting" in switch_off:
            type(pagerduty_client).as_social_app = original
    fake_identity.mock_success()

    callback(tenant_admin_client, code="code-0001", state=query["state"][0])

    assert query["code_challenge_method"] == ["S256"]
    token_call = fake_identity.rsps.calls[0]
    sent = parse_qs(token_call.request.body)
    assert query["code_challenge"] == [b64url_sha256(sent["code_verifier"][0])]


def _sandbox_start(client, tenant):
    response = client.post(reverse("integrations:tenant_connect", args=[tenant.pk]))
    return parse_qs(urlsplit(response["Location"]).query)


def test_t07_code_issued_for_another_pkce_challenge_is_rejected(
    tenant_admin_client, tenant, sandbox_app, sandbox_settings
):
    sandbox = sandbox_settings
    attacker = Client()
    attacker.force_login(tenant.memberships.get(role="admin").user)
    attacker_query = _sandbox_start(attacker, tenant)
    injected = sandbox_consent(sandbox, attacker_query)["code"]
    victim_state = _sandbox_start(tenant_admin_client, tenant)["state"][0]

    response = callback(tenant_admin_client, code=injected, state=victim_state)

    assert response.status_code == 400
    assert reason_of(response) == "code_rejected"
    assert "Please connect again" in response.content.decode()
    assert sandbox.count("/oauth/token", method="POST") == 1
    assert Connection.objects.filter(tenant=tenant).count() == 0


@pytest.mark.parametrize("case", ["replayed", "expired-31s"])
def test_t08_replayed_or_expired_code_gets_one_token_call_and_an_error(
    tenant_admin_client, tenant, sandbox_app, sandbox_settings, case
):
    sandbox = sandbox_settings
    first = sandbox_consent(sandbox, _sandbox_start(tenant_admin_client, tenant))
    if case == "replayed":
        assert callback(tenant_admin_client, **first).status_code == 302
        state = _sandbox_start(tenant_admin_client, tenant)["state"][0]
        code = first["code"]
    else:
        sandbox.advance(31)
        state, code = first["state"], first["code"]
    before = connection_snapshot(tenant)
    token_calls = sandbox.count("/oauth/token", method="POST")

    response = callback(tenant_admin_client, code=code, state=state)

    assert response.status_code == 400
    assert reason_of(response) == "code_rejected"
    assert sandbox.count("/oauth/token", method="POST") == token_calls + 1
    assert connection_snapshot(tenant) == before


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"error": "access_denied"}, 200, "cancelled"),
        ({"error": "invalid_scope"}, 400, "provider_error"),
        ({"error": "server_error"}, 400, "provider_error"),
        ({"error": "temporarily_unavailable"}, 400, "provider_error"),
        ({"error": "made_up_error"}, 400, "provider_error"),
        ({"error": "server_error", "code": CODE}, 400, "provider_error"),
        (
            {"error": "server_error", "error_description": "<script>alert(1)</script>"},
            400,
            "provider_error",
        ),
    ],
    ids=[
        "denied",
        "invalid_scope",
        "server_error",
        "unavailable",
        "unknown",
        "error-and-code",
        "script",
    ],
)
def test_t09_provider_errors_end_on_a_clear_page_and_consume_the_state(
    tenant_admin_client, tenant, started, mocked_responses, params, status, reason
):
    state, before = started

    response = callback(tenant_admin_client, state=state, **params)
    replay = callback(tenant_admin_client, state=state, code="code-0001")

    html = response.content.decode()
    assert response.status_code == status
    assert reason_of(response) == reason
    assert "<script>alert(1)" not in html
    assert CODE not in html
    assert len(mocked_responses.calls) == 0
    assert reason_of(replay) == "state"
    assert connection_snapshot(tenant) == before


@pytest.mark.parametrize(
    "case", ["iss-mismatch", "iss-matches", "host-header", "query-endpoint"]
)
def test_t10_token_endpoint_and_issuer_never_come_from_the_request(
    tenant_admin_client, tenant, started, fake_identity, mocked_responses, case
):
    state, _ = started
    extra = {
        "iss-mismatch": {"iss": "https://evil.example"},
        "iss-matches": {"iss": ISSUER},
        "host-header": {},
        "query-endpoint": {"token_url": "https://evil.example/oauth/token"},
    }[case]
    headers = {"HTTP_X_FORWARDED_HOST": "evil.example"} if case == "host-header" else {}
    if case == "iss-mismatch":
        response = tenant_admin_client.get(
            reverse("pagerduty_callback"),
            {"code": "code-0001", "state": state, **extra},
        )
        assert response.status_code == 400
        assert reason_of(response) == "provider_error"
        assert len(mocked_responses.calls) == 0
        return
    fake_identity.mock_success()

    response = tenant_admin_client.get(
        reverse("pagerduty_callback"),
        {"code": "code-0001", "state": state, **extra},
        **headers,
    )

    assert response.status_code == 302
    assert [call.request.url.split("?")[0] for call in mocked_responses.calls][0] == (
        TOKEN_URL
    )
    assert all("evil" not in call.request.url for call in mocked_responses.calls)


MALFORMED = {
    "code-empty": {"code": ""},
    "code-1": {"code": "a"},
    "code-512": {"code": "a" * 512},
    "code-100k": {"code": "a" * 100_000},
    "nul": {"code": "a\x00b"},
    "crlf": {"code": "a\r\nSet-Cookie: x=1"},
    "pct00": {"code": "%00"},
    "bad-percent": "code=%zz%&state=%",
    "non-utf8": "code=%ff%fe%fd",
    "200-params": "&".join(f"p{i}=v" for i in range(200)),
}


# Inputs that are not an authorization code at all: refused before any call.
NOT_A_CODE = {"code-empty", "code-100k", "nul", "crlf", "non-utf8"}


@pytest.mark.parametrize("name", [*MALFORMED, "POST", "HEAD"])
def test_t11_malformed_callback_input_is_refused_fast_without_500(
    tenant_admin_client, tenant, started, mocked_responses, name
):
    state, before = started
    mocked_responses.assert_all_requests_are_fired = False
    token = mocked_responses.post(
        TOKEN_URL, status=400, json={"error": "invalid_grant"}
    )
    url = reverse("pagerduty_callback")
    began = time.monotonic()
    if name == "POST":
        response = tenant_admin_client.post(url, {"code": "code-0001", "state": state})
    elif name == "HEAD":
        response = tenant_admin_client.head(url, {"code": "code-0001", "state": state})
    elif isinstance(MALFORMED[name], str):
        response = tenant_admin_client.get(f"{url}?{MALFORMED[name]}&state={state}")
    else:
        query = urlencode({**MALFORMED[name], "state": state})
        response = tenant_admin_client.get(f"{url}?{query}")
    elapsed = time.monotonic() - began

    assert response.status_code in (400, 401, 405)
    assert elapsed < 0.5
    assert connection_snapshot(tenant) == before
    if name in NOT_A_CODE:
        assert token.call_count == 0
    else:
        assert token.call_count <= 1


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_HOST": "evil.example"},
        {"HTTP_HOST": "127.0.0.1:8000.evil.example"},
        {"HTTP_X_FORWARDED_HOST": "evil.example"},
        {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "evil.example"},
        {"HTTP_HOST": "localhost"},
    ],
    ids=["host", "host-suffix", "x-forwarded-host", "proto-and-host", "other-ok"],
)
def test_t12_host_headers_never_change_the_redirect_uri(
    tenant_admin_client, tenant, pagerduty_client, fake_identity, headers
):
    response = tenant_admin_client.post(
        reverse("integrations:tenant_connect", args=[tenant.pk]), **headers
    )
    if "evil" in headers.get("HTTP_HOST", ""):
        assert response.status_code == 400  # DisallowedHost
        return
    query = parse_qs(urlsplit(response["Location"]).query)
    fake_identity.mock_success()

    callback(tenant_admin_client, code="code-0001", state=query["state"][0])

    sent = parse_qs(fake_identity.rsps.calls[0].request.body)
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert sent["redirect_uri"] == [REDIRECT_URI]


# Django's IsSafeURLTests.test_bad_urls, then the plan's own vectors.
BAD_NEXT = [
    "http://example.com",
    "http:///example.com",
    "https://example.com",
    "ftp://example.com",
    r"\\example.com",
    r"\\\example.com",
    r"/\\/example.com",
    r"\\\example.com",
    r"\\//example.com",
    r"/\/example.com",
    r"\/example.com",
    r"/\example.com",
    "http:///example.com",
    r"http:/\//example.com",
    r"http:\/example.com",
    r"http:/\example.com",
    'javascript:alert("XSS")',
    "\njavascript:alert(x)",
    "java\nscript:alert(x)",
    "\x08//example.com",
    r"http://otherserver\@example.com",
    r"http:\\testserver\@example.com",
    r"http://testserver\me:pass@example.com",
    r"http://testserver\@example.com",
    r"http:\\testserver\confirm\me@example.com",
    "http:999999999",
    "ftp:9999999999",
    "\n",
    "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
    "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
    "//evil.example",
    "https:evil.example",
    "http:/evil.example",
    r"http:\\\evil.example",
    "https://127.0.0.1:8000@evil.example",
    "https://127.0.0.1.evil.example",
    "/%2F%2Fevil.example",
    "%09//evil.example",
    "https://xn--pgerduty-6cb.com/",
    "https://pаgerduty.com/",
    "data:text/html,<script>alert(1)</script>",
    "http://testserver/x",
]


def _is_same_origin(location: str) -> bool:
    parts = urlsplit(location)
    if parts.netloc:
        return parts.scheme in ("http", "https") and parts.netloc == "testserver"
    return (
        not parts.scheme
        and not location.startswith("//")
        and "\\" not in location
        and location.isprintable()
    )


@pytest.mark.parametrize("target", BAD_NEXT)
def test_t13_next_never_redirects_off_site(client, tenant_admin, target):
    login = client.post(
        reverse("account_login"),
        {"login": "alice", "password": "password", "next": target},
    )
    logout = client.post(reverse("account_logout"), {"next": target})

    for response in (login, logout):
        assert response.status_code == 302
        assert _is_same_origin(response["Location"]), response["Location"]


def test_t14_callback_answers_are_private_and_load_nothing_third_party(
    tenant_admin_client, tenant, started, fake_identity
):
    state, _ = started
    fake_identity.mock_success()

    response = callback(tenant_admin_client, code=CODE, state=state)
    landing = tenant_admin_client.get(response["Location"])
    error = callback(tenant_admin_client, code=CODE, state=state)

    assert response.status_code == 302
    assert "?" not in response["Location"]
    for answer in (response, error):
        assert answer["Referrer-Policy"] == "no-referrer"
        assert "no-store" in answer["Cache-Control"]
    for page in (landing, error):
        html = page.content.decode()
        assert CODE not in html
        assert state not in html
        for url in re.findall(r'(?:src|href|action)="([^"]*)"', html):
            assert not urlsplit(url).netloc, url


def test_t15_connect_start_needs_post_with_csrf_and_login_get_only_confirms(
    tenant_admin, tenant, pagerduty_client
):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tenant_admin)
    connect = reverse("integrations:tenant_connect", args=[tenant.pk])

    get = browser.get(connect)
    post_without_token = browser.post(connect)
    allauth_get = browser.get(f"{reverse('pagerduty_login')}?process=connect")
    allauth_post = browser.post(f"{reverse('pagerduty_login')}?process=connect")

    assert get.status_code == 405
    assert post_without_token.status_code == 403
    assert allauth_get.status_code in (200, 404)
    assert "Location" not in allauth_get
    assert allauth_post.status_code in (403, 404)
    assert Connection.objects.count() == 0


def test_t16_reconnect_to_another_pagerduty_account_changes_nothing(
    tenant_admin_client, tenant, started, fake_identity
):
    state, before = started
    fake_identity.mock_success(
        id_token=fake_identity.id_token(account_id="PACCTOTHER", subdomain="acme")
    )

    response = callback(tenant_admin_client, code="code-0001", state=state)

    assert response.status_code == 409
    assert reason_of(response) == "account_changed"
    assert connection_snapshot(tenant) == before


def test_t02_unverifiable_callbacks_are_audited_without_flooding_the_trail(client):
    responses = [
        client.get(reverse("pagerduty_callback"), {"code": CODE, "state": "x"})
        for _ in range(25)
    ]

    events = AuditEvent.objects.filter(action="oauth.callback.state_invalid")
    assert {response.status_code for response in responses} == {400}
    assert events.count() == 20
    assert {(e.actor_id, e.tenant_id) for e in events} == {(None, None)}
