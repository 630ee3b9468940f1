"""bench/pages.py against a small sandbox process: every figure is there,
the upstream calls are the sandbox's count, and the section cleans up."""

import pytest
import requests

from bench import pages as bench_pages
from bench.common import Context, Sandbox, connect_tenant
from integrations.models import AuditEvent, Tenant, WebhookDelivery

pytestmark = pytest.mark.django_db

PAGES = ("incident list", "incident detail", "services list", "on-call now")


@pytest.fixture(scope="module")
def small_sandbox():
    sandbox = Sandbox(incidents=300, services=5, latency_ms=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def ctx(small_sandbox, settings):
    settings.PAGERDUTY_IDENTITY_URL = small_sandbox.url
    settings.PAGERDUTY_API_URL = small_sandbox.url
    settings.PAGERDUTY_EU_API_URL = small_sandbox.eu_api_url
    return Context(
        latency_ms=0,
        repeat=2,
        incidents=300,
        services=5,
        database="test",
        cache="test",
        sandbox=small_sandbox,
        quick=True,
        current_section="pages",
    )


def test_the_section_adds_every_figure_and_cleans_up(ctx):
    bench_pages.run(ctx)

    figures = {figure.name: figure for figure in ctx.figures}
    assert len(figures) == len(ctx.figures) == 5 * len(PAGES) + 2
    calls = {page: figures[f"{page}: upstream calls"].value for page in PAGES}
    assert calls == {
        # The page, the other open tab's count, services and teams.
        "incident list": 4,
        "incident detail": 3,
        "services list": 1,
        # Now and the week; the schedule and user pickers' directory lists.
        "on-call now": 4,
    }
    for page in ("incident list", "on-call now"):
        changed = figures[f"{page}: upstream calls after an incident change"]
        assert (changed.value, changed.met) == (2, True)
    assert figures["services list: upstream calls"].met is True
    for page in PAGES:
        for kind in ("cold", "warm"):
            ratio = figures[f"{page}: {kind} ratio"].value
            assert ratio.runs == 2
            assert 0 < ratio.min <= ratio.median <= ratio.max
        at_1x = figures[f"{page}: DB queries at 1x"].value
        at_10x = figures[f"{page}: DB queries at 10x"]
        assert at_1x > 0
        assert at_10x.met is (at_10x.value == at_1x)
    assert not Tenant.objects.filter(slug__startswith="bench-pages").exists()
    assert not AuditEvent.objects.filter(actor_label="bench").exists()
    assert not WebhookDelivery.objects.exists()
    state = ctx.sandbox.control("GET", "state")
    assert state["config"]["rate_limit"] == 960


def test_ten_times_the_data_is_ten_times_each_table(ctx):
    tenant = connect_tenant(ctx.sandbox, slug=bench_pages.TENANT_SLUG)
    seeded = bench_pages.Seeded()

    bench_pages.seed_1x(tenant, bench_pages.QUICK_BASE, seeded)
    at_1x = bench_pages.portal_counts()
    bench_pages.seed_10x(tenant, seeded, at_1x)
    at_10x = bench_pages.portal_counts()
    bench_pages.unseed(tenant, seeded)

    assert at_1x["tenants"] == bench_pages.QUICK_BASE["tenants"]
    assert at_10x == {name: 10 * count for name, count in at_1x.items()}
    assert bench_pages.portal_counts()["tenants"] == 0


def test_the_baseline_replays_exactly_what_the_portal_sent(ctx):
    tenant = connect_tenant(ctx.sandbox, slug=bench_pages.TENANT_SLUG)
    client = tenant.client()
    url = tenant.path("oncall_list")

    upstream, calls, _ = bench_pages.discover(tenant, client, url)
    ctx.sandbox.clear_log()
    with requests.Session() as session:
        bench_pages.direct(session, upstream)()
    replayed = ctx.sandbox.requests_log()

    assert calls == len(upstream.calls) == 4
    paths = [e["path"] for e in replayed if not e["path"].startswith("/_sandbox/")]
    assert paths == ["/oncalls", "/oncalls", "/schedules", "/users"]
    assert all("?" in url for _method, url, _headers in upstream.calls)
