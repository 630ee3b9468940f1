"""Every page in every role, scanned by axe-core for WCAG 2.1 A/AA, at
desktop width and at 390 px: no violation is allowed.

The pages are the portal's own (the Django admin is Django's). Each role
signs in once per width and walks its pages; a page that fails names the
rule, its impact and where.
"""

import re

import pytest

from integrations.models import (
    AuditEvent,
    Connection,
    Environment,
    Membership,
    WebhookSubscription,
)
from tests.browser_fixtures import axe_violations, save_screenshot
from tests.factories import (
    MembershipFactory,
    OAuthClientFactory,
    TenantFactory,
    UserFactory,
)
from tests.integrations.pagerduty.workspace.conftest import (
    make_connection,
    sandbox_pd_user,
)
from tests.integrations.webhook_helpers import make_subscription

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {
    "desktop": {"width": 1366, "height": 900},
    "phone": {"width": 390, "height": 844},
}
PASSWORD = "Long-pass-1234!"


class World:
    """The demo's shape: a verified app, a connected tenant, its people."""

    def __init__(self, sandbox, live_server):
        from django.conf import settings
        from django.contrib.sites.models import Site

        Site.objects.get_or_create(
            pk=settings.SITE_ID, defaults={"domain": "example.com", "name": "x"}
        )
        self.url = live_server.url
        development = Environment.objects.get(slug="development")
        app = OAuthClientFactory(environment=development, subdomain="acme")
        AuditEvent.objects.create(
            action="config.verified",
            environment=development,
            details={"outcome": "ok", "missing": []},
        )
        self.staff = UserFactory(
            username="admin", password=PASSWORD, is_staff=True, is_superuser=True
        )
        self.tenant = TenantFactory(
            environment=development, name="Acme Corp", slug="acme"
        )
        self.alice = UserFactory(
            username="alice", password=PASSWORD, email="alice@acme.example"
        )
        self.bob = UserFactory(
            username="bob", password=PASSWORD, email="bob@acme.example"
        )
        MembershipFactory(
            tenant=self.tenant, user=self.alice, role=Membership.Role.ADMIN
        )
        self.bob_membership = MembershipFactory(tenant=self.tenant, user=self.bob)
        self.connection = make_connection(
            self.tenant,
            app,
            api_url=sandbox.url,
            token=sandbox.issue_token(user_email="alice@acme.example"),
            user=self.alice,
            pd_user=sandbox_pd_user(sandbox),
        )
        make_subscription(self.connection, status=WebhookSubscription.Status.ACTIVE)
        globex = TenantFactory(environment=development, name="Globex", slug="globex")
        broken = make_connection(globex, app, token="CANARY-AT-globex")
        Connection.objects.filter(pk=broken.pk).update(
            status=Connection.Status.NEEDS_RECONNECT,
            last_error="PagerDuty refused the refresh.",
        )
        # Alice also admins Globex, whose connection needs a reconnect.
        MembershipFactory(tenant=globex, user=self.alice, role=Membership.Role.ADMIN)
        self.globex = globex
        self.invitation_url = ""
        self.sandbox = sandbox

    def ws(self, path=""):
        return f"{self.url}/tenants/{self.tenant.pk}/pagerduty/{path}"


@pytest.fixture
def world(seeded_environments, sandbox_settings, live_server):
    return World(sandbox_settings, live_server)


def _sign_in(page, world, username):
    page.goto(f"{world.url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _first_id(page, kind):
    found = re.findall(rf'id="{kind}-([A-Z0-9]+)"', page.content())
    assert found, f"no {kind} on {page.url}: {page.content()[:1500]}"
    return found[0]


# Every page's findings, so one run reports them all.
FOUND: list[str] = []


def _scan(page, label):
    FOUND.extend(
        f"{label}: {v['id']} ({v['impact']}) {v['help']} at {v['nodes']}"
        for v in axe_violations(page)
    )
    # And no page scrolls sideways, at either width.
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > page.viewport_size["width"]:
        FOUND.append(f"{label}: {wide} px wide at {page.viewport_size['width']} px")


def _visit(page, url, label):
    page.goto(url)
    page.wait_for_load_state()
    _scan(page, label)


def _walk_staff(page, world):
    base = f"{world.url}/environments/development"
    for url, label in [
        (f"{base}/integrations/", "catalog"),
        (f"{base}/integrations/pagerduty/?tab=configuration", "configuration"),
        (f"{base}/integrations/pagerduty/?tab=guide", "setup guide"),
        (f"{base}/tenants/", "tenants"),
        (f"{base}/tenants/?attention=1", "tenants needing attention"),
        (f"{base}/tenants/{world.tenant.pk}/", "tenant page for staff"),
        (f"{base}/tenants/{world.globex.pk}/", "staff page of a broken tenant"),
        (f"{world.url}/audit/", "audit log"),
        (f"{world.url}/profile/", "profile"),
        (f"{world.url}/accounts/2fa/", "two-factor"),
    ]:
        _visit(page, url, label)
    page.goto(f"{base}/integrations/pagerduty/?tab=configuration")
    page.click("button:text('Disable')")
    page.wait_for_selector("#disable-consequences")
    _scan(page, "disable confirmation")


def _walk_admin(page, world):
    home = f"{world.url}/tenants/{world.tenant.pk}/"
    for url, label in [
        (home, "tenant page"),
        (f"{home}members/", "people"),
        (f"{home}members/{world.bob_membership.pk}/remove/", "remove someone"),
        (f"{home}pagerduty/disconnect/", "disconnect confirmation"),
        (f"{world.url}/profile/", "profile"),
        (f"{world.url}/tenants/{world.globex.pk}/", "tenant needing a reconnect"),
        (
            f"{world.url}/tenants/{world.globex.pk}/pagerduty/",
            "workspace of a tenant needing a reconnect",
        ),
        (f"{world.url}/", "home with two tenants"),
    ]:
        _visit(page, url, label)
    _walk_workspace(page, world, writer=True)


def _walk_member(page, world):
    home = f"{world.url}/tenants/{world.tenant.pk}/"
    for url, label in [
        (home, "tenant page (member)"),
        (f"{home}members/", "people (member)"),
    ]:
        _visit(page, url, label)
    _walk_workspace(page, world, writer=False)


def _walk_workspace(page, world, *, writer):
    ws = world.ws
    for path, label in [
        ("", "overview"),
        ("incidents/", "incidents"),
        ("incidents/?status=all&q=api", "incident search"),
        ("incidents/?status=acknowledged&assigned=me", "assigned to me"),
        ("incidents/export/?status=triggered", "export"),
        ("services/", "services"),
        ("oncalls/", "on-calls"),
        ("schedules/", "schedules"),
        ("escalation-policies/", "escalation policies"),
        ("users/", "users"),
        ("teams/", "teams"),
        ("webhooks/", "webhooks"),
    ]:
        _visit(page, ws(path), label)
    page.goto(ws("incidents/?status=triggered"))
    incident = _first_id(page, "incident")
    _visit(page, ws(f"incidents/{incident}/"), "incident")
    page.goto(ws("incidents/?status=resolved"))
    _visit(page, ws(f"incidents/{_first_id(page, 'incident')}/"), "resolved incident")
    page.goto(ws("services/"))
    service = _first_id(page, "service")
    _visit(page, ws(f"services/{service}/"), "service")
    page.goto(ws("schedules/"))
    _visit(page, ws(f"schedules/{_first_id(page, 'schedule')}/"), "schedule")
    page.goto(ws("escalation-policies/"))
    policy = _first_id(page, "policy")
    _visit(page, ws(f"escalation-policies/{policy}/"), "escalation policy")
    page.goto(ws("users/"))
    user = _first_id(page, "user")
    _visit(page, ws(f"users/{user}/"), "user")
    page.goto(ws("teams/"))
    team = _first_id(page, "team")
    _visit(page, ws(f"teams/{team}/"), "team")
    if not writer:
        return
    for path, label in [
        ("incidents/new/", "new incident"),
        (f"incidents/{incident}/reassign/", "reassign"),
        (f"incidents/{incident}/resolve/", "resolve with a note"),
        ("services/new/", "new service"),
        (f"services/{service}/edit/", "edit service"),
        (f"services/{service}/delete/", "delete service"),
        ("escalation-policies/new/", "new escalation policy"),
        (f"escalation-policies/{policy}/edit/", "edit escalation policy"),
        ("users/new/", "new user"),
        (f"users/{user}/edit/", "edit user"),
        (f"users/{user}/delete/", "delete user"),
        ("teams/new/", "new team"),
        (f"teams/{team}/edit/", "edit team"),
        (f"teams/{team}/delete/", "delete team"),
        (f"teams/{team}/members/new/", "add a team member"),
        ("webhooks/new/", "new webhook subscription"),
    ]:
        _visit(page, ws(path), label)
    page.goto(ws("escalation-policies/new/"))
    page.click("#level-add")
    page.wait_for_selector("#level-2")
    _scan(page, "escalation policy with two levels")


def _walk_anonymous(page, world, mailbox):
    _visit(page, f"{world.url}/accounts/login/", "sign in")
    _visit(page, f"{world.url}/invitations/no-such-invitation-link-000000/", "bad link")
    _visit(page, world.invitation_url, "invitation, new account")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["anonymous", "staff", "tenant admin", "member"])
def test_every_page_passes_wcag_21_aa(browser, world, role, width, mailoutbox):
    if role == "anonymous":
        from integrations.services.members import invitation_create

        invitation_create(
            tenant=world.tenant,
            email="carol@acme.example",
            role="member",
            actor=world.alice,
            accept_url=lambda token: f"{world.url}/invitations/{token}/",
        )
        world.invitation_url = re.search(
            r"http\S+/invitations/\S+/", mailoutbox[-1].body
        ).group(0)
    FOUND.clear()
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        if role == "anonymous":
            _walk_anonymous(page, world, mailoutbox)
        elif role == "staff":
            _sign_in(page, world, "admin")
            _walk_staff(page, world)
        elif role == "tenant admin":
            _sign_in(page, world, "alice")
            _walk_admin(page, world)
        else:
            _sign_in(page, world, "bob")
            _walk_member(page, world)
    finally:
        context.close()
    assert FOUND == [], "\n".join(FOUND)


def _overflow(page, selector) -> list[dict]:
    """Return the elements matching `selector` that scroll sideways."""
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.scrollWidth > e.clientWidth + 1 && e.offsetParent)
                  .map(e => ({id: e.id || e.getAttribute('aria-label'),
                              scroll: e.scrollWidth, client: e.clientWidth}))""",
    )


def test_staff_tables_fit_at_1366_and_the_scope_table_at_390(browser, world):
    desktop = browser.new_context(viewport=WIDTHS["desktop"])
    phone = browser.new_context(viewport=WIDTHS["phone"])
    try:
        page = desktop.new_page()
        _sign_in(page, world, "admin")
        base = f"{world.url}/environments/development"
        for path in (
            "/tenants/",
            "/integrations/pagerduty/?tab=configuration",
            "/integrations/pagerduty/?tab=guide",
            f"/tenants/{world.tenant.pk}/",
        ):
            page.goto(base + path)
            assert _overflow(page, ".table-wrap") == [], path
        page.goto(f"{world.url}/audit/")
        assert _overflow(page, ".table-wrap") == [], "audit log"
        page.goto(f"{base}/tenants/")
        save_screenshot(page, "tenants-1366")

        small = phone.new_page()
        _sign_in(small, world, "admin")
        small.goto(f"{base}/integrations/pagerduty/?tab=configuration")
        assert _overflow(small, ".scope-table") == []
        assert _overflow(small, ".table-wrap") == []
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
        save_screenshot(small, "pagerduty-config-phone")
        small.goto(f"{base}/integrations/pagerduty/?tab=guide")
        assert _overflow(small, ".table-wrap") == []
    finally:
        desktop.close()
        phone.close()
