"""The people tools (teams, users, schedules, on-calls) against the sandbox.

Each tool through the live gateway as an agent calls it: reads find the
seeded account, writes change it as the person, results keep pagerduty-mcp's
fields; then per tool: tenant B's IDs (M09) and upstream faults (M14).
"""

import json
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from integrations.gateway.models import ToolCall
from integrations.models import Connection, Environment, Membership
from pagerduty_sandbox import pdmcp
from pagerduty_sandbox.state import iso
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.gateway.conftest import PASSWORD, connect_to_sandbox
from tests.gateway.mcp_http import call, result, tool_answer, tool_error
from tests.helpers import skip_unless_available

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("governance_off"),
]

SCALE = {"dev": 0.25, "ci": 1, "deep": 10}[os.environ.get("HYPOTHESIS_PROFILE", "dev")]
# test_fuzz.py draws the plan's 2,000 bodies over every tool; this adds the
# people tools' nested schemas, fewer.
EXAMPLES = max(50, int(150 * SCALE))


def _account(sandbox, subdomain="acme"):
    """Return the seeded IDs of an account the people tools take."""
    state = sandbox.state
    with state.lock:
        account = state.account_by_subdomain(subdomain)

        def mine(table):
            return [item for item in table.values() if item.account_id == account.id]

        teams = sorted(mine(state.teams), key=lambda t: t.name.lower())
        team = next(t for t in teams if t.members)
        schedule = next(s for s in mine(state.schedules) if s.overrides)
        service = mine(state.services)[0]
        return {
            "account": account,
            "users": sorted(mine(state.users), key=lambda u: u.name.lower()),
            "teams": teams,
            "team": team,
            "member": next(iter(team.members)),
            "schedules": mine(state.schedules),
            "schedule": schedule,
            "service": service,
            "policy": service.escalation_policy_id,
            "now": state.now(),
        }


# --- Reads ----------------------------------------------------------------


def test_list_users_answers_the_accounts_users_as_pagerduty_mcp_does(
    gateway, token, pagerduty_sandbox
):
    acme = _account(pagerduty_sandbox)

    answer = tool_answer(call(gateway.mcp_url, token, "list_users", {}))

    assert [u["id"] for u in answer["response"]] == [u.id for u in acme["users"]]
    first, user = answer["response"][0], acme["users"][0]
    assert first == {
        "id": user.id,
        "summary": user.name,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "teams": [
            {"id": t.id, "summary": t.name, "type": "team_reference"}
            for t in pagerduty_sandbox.state.user_teams(user.id)
        ],
        "time_zone": user.time_zone,
        "job_title": user.job_title or None,
        "type": "user",
    }
    assert answer["more"] is False


def test_list_users_filters_by_name_and_team_and_caps_at_the_limit(
    gateway, token, pagerduty_sandbox
):
    acme = _account(pagerduty_sandbox)
    team = acme["team"]

    by_team = tool_answer(
        call(gateway.mcp_url, token, "list_users", {"teams_ids": [team.id]})
    )
    by_name = tool_answer(
        call(gateway.mcp_url, token, "list_users", {"query": "carol"})
    )
    capped = tool_answer(call(gateway.mcp_url, token, "list_users", {"limit": 2}))

    assert {u["id"] for u in by_team["response"]} == set(team.members)
    assert [u["email"] for u in by_name["response"]] == ["carol@acme.example"]
    assert len(capped["response"]) == 2
    assert capped["more"] is True


def test_get_user_data_is_the_person_the_agent_acts_for(
    gateway, token, pagerduty_sandbox
):
    alice = pagerduty_sandbox.state.user_by_email("alice@acme.example")

    answer = tool_answer(call(gateway.mcp_url, token, "get_user_data"))

    assert (answer["id"], answer["email"], answer["type"]) == (
        alice.id,
        "alice@acme.example",
        "user",
    )


def test_get_user_data_without_a_link_of_ones_own_says_how_to_link(
    gateway, acme, alice, issue_token
):
    bob = UserFactory(username="bob")
    MembershipFactory(tenant=acme, user=bob, role=Membership.Role.ADMIN)
    agent = issue_token(bob, acme).access

    error = tool_error(call(gateway.mcp_url, agent, "get_user_data"))

    assert error["code"] == "link_required"


def test_list_teams_all_and_mine(gateway, token, pagerduty_sandbox):
    acme = _account(pagerduty_sandbox)
    alice = pagerduty_sandbox.state.user_by_email("alice@acme.example")
    alices = {t.id for t in pagerduty_sandbox.state.user_teams(alice.id)}

    every = tool_answer(call(gateway.mcp_url, token, "list_teams", {}))
    mine = tool_answer(call(gateway.mcp_url, token, "list_teams", {"scope": "my"}))
    wrong = tool_error(call(gateway.mcp_url, token, "list_teams", {"scope": "theirs"}))

    assert [t["id"] for t in every["response"]] == [t.id for t in acme["teams"]]
    first = acme["teams"][0]
    assert every["response"][0] == {
        "id": first.id,
        "summary": first.name,
        "name": first.name,
        "description": first.description or None,
        "type": "team",
    }
    assert {t["id"] for t in mine["response"]} == alices
    assert alices
    assert wrong["code"] == "invalid_arguments"


def test_get_team_and_its_members(gateway, token, pagerduty_sandbox):
    team = _account(pagerduty_sandbox)["team"]

    got = tool_answer(call(gateway.mcp_url, token, "get_team", {"team_id": team.id}))
    members = tool_answer(
        call(gateway.mcp_url, token, "list_team_members", {"team_id": team.id})
    )

    assert (got["id"], got["name"], got["type"]) == (team.id, team.name, "team")
    expected = {user_id: role for user_id, role in team.members.items()}
    assert {m["id"]: m["role"] for m in members["response"]} == expected
    assert {m["type"] for m in members["response"]} == {"user_reference"}
    assert {m["id"] for m in got["members"]} == set(expected)
    assert members["more"] is False


def test_list_schedules_by_name_team_and_user(gateway, token, pagerduty_sandbox):
    acme = _account(pagerduty_sandbox)
    schedule = acme["schedule"]
    on_it = schedule.layers[0].user_ids[0]

    every = tool_answer(
        call(gateway.mcp_url, token, "list_schedules", {"query_model": {}})
    )
    by_team = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_schedules",
            {"query_model": {"team_ids": schedule.team_ids}},
        )
    )
    by_user = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_schedules",
            {"query_model": {"user_ids": [on_it], "query": schedule.name}},
        )
    )

    assert {s["id"] for s in every["response"]} <= {s.id for s in acme["schedules"]}
    assert schedule.id in {s["id"] for s in every["response"]}
    assert every["sources"] == [
        {
            "api": "v2",
            "status": "ok",
            "count": len(every["response"]),
            "more": every["sources"][0]["more"],
            "message": None,
        }
    ]
    assert every["degraded"] is False
    assert {s["id"] for s in by_team["response"]} == {
        s.id
        for s in acme["schedules"]
        if set(s.team_ids) & set(schedule.team_ids)
        and s.id in {x["id"] for x in every["response"]}
    }
    assert [s["id"] for s in by_user["response"]] == [schedule.id]
    assert by_user["response"][0]["kind"] == "layer_based"


def test_get_schedule_shows_the_final_schedule_and_overrides(
    gateway, token, pagerduty_sandbox
):
    schedule = _account(pagerduty_sandbox)["schedule"]

    got = tool_answer(
        call(gateway.mcp_url, token, "get_schedule", {"schedule_id": schedule.id})
    )["result"]
    v3 = tool_error(
        call(
            gateway.mcp_url,
            token,
            "get_schedule",
            {"schedule_id": schedule.id, "kind": "shift_based"},
        )
    )

    assert (got["id"], got["name"], got["kind"], got["type"]) == (
        schedule.id,
        schedule.name,
        "layer_based",
        "schedule",
    )
    entries = got["final_schedule"]["rendered_schedule_entries"]
    assert entries
    assert {e["user"]["type"] for e in entries} == {"user_reference"}
    upcoming = {
        o.id
        for o in schedule.overrides
        if o.end > pagerduty_sandbox.state.now()
        and o.start < pagerduty_sandbox.state.now() + timedelta(days=14)
    }
    assert {o["id"] for o in got["overrides"]} == upcoming
    assert v3["code"] == "invalid_arguments"


def test_list_schedule_users(gateway, token, pagerduty_sandbox):
    schedule = _account(pagerduty_sandbox)["schedule"]
    named = {u for layer in schedule.layers for u in layer.user_ids} | {
        o.user_id for o in schedule.overrides
    }

    answer = tool_answer(
        call(
            gateway.mcp_url, token, "list_schedule_users", {"schedule_id": schedule.id}
        )
    )

    assert {u["id"] for u in answer["response"]} == named
    assert {u["type"] for u in answer["response"]} == {"user"}


def test_list_oncalls_now_by_schedule_and_by_service(gateway, token, pagerduty_sandbox):
    acme = _account(pagerduty_sandbox)
    schedule = acme["schedule"]

    now = tool_answer(call(gateway.mcp_url, token, "list_oncalls", {}))
    by_schedule = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_oncalls",
            {"schedule_ids": [schedule.id], "earliest": False},
        )
    )
    by_service = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_oncalls",
            {"service_ids": [acme["service"].id], "time_zone": "Europe/Paris"},
        )
    )

    assert now["response"]
    entry = by_schedule["response"][0]
    assert set(entry) == {
        "escalation_policy",
        "escalation_level",
        "schedule",
        "user",
        "start",
        "end",
    }
    assert {e["schedule"]["id"] for e in by_schedule["response"]} == {schedule.id}
    assert by_schedule["more"] is False
    assert entry["user"]["type"] == "user_reference"
    assert entry["escalation_policy"]["type"] == "escalation_policy_reference"
    assert by_service["response"]
    assert {e["escalation_policy"]["id"] for e in by_service["response"]} == {
        acme["policy"]
    }
    sent = [p for m, p, s in pagerduty_sandbox.request_log if p.startswith("/oncalls")]
    assert sent


def test_list_oncalls_over_a_window(gateway, token, pagerduty_sandbox):
    start = pagerduty_sandbox.state.now()

    answer = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "list_oncalls",
            {
                "since": iso(start),
                "until": iso(start + timedelta(days=7)),
                "earliest": False,
            },
        )
    )
    naive = tool_error(
        call(gateway.mcp_url, token, "list_oncalls", {"since": "2026-01-01T00:00:00"})
    )

    timed = [e for e in answer["response"] if e["start"]]
    assert timed
    assert naive["code"] == "invalid_arguments"


# --- Writes ---------------------------------------------------------------


def test_team_lifecycle_through_the_persons_link(gateway, token, pagerduty_sandbox):
    state = pagerduty_sandbox.state
    carol = state.user_by_email("carol@acme.example")

    created = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "create_team",
            {"create_model": {"team": {"name": "Search", "description": "Finds"}}},
        )
    )
    team_id = created["id"]
    private_team = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "create_team",
            {"create_model": {"team": {"name": "Audit", "default_role": "none"}}},
        )
    )
    private = vars(state.teams[private_team["id"]])
    updated = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "update_team",
            {"team_id": team_id, "update_model": {"team": {"name": "Search Infra"}}},
        )
    )
    added = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "add_team_member",
            {"team_id": team_id, "member_data": {"user_id": carol.id}},
        )
    )
    role = state.teams[team_id].members.get(carol.id)
    removed = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "remove_team_member",
            {"team_id": team_id, "user_id": carol.id},
        )
    )
    members_after = dict(state.teams[team_id].members)
    deleted = tool_answer(
        call(gateway.mcp_url, token, "delete_team", {"team_id": team_id})
    )

    assert (created["name"], created["description"]) == ("Search", "Finds")
    assert private["default_role"] == "none"
    assert (updated["name"], updated["description"]) == ("Search Infra", None)
    assert added == {"result": "Successfully added user to team"}
    assert role == "manager"
    assert removed == {
        "result": f"Successfully removed user {carol.id} from team {team_id}"
    }
    assert carol.id not in members_after
    assert deleted == {"result": f"Successfully deleted team {team_id}"}
    assert team_id not in state.teams
    outcomes = list(ToolCall.objects.values_list("tool", "outcome"))
    assert [o for _t, o in outcomes] == ["succeeded"] * 6
    masked = ToolCall.objects.filter(tool="create_team").earliest("pk").arguments
    assert masked["create_model"]["team"]["name"] == "[text, 6 chars]"


def test_create_user(gateway, token, pagerduty_sandbox):
    answer = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "create_user",
            {
                "request": {
                    "name": "Zed",
                    "email": "zed@acme.example",
                    "time_zone": "Europe/Paris",
                }
            },
        )
    )
    bad_zone = tool_error(
        call(
            gateway.mcp_url,
            token,
            "create_user",
            {
                "request": {
                    "name": "Yan",
                    "email": "yan@acme.example",
                    "time_zone": "Nowhere/Land",
                }
            },
        )
    )

    zed = pagerduty_sandbox.state.user_by_email("zed@acme.example")
    assert (answer["id"], answer["role"], answer["time_zone"]) == (
        zed.id,
        "user",
        "Europe/Paris",
    )
    assert zed.time_zone == "Europe/Paris"
    assert bad_zone["code"] == "invalid_arguments"
    assert pagerduty_sandbox.state.user_by_email("yan@acme.example") is None
    rows = ToolCall.objects.filter(tool="create_user").order_by("pk")
    assert [row.outcome for row in rows] == ["succeeded", "refused"]
    assert "acme.example" not in str([row.arguments for row in rows])


def _override(user_id, start, hours=2):
    return {
        "user_id": user_id,
        "start": iso(start),
        "end": iso(start + timedelta(hours=hours)),
    }


def test_create_schedule_overrides(gateway, token, pagerduty_sandbox):
    state = pagerduty_sandbox.state
    schedule = _account(pagerduty_sandbox)["schedule"]
    carol = state.user_by_email("carol@acme.example")
    start = state.now() + timedelta(days=2)
    before = len(schedule.overrides)

    answer = tool_answer(
        call(
            gateway.mcp_url,
            token,
            "create_schedule_override",
            {
                "schedule_id": schedule.id,
                "override_request": {
                    "overrides": [
                        _override(carol.id, start),
                        _override(carol.id, start + timedelta(days=1)),
                    ]
                },
            },
        )
    )

    created = answer["result"]
    assert [c["status"] for c in created] == [201, 201]
    assert {c["override"]["user"]["id"] for c in created} == {carol.id}
    assert len(schedule.overrides) == before + 2
    assert {c["override"]["id"] for c in created} <= {o.id for o in schedule.overrides}


def test_a_member_overrides_only_with_themselves(
    gateway, acme, alice, issue_token, pagerduty_sandbox
):
    state = pagerduty_sandbox.state
    schedule = _account(pagerduty_sandbox)["schedule"]
    bob = UserFactory(username="bob")
    bob.set_password(PASSWORD)
    bob.save()
    MembershipFactory(tenant=acme, user=bob, role=Membership.Role.MEMBER)
    bob_pd = state.user_by_email("bob@acme.example")
    tenant_connection = Connection.objects.get(tenant=acme)
    Connection.objects.create(
        tenant=acme,
        oauth_client=tenant_connection.oauth_client,
        kind=Connection.Kind.PERSONAL,
        user=bob,
        account_id="PACME",
        subdomain="acme",
        api_url=pagerduty_sandbox.url,
        pd_user_id=bob_pd.id,
        pd_user_name=bob_pd.name,
        pd_user_email=bob_pd.email,
        pd_user_role=bob_pd.role,
        access_token=pagerduty_sandbox.issue_token("bob@acme.example"),
        refresh_token="unused",
        access_expires_at=tenant_connection.access_expires_at,
        granted_scopes=tenant_connection.granted_scopes,
        requested_scopes=tenant_connection.requested_scopes,
    )
    agent = issue_token(bob, acme).access
    carol = state.user_by_email("carol@acme.example")
    start = state.now() + timedelta(days=3)
    before = len(schedule.overrides)

    refused = tool_error(
        call(
            gateway.mcp_url,
            agent,
            "create_schedule_override",
            {
                "schedule_id": schedule.id,
                "override_request": {"overrides": [_override(carol.id, start)]},
            },
        )
    )
    own = tool_answer(
        call(
            gateway.mcp_url,
            agent,
            "create_schedule_override",
            {
                "schedule_id": schedule.id,
                "override_request": {"overrides": [_override(bob_pd.id, start)]},
            },
        )
    )

    assert refused["code"] == "not_allowed"
    assert own["result"][0]["override"]["user"]["id"] == bob_pd.id
    assert len(schedule.overrides) == before + 1


def test_overrides_are_checked_before_any_is_created(gateway, token, pagerduty_sandbox):
    schedule = _account(pagerduty_sandbox)["schedule"]
    carol = pagerduty_sandbox.state.user_by_email("carol@acme.example")
    start = pagerduty_sandbox.state.now() + timedelta(days=2)
    before = len(pagerduty_sandbox.request_log)

    errors = [
        tool_error(
            call(
                gateway.mcp_url,
                token,
                "create_schedule_override",
                {"schedule_id": schedule.id, "override_request": {"overrides": items}},
            )
        )
        for items in (
            [_override(carol.id, start), {**_override(carol.id, start), "end": "x"}],
            [_override(carol.id, start), _override(carol.id, start, hours=24 * 32)],
            [_override(carol.id, start), _override(carol.id, start, hours=-1)],
            [_override("../users", start)],
            [_override(carol.id, start)] * 11,
            [],
        )
    ]

    assert {e["code"] for e in errors} == {"invalid_arguments"}
    assert len(pagerduty_sandbox.request_log) == before


# --- M09: tenant A's agent with tenant B's IDs ------------------------------


@pytest.fixture
def globex(gateway, pagerduty_sandbox):
    """Tenant B: Globex, on the sandbox's EU account."""
    tenant = TenantFactory(
        environment=Environment.objects.get(slug="development"),
        name="Globex",
        slug="globex",
    )
    connection = connect_to_sandbox(tenant, pagerduty_sandbox)
    Connection.objects.filter(pk=connection.pk).update(
        access_token=pagerduty_sandbox.issue_token("gina@globex.example"),
        api_url=pagerduty_sandbox.eu_api_url,
        region="eu",
    )
    MembershipFactory(tenant=tenant, user=UserFactory(username="gina"))
    return _account(pagerduty_sandbox, "globex")


def _globex_calls(b, start):
    """Every people tool with tenant B's IDs where it takes one."""
    override = {"overrides": [_override(b["member"], start)]}
    return [
        ("get_team", {"team_id": b["team"].id}),
        ("list_team_members", {"team_id": b["team"].id}),
        (
            "update_team",
            {"team_id": b["team"].id, "update_model": {"team": {"name": "X"}}},
        ),
        ("delete_team", {"team_id": b["team"].id}),
        (
            "add_team_member",
            {"team_id": b["team"].id, "member_data": {"user_id": b["member"]}},
        ),
        ("remove_team_member", {"team_id": b["team"].id, "user_id": b["member"]}),
        ("list_users", {"teams_ids": [b["team"].id]}),
        ("list_teams", {"query": b["team"].name}),
        ("list_schedules", {"query_model": {"team_ids": b["schedule"].team_ids}}),
        ("get_schedule", {"schedule_id": b["schedule"].id}),
        ("list_schedule_users", {"schedule_id": b["schedule"].id}),
        (
            "create_schedule_override",
            {"schedule_id": b["schedule"].id, "override_request": override},
        ),
        ("list_oncalls", {"schedule_ids": [b["schedule"].id]}),
        ("list_oncalls", {"service_ids": [b["service"].id]}),
        ("list_oncalls", {"escalation_policy_ids": [b["policy"]]}),
        ("list_oncalls", {"user_ids": [b["member"]]}),
        ("get_user_data", {}),
        ("create_user", {"request": {"name": "G", "email": "gina@globex.example"}}),
        ("create_team", {"create_model": {"team": {"name": b["team"].name}}}),
    ]


def _snapshot(state, account):
    return repr(
        sorted(
            repr(item)
            for table in (state.users, state.teams, state.schedules)
            for item in table.values()
            if item.account_id == account.id
        )
    )


def test_m09_people_tools_reach_no_data_of_another_tenant(
    gateway, token, globex, pagerduty_sandbox
):
    state = pagerduty_sandbox.state
    with state.lock:
        before = _snapshot(state, globex["account"])
    b_ids = {
        globex["team"].id,
        globex["schedule"].id,
        globex["service"].id,
        globex["policy"],
        *(u.id for u in globex["users"]),
        *(t.id for t in globex["teams"]),
    }
    asked = _globex_calls(globex, state.now() + timedelta(days=2))

    answers = [
        (name, arguments, result(call(gateway.mcp_url, token, name, arguments)))
        for name, arguments in asked
    ]

    for name, arguments, answer in answers:
        content = answer["structuredContent"]
        if answer["isError"]:
            assert content["error"]["code"] in ("not_found", "pagerduty_refused"), (
                name,
                content,
            )
            continue
        # An answer of A's data: B's IDs appear only where the agent gave them.
        asked_for = {i for i in b_ids if i in str(arguments)}
        leaked = {i for i in b_ids if i in str(content)} - asked_for
        assert not leaked, (name, leaked)
        assert not {str(item.get("id")) for item in content.get("response", [])} & b_ids
    with state.lock:
        assert _snapshot(state, globex["account"]) == before
    assert pagerduty_sandbox.count("/eu") == 0
    assert len(answers) == 19


# --- M14: upstream faults, per tool ------------------------------------------

READS = {
    "list_users": lambda a: ("/users", {}),
    "get_user_data": lambda a: ("/users", {}),
    "list_teams": lambda a: ("/teams", {}),
    "get_team": lambda a: ("/teams", {"team_id": a["team"].id}),
    "list_team_members": lambda a: ("/teams", {"team_id": a["team"].id}),
    "list_schedules": lambda a: ("/schedules", {"query_model": {}}),
    "get_schedule": lambda a: ("/schedules", {"schedule_id": a["schedule"].id}),
    "list_schedule_users": lambda a: (
        "/schedules",
        {"schedule_id": a["schedule"].id},
    ),
    "list_oncalls": lambda a: ("/oncalls", {}),
}
WRITES = {
    "create_team": lambda a: ("/teams", {"create_model": {"team": {"name": "Ops"}}}),
    "update_team": lambda a: (
        "/teams",
        {"team_id": a["team"].id, "update_model": {"team": {"name": "Ops"}}},
    ),
    "delete_team": lambda a: ("/teams", {"team_id": a["team"].id}),
    "add_team_member": lambda a: (
        "/teams",
        {"team_id": a["team"].id, "member_data": {"user_id": a["member"]}},
    ),
    "remove_team_member": lambda a: (
        "/teams",
        {"team_id": a["team"].id, "user_id": a["member"]},
    ),
    "create_user": lambda a: (
        "/users",
        {"request": {"name": "Zed", "email": "zed@acme.example"}},
    ),
    "create_schedule_override": lambda a: (
        "/schedules",
        {
            "schedule_id": a["schedule"].id,
            "override_request": {
                "overrides": [_override(a["member"], a["now"] + timedelta(days=1))]
            },
        },
    ),
}
# tools-people: sample arguments per tool, with the path prefix they call.
PEOPLE_SAMPLES = {**READS, **WRITES}


def test_people_samples_cover_every_people_tool():
    from integrations.gateway.tools.registry import all_tools

    people = {
        tool.name
        for tool in all_tools()
        if tool.handler.__module__.rsplit(".", 1)[-1] in ("teams", "users", "schedules")
    } | {"list_oncalls"}

    assert set(PEOPLE_SAMPLES) == people
    assert len(people) == 16


def test_people_tools_annotations_are_precise():
    from integrations.gateway.tools.registry import tool_get

    # (destructive, idempotent) of each write: creates only add.
    writes = {
        "create_team": (False, False),
        "create_user": (False, False),
        "create_schedule_override": (False, False),
        "update_team": (True, True),
        "add_team_member": (True, True),
        "remove_team_member": (True, True),
        "delete_team": (True, True),
    }

    for name in READS:
        hints = tool_get(name).as_mcp().annotations
        assert (hints.read_only_hint, hints.destructive_hint) == (True, False), name
        assert hints.idempotent_hint is True, name
    for name, (destructive, idempotent) in writes.items():
        tool = tool_get(name)
        hints = tool.as_mcp().annotations
        assert (tool.access, hints.read_only_hint) == ("mcp:write", False), name
        assert (hints.destructive_hint, hints.idempotent_hint) == (
            destructive,
            idempotent,
        ), name
    assert set(writes) == set(WRITES)


@pytest.fixture
def fast_upstream(settings):
    settings.PAGERDUTY_RETRY_BACKOFF = 0.01
    settings.PAGERDUTY_TIMEOUT = (1.0, 0.1)


def _sample(name, sandbox):
    return PEOPLE_SAMPLES[name](_account(sandbox))


@pytest.mark.parametrize("kind", ["500", "429", "timeout"])
def test_m14_people_tools_turn_upstream_faults_into_retryable_errors(
    gateway, token, pagerduty_sandbox, fast_upstream, kind
):
    code = "rate_limited" if kind == "429" else "pagerduty_unavailable"
    # One tool at a time, each with the fault on its own path only.
    for name in sorted(PEOPLE_SAMPLES):
        path, arguments = _sample(name, pagerduty_sandbox)
        pagerduty_sandbox.clear_faults()
        pagerduty_sandbox.add_fault(kind, path, delay=0.5)

        error = tool_error(call(gateway.mcp_url, token, name, arguments))

        assert (error["code"], error["retryable"]) == (code, True), name
        if kind == "429":
            assert error["retry_after_seconds"] >= 1, name
        row = ToolCall.objects.latest("pk")
        assert (row.tool, row.outcome, row.reason) == (name, "failed", code)
    assert ToolCall.objects.count() == len(PEOPLE_SAMPLES)


def test_m14_people_tools_refresh_once_then_need_a_reconnect(
    gateway, token, acme, pagerduty_sandbox
):
    for name in sorted(PEOPLE_SAMPLES):
        _path, arguments = _sample(name, pagerduty_sandbox)
        Connection.objects.filter(tenant=acme).update(
            access_token="not-a-sandbox-token", status=Connection.Status.ACTIVE
        )
        refreshes = pagerduty_sandbox.count("/oauth/token", method="POST")

        error = tool_error(call(gateway.mcp_url, token, name, arguments))

        assert error["code"] == "reconnect_needed", name
        assert "needs a reconnect" in error["message"], name
        assert pagerduty_sandbox.count("/oauth/token", method="POST") == (
            refreshes + 1
        ), name


def test_m14_people_tools_name_the_scope_pagerduty_refuses(
    gateway, token, acme, pagerduty_sandbox
):
    """The token PagerDuty holds lost every scope the portal thinks it has."""
    Connection.objects.filter(tenant=acme).update(
        access_token=pagerduty_sandbox.issue_token(
            "alice@acme.example", ["incidents.read"]
        )
    )
    for name in sorted(PEOPLE_SAMPLES):
        _path, arguments = _sample(name, pagerduty_sandbox)

        error = tool_error(call(gateway.mcp_url, token, name, arguments))

        assert error["code"] == "pagerduty_scope_missing", name
        assert any(
            scope in error["message"]
            for scope in ("users.", "teams.", "schedules.", "oncalls.", "services.")
        ), name
        assert ToolCall.objects.latest("pk").pagerduty_status == 403, name


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("get_team", {"team_id": "PNOSUCH"}),
        ("list_team_members", {"team_id": "PNOSUCH"}),
        (
            "update_team",
            {"team_id": "PNOSUCH", "update_model": {"team": {"name": "X"}}},
        ),
        ("delete_team", {"team_id": "PNOSUCH"}),
        ("get_schedule", {"schedule_id": "PNOSUCH"}),
        ("list_schedule_users", {"schedule_id": "PNOSUCH"}),
        ("list_oncalls", {"service_ids": ["PNOSUCH"]}),
    ],
)
def test_m14_people_tools_say_not_found(gateway, token, name, arguments):
    error = tool_error(call(gateway.mcp_url, token, name, arguments))

    assert error["code"] == "not_found"


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("get_team", {"team_id": "../users/me"}),
        ("list_team_members", {"team_id": "P1/members"}),
        ("delete_team", {"team_id": "P1?x=1"}),
        ("remove_team_member", {"team_id": "P1", "user_id": "../../users"}),
        ("add_team_member", {"team_id": "P1", "member_data": {"user_id": "é"}}),
        ("get_schedule", {"schedule_id": ""}),
        ("list_schedule_users", {"schedule_id": "P1/overrides"}),
        ("list_users", {"teams_ids": ["P1", "P2#x"]}),
        ("list_oncalls", {"schedule_ids": ["P1;x"]}),
        ("list_oncalls", {"time_zone": "UTC&limit=100"}),
        ("list_oncalls", {"service_ids": [f"P{n}" for n in range(11)]}),
        ("list_schedules", {"query_model": {"team_ids": ["P1\n"]}}),
        ("list_users", {"limit": -1}),
        (
            "list_oncalls",
            {"service_ids": ["P1"], "since": "2026-01-01T00:00:00Z", "until": "x"},
        ),
        (
            "list_oncalls",
            {
                "service_ids": ["P1"],
                "since": "2026-01-01T00:00:00Z",
                "until": "2026-06-01T00:00:00Z",
            },
        ),
        ("list_oncalls", {"service_ids": ["P1"], "time_zone": "Mars/Base"}),
        ("list_oncalls", {"service_ids": ["P1"], "user_ids": ["P1"] * 26}),
    ],
)
def test_m13_arguments_the_schema_lets_through_are_refused_before_pagerduty(
    gateway, token, pagerduty_sandbox, name, arguments
):
    before = len(pagerduty_sandbox.request_log)

    error = tool_error(call(gateway.mcp_url, token, name, arguments))

    assert error["code"] == "invalid_arguments"
    assert len(pagerduty_sandbox.request_log) == before


# --- Parity with pagerduty-mcp's own tools on the same sandbox ---------------


def test_people_reads_find_what_pagerduty_mcps_own_tools_find(
    gateway, token, pagerduty_sandbox
):
    python = pdmcp.pdmcp_python()
    skip_unless_available(python is not None, "no pagerduty-mcp venv")
    acme = _account(pagerduty_sandbox)
    team, schedule = acme["team"].id, acme["schedule"].id
    calls = [
        ("get_user_data", {}),
        ("list_users", {}),
        ("list_teams", {}),
        ("get_team", {"team_id": team}),
        ("list_team_members", {"team_id": team}),
        ("list_schedules", {"query_model": {}}),
        ("get_schedule", {"schedule_id": schedule}),
        ("list_schedule_users", {"schedule_id": schedule}),
        ("list_oncalls", {"schedule_ids": [schedule], "earliest": False}),
        ("list_oncalls", {"service_ids": [acme["service"].id]}),
    ]

    theirs = pdmcp.run_probe(
        python,
        "run",
        {
            "api_host": pagerduty_sandbox.url,
            "api_key": pagerduty_sandbox.issue_api_key("alice@acme.example"),
            "control_url": pagerduty_sandbox.url,
            "calls": [{"tool": name, "arguments": args} for name, args in calls],
        },
    )
    ours = [tool_answer(call(gateway.mcp_url, token, n, a)) for n, a in calls]

    for (name, _args), their, our in zip(calls, theirs, ours, strict=True):
        assert their["ok"], (name, their)
        their = json.loads(their["output"])
        if "result" in their:
            their, our = their["result"], our["result"]
        if "response" not in their:
            assert (our["id"], our["name"]) == (their["id"], their["name"]), name
            assert set(our) >= set(their) - _NOT_CARRIED, name
            continue
        items = [
            item for item in their["response"] if item.get("kind") != "shift_based"
        ]
        assert [_key(item) for item in our["response"]] == [
            _key(item) for item in items
        ], name
        assert items, name
        assert set(our["response"][0]) >= set(items[0]), name


# Schedule fields the workspace's entity does not carry (layers, timestamps).
_NOT_CARRIED = {"self_url", "created_at", "updated_at", "schedule_layers"}


def _key(item):
    if "user" in item and "escalation_level" in item:
        return (
            item["user"]["id"],
            item["escalation_policy"]["id"],
            item["escalation_level"],
            (item.get("schedule") or {}).get("id"),
        )
    return item["id"]


# --- M13: arguments drawn from the people tools' own (nested) schemas --------

LEAVES = [
    "PABC123",
    "PNOSUCH",
    "../users/me",
    "P1?limit=100",
    "",
    "é" * 3,
    "x" * 300,
    "2026-01-01T00:00:00Z",
    "2026-01-01T00:00:00",
    "Europe/Paris",
    "a@b.example",
]


def _drawn(schema: dict, defs: dict, depth: int = 0):
    """Return a strategy for values mostly shaped as `schema` asks, bent at times."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        return st.one_of(*(_drawn(option, defs, depth) for option in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from([*schema["enum"], "nope"])
    kind = schema.get("type")
    if kind == "object" and depth < 4:
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {
                k: _drawn(v, defs, depth + 1)
                for k, v in properties.items()
                if k in required
            },
            optional={
                k: _drawn(v, defs, depth + 1)
                for k, v in properties.items()
                if k not in required
            },
        )
    if kind == "array":
        return st.lists(_drawn(schema.get("items", {}), defs, depth + 1), max_size=3)
    if kind == "integer":
        return st.integers(min_value=-3, max_value=300)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.sampled_from(LEAVES) | st.text(max_size=8)


def _people_arguments():
    from integrations.gateway.tools.registry import tool_get

    def for_tool(name):
        schema = tool_get(name).input_schema
        return st.tuples(st.just(name), _drawn(schema, schema.get("$defs", {})))

    return st.one_of(*(for_tool(name) for name in sorted(PEOPLE_SAMPLES)))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=_people_arguments())
def test_m13_people_tools_take_any_drawn_arguments_without_breaking(
    gateway, token, pagerduty_sandbox, case
):
    from integrations.gateway.tools.registry import tool_get

    name, arguments = case
    before = len(pagerduty_sandbox.request_log)

    answer = result(call(gateway.mcp_url, token, name, arguments))

    text = json.dumps(answer)
    assert "Traceback" not in text
    error = (answer["structuredContent"] or {}).get("error") or {}
    assert error.get("code") != "internal_error", (name, arguments, error)
    schema = Draft202012Validator(tool_get(name).input_schema)
    if error.get("code") == "invalid_arguments" or any(schema.iter_errors(arguments)):
        assert len(pagerduty_sandbox.request_log) == before, (name, arguments)
