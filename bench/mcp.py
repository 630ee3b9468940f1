"""The gateway against PagerDuty's own MCP server, on one sandbox (issue 17).

PagerDuty's server is pagerduty-mcp 1.1.0 from its own Python 3.12 venv
(`make pdmcp-install`; found or installed here, else the section is skipped
with the reason, or fails where PORTAL_REQUIRE_ALL=1), served over
Streamable HTTP on loopback with a user API key of Alice
(`scripts/pdmcp_probe.py serve`). The gateway is the production ASGI app
under gunicorn (2 uvicorn workers), its token issued through the consent
flow to a portal user whose tenant connection is Alice's own PagerDuty
user; the governance hook and the audit run on every call as always.

- Pairs: the same call through both, alternating which goes first, then
  the same PagerDuty request(s) sent directly. The gateway's read cache is
  off here (PAGERDUTY_CACHE_SECONDS=0), so both servers do the same upstream
  work on every call and the ratio compares the servers, not a cache.
- Parity: the same entity ids from both for each read, and the two
  `tools/list` answers diffed for the tools both offer (name and input
  schema); a difference counts unless SCHEMA_REASONS gives its reason.
- Load: AGENTS agents (distinct tokens of distinct people in TENANTS
  tenants) calling read tools at once through the same gunicorn with the
  production cache setting.

CALLS is the call set; BENCH_MCP_CALLS (a comma list) narrows it for a
branch that lacks some tools. A call the gateway does not offer is a failed
figure, never a skipped one.
"""

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from bench.common import (
    ROOT,
    SANDBOX_USER,
    Stats,
    connect_tenant,
    count_upstream,
    free_port,
    wait_for,
)
from bench.load import percentile
from bench.mcp_client import McpError, McpSession, entity_ids

CALLS = (
    "list_incidents",
    "get_incident",
    "list_services",
    "list_oncalls",
    "manage_incidents",
    "tools/list",
)
READ_TOOLS = ("list_incidents", "get_incident", "list_services", "list_oncalls")
CALLS_ENV = "BENCH_MCP_CALLS"
PAIRS, QUICK_PAIRS = 40, 4
AGENTS, TENANTS = 50, 10
QUICK_AGENTS, QUICK_TENANTS = 4, 2
LOAD_SECONDS, QUICK_LOAD_SECONDS = 20.0, 2.0
RATIO_TARGET = 1.0
OVERHEAD_TARGET_MS = 5.0
# The most incidents the parity query may match: both answers must be the
# whole result, so that the ids compare whatever order each server uses.
PARITY_INCIDENTS = 50
PARITY_SERVICES = 20
# (tool, what differs) -> why the gateway's input schema differs from
# pagerduty-mcp's. Empty: the gateway publishes their schemas verbatim.
SCHEMA_REASONS: dict[tuple[str, str], str] = {}
FIND_PYTHON = ROOT / "scripts" / "find_pdmcp_python"
PROBE = ROOT / "scripts" / "pdmcp_probe.py"
# What the gateway's incident_get asks PagerDuty to include
# (integrations/pagerduty/workspace/selectors), for the direct baseline.
INCIDENT_INCLUDES = ["assignees", "escalation_policies", "services", "teams"]


def selected_calls() -> tuple[str, ...]:
    """CALLS, or the part of it BENCH_MCP_CALLS names (in CALLS' order)."""
    value = os.environ.get(CALLS_ENV, "").strip()
    if not value:
        return CALLS
    names = {name.strip() for name in value.split(",") if name.strip()}
    unknown = names - set(CALLS)
    if unknown:
        raise ValueError(f"{CALLS_ENV}: unknown call(s) {sorted(unknown)}; use {CALLS}")
    return tuple(name for name in CALLS if name in names)


def run(ctx, *, serve_gateway: Callable | None = None) -> None:
    """Add the section's figures.

    `serve_gateway(port, cache_seconds=...)` is a context manager serving
    the portal on that port and yielding something with its `url` (and
    `cpu_seconds()` when its processes can be read): gunicorn by default;
    the tests serve it in a thread on their own database.
    """
    from django.conf import settings
    from django.test import override_settings

    calls = selected_calls()
    if calls != CALLS:
        ctx.add(
            "call set",
            ", ".join(calls),
            note=f"narrowed by {CALLS_ENV}; left out: "
            + ", ".join(c for c in CALLS if c not in calls),
        )
    python = pdmcp_python(ctx)
    if python is None:
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    oauth = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": base}
    with override_settings(PORTAL_BASE_URL=base, OAUTH2_PROVIDER=oauth):
        _run(ctx, python, calls, port, serve_gateway or serve_gunicorn)


def _run(ctx, python: Path, calls, port: int, serve_gateway) -> None:
    from django.conf import settings

    from bench.agents import flow_token

    sandbox = ctx.sandbox
    pairs = QUICK_PAIRS if ctx.quick else PAIRS
    tenant = connect_tenant(sandbox, slug="mcp", name="MCP Corp")
    _as_its_person(tenant)
    agent = flow_token(user=tenant.user, tenant=tenant.tenant)
    api_key = sandbox.control(
        "POST", "api_keys", {"kind": "user", "user_email": SANDBOX_USER}
    )["api_key"]["key"]
    plan = Plan.build(sandbox, api_key, acknowledgements=2 * pairs + 2)
    ctx.add(
        "setup",
        f"pagerduty-mcp {_pdmcp_version(python)} (Streamable HTTP, user API key) "
        "and the gateway (gunicorn, 2 uvicorn workers, consent-flow token) "
        "on one sandbox as the same PagerDuty user",
        note=f"policy {settings.MCP_GOVERNANCE_POLICY.rsplit('.', 1)[-1]} and "
        "the audit on every call; gateway read cache off for the pairs; "
        f"{pairs} pairs per call; sandbox latency {ctx.latency_ms} ms",
    )
    with (
        serve_pdmcp(python, sandbox.url, api_key) as pd_server,
        serve_gateway(port, cache_seconds=0) as gateway_server,
    ):
        pd = McpSession(pd_server.url).open()
        gateway = McpSession(f"{gateway_server.url}/mcp", token=agent.access).open()
        cpu = {"pd": _cpu_reader(pd_server), "gateway": _cpu_reader(gateway_server)}
        try:
            offered = _parity(ctx, pd, gateway, calls, plan)
            _pairs(ctx, pd, gateway, offered, plan, tenant, pairs, cpu)
        finally:
            pd.close()
            gateway.close()
    reads = [call for call in calls if call in READ_TOOLS and call in offered]
    if not reads:
        ctx.add("load", None, met=False, note="no read tool to load the gateway with")
        return
    tokens = _agents(ctx, agent)
    with serve_gateway(port, cache_seconds=None) as gateway_server:
        _load(ctx, gateway_server, tokens, reads, plan)


# --- PagerDuty's server ---


def pdmcp_python(ctx) -> Path | None:
    """The pagerduty-mcp venv's interpreter: found, else installed, else None.

    None adds a figure saying why; under PORTAL_REQUIRE_ALL=1 (CI) a
    missing server fails the section instead.
    """
    from pagerduty_sandbox import pdmcp

    python = pdmcp.pdmcp_python()
    reason = ""
    if python is None:
        found = subprocess.run(  # noqa: S603 - our own script
            [str(FIND_PYTHON)], capture_output=True, text=True, check=False
        )
        interpreter = found.stdout.strip()
        if found.returncode != 0 or not interpreter:
            reason = found.stderr.strip() or "no Python 3.12 or newer found"
        else:
            print(f"Installing pagerduty-mcp with {interpreter}", flush=True)
            installed = subprocess.run(  # noqa: S603 - fixed make target
                ["make", "pdmcp-install", f"PDMCP_PYTHON={interpreter}"],  # noqa: S607
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            python = pdmcp.pdmcp_python()
            if installed.returncode != 0 or python is None:
                reason = "make pdmcp-install failed: " + installed.stderr[-500:]
    if python is not None:
        return python
    if os.environ.get("PORTAL_REQUIRE_ALL") == "1":
        raise RuntimeError(f"PagerDuty's MCP server is required here: {reason}")
    print(f"   skipped: {reason}", flush=True)
    ctx.add("PagerDuty's MCP server", None, note=f"skipped: {reason}")
    return None


def _pdmcp_version(python: Path) -> str:
    answer = subprocess.run(  # noqa: S603 - fixed arguments
        [
            str(python),
            "-c",
            "from importlib import metadata; print(metadata.version('pagerduty-mcp'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return answer.stdout.strip() or "(unknown version)"


@dataclass(frozen=True)
class Served:
    url: str
    pid: int

    def cpu_seconds(self) -> float | None:
        """CPU time the process has used (Linux /proc; else None)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1]
        except OSError:
            return None
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def _cpu_reader(server) -> Callable[[], float | None]:
    return getattr(server, "cpu_seconds", lambda: None)


@contextmanager
def serve_pdmcp(python: Path, api_host: str, api_key: str):
    """pagerduty-mcp on a loopback port; yields its /mcp URL and process."""
    port = free_port()
    # The portal's settings and sandbox URLs are not the package's business.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PAGERDUTY_", "DJANGO_"))
    }
    env.update(PAGERDUTY_USER_API_KEY=api_key, PAGERDUTY_API_HOST=api_host)
    log_path = ROOT / "var" / "bench-pdmcp.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own script
            [str(python), str(PROBE), "serve", "--port", str(port)],
            # The package reads a .env from its working directory.
            cwd=PROBE.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/", timeout=60, process=process)
        yield Served(f"http://127.0.0.1:{port}/mcp", process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@contextmanager
def serve_gunicorn(port: int, *, cache_seconds: int | None):
    """The portal as production serves it: gunicorn, 2 uvicorn workers."""
    from bench.server import Gunicorn

    env = {"PORTAL_BASE_URL": f"http://127.0.0.1:{port}"}
    if cache_seconds is not None:
        env["PAGERDUTY_CACHE_SECONDS"] = str(cache_seconds)
    with Gunicorn(
        app="bench.asgi:application",
        worker_class="uvicorn_worker.UvicornWorker",
        env=env,
        port=port,
        log_path=ROOT / "var" / "bench-gunicorn-mcp.log",
    ) as server:
        yield server


# --- What the calls are about ---


class Plan:
    """Each call's arguments, from the sandbox's data, the same for both."""

    def __init__(
        self,
        incidents: dict,
        incident_id: str,
        to_acknowledge: list[str],
        services_query: str,
    ):
        self.incidents = incidents
        self.incident_id = incident_id
        self.to_acknowledge = to_acknowledge
        self.services_query = services_query
        # call -> the paths of the GETs one gateway call sent, in order.
        self.recorded: dict[str, list[str]] = {}

    @classmethod
    def build(cls, sandbox, api_key: str, *, acknowledgements: int) -> "Plan":
        """A list_incidents query matching 1..PARITY_INCIDENTS triggered
        incidents, one of them to get, other triggered ones to acknowledge,
        and a services query matching 1..PARITY_SERVICES services."""
        headers = {"Authorization": f"Token token={api_key}"}
        until = datetime.now(UTC).replace(microsecond=0)
        span = timedelta(days=30)
        while span >= timedelta(minutes=30):
            query = {
                "request_scope": "all",
                "statuses": ["triggered"],
                "since": (until - span).isoformat(),
                "until": until.isoformat(),
                "limit": 100,
            }
            found = _get(
                sandbox.url,
                "/incidents",
                headers,
                {
                    "statuses[]": query["statuses"],
                    "since": query["since"],
                    "until": query["until"],
                    "limit": PARITY_INCIDENTS,
                    "total": "true",
                },
            )
            if 0 < found["total"] <= PARITY_INCIDENTS:
                break
            span /= 2
        else:
            raise RuntimeError("no window holds 1 to 50 triggered incidents")
        chosen = {item["id"] for item in found["incidents"]}
        others, offset = [], 0
        while len(others) < acknowledgements:
            page = _get(
                sandbox.url,
                "/incidents",
                headers,
                {"statuses[]": ["triggered"], "limit": 100, "offset": offset},
            )
            others += [i["id"] for i in page["incidents"] if i["id"] not in chosen]
            if not page["more"]:
                break
            offset += 100
        if len(others) < acknowledgements:
            raise RuntimeError(f"{acknowledgements} triggered incidents needed")
        return cls(
            query,
            found["incidents"][0]["id"],
            others[:acknowledgements],
            _services_query(sandbox.url, headers),
        )

    def arguments(self, call: str, index: int = 0) -> dict:
        if call == "list_incidents":
            return dict(self.incidents)
        if call == "get_incident":
            return {"incident_id": self.incident_id}
        if call == "list_services":
            # pagerduty-mcp takes `limit` as its page size and returns every
            # match, so the query must match few enough for both to list all.
            return {"query": self.services_query}
        if call == "list_oncalls":
            return {"limit": 50}
        if call == "manage_incidents":
            return {
                "manage_request": {
                    "incident_ids": [self.to_acknowledge[index]],
                    "status": "acknowledged",
                }
            }
        return {}

    def direct(self, call: str) -> list[tuple[str, dict | None]] | None:
        """The PagerDuty GETs the gateway sent for a read, in its order.

        The paths are the sandbox's record of one gateway call
        (`_upstream_per_call`); the queries are the gateway's where its
        selectors are known here (list_incidents, get_incident), else
        PagerDuty's defaults.
        """
        if call not in READ_TOOLS or not self.recorded.get(call):
            return None
        return [(path, self._query(path)) for path in self.recorded[call]]

    def _query(self, path: str) -> dict | None:
        incident = f"/incidents/{self.incident_id}"
        if path == "/incidents":
            query = self.incidents
            return {
                "sort_by": "created_at:desc",
                "statuses[]": query["statuses"],
                "since": query["since"],
                "until": query["until"],
                "offset": 0,
                "limit": query["limit"],
                "total": "true",
            }
        if path == incident:
            return {"include[]": INCIDENT_INCLUDES}
        if path == f"{incident}/log_entries":
            return {"is_overview": "false", "offset": 0, "limit": 100}
        if path == "/services":
            return {"query": self.services_query}
        return None


def _services_query(base: str, headers: dict) -> str:
    """The first word of a service name that matches 1..PARITY_SERVICES."""
    names = [
        s["name"] for s in _get(base, "/services", headers, {"limit": 25})["services"]
    ]
    for word in dict.fromkeys(name.split()[0] for name in names if name.split()):
        total = _get(
            base, "/services", headers, {"query": word, "limit": 1, "total": "true"}
        )["total"]
        if 0 < total <= PARITY_SERVICES:
            return word
    raise RuntimeError("no service name word matches 1 to 20 services")


def _get(base: str, path: str, headers: dict, params=None) -> dict:
    response = requests.get(f"{base}{path}", headers=headers, params=params, timeout=60)
    response.raise_for_status()
    return response.json()


def _as_its_person(tenant) -> None:
    """Make the portal user the person the tenant connection acts as
    (its own PagerDuty link), with that user's PagerDuty role."""
    connection = tenant.connection
    me = _get(
        connection.api_url,
        "/users/me",
        {"Authorization": f"Bearer {connection.access_token}"},
    )["user"]
    connection.user = tenant.user
    connection.pd_user_role = me["role"]
    connection.save(update_fields=["user", "pd_user_role"])


# --- Parity ---


def _parity(ctx, pd: McpSession, gateway: McpSession, calls, plan: Plan) -> list:
    """Compare what both answer; return the calls the gateway offers."""
    pd_tools = {tool["name"]: tool for tool in pd.list_tools()}
    gateway_tools = {tool["name"]: tool for tool in gateway.list_tools()}
    offered = []
    for call in calls:
        if call == "tools/list":
            offered.append(call)
            _schema_parity(ctx, pd_tools, gateway_tools)
            continue
        if call not in gateway_tools:
            ctx.add(
                f"{call}: offered by the gateway",
                "no",
                met=False,
                note="the gateway's tools/list does not have it: no figures for it",
            )
            continue
        offered.append(call)
        if call not in READ_TOOLS:
            continue
        arguments = plan.arguments(call)
        ours = entity_ids(gateway.call_tool(call, arguments))
        theirs = entity_ids(pd.call_tool(call, arguments))
        same = sorted(ours) == sorted(theirs)
        note = f"{len(theirs)} from PagerDuty's server, {len(ours)} from the gateway"
        if same and ours != theirs:
            note += "; same ids in another order"
        if not same:
            missing = sorted(set(theirs) - set(ours))[:5]
            extra = sorted(set(ours) - set(theirs))[:5]
            note += f"; only theirs: {missing}; only ours: {extra}"
        ctx.add(
            f"{call}: same entity ids",
            len(theirs),
            unit="ids",
            target="same ids",
            met=same and bool(theirs),
            note=f"{note}; arguments {json.dumps(arguments)}",
        )
    return offered


def schema_differences(pd_tools: dict, gateway_tools: dict) -> list[str]:
    """Every difference in input schema among the tools both offer, named by
    the path of each differing value (SCHEMA_REASONS keys: tool and path)."""
    differences = []
    for name in sorted(set(pd_tools) & set(gateway_tools)):
        theirs = pd_tools[name].get("inputSchema")
        ours = gateway_tools[name].get("inputSchema")
        for path, mine, their in _leaf_differences(ours, theirs, "inputSchema"):
            reason = SCHEMA_REASONS.get((name, path))
            differences.append(
                f"{name}: {path} is {json.dumps(mine)[:80]}, theirs "
                f"{json.dumps(their)[:80]}"
                + (f" ({reason})" if reason else " (no reason given)")
            )
    return differences


_MISSING = "(absent)"


def _leaf_differences(ours, theirs, path: str) -> list[tuple[str, object, object]]:
    if ours == theirs:
        return []
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key in sorted(set(ours) | set(theirs)):
            found += _leaf_differences(
                ours.get(key, _MISSING), theirs.get(key, _MISSING), f"{path}.{key}"
            )
        return found
    return [(path, ours, theirs)]


def _schema_parity(ctx, pd_tools: dict, gateway_tools: dict) -> None:
    shared = sorted(set(pd_tools) & set(gateway_tools))
    differences = schema_differences(pd_tools, gateway_tools)
    unexplained = [d for d in differences if d.endswith("(no reason given)")]
    ctx.add(
        "tools/list: shared tools",
        len(shared),
        note=f"PagerDuty's server lists {len(pd_tools)} (write tools on), the "
        f"gateway {len(gateway_tools)} for this person; gateway-only: "
        + (", ".join(sorted(set(gateway_tools) - set(pd_tools))) or "none"),
    )
    ctx.add(
        "tools/list: schema differences (shared tools)",
        len(differences),
        target="0, or each with its reason",
        met=not unexplained and bool(shared),
        note="; ".join(differences) or "names and input schemas identical",
    )


# --- Pairs ---


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _pairs(ctx, pd, gateway, calls, plan: Plan, tenant, pairs: int, cpu) -> None:
    from integrations.gateway.models import ToolCall

    sandbox = ctx.sandbox
    bearer = {"Authorization": f"Bearer {tenant.connection.access_token}"}
    upstream = _upstream_per_call(sandbox, pd, gateway, calls, plan)
    audited_before = ToolCall.objects.filter(tenant=tenant.tenant).count()
    gateway_tool_calls = 0
    samples = {call: {"pd": [], "gateway": [], "direct": []} for call in calls}
    cpu_used = {call: {"pd": [], "gateway": []} for call in calls}
    for index in range(pairs):
        for call in calls:
            sides = [
                ("pd", lambda c=call, i=index: pd.call(c, plan.arguments(c, 2 * i))),
                (
                    "gateway",
                    lambda c=call, i=index: gateway.call(
                        c, plan.arguments(c, 2 * i + 1)
                    ),
                ),
            ]
            if index % 2:
                sides.reverse()
            for side, fn in sides:
                before = cpu[side]()
                samples[call][side].append(_timed(fn))
                after = cpu[side]()
                if before is not None and after is not None:
                    cpu_used[call][side].append(after - before)
            gateway_tool_calls += call != "tools/list"
            direct = plan.direct(call)
            if direct:
                samples[call]["direct"].append(
                    _timed(lambda d=direct: _send_direct(sandbox.url, bearer, d))
                )
    for call in calls:
        _report_pairs(
            ctx, call, samples[call], upstream.get(call), len(plan.direct(call) or ())
        )
        _report_cpu(ctx, call, cpu_used[call])
    audited = ToolCall.objects.filter(tenant=tenant.tenant).count() - audited_before
    ctx.add(
        "pairs: audit rows = gateway tool calls",
        audited,
        target=f"{gateway_tool_calls}",
        met=audited == gateway_tool_calls,
        note="one ToolCall row per tools/call (tools/list is not audited)",
    )


def _report_cpu(ctx, call: str, used: dict) -> None:
    """Server CPU per call: what a busy shared machine does not blur."""
    for side, label in (("pd", "PagerDuty's server"), ("gateway", "gateway")):
        if used[side]:
            ctx.add(
                f"{call}: CPU per call, {label}",
                sum(used[side]) / len(used[side]) * 1000,
                unit="ms",
                note=f"mean over {len(used[side])} calls of the server's "
                "processes' CPU time (/proc, 10 ms ticks)"
                if side == "pd"
                else "both gunicorn workers",
            )


def _send_direct(base: str, headers: dict, requests_list) -> None:
    for path, params in requests_list:
        _get(base, path, headers, params)


def _upstream_per_call(sandbox, pd, gateway, calls, plan: Plan) -> dict:
    """Each server's PagerDuty requests for one call of each (untimed, warm);
    records the gateway's GETs for the direct baseline."""
    counts = {}
    for call in calls:
        pair = []
        for session, index in ((pd, 0), (gateway, 1)):
            sandbox.clear_log()
            session.call(call, plan.arguments(call, index))
            pair.append(
                [
                    (entry["method"], entry["path"])
                    for entry in sandbox.requests_log()
                    if not entry["path"].startswith("/_sandbox/")
                ]
            )
        plan.recorded[call] = [path for method, path in pair[1] if method == "GET"]
        counts[call] = (len(pair[0]), len(pair[1]))
    # Warm-up spent the first two acknowledgements; the pairs use the rest.
    plan.to_acknowledge = plan.to_acknowledge[2:]
    return counts


def _report_pairs(ctx, call: str, samples: dict, upstream, direct_requests) -> None:
    pd, ours, direct = samples["pd"], samples["gateway"], samples["direct"]
    ratio = Stats.of(a / b for a, b in zip(ours, pd, strict=True))
    is_read = call != "manage_incidents"
    where = (
        f"PagerDuty requests per call: theirs {upstream[0]}, ours {upstream[1]}"
        if upstream
        else ""
    )
    ctx.add(
        f"{call}: gateway ÷ PagerDuty's server",
        ratio,
        target=f"≤ {RATIO_TARGET}" if is_read else "",
        met=ratio.median <= RATIO_TARGET if is_read else None,
        note="; ".join(
            filter(
                None, ["median of per-pair ratios, alternating who goes first", where]
            )
        ),
    )
    for label, values in (("PagerDuty's server", pd), ("gateway", ours)):
        ctx.add(f"{call}: {label}", Stats.of(values).scaled(1000), unit="ms")
        ctx.add(f"{call}: {label} p95", percentile(values, 95) * 1000, unit="ms")
    if direct:
        overhead = Stats.of(a - b for a, b in zip(ours, direct, strict=True)).scaled(
            1000
        )
        ctx.add(
            f"{call}: gateway overhead over the same direct PagerDuty GET",
            overhead,
            unit="ms",
            target=f"≤ {OVERHEAD_TARGET_MS:g} ms",
            met=overhead.median <= OVERHEAD_TARGET_MS,
            note=f"per-pair gateway − direct; direct median "
            f"{Stats.of(direct).median * 1000:.1f} ms for the same "
            f"{direct_requests} GET(s) with the tenant connection's token, "
            "one after the other as the gateway sent them",
        )


# --- Load ---


def _agents(ctx, flow) -> list:
    """AGENTS tokens of distinct people across TENANTS tenants, minted."""
    from django.contrib.auth import get_user_model

    from bench.agents import mint_token, verifier_view
    from integrations.models import Membership

    agents, tenants = (QUICK_AGENTS, QUICK_TENANTS) if ctx.quick else (AGENTS, TENANTS)
    users = get_user_model().objects
    tokens = []
    for number in range(tenants):
        tenant = connect_tenant(
            ctx.sandbox, slug=f"mcp-load-{number}", name=f"MCP Load {number}"
        )
        for person in range(agents // tenants):
            user = (
                tenant.user
                if person == 0
                else users.get_or_create(username=f"mcp-load-{number}-{person}")[0]
            )
            Membership.objects.get_or_create(
                tenant=tenant.tenant,
                user=user,
                defaults={"role": Membership.Role.MEMBER},
            )
            tokens.append(
                mint_token(
                    like=flow,
                    user=user,
                    tenant=tenant.tenant,
                    name=f"bench agent {number}-{person}",
                )
            )
    expected = verifier_view(flow)
    alike = sum(verifier_view(token) == expected for token in tokens)
    ctx.add(
        "load: minted tokens the verifier reads like a consent-flow token",
        alike,
        target=f"{len(tokens)}",
        met=expected is not None and alike == len(tokens),
        note=f"{len(tokens)} tokens of {len(tokens)} people in {tenants} tenants; "
        f"compared: {sorted(expected or {})}",
    )
    return tokens


def _load(ctx, server, tokens: list, reads: list, plan: Plan) -> None:
    from integrations.gateway.models import ToolCall

    sandbox = ctx.sandbox
    url = f"{server.url}/mcp"
    cpu = _cpu_reader(server)
    seconds = QUICK_LOAD_SECONDS if ctx.quick else LOAD_SECONDS
    tenant_ids = {token.tenant_id for token in tokens}
    audited_before = ToolCall.objects.filter(tenant_id__in=tenant_ids).count()
    sessions = [McpSession(url, token=token.access).open() for token in tokens]
    # One untimed call each: imports, connections and cold caches.
    for session in sessions:
        session.call_tool(reads[0], plan.arguments(reads[0]))
    audited_before += len(sessions)
    sandbox.clear_log()
    cpu_before = cpu()
    start = threading.Barrier(len(sessions) + 1)
    results: list[list[tuple[float, str]]] = [[] for _ in sessions]

    def agent(index: int) -> None:
        session, mine = sessions[index], results[index]
        start.wait()
        deadline = time.monotonic() + seconds
        turn = index
        while time.monotonic() < deadline:
            call = reads[turn % len(reads)]
            turn += 1
            began = time.perf_counter()
            try:
                session.call_tool(call, plan.arguments(call))
                outcome = ""
            except (McpError, requests.RequestException) as exc:
                outcome = f"{type(exc).__name__}: {str(exc)[:120]}"
            mine.append((time.perf_counter() - began, outcome))

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        futures = [pool.submit(agent, index) for index in range(len(sessions))]
        start.wait()
        began = time.monotonic()
        for future in futures:
            future.result()
        elapsed = time.monotonic() - began
    cpu_after = cpu()
    for session in sessions:
        session.close()
    log = sandbox.requests_log()
    answers = [entry for mine in results for entry in mine]
    errors = [outcome for _, outcome in answers if outcome]
    throttled = sum(
        1
        for entry in log
        if entry["status"] == 429 and not entry["path"].startswith("/_sandbox/")
    )
    audited = ToolCall.objects.filter(tenant_id__in=tenant_ids).count() - audited_before
    how = (
        f"{len(tokens)} agents (distinct tokens and people) in {len(tenant_ids)} "
        f"tenants, {', '.join(reads)} in turn for {seconds:g} s, gunicorn 2 "
        "uvicorn workers, production read cache"
    )
    ctx.add("load: calls per second", len(answers) / elapsed, unit="calls/s", note=how)
    ctx.add(
        "load: p95 latency",
        percentile([s for s, _ in answers], 95) * 1000,
        unit="ms",
        note=f"median {percentile([s for s, _ in answers], 50) * 1000:.1f} ms",
    )
    if cpu_before is not None and cpu_after is not None:
        ctx.add(
            "load: worker CPU per call",
            (cpu_after - cpu_before) / max(len(answers), 1) * 1000,
            unit="ms",
            note="both gunicorn workers' CPU time ÷ calls answered",
        )
    ctx.add(
        "load: errors",
        len(errors),
        target="0",
        met=not errors,
        note="; ".join(sorted(set(errors))[:3]),
    )
    ctx.add(
        "load: PagerDuty 429s",
        throttled,
        target="0",
        met=throttled == 0,
        note=f"{count_upstream(log)} PagerDuty requests during the load",
    )
    ctx.add(
        "load: audit rows = calls",
        audited,
        target=f"{len(answers)}",
        met=audited == len(answers),
    )
