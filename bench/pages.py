"""Page cost: what four workspace pages cost over the PagerDuty calls they need.

For the incident list (100 per page), an incident's detail, the services
list and on-call now:

- cold and warm ratio: the portal's response time over the time of the same
  upstream requests made directly, measured in alternating pairs;
- upstream calls per page (cold), from the sandbox's request log;
- database queries per page with 1x and 10x portal data.

The portal is called in-process through Django's test client, so the figure
is the portal's own cost (middleware, database, cache, client, template),
not a WSGI server's. The baseline is the bare HTTP exchange: the very GETs
the portal sent (URL with query, and its Accept, Authorization and
User-Agent headers), one after another on one keep-alive
`requests.Session`, body read but not parsed. The portal's client keeps a
session per page request, so it pays one loopback connect per page that
the baseline does not.
"""

import contextlib
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import requests

from bench.common import (
    ConnectedTenant,
    Stats,
    connect_tenant,
    count_upstream,
    expect_status,
    paired_ratios,
)

COLD_TARGET = 1.3
WARM_TARGET = 0.5
TENANT_SLUG = "bench-pages"
SEED_PREFIX = "bench-pages-x"
# Portal data at 1x, the measured tenant included; 10x is ten times each.
BASE = {
    "tenants": 20,
    "members_per_tenant": 5,
    "audit_per_tenant": 50,
    "deliveries_per_tenant": 50,
    "user_tenants": 2,
}
QUICK_BASE = {**BASE, "tenants": 4, "audit_per_tenant": 10, "deliveries_per_tenant": 10}
# Rate limiting is not what this section measures: with many repeats the
# portal and the baseline together pass the sandbox's 960 calls a minute.
SECTION_RATE_LIMIT = 1_000_000


@dataclass
class PageSpec:
    """A workspace page to measure and how to reach it."""

    name: str
    url_name: str
    query: str = ""
    needs_incident: bool = False
    list_page: bool = False
    why: str = ""
    # Also count the calls after an incident change (a webhook or a write
    # drops the incident reads; the directory lists stay cached).
    after_change: int | None = None


PAGES = (
    PageSpec(
        "incident list",
        "incident_list",
        "?per_page=100",
        why=(
            "GET /incidents: 100 with the total, and the other open tab's "
            "count (limit 1); cold, also the pickers' directory lists, one "
            "GET per 100 services or teams"
        ),
        after_change=2,
    ),
    PageSpec(
        "incident detail",
        "incident_detail",
        needs_incident=True,
        why="the incident, its log entries and its notes: three GETs",
    ),
    PageSpec(
        "services list",
        "service_list",
        list_page=True,
        why="one GET /services; status comes from the service itself",
    ),
    PageSpec(
        "on-call now",
        "oncall_list",
        why=(
            "on call now and the next 7 days: two GET /oncalls; one window "
            "call could push current entries past its 100-entry page; cold, "
            "also the schedule and user pickers' directory lists"
        ),
        after_change=2,
    ),
)


@dataclass
class Upstream:
    """What a page sent upstream: method, full URL and the headers to replay."""

    calls: list[tuple[str, str, dict]] = field(default_factory=list)


@contextlib.contextmanager
def recording(base_url: str):
    """Record every request sent to `base_url` through `requests` meanwhile."""
    record = Upstream()
    original = requests.Session.send

    def send(session, request, **kwargs):
        if request.url.startswith(base_url):
            headers = {
                name: request.headers[name]
                for name in ("Accept", "Authorization", "User-Agent")
                if name in request.headers
            }
            record.calls.append((request.method, request.url, headers))
        return original(session, request, **kwargs)

    requests.Session.send = send
    try:
        yield record
    finally:
        requests.Session.send = original


def direct(session: requests.Session, upstream: Upstream):
    """Return a callable that replays the page's upstream GETs in order."""

    def replay():
        for method, url, headers in upstream.calls:
            response = session.request(method, url, headers=headers, timeout=30)
            response.raise_for_status()

    return replay


def discover(tenant: ConnectedTenant, client, url: str):
    """Fetch a page cold; return what it sent upstream and its call count.

    The sandbox logs paths without queries, so the full URLs are taken
    from the portal's own requests, and checked against the log.
    """
    from django.core.cache import cache

    cache.clear()
    tenant.sandbox.clear_log()
    with recording(tenant.sandbox.url) as upstream:
        response = expect_status(client.get(url))
    log = tenant.sandbox.requests_log()
    sent = sorted(
        re.sub(r"\?.*", "", u).removeprefix(tenant.sandbox.url)
        for _, u, _ in upstream.calls
    )
    logged = sorted(e["path"] for e in log if not e["path"].startswith("/_sandbox/"))
    if sent != logged:
        raise RuntimeError(f"{url}: portal sent {sent}, the sandbox logged {logged}")
    return upstream, count_upstream(log), response


def calls_after_change(tenant: ConnectedTenant, client, url: str) -> int:
    """Return the upstream calls of `url` after an incident change.

    The page is read once, then the connection's incident reads are dropped
    the way a webhook delivery drops them.
    """
    from integrations.pagerduty.workspace.cache import cache_invalidate

    expect_status(client.get(url))
    cache_invalidate(tenant.connection.pk)
    tenant.sandbox.clear_log()
    expect_status(client.get(url))
    return count_upstream(tenant.sandbox.requests_log())


def query_count(client, url: str) -> int:
    """Return the database queries of one cold request for `url`."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        expect_status(client.get(url))
    return len(queries)


def first_incident_id(html: str) -> str:
    found = re.findall(r'id="incident-([A-Z0-9]+)"', html)
    if not found:
        raise RuntimeError("the incident list shows no incident to open")
    return found[0]


def measure_ratios(client, url: str, replay, pairs: int) -> dict[str, Stats]:
    """Return cold and warm ratios, their portal and direct times, portal CPU.

    CPU is the request thread's own time (no waiting on the database,
    the cache or PagerDuty): on a busy machine it says more about the
    portal's cost than wall time does.
    """
    from django.core.cache import cache

    cpu: list[float] = []

    def portal():
        started = time.thread_time()
        expect_status(client.get(url))
        cpu.append(time.thread_time() - started)

    replay()  # warm the baseline's connection and the sandbox's indexes
    cold, cold_portal, cold_direct = paired_ratios(
        portal, replay, pairs, before_each=cache.clear
    )
    cold_cpu = Stats.of(cpu)
    portal()  # the page is now cached
    cpu.clear()
    warm, warm_portal, warm_direct = paired_ratios(portal, replay, pairs)
    return {
        "cold": cold,
        "cold portal": cold_portal,
        "cold direct": cold_direct,
        "cold cpu": cold_cpu,
        "warm": warm,
        "warm portal": warm_portal,
        "warm direct": warm_direct,
        "warm cpu": Stats.of(cpu),
    }


def ms(stats: Stats) -> str:
    return f"{stats.median * 1000:.1f} ms"


# --- Portal data at 1x and 10x -------------------------------------------


@dataclass
class Seeded:
    """The rows this section added, so that it can delete them again."""

    tenant_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)


def portal_counts() -> dict[str, int]:
    """Return the portal rows that 10x multiplies."""
    from django.contrib.auth import get_user_model

    from integrations.models import (
        AuditEvent,
        Connection,
        Membership,
        Tenant,
        WebhookDelivery,
    )

    return {
        "tenants": Tenant.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "connections": Connection.objects.count(),
        "audit events": AuditEvent.objects.count(),
        "webhook deliveries": WebhookDelivery.objects.count(),
    }


def measured_counts(tenant: ConnectedTenant) -> dict[str, int]:
    """Return the measured tenant's and user's own rows."""
    from integrations.models import AuditEvent, Membership, WebhookDelivery

    return {
        "members": Membership.objects.filter(tenant=tenant.tenant).count(),
        "joined": Membership.objects.filter(user=tenant.user).count(),
        "audit": AuditEvent.objects.filter(tenant=tenant.tenant).count(),
        "deliveries": WebhookDelivery.objects.filter(
            subscription__connection=tenant.connection
        ).count(),
    }


def seed_1x(tenant: ConnectedTenant, base: dict, seeded: Seeded) -> None:
    """Create the 1x portal data around the measured tenant."""
    from integrations.models import WebhookSubscription

    WebhookSubscription.objects.get_or_create(
        connection=tenant.connection,
        defaults={
            "pd_subscription_id": "PBENCHWS",
            "status": WebhookSubscription.Status.ACTIVE,
            "events": ["incident.triggered"],
        },
    )
    have = measured_counts(tenant)
    others = base["tenants"] - 1
    add_rows(
        tenant,
        seeded,
        tenants=others,
        members=(
            base["members_per_tenant"] - have["members"],
            others * base["members_per_tenant"],
        ),
        joins=base["user_tenants"] - have["joined"],
        audit=(
            base["audit_per_tenant"] - have["audit"],
            others * base["audit_per_tenant"],
        ),
        deliveries=(
            base["deliveries_per_tenant"] - have["deliveries"],
            others * base["deliveries_per_tenant"],
        ),
    )


def seed_10x(tenant: ConnectedTenant, seeded: Seeded, at_1x: dict) -> None:
    """Add nine times the 1x rows: the measured tenant's share, then others."""
    mine = measured_counts(tenant)
    members, joins = 9 * mine["members"], 9 * mine["joined"]
    audit, deliveries = 9 * mine["audit"], 9 * mine["deliveries"]
    others = 9 * at_1x["memberships"] - members - joins
    add_rows(
        tenant,
        seeded,
        tenants=9 * at_1x["tenants"],
        members=(members, others),
        joins=joins,
        # The measured user's memberships grow too, so a few users are
        # left without a tenant to keep every table at exactly 10x.
        loners=9 * at_1x["users"] - members - others,
        audit=(audit, 9 * at_1x["audit events"] - audit),
        deliveries=(deliveries, 9 * at_1x["webhook deliveries"] - deliveries),
    )


def add_rows(
    tenant: ConnectedTenant,
    seeded: Seeded,
    *,
    tenants: int,
    members: tuple[int, int],
    joins: int,
    audit: tuple[int, int],
    deliveries: tuple[int, int],
    loners: int = 0,
) -> None:
    """Bulk-create portal rows around the measured tenant.

    `tenants` new tenants each get a connection with a webhook
    subscription. The pairs are (the measured tenant's share, the new
    tenants' share, spread evenly); every membership but the measured
    user's `joins` of new tenants brings a new user, and `loners` users
    have no tenant.
    """
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from integrations.models import (
        AuditEvent,
        Connection,
        Membership,
        Tenant,
        WebhookDelivery,
        WebhookSubscription,
    )

    user_model = get_user_model()
    measured, connection = tenant.tenant, tenant.connection
    environment = measured.environment
    now = timezone.now()
    run = uuid.uuid4().hex[:6]
    new_tenants = Tenant.objects.bulk_create(
        Tenant(
            environment=environment,
            name=f"Bench {run} {n}",
            slug=f"{SEED_PREFIX}{run}-{n}",
        )
        for n in range(tenants)
    )
    seeded.tenant_ids += [t.pk for t in new_tenants]

    homes = [measured] * members[0] + [
        new_tenants[n % tenants] for n in range(members[1] if tenants else 0)
    ]
    # An unusable password: these users never sign in.
    users = user_model.objects.bulk_create(
        user_model(username=f"{SEED_PREFIX}{run}-{n}", password="!")  # noqa: S106
        for n in range(len(homes) + max(loners, 0))
    )
    seeded.user_ids += [u.pk for u in users]
    Membership.objects.bulk_create(
        [
            *(
                Membership(tenant=home, user=user, role=Membership.Role.MEMBER)
                for home, user in zip(homes, users, strict=False)
            ),
            *(
                Membership(tenant=t, user=tenant.user, role=Membership.Role.MEMBER)
                for t in new_tenants[:joins]
            ),
        ]
    )

    connections = Connection.objects.bulk_create(
        Connection(
            tenant=t,
            oauth_client=connection.oauth_client,
            account_id="PBENCH",
            subdomain=t.slug[:63],
            api_url=tenant.sandbox.url,
            pd_user_id="PBENCHU",
            pd_user_name="Bench",
            pd_user_email="bench@example.com",
            access_token=f"bench-{t.slug}",
            refresh_token=f"bench-refresh-{t.slug}",
            access_expires_at=now + timedelta(hours=1),
            granted_scopes=connection.granted_scopes,
            requested_scopes=connection.requested_scopes,
        )
        for t in new_tenants
    )
    subscriptions = WebhookSubscription.objects.bulk_create(
        WebhookSubscription(
            connection=c,
            pd_subscription_id=f"PB{c.pk}",
            status=WebhookSubscription.Status.ACTIVE,
        )
        for c in connections
    )

    where = [measured] * audit[0] + [
        new_tenants[n % tenants] for n in range(audit[1] if tenants else 0)
    ]
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                actor_label="bench",
                action=AuditEvent.Action.RESOURCE_CHANGED,
                target=f"incident {n}",
                environment=environment,
                tenant=t,
                created_at=now - timedelta(seconds=n),
            )
            for n, t in enumerate(where)
        ),
        batch_size=2000,
    )

    own = connection.webhook_subscription
    targets = [own] * deliveries[0] + [
        subscriptions[n % tenants] for n in range(deliveries[1] if tenants else 0)
    ]
    WebhookDelivery.objects.bulk_create(
        (
            WebhookDelivery(
                subscription=s,
                webhook_id=f"{run}-{n}",
                event_id=f"{run}-{n}",
                event_type="incident.acknowledged",
                resource_type="incident",
                resource_id=f"PB{n:06d}",
                incident_number=n,
                incident_status="acknowledged",
                incident_title="Bench incident",
                occurred_at=now - timedelta(seconds=n),
                outcome=WebhookDelivery.Outcome.PROCESSED,
            )
            for n, s in enumerate(targets)
        ),
        batch_size=2000,
    )


def unseed(tenant: ConnectedTenant, seeded: Seeded) -> None:
    """Delete everything this section created, the measured tenant included."""
    from django.contrib.auth import get_user_model

    from integrations.models import AuditEvent, Tenant

    tenant_ids = [*seeded.tenant_ids, tenant.tenant.pk]
    AuditEvent.objects.filter(tenant_id__in=tenant_ids).delete()
    Tenant.objects.filter(pk__in=tenant_ids).delete()
    get_user_model().objects.filter(pk__in=[*seeded.user_ids, tenant.user.pk]).delete()


# --- The section ------------------------------------------------------------


def run(ctx) -> None:
    sandbox = ctx.sandbox
    original_limit = sandbox.control("GET", "state")["config"]["rate_limit"]
    sandbox.configure(rate_limit=SECTION_RATE_LIMIT)
    tenant = connect_tenant(sandbox, slug=TENANT_SLUG, name="Bench pages")
    seeded = Seeded()
    try:
        _measure(ctx, tenant, seeded)
    finally:
        unseed(tenant, seeded)
        sandbox.configure(rate_limit=original_limit)


def _measure(ctx, tenant: ConnectedTenant, seeded: Seeded) -> None:
    base = QUICK_BASE if ctx.quick else BASE
    # Pairs are cheap (tens of ms), so each figure takes three per repeat:
    # the machine is shared and one slow moment moves a short sample.
    pairs = max(2, ctx.repeat if ctx.quick else ctx.repeat * 3)
    seed_1x(tenant, base, seeded)
    counts_1x = portal_counts()
    client = tenant.client()
    session = requests.Session()

    urls = {}
    for spec in PAGES:
        if spec.needs_incident:
            listing = expect_status(client.get(tenant.path("incident_list")))
            incident_id = first_incident_id(listing.content.decode())
            urls[spec.name] = tenant.path(spec.url_name, incident_id=incident_id)
        else:
            urls[spec.name] = tenant.path(spec.url_name) + spec.query

    queries_1x = {}
    for spec in PAGES:
        url = urls[spec.name]
        upstream, calls, _ = discover(tenant, client, url)
        if spec.list_page:
            ctx.add(
                f"{spec.name}: upstream calls",
                calls,
                unit="calls",
                target="1",
                met=calls == 1,
                note=spec.why,
            )
        else:
            ctx.add(f"{spec.name}: upstream calls", calls, unit="calls", note=spec.why)
        if spec.after_change is not None:
            changed = calls_after_change(tenant, client, url)
            ctx.add(
                f"{spec.name}: upstream calls after an incident change",
                changed,
                unit="calls",
                target=str(spec.after_change),
                met=changed == spec.after_change,
                note="the directory lists stay cached through incident events",
            )
        measured = measure_ratios(client, url, direct(session, upstream), pairs)
        for kind, target in (("cold", COLD_TARGET), ("warm", WARM_TARGET)):
            ratio = measured[kind]
            ctx.add(
                f"{spec.name}: {kind} ratio",
                ratio,
                unit="x direct",
                target=f"<= {target}",
                met=ratio.median <= target,
                note=f"portal {ms(measured[f'{kind} portal'])} "
                f"(CPU {ms(measured[f'{kind} cpu'])}) vs direct "
                f"{ms(measured[f'{kind} direct'])}, {pairs} pairs",
            )
        queries_1x[spec.name] = query_count(client, url)

    seed_10x(tenant, seeded, counts_1x)
    counts_10x = portal_counts()
    scale = ", ".join(
        f"{name} {counts_1x[name]:,} -> {counts_10x[name]:,}" for name in counts_1x
    )
    for spec in PAGES:
        before = queries_1x[spec.name]
        after = query_count(client, urls[spec.name])
        ctx.add(f"{spec.name}: DB queries at 1x", before, unit="queries")
        ctx.add(
            f"{spec.name}: DB queries at 10x",
            after,
            unit="queries",
            target=f"= 1x ({before})",
            met=after == before,
            note=scale if spec is PAGES[0] else "",
        )
    session.close()
