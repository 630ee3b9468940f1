"""Policy and approval pages: who may change and decide what (M27, M28)."""

import pytest
from django.test import Client
from django.urls import reverse

from integrations.gateway.approvals import approval_create
from integrations.gateway.models import AgentAuthorization, Approval, ToolPolicy
from integrations.models import AuditEvent, Membership
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.gateway.oauth_flow import issue
from tests.integrations.pagerduty.workspace.conftest import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(tenant, pagerduty_client):
    return make_connection(
        tenant, pagerduty_client, scopes="openid incidents.read incidents.write"
    )


@pytest.fixture
def second_admin(tenant):
    return MembershipFactory(
        tenant=tenant, user=UserFactory(username="carol"), role=Membership.Role.ADMIN
    ).user


@pytest.fixture
def alices_agent(client, tenant, tenant_admin, connected):
    client.force_login(tenant_admin)
    issue(client, tenant=tenant)
    client.logout()
    return AgentAuthorization.objects.get(user=tenant_admin)


@pytest.fixture
def held(alices_agent, mailoutbox):
    return approval_create(
        authorization=alices_agent,
        tool="acknowledge_incidents",
        arguments={"incident_ids": ["PABC123"]},
        reason="This tenant's policy for acknowledge_incidents: approval.",
    )


def _decide(client, approval, decision="approve", reason=""):
    return client.post(
        reverse(
            "gateway:approval_detail", args=[approval.tenant_id, approval.public_id]
        ),
        {"decision": decision, "reason": reason},
    )


def _policy_url(tenant):
    return reverse("gateway:tenant_policy_list", args=[tenant.pk])


def test_a_held_call_emails_the_tenant_admins_with_a_link(
    held, mailoutbox, tenant, tenant_admin, second_admin, settings
):
    [mail] = mailoutbox

    assert sorted(mail.to) == sorted([tenant_admin.email])
    assert "acknowledge_incidents" in mail.subject
    assert f"/tenants/{tenant.pk}/agents/approvals/{held.public_id}/" in mail.body


def test_m28_the_navigation_counts_pending_approvals_for_admins_only(
    client, held, tenant, second_admin, tenant_member
):
    client.force_login(second_admin)
    admin_page = client.get(reverse("integrations:tenant_home", args=[tenant.pk]))
    client.force_login(tenant_member)
    member_page = client.get(reverse("integrations:tenant_home", args=[tenant.pk]))

    assert f'id="nav-approvals-{tenant.pk}"' in admin_page.content.decode()
    assert 'nav-count">1<' in admin_page.content.decode()
    assert f'id="nav-approvals-{tenant.pk}"' not in member_page.content.decode()


def test_m28_another_admin_approves_and_it_is_audited(client, held, second_admin):
    client.force_login(second_admin)
    page = client.get(
        reverse("gateway:approval_detail", args=[held.tenant_id, held.public_id])
    )

    response = _decide(client, held, "approve", "fine")

    held.refresh_from_db()
    assert 'id="decision-form"' in page.content.decode()
    assert "&quot;PABC123&quot;" in page.content.decode()
    assert response.status_code == 302
    assert (held.status, held.decided_by, held.decision_reason) == (
        "approved",
        second_admin,
        "fine",
    )
    event = AuditEvent.objects.get(action="agent.call_approved")
    assert event.details["approval"] == held.public_id


def test_m28_a_rejection_needs_a_reason(client, held, second_admin):
    client.force_login(second_admin)

    without = _decide(client, held, "reject", "")
    held.refresh_from_db()
    status_after_empty = held.status
    _decide(client, held, "reject", "not during the freeze")

    held.refresh_from_db()
    assert without.status_code == 200
    assert status_after_empty == "pending"
    assert (held.status, held.decision_reason) == ("rejected", "not during the freeze")


def test_m28_the_requester_cannot_approve_their_own_call(client, held, tenant_admin):
    client.force_login(tenant_admin)
    page = client.get(
        reverse("gateway:approval_detail", args=[held.tenant_id, held.public_id])
    )

    response = _decide(client, held, "approve")

    held.refresh_from_db()
    assert 'id="own-call"' in page.content.decode()
    assert 'id="decision-form"' not in page.content.decode()
    assert response.status_code == 403
    assert held.status == "pending"


def test_m28_unless_the_policy_lets_the_requester_approve(
    client, alices_agent, tenant_admin, mailoutbox
):
    own = approval_create(
        authorization=alices_agent,
        tool="acknowledge_incidents",
        arguments={"incident_ids": ["PABC123"]},
        reason="held",
        self_approval=True,
    )
    client.force_login(tenant_admin)

    _decide(client, own, "approve")

    own.refresh_from_db()
    assert own.status == "approved"


def test_m28_members_and_other_tenants_admins_get_nothing(
    client, held, tenant_member, development
):
    other = TenantFactory(environment=development, slug="globex")
    outsider = MembershipFactory(tenant=other, role=Membership.Role.ADMIN).user
    urls = [
        reverse("gateway:approval_list", args=[held.tenant_id]),
        reverse("gateway:approval_detail", args=[held.tenant_id, held.public_id]),
    ]
    answers = []
    for user in (tenant_member, outsider):
        client.force_login(user)
        answers += [client.get(url).status_code for url in urls]
        answers.append(_decide(client, held).status_code)

    held.refresh_from_db()
    # A member is told no; another tenant's admin learns nothing.
    assert answers == [403] * 3 + [404] * 3
    assert held.status == "pending"


def test_m28_a_decision_without_the_csrf_token_is_refused(held, second_admin):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(second_admin)

    response = _decide(browser, held, "approve")

    held.refresh_from_db()
    assert response.status_code == 403
    assert held.status == "pending"


def test_m28_an_expired_or_decided_call_cannot_be_decided_again(
    client, held, second_admin
):
    client.force_login(second_admin)
    _decide(client, held, "approve")

    again = _decide(client, held, "reject", "changed my mind")

    held.refresh_from_db()
    assert again.status_code == 302
    assert held.status == "approved"
    assert Approval.objects.filter(status="rejected").count() == 0


def test_the_approval_list_shows_pending_calls(client, held, second_admin):
    client.force_login(second_admin)

    page = client.get(reverse("gateway:approval_list", args=[held.tenant_id]))

    assert f'data-approval="{held.public_id}"' in page.content.decode()


def test_m27_a_tenant_admin_tightens_a_tool_and_it_is_audited(
    client, tenant, tenant_admin
):
    client.force_login(tenant_admin)

    response = client.post(
        _policy_url(tenant),
        {
            "tool": "list_incidents",
            "action": "approval",
            "conditions": '[{"when": "role", "op": "in", "value": ["Member"]}]',
        },
    )

    policy = ToolPolicy.objects.get(tenant=tenant, tool="list_incidents")
    event = AuditEvent.objects.get(action="agent.policy_changed")
    assert response.status_code == 302
    assert (policy.action, policy.conditions) == (
        "approval",
        [{"when": "role", "op": "in", "value": ["member"]}],
    )
    assert event.details == {
        "tool": "list_incidents",
        "before": None,
        "after": {
            "action": "approval",
            "conditions": [{"when": "role", "op": "in", "value": ["member"]}],
            "tenant_may_loosen": False,
            "self_approval": False,
        },
    }
    assert event.tenant == tenant


def test_m27_a_change_records_before_and_after(client, tenant, tenant_admin):
    client.force_login(tenant_admin)
    client.post(_policy_url(tenant), {"tool": "list_incidents", "action": "deny"})

    client.post(_policy_url(tenant), {"tool": "list_incidents", "action": ""})

    removed = AuditEvent.objects.filter(action="agent.policy_changed").first()
    assert removed.details["before"]["action"] == "deny"
    assert removed.details["after"] is None
    assert not ToolPolicy.objects.filter(tenant=tenant).exists()


def test_m27_a_tenant_admin_cannot_loosen_what_staff_did_not_allow(
    client, tenant, tenant_admin, development
):
    ToolPolicy.objects.create(
        environment=development, tool="acknowledge_incidents", action="approval"
    )
    client.force_login(tenant_admin)

    looser = client.post(
        _policy_url(tenant), {"tool": "acknowledge_incidents", "action": "allow"}
    )
    default_looser = client.post(
        _policy_url(tenant), {"tool": "who_is_on_call", "action": "allow"}
    )

    assert looser.status_code == 200
    assert "may only make it stricter" in looser.content.decode()
    assert default_looser.status_code == 302
    assert list(ToolPolicy.objects.filter(tenant=tenant).values_list("tool")) == [
        ("who_is_on_call",)
    ]
    assert AuditEvent.objects.filter(action="agent.policy_changed").count() == 1


def test_m27_a_tenant_admin_loosens_where_staff_allow_it(
    client, tenant, tenant_admin, development
):
    ToolPolicy.objects.create(
        environment=development,
        tool="acknowledge_incidents",
        action="approval",
        tenant_may_loosen=True,
    )
    client.force_login(tenant_admin)

    response = client.post(
        _policy_url(tenant), {"tool": "acknowledge_incidents", "action": "allow"}
    )
    page = client.get(_policy_url(tenant))

    assert response.status_code == 302
    assert ToolPolicy.objects.get(tenant=tenant).action == "allow"
    html = page.content.decode()
    row = html[html.index('data-tool="acknowledge_incidents"') :]
    assert 'badge-ok">allow<' in row[: row.index("</tr>")]


def test_m27_only_tenant_admins_and_staff_change_policies(
    client, tenant, tenant_member, tenant_admin, staff_user, development
):
    staff_url = reverse("gateway:environment_policy_list", args=[development.slug])
    client.force_login(tenant_member)
    member_tenant = client.post(
        _policy_url(tenant), {"tool": "list_incidents", "action": "deny"}
    )
    member_staff = client.post(staff_url, {"tool": "list_incidents", "action": "deny"})
    client.force_login(tenant_admin)
    admin_staff = client.post(staff_url, {"tool": "list_incidents", "action": "deny"})
    client.force_login(staff_user)
    staff = client.post(
        staff_url,
        {"tool": "list_incidents", "action": "deny", "tenant_may_loosen": "on"},
    )

    assert [member_tenant.status_code, member_staff.status_code] == [403, 403]
    assert admin_staff.status_code == 403
    assert staff.status_code == 302
    policy = ToolPolicy.objects.get()
    assert (policy.tenant, policy.action, policy.tenant_may_loosen) == (
        None,
        "deny",
        True,
    )


def test_the_policy_pages_show_every_tools_effective_policy(
    client, tenant, tenant_admin, staff_user, development
):
    ToolPolicy.objects.create(
        environment=development, tool="who_is_on_call", action="deny"
    )
    client.force_login(tenant_admin)
    tenant_page = client.get(_policy_url(tenant)).content.decode()
    client.force_login(staff_user)
    staff_page = client.get(
        reverse("gateway:environment_policy_list", args=[development.slug])
        + "?tool=who_is_on_call"
    ).content.decode()

    for html in (tenant_page, staff_page):
        for tool in (
            "acknowledge_incidents",
            "get_incident",
            "list_incidents",
            "who_is_on_call",
        ):
            assert f'data-tool="{tool}"' in html
        row = html[html.index('data-tool="who_is_on_call"') :]
        assert 'badge-danger">deny<' in row[: row.index("</tr>")]
    assert 'id="policy-edit"' in staff_page
    assert 'name="tenant_may_loosen"' in staff_page


@pytest.mark.parametrize(
    "conditions",
    ['[{"when": "urgency", "op": "gt", "value": 3}]', "not json", '{"when": 1}'],
)
def test_invalid_conditions_are_refused_on_the_page(
    client, tenant, tenant_admin, conditions
):
    client.force_login(tenant_admin)

    response = client.post(
        _policy_url(tenant),
        {"tool": "list_incidents", "action": "deny", "conditions": conditions},
    )

    assert response.status_code == 200
    assert not ToolPolicy.objects.exists()
