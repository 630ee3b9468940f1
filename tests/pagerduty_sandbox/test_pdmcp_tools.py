"""PagerDuty's own MCP server runs every in-scope tool against the sandbox.

The tools run through pagerduty-mcp's own code path (its FastMCP server
validates the arguments; its client, pointed at the sandbox with
PAGERDUTY_API_HOST, authenticates with a user API key), in the package's
Python 3.12 venv (`make pdmcp-install`). No tool may meet a 404 or a 400
from an operation the sandbox lacks or gets wrong.
"""

import json

import pytest

from pagerduty_sandbox import pdmcp
from tests.helpers import skip_unless_available

PLAN_EMAIL = "alice@acme.example"


@pytest.fixture
def pdmcp_python():
    python = pdmcp.pdmcp_python()
    skip_unless_available(
        python is not None,
        "no pagerduty-mcp venv (make pdmcp-install, or set PDMCP_PYTHON)",
    )
    return python


def _run(sandbox, python, calls):
    return pdmcp.run_probe(
        python,
        "run",
        {
            "api_host": sandbox.url,
            "api_key": sandbox.issue_api_key(PLAN_EMAIL),
            "control_url": sandbox.url,
            "calls": calls,
        },
    )


def _problems(result, tool, operations) -> list[str]:
    """Return what went wrong in one tool call, as readable lines."""
    name = result["tool"]
    calls = [r for r in result["requests"] if not r[1].startswith("/_sandbox/")]
    fallbacks = {o["operation"] for o in tool["operations"] if o["fallback"]}
    problems = []
    if not result["ok"]:
        problems.append(f"{name}: {result['error']}")
    if not calls:
        problems.append(f"{name}: made no request")
    for index, (method, path, status) in enumerate(calls):
        following = calls[index + 1 : index + 2]
        # A 400 the tool answers with its documented fallback is the
        # schedule redirect (v2 -> v3); every other 4xx or 5xx is a failure.
        redirected = (
            status == 400
            and following
            and pdmcp.match_operation(*following[0][:2], operations, pattern=False)
            in fallbacks
        )
        if status >= 400 and not redirected:
            problems.append(f"{name}: {method} {path} answered {status}")
    return problems


def test_every_in_scope_tool_runs_against_the_sandbox(pagerduty_sandbox, pdmcp_python):
    inventory = {t["name"]: t for t in pdmcp.inventory()["tools"]}
    in_scope = {name for name, tool in inventory.items() if tool["in_scope"]}
    operations = pdmcp.spec_operations()
    with pagerduty_sandbox.state.lock:
        calls = pdmcp.tool_calls(pagerduty_sandbox.state, email=PLAN_EMAIL)

    results = _run(pagerduty_sandbox, pdmcp_python, calls)

    assert {c["tool"] for c in calls} == in_scope
    problems = [
        line
        for result in results
        for line in _problems(result, inventory[result["tool"]], operations)
    ]
    assert problems == []


def test_reads_find_seeded_data_and_writes_change_the_state(
    pagerduty_sandbox, pdmcp_python
):
    state = pagerduty_sandbox.state
    kinds = {t["name"]: t["kind"] for t in pdmcp.inventory()["tools"]}
    with state.lock:
        calls = pdmcp.tool_calls(state, email=PLAN_EMAIL)
        deleted_team = next(c for c in calls if c["tool"] == "delete_team")
        teams_before = len(state.teams)

    results = _run(pagerduty_sandbox, pdmcp_python, calls)

    empty = []
    for result in results:
        if kinds[result["tool"]] != "read":
            continue
        output = json.loads(result["output"] or "null")
        if isinstance(output, dict) and isinstance(output.get("result"), str):
            output = json.loads(output["result"])  # tools that answer JSON text
        if not output or (
            isinstance(output, dict)
            and any(
                isinstance(output.get(k), list) and not output[k]
                for k in ("response", "relationships", "past_incidents")
            )
        ):
            empty.append(result["tool"])
    assert empty == []
    with state.lock:
        titles = {i.title for i in state.incidents.values()}
        assert "Checkout latency above 2 s" in titles
        assert state.user_by_email("zed@acme.example") is not None
        assert any(t.name == "Data" for t in state.teams.values())
        assert deleted_team["arguments"]["team_id"] not in state.teams
        assert len(state.teams) == teams_before
        assert any(s.name == "Ledger" for s in state.services.values())


def test_a_stakeholders_key_gets_pagerdutys_refusal_not_a_missing_operation(
    pagerduty_sandbox, pdmcp_python
):
    calls = [
        {
            "tool": "create_team",
            "arguments": {"create_model": {"team": {"name": "Read-only try"}}},
        },
        {"tool": "list_teams", "arguments": {}},
    ]

    results = pdmcp.run_probe(
        pdmcp_python,
        "run",
        {
            "api_host": pagerduty_sandbox.url,
            "api_key": pagerduty_sandbox.issue_api_key("erin@acme.example"),
            "control_url": pagerduty_sandbox.url,
            "calls": calls,
        },
    )

    write, read = results
    assert write["ok"] is False
    assert [r[2] for r in write["requests"]] == [403]
    assert "Access Denied" in write["error"]
    assert read["ok"] is True
