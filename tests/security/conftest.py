"""Shared harness of the security suite (SECURITY-TESTS.md §2).

Two tenants with their own apps and connections, every secret a unique
canary, a recorder of outbound HTTP at the `requests` boundary, and
`leak_scan`, which searches every sink a secret could end up in (T63).
"""

import io
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from io import StringIO

import pytest
import requests
import urllib3
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection as db_connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from integrations.models import Connection, Membership
from tests.connect_fixtures import API, TOKEN_URL
from tests.factories import (
    CLIENT_SECRET,
    MembershipFactory,
    OAuthClientFactory,
    TenantFactory,
    UserFactory,
)

# Unique per kind and tenant, so a hit names the secret and where it was.
CS_A = CLIENT_SECRET
CS_B = "CANARY-CS-b7e41d09-tenant-b-secret"
AT_A = "CANARY-AT-a19f-tenant-a-access"
RT_A = "CANARY-RT-a19f-tenant-a-refresh"
AT_B = "CANARY-AT-b28e-tenant-b-access"
RT_B = "CANARY-RT-b28e-tenant-b-refresh"
CODE = "CANARY-CODE-c37d-authorization-code"
CANARIES = (CS_A, CS_B, AT_A, RT_A, AT_B, RT_B, CODE)
ALL_GRANTED = (
    "openid incidents.read incidents.write services.read services.write oncalls.read"
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start each test with an empty cache (allauth counts rate limits there)."""
    for alias in caches:
        caches[alias].clear()


def url_exists(name: str, *args) -> bool:
    """Return whether a named URL exists (workspace pages land separately)."""
    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


def make_connection(
    tenant, app, *, access, refresh, expires_in=timedelta(days=1), user=None
):
    return Connection.objects.create(
        tenant=tenant,
        user=user,
        oauth_client=app,
        account_id=f"PACCT{tenant.pk:02d}",
        subdomain=tenant.slug,
        api_url=API,
        pd_user_id="PUSER01",
        pd_user_name="Alice Admin",
        access_token=access,
        refresh_token=refresh,
        access_expires_at=timezone.now() + expires_in,
        granted_scopes=ALL_GRANTED,
        requested_scopes=app.scopes,
    )


@dataclass
class World:
    """Tenants A and B, their apps, connections and one user per role."""

    tenant_a: object
    tenant_b: object
    app_a: object
    app_b: object
    conn_a: object
    conn_b: object
    users: dict = field(default_factory=dict)


@pytest.fixture
def world(development, tenant):
    tenant_b = TenantFactory(environment=development, name="Globex", slug="globex")
    app_a = OAuthClientFactory(environment=development)
    app_b = OAuthClientFactory(
        environment=development,
        tenant=tenant_b,
        client_id="globex-own-client-0001",
        client_secret=CS_B,
        subdomain="globex",
    )
    conn_a = make_connection(tenant, app_a, access=AT_A, refresh=RT_A)
    conn_b = make_connection(tenant_b, app_b, access=AT_B, refresh=RT_B)
    users = {"anonymous": None}
    for name, tenant_, role in [
        ("a_member", tenant, Membership.Role.MEMBER),
        ("a_admin", tenant, Membership.Role.ADMIN),
        ("b_member", tenant_b, Membership.Role.MEMBER),
        ("b_admin", tenant_b, Membership.Role.ADMIN),
    ]:
        users[name] = MembershipFactory(
            tenant=tenant_, user=UserFactory(username=name), role=role
        ).user
    # Each tenant's admin connected it, so acts as herself through it.
    Connection.objects.filter(pk=conn_a.pk).update(user=users["a_admin"])
    Connection.objects.filter(pk=conn_b.pk).update(user=users["b_admin"])
    conn_a.refresh_from_db()
    conn_b.refresh_from_db()
    users["staff"] = UserFactory(username="staff_no_tenant", is_staff=True)
    users["superuser"] = UserFactory(username="root", is_staff=True, is_superuser=True)
    return World(tenant, tenant_b, app_a, app_b, conn_a, conn_b, users)


@dataclass
class Outbound:
    method: str
    url: str
    headers: dict
    body: str
    status: int | None = None
    response_body: str = ""
    timeout: object = None


class Recorder(list):
    """Outbound calls; `paused` while the test itself plays the browser."""

    paused = False


@pytest.fixture
def outbound(monkeypatch):
    """Record every request the portal sends, at the `requests` boundary."""
    calls = Recorder()
    real_send = requests.Session.send

    def send(self, request, **kwargs):
        if calls.paused:
            return real_send(self, request, **kwargs)
        body = request.body or ""
        if isinstance(body, bytes):
            body = body.decode("latin-1")
        call = Outbound(request.method, request.url, dict(request.headers), body)
        call.timeout = kwargs.get("timeout")
        calls.append(call)
        response = real_send(self, request, **kwargs)
        call.status = response.status_code
        call.response_body = response.text[:100_000]
        if kwargs.get("stream"):
            # The code under test reads a streamed body from `raw` itself.
            response.raw = urllib3.HTTPResponse(
                body=io.BytesIO(response.content),
                status=response.status_code,
                preload_content=False,
            )
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    return calls


def _db_dump() -> str:
    """Return every row of every table, read with SQL (ciphertext stays)."""
    rows = []
    with db_connection.cursor() as cursor:
        for table in db_connection.introspection.table_names():
            quoted = db_connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    rows.append(f"{table}: {value}")
    return "\n".join(rows)


def _cache_dump() -> str:
    parts = []
    for alias in caches:
        store = getattr(caches[alias], "_cache", {})
        parts.extend(repr(key) + repr(value) for key, value in list(store.items()))
    return "\n".join(parts)


def _session_dump() -> str:
    return "\n".join(
        json.dumps(s.get_decoded(), default=str) for s in Session.objects.all()
    )


def _messages_in(response) -> str:
    cookie = response.cookies.get("messages")
    if cookie is None or not cookie.value:
        return ""
    storage = CookieStorage(None)
    decoded = storage._decode(cookie.value) or []
    return " ".join(str(m) for m in decoded)


@dataclass
class LeakScan:
    """Collect sinks during a test and search them for canaries (T63)."""

    caplog: object
    mailoutbox: list
    outbound: list
    responses: list = field(default_factory=list)
    extra_sinks: dict = field(default_factory=dict)
    # Outbound requests to these URLs may carry secrets in their form body:
    # the token endpoint is where client secret, code and tokens belong.
    token_urls: set = field(default_factory=lambda: {TOKEN_URL})
    # The sandbox runs in this process; its own logs are not the portal's.
    ignored_loggers: tuple = ("pagerduty_sandbox",)
    checks: int = 0

    def keep(self, response):
        self.responses.append(response)
        return response

    def sinks(self) -> dict[str, str]:
        records = [
            f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in self.caplog.records
        ]
        sinks = {
            "responses": "\n".join(
                response.content.decode("latin-1")
                + repr(response.items())
                + repr(response.cookies)
                for response in self.responses
            ),
            "messages": "\n".join(_messages_in(r) for r in self.responses),
            "logs": "\n".join(records),
            "mail": "\n".join(
                f"{m.subject} {m.body}"
                + "".join(str(a[0]) for a in getattr(m, "alternatives", []))
                for m in self.mailoutbox
            ),
            "sessions": _session_dump(),
            "cache": _cache_dump(),
            "database": _db_dump(),
            "outbound urls": "\n".join(call.url for call in self.outbound),
            "outbound headers": "\n".join(
                repr({k: v for k, v in c.headers.items() if k != "Authorization"})
                for c in self.outbound
            ),
            "outbound bodies": "\n".join(
                c.body for c in self.outbound if c.url not in self.token_urls
            ),
        }
        out = StringIO()
        call_command("dumpdata", stdout=out)
        sinks["dumpdata"] = out.getvalue()
        sinks.update(self.extra_sinks)
        return sinks

    def hits(self, canaries) -> list[tuple[str, str]]:
        """Return (sink, canary) pairs where a canary was found."""
        found = []
        for sink, text in self.sinks().items():
            for canary in canaries:
                self.checks += 1
                if canary and canary in text:
                    found.append((sink, canary))
        return found

    def assert_clean(self, canaries=CANARIES):
        hits = self.hits(canaries)
        assert hits == [], hits


@pytest.fixture
def leak_scan(caplog, mailoutbox, outbound):
    caplog.set_level("DEBUG")
    return LeakScan(caplog=caplog, mailoutbox=mailoutbox, outbound=outbound)


def reason_of(response) -> str:
    """Return the failure reason code of the connect error page."""
    found = re.search(r'data-reason="([a-z_]+)"', response.content.decode())
    return found.group(1) if found else ""


def bearer_tokens(calls) -> list[str]:
    return [c.headers.get("Authorization", "").removeprefix("Bearer ") for c in calls]


@pytest.fixture
def sandbox_app(sandbox_settings, development):
    """The development environment configured with the sandbox's demo app."""
    from integrations.pagerduty import scopes as pd_scopes

    demo = sandbox_settings.demo_app
    return OAuthClientFactory(
        environment=development,
        client_id=demo.client_id,
        client_secret=demo.client_secret,
        subdomain="acme",
        region="us",
        scopes=pd_scopes.canonical(demo.scopes),
    )


def sandbox_consent(
    sandbox, authorize_query: dict, email="alice@acme.example", recorder=None
):
    """Approve an authorize request in the sandbox; return the callback query."""
    from tests.pagerduty_sandbox.flow import decide, redirect_query, signed_in_session

    if recorder is not None:
        recorder.paused = True
    try:
        session = signed_in_session(sandbox, email)
        params = {key: values[0] for key, values in authorize_query.items()}
        return redirect_query(decide(session, sandbox, params))
    finally:
        if recorder is not None:
            recorder.paused = False
