"""The incident family of tools, through the runner against the sandbox.

Every tool runs as an agent of Alice (Acme's admin, her own PagerDuty
user linked) through `runner.call_tool`: authorization, visibility,
schema, policy, handler, error mapping and audit, as `/mcp` runs them.
The compatible tools take the arguments PagerDuty's own server is run with
(`pagerduty_sandbox.pdmcp.tool_calls`) and, where its venv exists, answer
with the same entities. M09, M13 and M14 are repeated per tool.
"""

import json

import pytest
from jsonschema import Draft202012Validator

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.models import AgentAuthorization, Client, ToolCall
from integrations.gateway.tools import runner
from integrations.gateway.tools.registry import PAGERDUTY_MCP_TOOLS, tool_get
from integrations.models import Connection, Membership
from pagerduty_sandbox import pdmcp
from tests.factories import (
    MembershipFactory,
    OAuthClientFactory,
    TenantFactory,
    UserFactory,
)
from tests.helpers import skip_unless_available
from tests.integrations.pagerduty.workspace.conftest import (
    connect_acme,
    make_connection,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("governance_off")]

FAMILY = (
    "list_incidents",
    "get_incident",
    "list_alerts_from_incident",
    "get_alert_from_incident",
    "list_incident_change_events",
    "list_service_change_events",
    "get_outlier_incident",
    "get_past_incidents",
    "get_related_incidents",
    "list_incident_notes",
    "list_log_entries",
    "get_log_entry",
    "create_incident",
    "manage_incidents",
    "add_responders",
    "add_note_to_incident",
)
OWN = (
    "acknowledge_incidents",
    "resolve_incidents",
    "snooze_incident",
    "escalate_incident",
    "add_incident_note",
    "reassign_incident",
)
BOTH = frozenset({SCOPE_READ, SCOPE_WRITE})


# --- Sample arguments per tool (tools-incidents) ---------------------------
# Each builds valid arguments from an account's IDs (`_ids`); M09 feeds it
# tenant B's, M14 tenant A's.
SAMPLES = {
    "list_incidents": lambda i: {"statuses": ["triggered"], "limit": 5},
    "get_incident": lambda i: {"incident_id": i["incident"]},
    "list_alerts_from_incident": lambda i: {"incident_id": i["alert_incident"]},
    "get_alert_from_incident": lambda i: {
        "incident_id": i["alert_incident"],
        "alert_id": i["alert"],
    },
    "list_incident_change_events": lambda i: {"incident_id": i["incident"]},
    "list_service_change_events": lambda i: {"service_id": i["service"]},
    "get_outlier_incident": lambda i: {
        "incident_id": i["incident"],
        "query_model": {},
    },
    "get_past_incidents": lambda i: {
        "incident_id": i["incident"],
        "query_model": {"limit": 5, "total": True},
    },
    "get_related_incidents": lambda i: {
        "incident_id": i["incident"],
        "query_model": {},
    },
    "list_incident_notes": lambda i: {"incident_id": i["resolved"]},
    "list_log_entries": lambda i: {
        "query_model": {"team_ids": [i["team"]], "limit": 5}
    },
    "get_log_entry": lambda i: {"log_entry_id": i["log_entry"]},
    "create_incident": lambda i: {
        "incident": {"title": "Disk full", "service": {"id": i["service"]}}
    },
    "manage_incidents": lambda i: {
        "manage_request": {"incident_ids": [i["incident"]], "urgency": "low"}
    },
    "add_responders": lambda i: {
        "incident_id": i["incident"],
        "request": {
            "message": "Please join",
            "responder_request_targets": [
                {
                    "responder_request_target": {
                        "id": i["user"],
                        "type": "user_reference",
                    }
                }
            ],
        },
    },
    "add_note_to_incident": lambda i: {"incident_id": i["incident"], "note": "n"},
    "acknowledge_incidents": lambda i: {"incident_ids": [i["incident"]]},
    "resolve_incidents": lambda i: {"incident_ids": [i["incident"]]},
    "snooze_incident": lambda i: {"incident_id": i["acknowledged"], "minutes": 60},
    "escalate_incident": lambda i: {
        "incident_id": i["incident"],
        "escalation_level": 2,
    },
    "add_incident_note": lambda i: {"incident_id": i["incident"], "content": "n"},
    "reassign_incident": lambda i: {"incident_id": i["incident"], "user_id": i["user"]},
}
# Where each tool's IDs go, for hostile values (M13's "no call").
ID_ARGUMENTS = {
    "get_incident": ("incident_id",),
    "list_alerts_from_incident": ("incident_id",),
    "get_alert_from_incident": ("incident_id", "alert_id"),
    "list_incident_change_events": ("incident_id",),
    "list_service_change_events": ("service_id",),
    "get_outlier_incident": ("incident_id",),
    "get_past_incidents": ("incident_id",),
    "get_related_incidents": ("incident_id",),
    "list_incident_notes": ("incident_id",),
    "get_log_entry": ("log_entry_id",),
    "add_note_to_incident": ("incident_id",),
    "add_responders": ("incident_id",),
    "snooze_incident": ("incident_id",),
    "escalate_incident": ("incident_id",),
    "add_incident_note": ("incident_id",),
    "reassign_incident": ("incident_id", "user_id"),
}
HOSTILE = ["../users/me", "P1/notes", "P1?limit=1", "P1#x", "é", "", " P1", "P" * 41]


def _ids(state, subdomain="acme") -> dict:
    """Return IDs of an account's seeded objects that the samples use."""
    account = state.account_by_subdomain(subdomain)

    def mine(items):
        return [item for item in items.values() if item.account_id == account.id]

    incidents = sorted(mine(state.incidents), key=lambda i: i.number)

    def first(status):
        return next(i for i in incidents if i.status == status)

    with_alerts = next(i for i in incidents if i.alerts)
    resolved = first("resolved")
    users = [u for u in mine(state.users) if u.role in ("user", "limited_user")]
    return {
        "incident": first("triggered").id,
        "acknowledged": first("acknowledged").id,
        "resolved": resolved.id,
        "alert_incident": with_alerts.id,
        "alert": with_alerts.alerts[0].id,
        "service": first("triggered").service_id,
        "team": mine(state.teams)[0].id,
        "log_entry": resolved.log_entries[0].id,
        "user": users[0].id,
    }


@pytest.fixture(autouse=True)
def _every_call_allowed(settings):
    # These tests are about the tools; the portal's policies (which hold
    # most writes for approval) are tested on their own.
    settings.MCP_GOVERNANCE_POLICY = "integrations.gateway.tools.governance.allow_all"


def authorize(user, tenant) -> AgentAuthorization:
    client = Client.objects.create(
        name="Agent",
        client_type=Client.CLIENT_PUBLIC,
        authorization_grant_type=Client.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1:9/callback",
    )
    return AgentAuthorization.objects.create(
        client=client,
        user=user,
        tenant=tenant,
        scope=f"{SCOPE_READ} {SCOPE_WRITE}",
        resource="http://testserver/mcp",
        code_checksum=f"{user.pk}-{tenant.pk}-{client.pk}",
    )


def call(authorization, name, arguments, scopes=BOTH) -> runner.CallResult:
    caller = runner.Caller(
        authorization_id=authorization.pk, scopes=scopes, protocol_version="2025-06-18"
    )
    return runner.call_tool(caller, name, arguments)


@pytest.fixture
def acme_linked(sandbox_settings, settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0
    return connect_acme(sandbox_settings)


@pytest.fixture
def agent(acme_linked):
    alice = Membership.objects.get(tenant=acme_linked, role="admin").user
    return authorize(alice, acme_linked)


@pytest.fixture
def ids(sandbox_settings):
    with sandbox_settings.state.lock:
        return _ids(sandbox_settings.state)


def _answer(result) -> dict:
    assert result.is_error is False, result.structured
    return result.structured


def _error(result) -> dict:
    assert result.is_error is True, result.structured
    return result.structured["error"]


# --- Each tool against the sandbox ------------------------------------------


def _plan(state) -> list[tuple[str, dict]]:
    with state.lock:
        calls = pdmcp.tool_calls(state, email="alice@acme.example")
    return [(c["tool"], c["arguments"]) for c in calls if c["tool"] in FAMILY]


def test_every_compatible_tool_answers_pagerduty_mcps_own_plan(agent, sandbox_settings):
    plan = _plan(sandbox_settings.state)

    answers = [(name, call(agent, name, arguments)) for name, arguments in plan]

    assert {name for name, _ in plan} == set(FAMILY)
    failed = [(name, a.structured) for name, a in answers if a.is_error]
    assert failed == []
    empty = [
        name
        for name, answer in answers
        if tool_get(name).read_only
        and not any(
            value
            for key, value in answer.structured.items()
            if key in ("response", "past_incidents", "related_incidents", "id")
            or key == "outlier_incident"
        )
    ]
    assert empty == []
    assert all(status < 400 for _m, _p, status in sandbox_settings.request_log)
    rows = ToolCall.objects.filter(tool__in=FAMILY)
    assert rows.count() == len(plan)
    assert set(rows.values_list("outcome", flat=True)) == {"succeeded"}


def test_compatible_tools_keep_the_names_and_schemas_and_annotations_are_precise():
    pinned = {
        tool["name"]: tool
        for tool in json.loads(PAGERDUTY_MCP_TOOLS.read_text())["tools"]
    }
    hints = {
        name: (t.read_only, t.destructive, t.idempotent)
        for name in FAMILY + OWN
        if (t := tool_get(name))
    }

    for name in FAMILY:
        tool = tool_get(name)
        assert tool.compatible, name
        assert tool.input_schema == pinned[name]["inputSchema"], name
        assert pinned[name]["in_scope"], name
        theirs = {o["operation"] for o in pinned[name]["operations"]}
        assert theirs <= set(tool.operations), name
    assert hints["list_alerts_from_incident"] == (True, False, True)
    assert hints["create_incident"] == (False, False, False)
    assert hints["add_note_to_incident"] == (False, False, False)
    assert hints["add_responders"] == (False, False, False)
    assert hints["manage_incidents"] == (False, True, False)
    assert hints["resolve_incidents"] == (False, True, True)
    assert hints["acknowledge_incidents"] == (False, False, True)
    assert hints["add_incident_note"] == (False, False, False)
    assert hints["snooze_incident"] == (False, False, False)
    assert hints["escalate_incident"] == (False, False, False)
    assert hints["reassign_incident"] == (False, True, True)
    assert not [n for n in OWN if tool_get(n).compatible]
    # Some agent APIs refuse a tool whose schema combines at the top level.
    combined = [
        name
        for name in FAMILY + OWN
        if {"oneOf", "anyOf", "allOf"} & set(tool_get(name).input_schema)
    ]
    assert combined == []


def test_results_are_capped_with_a_flag_when_more_exist(agent, settings, ids):
    settings.MCP_TOOL_MAX_RESULTS = 2

    entries = _answer(call(agent, "list_log_entries", {"query_model": {}}))
    incidents = _answer(call(agent, "list_incidents", {"limit": 50}))

    assert len(entries["response"]) == 2
    assert entries["more"] is True
    assert len(incidents["response"]) == 2
    assert incidents["more"] is True


def test_list_alerts_pages_with_offset(agent, ids, sandbox_settings, settings):
    with sandbox_settings.state.lock:
        expected = [
            a.id for a in sandbox_settings.state.incidents[ids["alert_incident"]].alerts
        ]
    settings.MCP_TOOL_MAX_RESULTS = 1

    first = _answer(
        call(agent, "list_alerts_from_incident", {"incident_id": ids["alert_incident"]})
    )
    second = _answer(
        call(
            agent,
            "list_alerts_from_incident",
            {"incident_id": ids["alert_incident"], "offset": 1},
        )
    )

    assert [a["id"] for a in first["response"]] == expected[:1]
    assert first["more"] is (len(expected) > 1)
    assert [a["id"] for a in second["response"]] == expected[1:2]
    alert = first["response"][0]
    assert alert["type"] == "alert"
    assert alert["incident"]["id"] == ids["alert_incident"]
    assert set(alert["body"]) == {"details", "contexts"}


def test_change_events_carry_no_routing_key(agent, ids):
    answer = _answer(
        call(agent, "list_service_change_events", {"service_id": ids["service"]})
    )

    assert answer["response"]
    assert all("routing_key" not in event for event in answer["response"])
    assert all(
        ids["service"] in [s["id"] for s in event["services"]]
        for event in answer["response"]
    )


# --- request_scope: assigned and teams through the person's link -------------


def test_request_scope_assigned_lists_the_persons_own_incidents(
    agent, ids, sandbox_settings
):
    me = agent.tenant.connections.get(kind=Connection.Kind.TENANT).pd_user_id
    _answer(
        call(
            agent, "reassign_incident", {"incident_id": ids["incident"], "user_id": me}
        )
    )

    answer = _answer(
        call(agent, "list_incidents", {"request_scope": "assigned", "limit": 100})
    )

    with sandbox_settings.state.lock:
        mine = {
            i.id
            for i in sandbox_settings.state.incidents.values()
            if me in i.assignee_ids
        }
    listed = {item["id"] for item in answer["response"]}
    assert ids["incident"] in listed
    assert listed <= mine


def test_request_scope_teams_lists_the_persons_teams_incidents(agent, sandbox_settings):
    me = agent.tenant.connections.get(kind=Connection.Kind.TENANT).pd_user_id
    with sandbox_settings.state.lock:
        state = sandbox_settings.state
        teams = {t.id for t in state.teams.values() if me in t.members}
        theirs = {i.id for i in state.incidents.values() if set(i.team_ids) & teams}

    answer = _answer(
        call(agent, "list_incidents", {"request_scope": "teams", "limit": 100})
    )

    listed = {item["id"] for item in answer["response"]}
    assert teams
    assert listed
    assert listed <= theirs


def test_request_scope_needs_the_persons_own_link(acme_linked, sandbox_settings):
    acme = acme_linked
    bob = MembershipFactory(tenant=acme, user=UserFactory(username="bob")).user
    acme.members_read_through_tenant = True
    acme.save()
    agent = authorize(bob, acme)
    before = len(sandbox_settings.request_log)

    assigned = _error(call(agent, "list_incidents", {"request_scope": "assigned"}))
    teams = _error(call(agent, "list_incidents", {"request_scope": "teams"}))
    wrong = _error(call(agent, "list_incidents", {"request_scope": "mine"}))
    listed = call(agent, "list_incidents", {"request_scope": "all", "limit": 1})

    assert assigned["code"] == teams["code"] == "link_required"
    assert "Link my PagerDuty account" in assigned["message"]
    assert wrong["code"] == "invalid_arguments"
    assert listed.is_error is False
    assert len(sandbox_settings.request_log) == before + 1


# --- Writes act as the person and change PagerDuty ------------------------------


def _incident(sandbox, incident_id):
    with sandbox.state.lock:
        return sandbox.state.incidents[incident_id]


def test_intent_tools_change_the_incident_as_the_person(agent, ids, sandbox_settings):
    sandbox = sandbox_settings
    me = agent.tenant.connections.get(kind=Connection.Kind.TENANT).pd_user_id

    note = _answer(
        call(
            agent,
            "add_incident_note",
            {"incident_id": ids["incident"], "content": "Rolled back"},
        )
    )
    escalated = _answer(
        call(
            agent,
            "escalate_incident",
            {"incident_id": ids["incident"], "escalation_level": 2},
        )
    )
    reassigned = _answer(
        call(
            agent,
            "reassign_incident",
            {"incident_id": ids["incident"], "user_id": ids["user"]},
        )
    )
    snoozed = _answer(
        call(
            agent,
            "snooze_incident",
            {"incident_id": ids["acknowledged"], "minutes": 30},
        )
    )
    resolved = _answer(
        call(
            agent,
            "resolve_incidents",
            {"incident_ids": [ids["incident"], ids["acknowledged"]]},
        )
    )

    incident = _incident(sandbox, ids["incident"])
    assert note["content"] == "Rolled back"
    assert note["user"]["id"] == me
    assert [n.content for n in incident.notes][-1] == "Rolled back"
    assert escalated["id"] == ids["incident"]
    assert [a["assignee"]["id"] for a in reassigned["assignments"]] == [ids["user"]]
    assert snoozed["status"] == "acknowledged"
    assert _incident(sandbox, ids["acknowledged"]).status == "resolved"
    assert resolved == {
        "resolved": 2,
        "incident_ids": [ids["incident"], ids["acknowledged"]],
    }
    assert incident.status == "resolved"
    kinds = [e.type for e in incident.log_entries]
    assert "escalate_log_entry" in kinds or "assign_log_entry" in kinds
    rows = ToolCall.objects.order_by("pk")
    assert list(rows.values_list("outcome", flat=True)) == ["succeeded"] * 5
    assert "Rolled back" not in repr(list(rows.values()))


def test_reassign_wants_exactly_one_assignee(agent, ids, sandbox_settings):
    before = len(sandbox_settings.request_log)

    both = _error(
        call(
            agent,
            "reassign_incident",
            {
                "incident_id": ids["incident"],
                "user_id": ids["user"],
                "escalation_policy_id": "PABC123",
            },
        )
    )
    neither = _error(call(agent, "reassign_incident", {"incident_id": ids["incident"]}))

    assert both["code"] == neither["code"] == "invalid_arguments"
    assert len(sandbox_settings.request_log) == before


def test_compatible_writes_change_pagerduty(agent, ids, sandbox_settings):
    sandbox = sandbox_settings
    me = agent.tenant.connections.get(kind=Connection.Kind.TENANT).pd_user_id

    created = _answer(
        call(
            agent,
            "create_incident",
            {
                "incident": {
                    "title": "Checkout latency above 2 s",
                    "service": {"id": ids["service"]},
                    "urgency": "low",
                    "body": {"details": "p99 at 2.4 s"},
                    "assignments": [{"assignee": {"id": ids["user"]}}],
                }
            },
        )
    )
    managed = _answer(
        call(
            agent,
            "manage_incidents",
            {
                "manage_request": {
                    "incident_ids": [ids["incident"], created["id"]],
                    "status": "acknowledged",
                    "urgency": "high",
                    "assignement": {"id": me},
                }
            },
        )
    )
    asked = _answer(call(agent, "add_responders", SAMPLES["add_responders"](ids)))
    noted = _answer(
        call(
            agent,
            "add_note_to_incident",
            {"incident_id": ids["incident"], "note": "Bridge open"},
        )
    )

    new = _incident(sandbox, created["id"])
    assert (new.title, new.urgency, new.body_details) == (
        "Checkout latency above 2 s",
        "high",
        "p99 at 2.4 s",
    )
    assert created["urgency"] == "low"
    assert [a["assignee"]["id"] for a in created["assignments"]] == [ids["user"]]
    assert {i["id"] for i in managed["response"]} == {ids["incident"], created["id"]}
    assert {i["status"] for i in managed["response"]} == {"acknowledged"}
    assert _incident(sandbox, ids["incident"]).assignee_ids == [me]
    assert asked["requester"]["id"] == me
    assert asked["message"] == "Please join"
    assert [t["id"] for t in asked["responder_request_targets"]] == [ids["user"]]
    assert noted["content"] == "Bridge open"
    stored = repr(list(ToolCall.objects.values()))
    assert "Checkout latency" not in stored
    assert "Bridge open" not in stored
    assert "Please join" not in stored


def test_a_member_without_a_link_is_told_to_link_before_writing(
    acme_linked, sandbox_settings, ids
):
    bob = MembershipFactory(tenant=acme_linked, user=UserFactory(username="bob")).user
    agent = authorize(bob, acme_linked)
    before = len(sandbox_settings.request_log)

    errors = [_error(call(agent, name, SAMPLES[name](ids))) for name in OWN]

    assert {e["code"] for e in errors} == {"link_required"}
    assert len(sandbox_settings.request_log) == before


# --- M09: tenant A's agent × every tool × tenant B's IDs ---------------------


@pytest.fixture
def globex(acme_linked, sandbox_settings):
    """Tenant B on the sandbox's EU account, its admin Gina linked."""
    tenant = TenantFactory(name="Globex", slug="globex")
    gina = UserFactory(username="gina")
    MembershipFactory(tenant=tenant, user=gina, role="admin")
    make_connection(
        tenant,
        OAuthClientFactory(environment=tenant.environment, tenant=tenant),
        api_url=sandbox_settings.eu_api_url,
        token=sandbox_settings.issue_token(user_email="gina@globex.example"),
        user=gina,
    )
    return tenant


def _globex_snapshot(state) -> str:
    account = state.account_by_subdomain("globex")
    return repr(
        sorted(
            repr(item)
            for item in state.incidents.values()
            if item.account_id == account.id
        )
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_m09_tenant_a_reaches_no_data_of_tenant_b(
    agent, globex, sandbox_settings, name
):
    state = sandbox_settings.state
    with state.lock:
        theirs = _ids(state, "globex")
        before = _globex_snapshot(state)

    answer = call(agent, name, SAMPLES[name](theirs))

    text = json.dumps(answer.structured)
    assert [value for value in theirs.values() if value in text] == []
    assert all(
        not path.startswith("/eu") for _m, path, _s in sandbox_settings.request_log
    )
    with state.lock:
        assert _globex_snapshot(state) == before


# --- M13: arguments their schema or the tool refuses never reach PagerDuty ---


HOSTILE_CASES = [
    (name, argument, value)
    for name, arguments in sorted(ID_ARGUMENTS.items())
    for argument in arguments
    for value in HOSTILE
]


@pytest.mark.parametrize(("name", "argument", "value"), HOSTILE_CASES)
def test_m13_hostile_ids_never_reach_pagerduty(
    agent, ids, sandbox_settings, name, argument, value
):
    arguments = {**SAMPLES[name](ids), argument: value}
    before = len(sandbox_settings.request_log)

    error = _error(call(agent, name, arguments))

    assert error["code"] == "invalid_arguments"
    assert len(sandbox_settings.request_log) == before
    assert ToolCall.objects.get().outcome == "refused"


BENT = [
    ("list_incidents", {"request_scope": "everyone"}),
    ("list_incidents", {"limit": -1}),
    ("list_incidents", {"since": "2026-13-45T00:00:00Z"}),
    ("list_incidents", {"since": "yesterday"}),
    ("list_incidents", {"priorities": ["../x"]}),
    ("list_incidents", {"request_scope": "teams", "statuses": ["open"]}),
    ("list_incidents", {"request_scope": "assigned", "since": "2026-02-30"}),
    ("list_log_entries", {"query_model": {"team_ids": ["a/b"]}}),
    ("list_log_entries", {"query_model": {"include": ["secrets"]}}),
    ("list_log_entries", {"query_model": {"offset": 10_000}}),
    ("list_service_change_events", {"service_id": "PABC", "offset": -1}),
    ("list_service_change_events", {"service_id": "PABC", "team_ids": ["?"]}),
    ("list_incident_change_events", {"incident_id": "PABC", "limit": -3}),
    ("get_past_incidents", {"incident_id": "PABC", "query_model": {"limit": 0}}),
    (
        "get_related_incidents",
        {"incident_id": "PABC", "query_model": {"additional_details": ["users"]}},
    ),
    ("get_outlier_incident", {"incident_id": "PABC", "query_model": {"since": "x"}}),
    ("list_alerts_from_incident", {"incident_id": "PABC", "limit": 0, "offset": -1}),
    ("create_incident", {"incident": {"title": "", "service": {"id": "PABC"}}}),
    ("create_incident", {"incident": {"title": "t", "service": {"id": "a/b"}}}),
    (
        "create_incident",
        {
            "incident": {
                "title": "t",
                "service": {"id": "PABC"},
                "assignments": [{"assignee": {"id": "../me"}}],
            }
        },
    ),
    ("manage_incidents", {"manage_request": {"incident_ids": ["PABC"]}}),
    ("manage_incidents", {"manage_request": {"incident_ids": []}}),
    (
        "manage_incidents",
        {"manage_request": {"incident_ids": ["P/1"], "status": "resolved"}},
    ),
    (
        "manage_incidents",
        {"manage_request": {"incident_ids": ["PABC"], "escalation_level": 99}},
    ),
    (
        "manage_incidents",
        {"manage_request": {"incident_ids": ["PABC"], "assignement": {"id": "?"}}},
    ),
    (
        "add_responders",
        {
            "incident_id": "PABC",
            "request": {"message": "m", "responder_request_targets": []},
        },
    ),
    (
        "add_responders",
        {
            "incident_id": "PABC",
            "request": {
                "message": "",
                "responder_request_targets": [
                    {
                        "responder_request_target": {
                            "id": "PABC",
                            "type": "user_reference",
                        }
                    }
                ],
            },
        },
    ),
    ("add_note_to_incident", {"incident_id": "PABC", "note": ""}),
    ("add_incident_note", {"incident_id": "PABC", "content": "x" * 25_001}),
    ("snooze_incident", {"incident_id": "PABC", "minutes": 0}),
    ("escalate_incident", {"incident_id": "PABC", "escalation_level": 21}),
    ("resolve_incidents", {"incident_ids": []}),
    ("resolve_incidents", {"incident_ids": ["PABC", "PABC"]}),
]


@pytest.mark.parametrize(("name", "arguments"), BENT)
def test_m13_bent_arguments_are_refused_before_any_call(
    agent, sandbox_settings, name, arguments
):
    before = len(sandbox_settings.request_log)

    error = _error(call(agent, name, arguments))

    assert error["code"] == "invalid_arguments", error
    assert len(sandbox_settings.request_log) == before


def test_m13_every_tool_of_the_family_is_fuzzed_from_its_schema():
    from tests.gateway import test_fuzz

    assert set(FAMILY + OWN) <= set(test_fuzz.TOOLS)
    for name in FAMILY + OWN:
        Draft202012Validator.check_schema(tool_get(name).input_schema)


# --- M14: upstream faults per tool ----------------------------------------------


@pytest.fixture
def fast_upstream(settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0.01
    settings.PAGERDUTY_TIMEOUT = (1.0, 0.3)


@pytest.mark.parametrize("kind", ["500", "429", "timeout"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_m14_upstream_failures_are_retryable(
    agent, ids, sandbox_settings, fast_upstream, name, kind
):
    sandbox_settings.add_fault(kind, "/", delay=1.0)

    error = _error(call(agent, name, SAMPLES[name](ids)))

    expected = "rate_limited" if kind == "429" else "pagerduty_unavailable"
    assert error["code"] == expected
    assert error["retryable"] is True
    if kind == "429":
        assert error["retry_after_seconds"] >= 1
    assert ToolCall.objects.get().outcome == "failed"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_m14_a_rejected_token_means_one_refresh_then_reconnect(
    agent, ids, sandbox_settings, name
):
    Connection.objects.filter(tenant=agent.tenant).update(
        access_token="not-a-sandbox-token"
    )

    error = _error(call(agent, name, SAMPLES[name](ids)))

    assert error["code"] == "reconnect_needed"
    assert sandbox_settings.count("/oauth/token", method="POST") == 1
    connection = Connection.objects.get(tenant=agent.tenant)
    assert connection.status == Connection.Status.NEEDS_RECONNECT


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_m14_a_scope_pagerduty_refuses_is_named(agent, ids, sandbox_settings, name):
    needed = sorted(tool_get(name).pagerduty_scopes)
    others = [s for s in ("incidents.read", "users.read") if s not in needed]
    Connection.objects.filter(tenant=agent.tenant).update(
        access_token=sandbox_settings.issue_token(
            "alice@acme.example", others or ["schedules.read"]
        )
    )

    error = _error(call(agent, name, SAMPLES[name](ids)))

    assert error["code"] == "pagerduty_scope_missing"
    assert any(scope in error["message"] for scope in needed)
    assert ToolCall.objects.get().pagerduty_status == 403


@pytest.mark.parametrize(
    "name",
    sorted(set(SAMPLES) - {"list_incidents", "list_log_entries", "create_incident"}),
)
def test_m14_unknown_ids_are_not_found(agent, ids, name):
    missing = dict.fromkeys(ids, "PNOSUCH0")
    missing["service"] = (
        ids["service"] if name != "list_service_change_events" else "PNOSUCH0"
    )

    error = _error(call(agent, name, SAMPLES[name](missing)))

    assert error["code"] in ("not_found", "pagerduty_refused"), error


# --- Parity with PagerDuty's own server ------------------------------------------


def _entity_ids(name: str, output) -> list[str]:
    if isinstance(output, dict) and isinstance(output.get("result"), str):
        output = json.loads(output["result"])  # tools that answer JSON text
    if "response" in output:
        return [item["id"] for item in output["response"]]
    if "outlier_incident" in output:
        return [output["outlier_incident"]["incident"]["id"]]
    for key in ("past_incidents", "related_incidents"):
        if key in output:
            return [item["incident"]["id"] for item in output[key]]
    return [output["id"]]


def test_reads_answer_the_same_entities_as_pagerduty_mcp(agent, sandbox_settings):
    python = pdmcp.pdmcp_python()
    skip_unless_available(
        python is not None,
        "no pagerduty-mcp venv (make pdmcp-install, or set PDMCP_PYTHON)",
    )
    reads = [
        {"tool": name, "arguments": arguments}
        for name, arguments in _plan(sandbox_settings.state)
        if tool_get(name).read_only
    ]
    theirs = pdmcp.run_probe(
        python,
        "run",
        {
            "api_host": sandbox_settings.url,
            "api_key": sandbox_settings.issue_api_key("alice@acme.example"),
            "control_url": sandbox_settings.url,
            "calls": reads,
        },
    )

    compared = found = 0
    for read, their in zip(reads, theirs, strict=True):
        name = read["tool"]
        assert their["ok"], their
        ours = _entity_ids(name, _answer(call(agent, name, read["arguments"])))
        expected = _entity_ids(name, json.loads(their["output"]))
        found += bool(ours)
        if len(expected) > len(ours):  # the gateway caps, theirs reads on
            assert set(ours) <= set(expected), name
        else:
            assert sorted(ours) == sorted(expected), name
        compared += 1
    assert compared == len(reads)
    # Only "assigned", planned after the writes, finds nothing before them.
    assert found == compared - 1


@pytest.mark.django_db(transaction=True)
def test_the_family_answers_through_the_live_gateway(gateway, token, pagerduty_sandbox):
    from tests.gateway.mcp_http import call as mcp_call
    from tests.gateway.mcp_http import result

    plan = _plan(pagerduty_sandbox.state)

    answers = [
        (name, result(mcp_call(gateway.mcp_url, token, name, arguments)))
        for name, arguments in plan
    ]

    assert [(n, a["structuredContent"]) for n, a in answers if a["isError"]] == []
    assert {name for name, _ in answers} == set(FAMILY)
    assert ToolCall.objects.filter(outcome="succeeded").count() == len(plan)
