"""E. Tenant isolation: the IDOR/BOLA matrix (SECURITY-TESTS T41–T45).

The matrix is generated from Django's URL resolver. Every URL must have a
row here: explicit by name, or one of the named families (Django admin,
allauth account pages, the tenant workspace under
tenants/<id>/pagerduty/). A new URL outside them fails
`test_t41_every_url_has_a_row_in_the_matrix`.
"""

import re
from dataclasses import dataclass

import pytest
import responses
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from integrations.models import Connection, Membership
from tests.connect_fixtures import API
from tests.security.conftest import AT_A, AT_B, bearer_tokens

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "a_member",
    "a_admin",
    "b_member",
    "b_admin",
    "staff",
    "superuser",
]
LOGIN = "/accounts/login/"

# kind -> {role: expected status}. Targets are tenant A's objects.
STAFF_PAGE = {
    "anonymous": 302,
    "a_member": 403,
    "a_admin": 403,
    "b_member": 403,
    "b_admin": 403,
    "staff": 200,
    "superuser": 200,
}
STAFF_ACTION = {**STAFF_PAGE, "staff": 302, "superuser": 302}
TENANT_PAGE = {
    "anonymous": 302,
    "a_member": 200,
    "a_admin": 200,
    "b_member": 404,
    "b_admin": 404,
    "staff": 404,
    "superuser": 404,
}
TENANT_ADMIN_ACTION = {**TENANT_PAGE, "a_member": 403, "a_admin": None}
TENANT_ADMIN_PAGE = {**TENANT_PAGE, "a_member": 403}
# Everyone is sent on: to sign in, to their tenant, or to the catalog.
HOME = dict.fromkeys(ROLES, 302)

# name -> (kind, methods, expectations). None: not requested (a side effect
# or an outbound call would follow; covered by the flow tests).
MATRIX = {
    "home": ("home", ["get"], HOME),
    # Everyone's own preferences; nobody else's can be named.
    "profile": ("home", ["get"], {**dict.fromkeys(ROLES, 200), "anonymous": 302}),
    "healthz": ("public", ["get"], dict.fromkeys(ROLES, 200)),
    # Browsers post CSP reports without a session; an empty body is refused.
    "csp_report": ("public", ["post"], dict.fromkeys(ROLES, 400)),
    "pagerduty_callback": ("oauth", ["get"], dict.fromkeys(ROLES, 400)),
    "pagerduty_login": ("oauth", ["post"], dict.fromkeys(ROLES, 404)),
    "integrations:integration_list": ("staff", ["get"], STAFF_PAGE),
    "integrations:pagerduty_config": ("staff", ["get"], STAFF_PAGE),
    "integrations:pagerduty_verify": (
        "staff",
        ["post"],
        {**STAFF_ACTION, "staff": None, "superuser": None},
    ),
    "integrations:pagerduty_set_enabled": ("staff", ["post"], STAFF_ACTION),
    # An empty post is refused with a message (the minimum scopes are missing).
    "integrations:pagerduty_tenant_apps": ("staff", ["post"], STAFF_ACTION),
    # Tenant A has no own app: staff get 404, nobody else gets further.
    "integrations:tenant_app_block": (
        "staff",
        ["post"],
        {**STAFF_ACTION, "staff": 404, "superuser": 404},
    ),
    # The tenant's own app: its admins only; another tenant's answers 404.
    "integrations:tenant_app": (
        "tenant",
        ["get"],
        {**TENANT_PAGE, "a_member": 403},
    ),
    # Without an own app both only explain and send the admin back (302).
    "integrations:tenant_app_verify": (
        "tenant",
        ["post"],
        {**TENANT_PAGE, "a_member": 403, "a_admin": 302},
    ),
    "integrations:tenant_app_use": (
        "tenant",
        ["post"],
        {**TENANT_PAGE, "a_member": 403, "a_admin": 302},
    ),
    "integrations:tenant_list": ("staff", ["get"], STAFF_PAGE),
    # An empty post names no tenant: a message and back to the list.
    "integrations:tenant_reconsent": ("staff", ["post"], STAFF_ACTION),
    # An empty address is the default the demo environments already use.
    "integrations:pagerduty_gateway": ("staff", ["post"], STAFF_ACTION),
    "integrations:tenant_detail": ("staff", ["get"], STAFF_PAGE),
    "integrations:audit_list": ("staff", ["get"], STAFF_PAGE),
    "integrations:tenant_home": ("tenant", ["get"], TENANT_PAGE),
    "integrations:tenant_connect": ("tenant", ["post"], TENANT_ADMIN_ACTION),
    "integrations:tenant_disconnect": ("tenant", ["post"], TENANT_ADMIN_ACTION),
    # Any member may link their own PagerDuty user: off to PagerDuty.
    "integrations:tenant_link": (
        "tenant",
        ["post"],
        {**TENANT_PAGE, "a_member": 302, "a_admin": 302},
    ),
    # a_member has no link to remove; a_admin's would really be removed.
    "integrations:tenant_unlink": (
        "tenant",
        ["post"],
        {**TENANT_PAGE, "a_member": 404, "a_admin": None},
    ),
    "integrations:tenant_read_setting": ("tenant", ["post"], TENANT_ADMIN_ACTION),
    "integrations:tenant_members": ("tenant", ["get"], TENANT_PAGE),
    # Admins' own actions on a sample member are covered by test_members.
    "integrations:tenant_member_role": ("tenant", ["post"], TENANT_ADMIN_ACTION),
    "integrations:tenant_member_remove": (
        "tenant",
        ["get", "post"],
        TENANT_ADMIN_ACTION,
    ),
    "integrations:tenant_invitation_revoke": (
        "tenant",
        ["post"],
        TENANT_ADMIN_ACTION,
    ),
    # A made-up invitation link is unknown to everyone, signed in or not.
    "integrations:invitation_accept": ("public", ["get"], dict.fromkeys(ROLES, 404)),
    # Re-subscribing calls PagerDuty: covered by test_webhook_subscriptions.
    "integrations:tenant_webhook_recreate": (
        "staff",
        ["post"],
        {**STAFF_ACTION, "staff": None, "superuser": None},
    ),
    # Signed deliveries only (section F); a GET is refused for everyone.
    "pagerduty_webhook": ("webhook", ["get"], dict.fromkeys(ROLES, 405)),
    # The MCP gateway's authorization server (tests/gateway/ runs its flows).
    "oauth_server_metadata": ("public", ["get"], dict.fromkeys(ROLES, 200)),
    "oauth2_provider:authorize": (
        "oauth",
        ["get"],
        {**dict.fromkeys(ROLES, 400), "anonymous": 302},
    ),
    "oauth2_provider:token": ("oauth", ["post"], dict.fromkeys(ROLES, 400)),
    "oauth2_provider:revoke-token": ("oauth", ["post"], dict.fromkeys(ROLES, 400)),
    "oauth2_provider:dcr-register": ("oauth", ["post"], dict.fromkeys(ROLES, 400)),
    "oauth2_provider:dcr-register-management": (
        "oauth",
        ["get"],
        dict.fromkeys(ROLES, 401),
    ),
    "gateway:agent_list": ("tenant", ["get"], TENANT_PAGE),
    # Tenant A has no agent 1: nobody learns whether it exists elsewhere.
    "gateway:agent_detail": (
        "tenant",
        ["get"],
        {**dict.fromkeys(ROLES, 404), "anonymous": 302},
    ),
    "gateway:agent_revoke": (
        "tenant",
        ["post"],
        {**dict.fromkeys(ROLES, 404), "anonymous": 302},
    ),
    "gateway:tool_call_list": ("staff", ["get"], STAFF_PAGE),
    "gateway:tool_call_export": ("staff", ["get"], STAFF_PAGE),
    "gateway:tenant_tool_call_list": ("tenant", ["get"], TENANT_ADMIN_PAGE),
    "gateway:tenant_tool_call_export": ("tenant", ["get"], TENANT_ADMIN_PAGE),
    "gateway:tenant_masking": ("tenant", ["get"], TENANT_ADMIN_PAGE),
    # Tenant A has no masking rule 999999.
    "gateway:tenant_masking_delete": (
        "tenant",
        ["post"],
        {**dict.fromkeys(ROLES, 404), "anonymous": 302, "a_member": 403},
    ),
    "gateway:environment_masking": ("staff", ["get"], STAFF_PAGE),
    "gateway:environment_budgets": ("staff", ["get"], STAFF_PAGE),
    "gateway:environment_masking_delete": (
        "staff",
        ["post"],
        {**STAFF_PAGE, "staff": 404, "superuser": 404},
    ),
    # Agent governance: policies (staff; tenant admins) and held calls.
    "gateway:environment_policy_list": ("staff", ["get"], STAFF_PAGE),
    "gateway:tenant_policy_list": ("tenant", ["get"], TENANT_ADMIN_PAGE),
    "gateway:approval_list": ("tenant", ["get"], TENANT_ADMIN_PAGE),
    # Tenant A has no such approval: nobody learns whether it exists elsewhere.
    "gateway:approval_detail": (
        "tenant",
        ["get", "post"],
        {**TENANT_ADMIN_PAGE, "a_admin": 404},
    ),
}
WORKSPACE_ROUTE = re.compile(r"^tenants/<int:tenant_id>/pagerduty/")
# Denials only: members' own pages call PagerDuty (workspace tests cover them).
WORKSPACE_DENIED = {
    "anonymous": 302,
    "b_member": 404,
    "b_admin": 404,
    "staff": 404,
    "superuser": 404,
}
SAMPLE_KWARGS = {
    "environment": "development",
    "membership_id": "999999",
    "invitation_id": "999999",
    "token": "no-such-invitation-token-0123456789",
    "key": "abc",
    "uidb36": "1",
    "object_id": "1",
    "url": "",
    "receiver_id": "00000000-0000-0000-0000-000000000000",
    "agent_id": "1",
    "rule_id": "999999",
    "approval_id": "apr_no_such_approval",
}


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None
    pattern: object
    callback: object


def all_routes(patterns=None, prefix="", namespace=None):
    """Yield every URL pattern of the project, with its full route and name."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            if namespace and ns:
                ns = f"{namespace}:{ns}"
            yield from all_routes(
                entry.url_patterns, prefix + str(entry.pattern), ns or namespace
            )
        elif isinstance(entry, URLPattern):
            name = entry.name and (
                f"{namespace}:{entry.name}" if namespace else entry.name
            )
            yield Route(
                prefix + str(entry.pattern), name, entry.pattern, entry.callback
            )


def family(route: Route) -> str | None:
    """Return the family row covering `route`, if any."""
    if route.route.startswith("admin/"):
        return "django-admin"
    module = getattr(route.callback, "__module__", "")
    if route.route.startswith("accounts/") and module.startswith(
        (
            "allauth.account",
            "allauth.mfa",
            "allauth.socialaccount.views",
            "django.views.generic",
        )
    ):
        return "allauth-account"
    if WORKSPACE_ROUTE.match(route.route) and module.startswith(
        "integrations.pagerduty.workspace"
    ):
        return "workspace"
    return None


def test_t41_every_url_has_a_row_in_the_matrix():
    routes = list(all_routes())

    missing = [r.route for r in routes if r.name not in MATRIX and not family(r)]

    assert len(routes) > 40
    assert missing == []


def _clients(world) -> dict[str, Client]:
    clients = {}
    for role in ROLES:
        clients[role] = Client()
        if world.users[role] is not None:
            clients[role].force_login(world.users[role])
    return clients


def _url(name: str, tenant_id: int) -> str:
    route = next(r for r in all_routes() if r.name == name)
    kwargs = {}
    for key in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route.route):
        key = key[0] or key[1]
        if key == "tenant_id":
            kwargs[key] = tenant_id
        else:
            kwargs[key] = SAMPLE_KWARGS.get(key, "PX00001")
    return reverse(name, kwargs=kwargs)


def _check(response, expected, role):
    if response.status_code == 302 and role == "anonymous":
        assert response["Location"].startswith(LOGIN)
    return response.status_code == expected


def test_t41_generated_access_matrix(world, outbound, caplog):
    clients = _clients(world)
    cells, wrong = 0, []
    caplog.set_level("WARNING", logger="django.request")

    for name, (_kind, methods, expected) in MATRIX.items():
        url = _url(name, world.tenant_a.pk)
        for role, status in expected.items():
            if status is None:
                continue
            for method in methods:
                response = getattr(clients[role], method)(url)
                cells += 1
                if not _check(response, status, role):
                    wrong.append((name, method, role, response.status_code, status))
    workspace = [r for r in all_routes() if family(r) == "workspace"]
    for route in workspace:
        url = _url(route.name, world.tenant_a.pk)
        for role, status in WORKSPACE_DENIED.items():
            for method in ("get", "post"):
                response = getattr(clients[role], method)(url)
                cells += 1
                allowed = {status, 405} if method == "get" else {status}
                if response.status_code not in allowed:
                    wrong.append(
                        (route.name, method, role, response.status_code, status)
                    )

    denials = [r for r in caplog.records if r.name == "django.request"]
    assert wrong == []
    assert cells >= 100
    assert outbound == []
    assert len(denials) > 0


def test_t41_django_admin_needs_staff(world):
    clients = _clients(world)
    urls = [
        reverse("admin:index"),
        reverse("admin:integrations_oauthclient_changelist"),
        reverse("admin:integrations_connection_change", args=[world.conn_a.pk]),
    ]

    statuses = {
        role: [clients[role].get(url).status_code for url in urls] for role in ROLES
    }

    for role in ("anonymous", "a_member", "a_admin", "b_member", "b_admin"):
        assert statuses[role] == [302, 302, 302], role
    assert statuses["staff"] == [200, 403, 403]
    assert statuses["superuser"] == [200, 200, 200]


def test_t41_allauth_account_pages_never_fail_or_show_private_pages(world):
    clients = _clients(world)
    private = {
        "account_email",
        "account_change_password",
        "account_set_password",
        "mfa_index",
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
    }
    routes = [r for r in all_routes() if family(r) == "allauth-account" and r.name]
    results = {}

    for route in routes:
        url = _url(route.name, world.tenant_a.pk)
        for role in ("anonymous", "a_member", "superuser"):
            results[(route.name, role)] = clients[role].get(url).status_code

    assert all(status < 500 for status in results.values()), results
    for name in private:
        assert results[(name, "anonymous")] == 302


def _missing_tenant_body(client, name, tenant_id):
    response = client.get(_url(name, tenant_id))
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    return response.status_code, body


@pytest.mark.parametrize(
    "name",
    [
        "integrations:tenant_home",
        "integrations:tenant_app",
        "integrations:workspace_overview",
        "integrations:incident_list",
        "integrations:incident_export",
        "integrations:incident_export_csv",
        "integrations:incident_detail",
        "integrations:service_detail",
    ],
)
def test_t42_other_tenants_ids_look_exactly_like_missing_ones(world, outbound, name):
    b_member = _clients(world)["b_member"]
    a_id = world.tenant_a.pk
    ids = {
        "tenant-a": a_id,
        "missing": 99_999,
        "pk-minus-1": max(a_id - 1, 0),
        "pk-plus-2": world.tenant_b.pk + 1,
    }

    answers = {
        label: _missing_tenant_body(b_member, name, pk) for label, pk in ids.items()
    }

    assert {status for status, _ in answers.values()} == {404}
    assert answers["tenant-a"][1] == answers["missing"][1]
    assert outbound == []


def test_t42_a_pagerduty_id_of_tenant_a_is_fetched_only_with_tenant_bs_token(
    world, mocked_responses, outbound
):
    b_member = _clients(world)["b_member"]
    mocked_responses.add(
        responses.GET, re.compile(rf"{re.escape(API)}/.*"), status=404, json={}
    )

    response = b_member.get(
        reverse("integrations:incident_detail", args=[world.tenant_b.pk, "PINCA01"])
    )

    assert response.status_code in (404, 502)
    assert outbound
    assert set(bearer_tokens(outbound)) == {AT_B}


@pytest.mark.parametrize(
    "extra",
    [
        {"tenant": "B"},
        {"tenant_id": "B"},
        {"environment": "staging"},
        {"environment_id": "2"},
        {"owner": "b_admin"},
        {"oauth_client_id": "B"},
    ],
)
def test_t43_mass_assignment_fields_in_the_config_form_are_ignored(
    client, world, staging, extra
):
    client.force_login(world.users["superuser"])
    value = {"B": str(world.tenant_b.pk), "b_admin": str(world.users["b_admin"].pk)}
    extra = {k: value.get(v, v) for k, v in extra.items()}
    url = reverse("integrations:pagerduty_config", args=["development"])

    response = client.post(
        f"{url}?tenant={world.tenant_b.pk}",
        {
            "client_id": "new-client-id-0001",
            "new_client_secret": "new-secret-value-01",
            "confirm_client_id_change": "on",
            "region": "us",
            "subdomain": "acme",
            "scopes": ["incidents.read", "incidents.write", "services.read"],
            **extra,
        },
    )

    world.app_a.refresh_from_db()
    world.app_b.refresh_from_db()
    assert response.status_code == 302
    assert (world.app_a.client_id, world.app_a.tenant_id) == (
        "new-client-id-0001",
        None,
    )
    assert world.app_a.environment.slug == "development"
    assert world.app_b.client_id == "globex-own-client-0001"


@pytest.mark.parametrize("where", ["body", "query", "duplicate"])
def test_t43_tenant_in_parameters_never_redirects_a_disconnect(client, world, where):
    client.force_login(world.users["a_admin"])
    url = reverse("integrations:tenant_disconnect", args=[world.tenant_a.pk])
    b = str(world.tenant_b.pk)

    if where == "body":
        client.post(url, {"tenant_id": b, "tenant": b})
    elif where == "query":
        client.post(f"{url}?tenant_id={b}&tenant={b}")
    else:
        client.post(f"{url}?tenant_id={world.tenant_a.pk}&tenant_id={b}")

    world.conn_b.refresh_from_db()
    assert world.conn_b.status == Connection.Status.ACTIVE
    assert world.conn_b.access_token == AT_B


def test_t44_cached_pagerduty_reads_never_cross_tenants(
    world, mocked_responses, outbound
):
    def incidents(request):
        token = request.headers["Authorization"].removeprefix("Bearer ")
        owner = {AT_A: "ALPHA", AT_B: "BRAVO"}[token]
        key = request.path_url.split("?")[0].strip("/").split("/")[0]
        body = (
            f'{{"{key}": [], "limit": 25, "offset": 0, "more": false, '
            f'"total": 0, "owner": "{owner}"}}'
        )
        return 200, {"Content-Type": "application/json"}, body

    mocked_responses.add_callback(
        responses.GET, re.compile(rf"{re.escape(API)}/.*"), callback=incidents
    )
    mocked_responses.assert_all_requests_are_fired = False
    clients = _clients(world)
    pages = []

    for _ in range(10):  # interleaved A, B, A, B…
        for role, tenant in (
            ("a_member", world.tenant_a),
            ("b_member", world.tenant_b),
        ):
            url = reverse("integrations:incident_list", args=[tenant.pk])
            pages.append((role, clients[role].get(url)))

    keys = list(getattr(cache, "_cache", {}))
    pd_keys = [k for k in keys if "pdws:" in k]
    a_calls = [
        c for c in outbound if c.headers.get("Authorization") == f"Bearer {AT_A}"
    ]
    b_calls = [
        c for c in outbound if c.headers.get("Authorization") == f"Bearer {AT_B}"
    ]
    assert all(response.status_code == 200 for _, response in pages)
    assert len(a_calls) + len(b_calls) == len(outbound) > 0
    assert pd_keys
    for key in pd_keys:
        assert f"pdws:{world.conn_a.pk}:" in key or f"pdws:{world.conn_b.pk}:" in key


def test_t45_removing_a_membership_takes_effect_on_the_next_request(client, world):
    both = world.users["a_member"]
    Membership.objects.create(user=both, tenant=world.tenant_b)
    client.force_login(both)
    a_home = reverse("integrations:tenant_home", args=[world.tenant_a.pk])
    b_home = reverse("integrations:tenant_home", args=[world.tenant_b.pk])
    before = (client.get(a_home).status_code, client.get(b_home).status_code)

    Membership.objects.filter(user=both, tenant=world.tenant_a).delete()

    after = (client.get(a_home).status_code, client.get(b_home).status_code)
    assert before == (200, 200)
    assert after == (404, 200)
