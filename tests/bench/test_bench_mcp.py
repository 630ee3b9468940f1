"""bench/mcp.py in its quick mode against a small sandbox and pagerduty-mcp.

The gateway is served in a thread on the test database (not gunicorn);
everything else is the section's own path: PagerDuty's server from its
venv, the consent-flow token, minted agents, the load. Counts and parity
only: timings are the benchmark's business, not a test's.
"""

from contextlib import contextmanager

import pytest

from bench import mcp as bench_mcp
from bench.common import Context, Sandbox
from bench.mcp_client import entity_ids, structured
from integrations.gateway.models import ToolCall
from integrations.gateway.tools.registry import tool_get
from pagerduty_sandbox import pdmcp
from tests.helpers import skip_unless_available


@pytest.fixture(scope="module")
def small_sandbox():
    sandbox = Sandbox(incidents=300, services=5, latency_ms=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def ctx(small_sandbox, settings, transactional_db, seeded_environments):
    skip_unless_available(
        pdmcp.pdmcp_python() is not None,
        "no pagerduty-mcp venv (make pdmcp-install, or set PDMCP_PYTHON)",
    )
    settings.PAGERDUTY_IDENTITY_URL = small_sandbox.url
    settings.PAGERDUTY_API_URL = small_sandbox.url
    settings.PAGERDUTY_EU_API_URL = small_sandbox.eu_api_url
    return Context(
        latency_ms=0,
        repeat=1,
        incidents=300,
        services=5,
        database="test",
        cache="test",
        sandbox=small_sandbox,
        quick=True,
        current_section="mcp",
    )


@pytest.fixture
def serve_in_thread(monkeypatch):
    from django.db import connection
    from django.test import override_settings

    from tests.gateway.harness import GatewayServer

    # The server's threads must not keep connections to the test database.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)

    @contextmanager
    def serve(port, *, cache_seconds):
        # One worker thread: the shared in-memory SQLite test database takes
        # one writer at a time, and the load writes an audit row per call.
        overrides = {"MCP_THREADS": 1}
        if cache_seconds is not None:
            overrides["PAGERDUTY_CACHE_SECONDS"] = cache_seconds
        with override_settings(**overrides):
            server = GatewayServer(port).start()
            try:
                yield server
            finally:
                server.stop()

    return serve


def test_the_section_compares_both_servers_on_every_call_the_gateway_has(
    ctx, serve_in_thread, monkeypatch
):
    # What this checkout's gateway offers; after the merge, the whole set.
    calls = [c for c in bench_mcp.CALLS if c == "tools/list" or tool_get(c)]
    monkeypatch.setenv(bench_mcp.CALLS_ENV, ",".join(calls))

    bench_mcp.run(ctx, serve_gateway=serve_in_thread)

    figures = {figure.name: figure for figure in ctx.figures}
    # Timings may miss their targets on a busy machine; nothing else may.
    failed = [
        f"{f.name}: {f.note}"
        for f in ctx.figures
        if f.met is False and "÷" not in f.name and "overhead" not in f.name
    ]
    assert failed == []
    for call in calls:
        ratio = figures[f"{call}: gateway ÷ PagerDuty's server"].value
        assert ratio.runs == bench_mcp.QUICK_PAIRS
        assert 0 < ratio.min <= ratio.median <= ratio.max
        for side in ("PagerDuty's server", "gateway"):
            assert figures[f"{call}: {side} p95"].value > 0
    for call in set(calls) & set(bench_mcp.READ_TOOLS):
        parity = figures[f"{call}: same entity ids"]
        assert parity.met is True
        assert parity.value >= 1
    for call in {"list_incidents", "get_incident"} & set(calls):
        assert f"{call}: gateway overhead over the same direct PagerDuty GET" in figures
    schema = figures["tools/list: schema differences (shared tools)"]
    assert (schema.value, schema.met) == (0, True)
    # At least the call set's tools; other pagerduty-mcp tools may be shared.
    assert figures["tools/list: shared tools"].value >= len(
        [c for c in calls if c != "tools/list"]
    )
    minted = figures["load: minted tokens the verifier reads like a consent-flow token"]
    assert (minted.value, minted.met) == (bench_mcp.QUICK_AGENTS, True)
    calls_made = figures["load: audit rows = calls"]
    assert calls_made.met is True
    assert calls_made.value > bench_mcp.QUICK_AGENTS
    assert figures["load: errors"].value == 0
    assert figures["load: PagerDuty 429s"].value == 0
    assert ToolCall.objects.filter(outcome=ToolCall.Outcome.SUCCEEDED).exists()


def test_a_call_the_gateway_lacks_is_a_failed_figure_not_a_skipped_one():
    ctx = _empty_context()

    class Session:
        def __init__(self, tools):
            self.tools = tools

        def list_tools(self):
            return [{"name": name, "inputSchema": {}} for name in self.tools]

    bench_mcp._parity(
        ctx,
        Session(["list_incidents", "list_oncalls"]),
        Session(["list_incidents"]),
        ["list_oncalls"],
        plan=None,
    )

    (figure,) = ctx.figures
    assert (figure.name, figure.met) == ("list_oncalls: offered by the gateway", False)


def test_schema_differences_name_each_one_and_its_reason(monkeypatch):
    theirs = {
        "a": {"inputSchema": {"type": "object", "properties": {"x": {}}}},
        "b": {"inputSchema": {"type": "object"}},
        "only_theirs": {"inputSchema": {}},
    }
    ours = {
        "a": {"inputSchema": {"type": "object", "properties": {"y": {}}}},
        "b": {"inputSchema": {"type": "object"}},
    }

    assert bench_mcp.schema_differences(theirs, ours) == [
        'a: inputSchema.properties.x is "(absent)", theirs {} (no reason given)',
        'a: inputSchema.properties.y is {}, theirs "(absent)" (no reason given)',
    ]
    monkeypatch.setitem(
        bench_mcp.SCHEMA_REASONS, ("a", "inputSchema.properties.y"), "why"
    )
    assert bench_mcp.schema_differences(theirs, ours)[1].endswith("(why)")


def test_entity_ids_read_lists_single_entities_and_oncalls():
    assert entity_ids({"response": [{"id": "P1"}, {"id": "P2"}]}) == ["P1", "P2"]
    assert entity_ids({"id": "P3", "title": "x"}) == ["P3"]
    oncall = {
        "user": {"id": "PU"},
        "escalation_policy": {"id": "PE"},
        "schedule": None,
        "escalation_level": 1,
    }
    assert entity_ids({"response": [oncall]}) == ["PU/PE/-/1"]
    text = {"content": [{"type": "text", "text": '{"response": [{"id": "P4"}]}'}]}
    assert entity_ids(structured(text)) == ["P4"]


def test_the_call_set_narrows_only_to_known_calls(monkeypatch):
    monkeypatch.setenv(bench_mcp.CALLS_ENV, "tools/list, get_incident")
    assert bench_mcp.selected_calls() == ("get_incident", "tools/list")
    monkeypatch.setenv(bench_mcp.CALLS_ENV, "list_everything")
    with pytest.raises(ValueError, match="list_everything"):
        bench_mcp.selected_calls()


@pytest.fixture
def no_python(monkeypatch, tmp_path):
    """No pagerduty-mcp venv and no interpreter to make one with."""
    finder = tmp_path / "find_pdmcp_python"
    finder.write_text("#!/bin/sh\necho 'no Python 3.12 here' >&2\nexit 1\n")
    finder.chmod(0o755)
    monkeypatch.setattr(pdmcp, "pdmcp_python", lambda: None)
    monkeypatch.delenv(bench_mcp.CALLS_ENV, raising=False)
    monkeypatch.setattr(bench_mcp, "FIND_PYTHON", finder)


def _empty_context():
    return Context(
        latency_ms=0,
        repeat=1,
        incidents=0,
        services=0,
        database="",
        cache="",
        sandbox=None,
        current_section="mcp",
    )


def test_without_python_312_the_section_says_why_and_skips(no_python, monkeypatch):
    monkeypatch.delenv("PORTAL_REQUIRE_ALL", raising=False)
    ctx = _empty_context()

    bench_mcp.run(ctx)

    (figure,) = ctx.figures
    assert figure.name == "PagerDuty's MCP server"
    assert figure.note == "skipped: no Python 3.12 here"


def test_without_python_312_ci_fails_the_section(no_python, monkeypatch):
    monkeypatch.setenv("PORTAL_REQUIRE_ALL", "1")

    with pytest.raises(RuntimeError, match="no Python 3.12 here"):
        bench_mcp.run(_empty_context())


def test_event_stream_answers_are_read_as_utf8():
    import requests

    from bench.mcp_client import _answer

    response = requests.Response()
    response.status_code = 200
    response.headers["content-type"] = "text/event-stream"
    body = (
        'event: message\ndata: {"jsonrpc": "2.0", "id": 1, "result": {"t": "a — b"}}\n'
    )
    response._content = body.encode()

    assert _answer(response) == {"t": "a — b"}
