"""The operation layer called directly, as any front door calls it.

Every declared operation appears in `CALLS`, so each new one is covered
by the hostile-input, scope, fault, sandbox and isolation checks below.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import responses

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.models import AuditAction, AuditEvent, Connection, Membership
from integrations.pagerduty import scopes as pd_scopes
from integrations.pagerduty.workspace import export, selectors, services
from integrations.pagerduty.workspace.access import (
    InvalidInput,
    MissingScope,
    NotAMember,
    NotConnected,
    workspace_open,
)
from integrations.pagerduty.workspace.operations import OPERATIONS
from tests.connect_fixtures import API, TOKEN_URL
from tests.factories import MembershipFactory, OAuthClientFactory, UserFactory
from tests.integrations.pagerduty.workspace.conftest import (
    make_connection,
    sandbox_pd_user,
)

pytestmark = pytest.mark.django_db

VALID = "PABC123"
START = datetime(2030, 1, 1, 12, tzinfo=UTC)


class Ids(dict):
    """The IDs an operation's arguments draw on; records which it used."""

    def __init__(self, default=VALID, **known):
        super().__init__(known)
        self.default = default
        self.used: set[str] = set()

    def __getitem__(self, kind):
        self.used.add(kind)
        return self.get(kind, self.default)


def _policy(ids):
    rule = services.EscalationRule(
        delay_minutes=30,
        targets=(services.EscalationTarget(kind="user", id=ids["user"]),),
    )
    return services.EscalationPolicyInput(name="Payments", rules=(rule,))


def _service(ids):
    return services.ServiceInput(name="Checkout", escalation_policy_id=ids["policy"])


# Each operation with valid arguments built from `ids`.
CALLS = {
    # Reads
    "incident_list": lambda i: {
        "query": selectors.IncidentQuery(status="all", service_id=i["service"])
    },
    "incident_search": lambda i: {
        "query": selectors.IncidentSearch(
            statuses=("triggered",), service_ids=(i["service"],)
        )
    },
    "incident_text_search": lambda i: {
        "query": selectors.IncidentQuery(
            status="all", service_id=i["service"], search="down"
        )
    },
    "incident_status_counts": lambda i: {
        "query": selectors.IncidentQuery(status="all", service_id=i["service"])
    },
    "incident_fetch": lambda i: {"incident_id": i["incident"]},
    "incident_get": lambda i: {"incident_id": i["incident"]},
    "open_incidents": lambda i: {},
    "service_recent_incidents": lambda i: {"service_id": i["service"]},
    "service_list": lambda i: {"query": "Check"},
    "service_get": lambda i: {"service_id": i["service"]},
    "oncall_list": lambda i: {"schedule_id": i["schedule"], "user_id": i["user"]},
    "schedule_list": lambda i: {},
    "schedule_get": lambda i: {"schedule_id": i["schedule"]},
    "escalation_policy_list": lambda i: {},
    "escalation_policy_get": lambda i: {"policy_id": i["policy"]},
    "user_list": lambda i: {"query": "b"},
    "user_get": lambda i: {"user_id": i["user"]},
    "team_list": lambda i: {},
    "team_get": lambda i: {"team_id": i["team"]},
    # tools-people
    "oncall_page": lambda i: {"schedule_ids": (i["schedule"],), "user_id": i["user"]},
    "team_member_list": lambda i: {"team_id": i["team"]},
    "schedule_user_list": lambda i: {"schedule_id": i["schedule"]},
    "webhook_list": lambda i: {},
    "webhook_get": lambda i: {"subscription_id": i["subscription"]},
    "service_refs": lambda i: {},
    "user_refs": lambda i: {},
    "team_refs": lambda i: {},
    "schedule_refs": lambda i: {},
    "escalation_policy_refs": lambda i: {},
    "my_team_refs": lambda i: {},
    "export_plan": lambda i: {
        "since": datetime.now(UTC) - timedelta(days=30),
        "until": datetime.now(UTC),
    },
    # Writes
    "incident_acknowledge": lambda i: {"incident_id": i["incident"]},
    "incident_resolve": lambda i: {"incident_id": i["incident"], "resolution": "ok"},
    "incident_reopen": lambda i: {"incident_id": i["resolved_incident"]},
    "incident_set_urgency": lambda i: {"incident_id": i["incident"], "urgency": "low"},
    "incident_escalate": lambda i: {"incident_id": i["incident"], "level": 2},
    "incident_reassign": lambda i: {
        "incident_id": i["incident"],
        "user_id": i["user"],
    },
    "incident_snooze": lambda i: {
        "incident_id": i["acknowledged_incident"],
        "minutes": 60,
    },
    "incident_add_note": lambda i: {"incident_id": i["incident"], "content": "n"},
    "incident_create": lambda i: {"title": "Disk full", "service_id": i["service"]},
    "incident_bulk_update": lambda i: {
        "incident_ids": [i["incident"]],
        "status": "acknowledged",
    },
    "service_create": lambda i: {"data": _service(i)},
    "service_update": lambda i: {"service_id": i["service"], "data": _service(i)},
    "service_set_enabled": lambda i: {"service_id": i["service"], "enabled": False},
    "service_delete": lambda i: {"service_id": i["quiet_service"]},
    "schedule_override_create": lambda i: {
        "schedule_id": i["schedule"],
        "user_id": i["user"],
        "start": START,
        "end": START + timedelta(hours=4),
    },
    "schedule_override_delete": lambda i: {
        "schedule_id": i["schedule"],
        "override_id": i["override"],
    },
    "escalation_policy_create": lambda i: {"data": _policy(i)},
    "escalation_policy_update": lambda i: {
        "policy_id": i["policy"],
        "data": _policy(i),
    },
    "user_create": lambda i: {
        "name": "Frank Fox",
        "email": "frank@acme.example",
        "role": "limited_user",
    },
    "user_update": lambda i: {
        "user_id": i["user"],
        "name": "Bob Baker",
        "email": "bob@acme.example",
        "role": "user",
        "job_title": "SRE",
    },
    "user_delete": lambda i: {"user_id": i["spare_user"]},
    "team_create": lambda i: {"name": "Search"},
    "team_update": lambda i: {"team_id": i["team"], "name": "T", "description": ""},
    "team_delete": lambda i: {"team_id": i["team"]},
    "team_add_member": lambda i: {
        "team_id": i["team"],
        "user_id": i["spare_user"],
        "role": "responder",
    },
    "team_remove_member": lambda i: {"team_id": i["team"], "user_id": i["member"]},
    "webhook_create": lambda i: {
        "url": "https://hooks.example/pd",
        "events": ["incident.triggered"],
        "filter_type": "service",
        "filter_id": i["service"],
    },
    "webhook_delete": lambda i: {"subscription_id": i["subscription"]},
    "webhook_enable": lambda i: {"subscription_id": i["subscription"]},
    "webhook_ping": lambda i: {"subscription_id": i["subscription"]},
    # Incident context for agents (tools-incidents)
    "incident_alert_list": lambda i: {"incident_id": i["alerted_incident"]},
    "incident_alert_get": lambda i: {
        "incident_id": i["alerted_incident"],
        "alert_id": i["alert"],
    },
    "incident_note_list": lambda i: {"incident_id": i["incident"]},
    "incident_outlier": lambda i: {"incident_id": i["incident"]},
    "incident_past": lambda i: {"incident_id": i["incident"], "total": True},
    "incident_related": lambda i: {"incident_id": i["incident"]},
    "incident_change_events": lambda i: {"incident_id": i["incident"]},
    "service_change_events": lambda i: {
        "query": selectors.ChangeEventQuery(service_id=i["service"])
    },
    "log_entry_list": lambda i: {
        "query": selectors.LogEntryQuery(team_ids=(i["team"],), limit=5)
    },
    "log_entry_get": lambda i: {"log_entry_id": i["log_entry"]},
    "incident_bulk_change": lambda i: {
        "incident_ids": [i["incident"]],
        "urgency": "low",
        "assignee_id": i["user"],
    },
    "incident_add_responders": lambda i: {
        "incident_id": i["incident"],
        "targets": [("user", i["user"])],
        "message": "Please join",
    },
    # Catalogue tools (tools-catalog)
    "business_service_list": lambda i: {},
    "technical_service_dependencies": lambda i: {"service_id": i["service"]},
    "business_service_dependencies": lambda i: {
        "business_service_id": i["business_service"]
    },
    "alert_grouping_setting_list": lambda i: {"service_ids": (i["service"],)},
    "alert_grouping_setting_get": lambda i: {"setting_id": i["setting"]},
    "service_orchestration_get": lambda i: {"service_id": i["service"]},
    "service_change": lambda i: {
        "service_id": i["service"],
        "changes": services.ServiceChanges(
            description="Checkout API", escalation_policy_id=i["policy"]
        ),
    },
    "alert_grouping_setting_create": lambda i: {
        "data": services.AlertGroupingInput(
            type="time", config={"timeout": 900}, service_ids=(i["ungrouped"],)
        )
    },
    "alert_grouping_setting_update": lambda i: {
        "setting_id": i["setting"],
        "data": services.AlertGroupingInput(
            type="content_based",
            config={"aggregate": "all", "fields": ["summary"], "time_window": 600},
            service_ids=(i["grouped"],),
        ),
    },
    "alert_grouping_setting_delete": lambda i: {"setting_id": i["setting"]},
    "webhook_update": lambda i: {
        "subscription_id": i["subscription"],
        "events": ["incident.resolved"],
        "active": False,
    },
}
FUNCTIONS = {
    **{name: getattr(selectors, name) for name in dir(selectors)},
    **{name: getattr(services, name) for name in dir(services)},
    "export_plan": export.export_plan,
}
HOSTILE_IDS = [
    "S1/integrations/I1",
    "..",
    "../users",
    "P1/../P2",
    "P1%2FP2",
    "%2e%2e",
    "P1?limit=100",
    "P1#x",
    "P1;x",
    " P1",
    "P1 ",
    "P1\n",
    "P1\x00",
    "",
    "P" * 41,
    "ＰＡＢＣ",
    "P1\\P2",
]


def run(name, ws, ids):
    return FUNCTIONS[name](ws=ws, **CALLS[name](ids))


def test_every_operation_is_covered_here():
    assert set(CALLS) == set(OPERATIONS)
    assert {name for name, op in OPERATIONS.items() if op.write} == {
        name for name in CALLS if name in dir(services)
    }


def test_every_operation_declares_a_known_scope():
    for op in OPERATIONS.values():
        assert op.scope in pd_scopes.ALL_SCOPES
        assert op.scope.endswith(".write") == op.write


@pytest.fixture
def ws(tenant, tenant_admin, ws_connection, settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0
    return workspace_open(user=tenant_admin, tenant_id=tenant.pk)


def _id_kinds(name):
    ids = Ids()
    CALLS[name](ids)
    return sorted(ids.used)


# Filters where an empty ID means "no filter" rather than a bad one.
OPTIONAL_IDS = {
    ("incident_list", "service"),
    ("incident_text_search", "service"),
    ("incident_status_counts", "service"),
    ("oncall_list", "schedule"),
    ("oncall_list", "user"),
    ("incident_bulk_change", "user"),
    ("oncall_page", "user"),
}
HOSTILE_CASES = [
    (name, kind, value)
    for name in sorted(CALLS)
    for kind in _id_kinds(name)
    for value in HOSTILE_IDS
    if value or (name, kind) not in OPTIONAL_IDS
]
# One test per ID argument, every hostile value in it: the workspace it
# opens is the costly part, the values are not.
HOSTILE_TARGETS = sorted({(name, kind) for name, kind, _value in HOSTILE_CASES})


@pytest.mark.parametrize(("name", "kind"), HOSTILE_TARGETS)
def test_hostile_ids_never_reach_pagerduty(ws, mocked_responses, name, kind):
    values = [v for n, k, v in HOSTILE_CASES if (n, k) == (name, kind)]

    for value in values:
        try:
            run(name, ws, Ids(**{kind: value}))
        except InvalidInput:
            pass
        else:
            pytest.fail(f"{name} took {kind}={value!r}")

        assert len(mocked_responses.calls) == 0, value
    assert not AuditEvent.objects.filter(tenant=ws.tenant).exists()


def test_hostile_cases_cover_every_operation_that_takes_an_id():
    with_ids = {name for name in CALLS if _id_kinds(name)}

    assert {case[0] for case in HOSTILE_CASES} == with_ids
    assert len(HOSTILE_CASES) == len(HOSTILE_IDS) * sum(
        len(_id_kinds(name)) for name in CALLS
    ) - len(OPTIONAL_IDS)


BAD_ARGUMENTS = [
    ("incident_set_urgency", {"incident_id": VALID, "urgency": "HIGH"}),
    ("incident_set_urgency", {"incident_id": VALID, "urgency": "high "}),
    ("incident_escalate", {"incident_id": VALID, "level": 0}),
    ("incident_escalate", {"incident_id": VALID, "level": True}),
    ("incident_escalate", {"incident_id": VALID, "level": "2"}),
    ("incident_snooze", {"incident_id": VALID, "minutes": -5}),
    ("incident_snooze", {"incident_id": VALID, "minutes": 10**6}),
    ("incident_add_note", {"incident_id": VALID, "content": ""}),
    ("incident_add_note", {"incident_id": VALID, "content": "x" * 25_001}),
    ("incident_reassign", {"incident_id": VALID}),
    ("incident_reassign", {"incident_id": VALID, "user_id": VALID, "policy_id": VALID}),
    ("incident_bulk_update", {"incident_ids": [], "status": "resolved"}),
    ("incident_bulk_update", {"incident_ids": VALID, "status": "resolved"}),
    ("incident_bulk_update", {"incident_ids": [VALID] * 2, "status": "triggered"}),
    (
        "incident_bulk_update",
        {"incident_ids": [f"P{n:06d}" for n in range(1001)], "status": "resolved"},
    ),
    ("user_create", {"name": "X", "email": "x@acme.example", "role": "owner"}),
    ("user_create", {"name": "X", "email": "not-an-email", "role": "user"}),
    ("team_add_member", {"team_id": VALID, "user_id": VALID, "role": "admin"}),
    (
        "webhook_create",
        {
            "url": "javascript:alert(1)",
            "events": ["incident.triggered"],
            "filter_type": "account",
        },
    ),
    (
        "webhook_create",
        {"url": "https://h.example/", "events": ["x"], "filter_type": "account"},
    ),
    (
        "webhook_create",
        {
            "url": "https://h.example/",
            "events": "incident.triggered",
            "filter_type": "account",
        },
    ),
    (
        "webhook_create",
        {
            "url": "https://u:p@h.example/",
            "events": ["incident.triggered"],
            "filter_type": "account",
        },
    ),
    (
        "schedule_override_create",
        {"schedule_id": VALID, "user_id": VALID, "start": START, "end": START},
    ),
    (
        "schedule_override_create",
        {
            "schedule_id": VALID,
            "user_id": VALID,
            "start": START.replace(tzinfo=None),
            "end": START + timedelta(hours=1),
        },
    ),
    (
        "schedule_override_create",
        {
            "schedule_id": VALID,
            "user_id": VALID,
            "start": START,
            "end": START + timedelta(days=40),
        },
    ),
    ("service_create", {"data": {"name": "dict, not an input"}}),
    ("service_list", {"offset": -1}),
    ("service_list", {"limit": 101}),
    ("oncall_list", {"since": START, "until": START + timedelta(days=91)}),
    ("export_plan", {"since": START, "until": START}),
    # Incident context for agents (tools-incidents)
    ("incident_alert_list", {"incident_id": VALID, "limit": 0}),
    ("incident_alert_list", {"incident_id": VALID, "offset": -1}),
    ("incident_past", {"incident_id": VALID, "limit": 1000}),
    ("incident_change_events", {"incident_id": VALID, "limit": 101}),
    ("incident_outlier", {"incident_id": VALID, "since": START.replace(tzinfo=None)}),
    ("incident_bulk_change", {"incident_ids": [VALID]}),
    ("incident_bulk_change", {"incident_ids": [VALID], "status": "triggered"}),
    ("incident_bulk_change", {"incident_ids": [VALID], "escalation_level": 0}),
    ("incident_add_responders", {"incident_id": VALID, "targets": [], "message": "m"}),
    (
        "incident_add_responders",
        {"incident_id": VALID, "targets": [("team", VALID)], "message": "m"},
    ),
    (
        "incident_add_responders",
        {"incident_id": VALID, "targets": [("user", VALID)], "message": ""},
    ),
    ("log_entry_list", {"query": {"limit": 5}}),
    ("service_change_events", {"query": None}),
    # Catalogue tools (tools-catalog)
    ("alert_grouping_setting_list", {"limit": 0}),
    ("alert_grouping_setting_list", {"after": "a b"}),
    ("alert_grouping_setting_list", {"after": "A1", "before": "B1"}),
    ("alert_grouping_setting_list", {"total": "yes"}),
    ("escalation_policy_list", {"include": ("everything",)}),
    ("escalation_policy_list", {"team_ids": ("../x",)}),
    ("service_list", {"team_ids": "PABC123"}),
    ("webhook_list", {"filter_type": "account_reference"}),
    ("webhook_update", {"subscription_id": VALID}),
    ("webhook_update", {"subscription_id": VALID, "events": ["x"]}),
    ("webhook_update", {"subscription_id": VALID, "active": "no"}),
    ("webhook_update", {"subscription_id": VALID, "filter_type": "service"}),
    ("service_change", {"service_id": VALID, "changes": {"name": "dict"}}),
    # tools-people
    ("user_list", {"team_ids": ["../teams"]}),
    ("user_list", {"team_ids": "PABC123"}),
    ("user_list", {"limit": 0}),
    ("team_list", {"limit": 101}),
    ("schedule_list", {"team_ids": [VALID] * 2 + ["P1?x=1"]}),
    ("schedule_list", {"team_ids": [f"P{n:06d}" for n in range(26)]}),
    ("oncall_list", {"time_zone": "Mars/Olympus_Mons"}),
    ("oncall_list", {"time_zone": "UTC&limit=1"}),
    ("oncall_list", {"user_ids": [VALID, "P1/../P2"]}),
    ("oncall_list", {"escalation_policy_ids": "PABC123"}),
    (
        "user_create",
        {"name": "X", "email": "x@acme.example", "role": "user", "time_zone": "X"},
    ),
    ("team_create", {"name": "Search", "default_role": "observer"}),
]


@pytest.mark.parametrize(("name", "arguments"), BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_any_call(
    ws, mocked_responses, name, arguments
):
    with pytest.raises(InvalidInput):
        FUNCTIONS[name](ws=ws, **arguments)

    assert len(mocked_responses.calls) == 0


@pytest.mark.parametrize(
    "build",
    [
        lambda: services.ServiceInput(name="", escalation_policy_id=VALID),
        lambda: services.ServiceInput(
            name="S", escalation_policy_id=VALID, acknowledgement_timeout=5
        ),
        lambda: services.EscalationPolicyInput(name="P", rules=()),
        lambda: services.EscalationTarget(kind="team", id=VALID),
        lambda: services.EscalationRule(delay_minutes=0, targets=()),
        lambda: selectors.IncidentQuery(status="open"),
        lambda: selectors.IncidentQuery(per_page=1000),
        lambda: selectors.IncidentQuery(since=START.replace(tzinfo=None)),
        lambda: selectors.LogEntryQuery(limit=101),
        lambda: selectors.LogEntryQuery(since=START, until=START),
        lambda: selectors.LogEntryQuery(team_ids=("../x",)),
        lambda: selectors.ChangeEventQuery(service_id="S1/x"),
        lambda: selectors.ChangeEventQuery(service_id=VALID, integration_ids=("?",)),
        # Catalogue tools (tools-catalog)
        lambda: services.ServiceChanges(status="critical"),
        lambda: services.ServiceChanges(name=""),
        lambda: services.ServiceChanges(team_ids=["PABC123"]),
        lambda: services.AlertGroupingInput(
            type="time", config={"timeout": 30}, service_ids=(VALID,)
        ),
        lambda: services.AlertGroupingInput(
            type="time", config={"timeout": True}, service_ids=(VALID,)
        ),
        lambda: services.AlertGroupingInput(
            type="intelligent", config={"time_window": 4000}, service_ids=(VALID,)
        ),
        lambda: services.AlertGroupingInput(
            type="content_based",
            config={"aggregate": "some", "fields": ["summary"], "time_window": 600},
            service_ids=(VALID,),
        ),
        lambda: services.AlertGroupingInput(
            type="content_based",
            config={"aggregate": "all", "fields": [], "time_window": 600},
            service_ids=(VALID,),
        ),
        lambda: services.AlertGroupingInput(
            type="content_based_intelligent",
            config={"aggregate": "all", "fields": ["summary"], "time_window": 600},
            service_ids=(VALID, "PDEF456"),
        ),
        lambda: services.AlertGroupingInput(
            type="smart", config={}, service_ids=(VALID,)
        ),
        lambda: services.AlertGroupingInput(
            type="time", config={"timeout": 900}, service_ids=()
        ),
    ],
)
def test_input_objects_check_themselves(build):
    with pytest.raises(InvalidInput):
        build()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_missing_scope_is_refused_before_any_call(
    tenant, tenant_admin, pagerduty_client, mocked_responses, name
):
    needed = OPERATIONS[name].scope
    granted = [s for s in pd_scopes.ALL_SCOPES if s != needed]
    make_connection(
        tenant,
        pagerduty_client,
        scopes=" ".join(["openid", *granted]),
        user=tenant_admin,
    )
    ws = workspace_open(user=tenant_admin, tenant_id=tenant.pk)

    with pytest.raises(MissingScope) as refused:
        run(name, ws, Ids())

    assert refused.value.scope == needed
    assert len(mocked_responses.calls) == 0


def test_opening_another_tenants_workspace_is_refused(
    tenant, other_tenant, tenant_admin, ws_connection
):
    with pytest.raises(NotAMember):
        workspace_open(user=tenant_admin, tenant_id=other_tenant.pk)
    with pytest.raises(NotAMember):
        workspace_open(user=tenant_admin, tenant_id=999_999)


@pytest.mark.parametrize("status", ["needs_reconnect", "revoked", None])
def test_opening_without_a_live_connection_says_so(
    tenant, tenant_admin, pagerduty_client, status
):
    if status:
        connection = make_connection(tenant, pagerduty_client)
        Connection.objects.filter(pk=connection.pk).update(status=status)

    with pytest.raises(NotConnected) as refused:
        workspace_open(user=tenant_admin, tenant_id=tenant.pk)

    assert refused.value.needs_reconnect is (status == "needs_reconnect")


FAULTS = {
    "500": (PagerDutyUnavailable, {"status": 503, "json": {}}),
    "429": (
        PagerDutyRateLimited,
        {"status": 429, "json": {}, "headers": {"ratelimit-reset": "40"}},
    ),
    "404": (
        PagerDutyError,
        {"status": 404, "json": {"error": {"message": "Not Found", "code": 2100}}},
    ),
    "403": (
        PagerDutyAuthError,
        {"status": 403, "json": {"error": {"message": "Forbidden", "code": 2010}}},
    ),
    "401": (PagerDutyAuthError, {"status": 401, "json": {}}),
}
ANY_API_URL = re.compile(re.escape(API) + r"/.*")


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_upstream_faults_reach_the_caller_as_pagerduty_errors(ws, name, fault):
    error, answer = FAULTS[fault]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for method in ("GET", "POST", "PUT", "DELETE"):
            rsps.add(method, ANY_API_URL, **answer)
        # A 401 refreshes once; the refresh is refused, so: reconnect.
        rsps.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

        with pytest.raises(error) as raised:
            run(name, ws, Ids())

    if fault == "404":
        assert raised.value.status == 404
    if fault == "401":
        ws.connection.refresh_from_db()
        assert ws.connection.status == Connection.Status.NEEDS_RECONNECT
    audit = AuditEvent.objects.filter(tenant=ws.tenant)
    if OPERATIONS[name].write:
        event = audit.get(action=AuditAction.RESOURCE_CHANGE_FAILED)
        assert event.details["operation"] == name
        assert event.details["outcome"] == "failed"
    else:
        assert not audit.filter(action__startswith="resource.").exists()


# --- Against the sandbox: every operation does its work -----------------


def sandbox_ids(state, subdomain="acme") -> Ids:
    """Return IDs of the account's own objects, fit for each operation."""
    account = state.account_by_subdomain(subdomain)

    def mine(items):
        return [item for item in items.values() if item.account_id == account.id]

    def first(items, default="PNOSUCH"):
        return next(iter(items), default)

    users = mine(state.users)
    incidents = sorted(mine(state.incidents), key=lambda i: i.number)
    by_status = {}
    for incident in incidents:
        by_status.setdefault(incident.status, incident.id)
    busy = {i.service_id for i in incidents if i.status != "resolved"}
    schedule = first(s for s in mine(state.schedules) if s.overrides)
    team = first(t for t in mine(state.teams) if t.members)
    members = getattr(team, "members", {})
    return Ids(
        default="PNOSUCH",
        incident=by_status.get("triggered", "PNOSUCH"),
        acknowledged_incident=by_status.get("acknowledged", "PNOSUCH"),
        resolved_incident=by_status.get("resolved", "PNOSUCH"),
        service=first(i.service_id for i in incidents),
        quiet_service=first(s.id for s in mine(state.services) if s.id not in busy),
        policy=first(p.id for p in mine(state.escalation_policies)),
        schedule=getattr(schedule, "id", "PNOSUCH"),
        override=first(o.id for o in getattr(schedule, "overrides", [])),
        team=getattr(team, "id", "PNOSUCH"),
        member=first(members),
        user=first(u.id for u in users if u.role == "user"),
        spare_user=first(
            u.id for u in users if u.role != "owner" and u.id not in members
        ),
        subscription=first(w.id for w in mine(state.webhook_subscriptions)),
        # Incident context for agents (tools-incidents)
        alerted_incident=first(i.id for i in incidents if i.alerts),
        alert=first(a.id for i in incidents for a in i.alerts),
        log_entry=first(e.id for i in incidents for e in i.log_entries),
        **_catalog_ids(state, mine),
    )


def _catalog_ids(state, mine) -> dict:
    # Catalogue tools (tools-catalog): a setting, one of its services and a
    # service in no setting (a service belongs to one setting at most).
    settings = mine(state.alert_grouping_settings)
    grouped = {s for setting in settings for s in setting.service_ids}
    return {
        "setting": settings[0].id if settings else "PNOSUCH",
        "grouped": settings[0].service_ids[0] if settings else "PNOSUCH",
        "ungrouped": next(
            (s.id for s in mine(state.services) if s.id not in grouped),
            "PNOSUCH",
        ),
        "business_service": next(
            (b.id for b in mine(state.business_services)), "PNOSUCH"
        ),
    }


@pytest.fixture
def sandbox_ws(tenant, tenant_admin, pagerduty_client, sandbox_settings):
    token = sandbox_settings.issue_token(user_email="alice@acme.example")
    make_connection(
        tenant,
        pagerduty_client,
        api_url=sandbox_settings.url,
        token=token,
        user=tenant_admin,
        pd_user=sandbox_pd_user(sandbox_settings),
    )
    return workspace_open(user=tenant_admin, tenant_id=tenant.pk)


def _with_subscription(ws, ids):
    if ids["subscription"] == "PNOSUCH":
        created = services.webhook_create(
            ws=ws,
            url="https://hooks.example/pd",
            events=["incident.triggered"],
            filter_type="account",
        )
        ids["subscription"] = created.id
        AuditEvent.objects.all().delete()
    return ids


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_operation_works_against_the_sandbox(sandbox_ws, sandbox_settings, name):
    ids = _with_subscription(sandbox_ws, sandbox_ids(sandbox_settings.state))
    before = len(sandbox_settings.request_log)

    result = run(name, sandbox_ws, ids)

    assert not isinstance(result, dict)
    assert len(sandbox_settings.request_log) > before
    assert all(status < 400 for _m, _p, status in sandbox_settings.request_log)
    events = AuditEvent.objects.filter(tenant=sandbox_ws.tenant)
    if OPERATIONS[name].write:
        event = events.get()
        assert event.action == AuditAction.RESOURCE_CHANGED
        assert event.actor == sandbox_ws.user
        assert event.details["operation"] == name
        assert event.details["outcome"] == "ok"
        assert event.details["pd_user_id"] == sandbox_ws.connection.pd_user_id
        target = OPERATIONS[name].target
        expected = CALLS[name](ids).get(target) if target else getattr(result, "id", "")
        assert event.details["target_id"] == (expected or "")
    else:
        assert not events.exists()


def test_audit_details_hold_no_free_text(sandbox_ws, sandbox_settings):
    ids = sandbox_ids(sandbox_settings.state)

    services.incident_add_note(
        ws=sandbox_ws, incident_id=ids["incident"], content="CANARY-NOTE-TEXT"
    )
    services.incident_create(
        ws=sandbox_ws, title="CANARY-TITLE", service_id=ids["service"]
    )

    stored = repr(list(AuditEvent.objects.values()))
    assert "CANARY-NOTE-TEXT" not in stored
    assert "CANARY-TITLE" not in stored
    assert sandbox_ws.connection.access_token not in stored


# --- Isolation: tenant A's workspace with tenant B's IDs ----------------


@pytest.fixture
def two_tenants(
    development, tenant, tenant_admin, pagerduty_client, sandbox_settings, settings
):
    settings.PAGERDUTY_RETRY_BACKOFF = 0
    acme_token = sandbox_settings.issue_token(user_email="alice@acme.example")
    make_connection(
        tenant,
        pagerduty_client,
        api_url=sandbox_settings.url,
        token=acme_token,
        user=tenant_admin,
    )
    from tests.factories import TenantFactory

    globex = TenantFactory(environment=development, name="Globex", slug="globex")
    app = OAuthClientFactory(environment=development, tenant=globex)
    globex_token = sandbox_settings.issue_token(user_email="gina@globex.example")
    make_connection(
        globex, app, api_url=sandbox_settings.eu_api_url, token=globex_token
    )
    MembershipFactory(
        tenant=globex, user=UserFactory(username="gina"), role=Membership.Role.ADMIN
    )
    return workspace_open(user=tenant_admin, tenant_id=tenant.pk), globex_token


ISOLATION_CASES = sorted(name for name in CALLS if _id_kinds(name))


@pytest.mark.parametrize("name", ISOLATION_CASES)
def test_tenant_a_cannot_reach_tenant_b_with_b_s_ids(
    two_tenants, sandbox_settings, name
):
    ws, _token = two_tenants
    state = sandbox_settings.state
    globex_ids = sandbox_ids(state, "globex")
    with state.lock:
        before = _snapshot(state, "globex")

    status, result = _outcome(lambda: run(name, ws, globex_ids))

    assert status in (200, 400, 404)
    assert _holds_no_globex_data(result, globex_ids)

    with state.lock:
        assert _snapshot(state, "globex") == before
    assert all(
        not path.startswith("/eu/") for _m, path, _s in sandbox_settings.request_log
    )


def _outcome(call):
    """Return (200, result) or (PagerDuty's status, None)."""
    try:
        return 200, call()
    except PagerDutyError as exc:
        return exc.status, None


def _snapshot(state, subdomain):
    account = state.account_by_subdomain(subdomain)
    return repr(
        sorted(
            repr(item)
            for table in (
                state.incidents,
                state.services,
                state.users,
                state.teams,
                state.schedules,
                state.escalation_policies,
                state.webhook_subscriptions,
                state.alert_grouping_settings,
            )
            for item in table.values()
            if item.account_id == account.id
        )
    )


def _holds_no_globex_data(result, ids) -> bool:
    # A page echoes its query (the IDs asked for); only its items count.
    for items in ("incidents", "items", "services"):
        result = getattr(result, items, result)
    text = repr(result)
    return not any(value in text for value in ids.values() if value != "PNOSUCH")
