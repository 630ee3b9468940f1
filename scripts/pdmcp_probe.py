"""Look inside PagerDuty's own MCP server; run by its Python 3.12 venv.

`scripts/derive_mcp_tools.py` and the tests start this file with the
interpreter of a venv holding `pagerduty-mcp` (see `make pdmcp-install`);
it never runs in the portal's venv and imports nothing from the portal.

    <venv>/bin/python scripts/pdmcp_probe.py inventory
        Print, as JSON, what the package's FastMCP server publishes in
        `tools/list` (write tools enabled) and, for every tool, the client
        calls found by reading its source (and the package functions it
        calls): method, path pattern ("{}" for each interpolated part),
        where. Calls whose path cannot be read are listed as unresolved.

    <venv>/bin/python scripts/pdmcp_probe.py run < plan.json
        Call tools through the package's own code path: its FastMCP server
        validates the arguments, its ContextResolver builds its client from
        PAGERDUTY_USER_API_KEY and PAGERDUTY_API_HOST. The plan is
        {"api_host", "api_key", "control_url", "calls": [{"tool",
        "arguments"}]}; before each call the sandbox's request log is
        cleared and after it read, so each result lists the requests that
        call made: {"tool", "ok", "error", "requests": [[method, path,
        status]], "output"}, the output being the tool's answer as text.

    <venv>/bin/python scripts/pdmcp_probe.py serve --port N
        Serve the package's server over Streamable HTTP on 127.0.0.1:N/mcp,
        as `pagerduty-mcp --enable-write-tools` builds it (its own `run`
        command only speaks stdio), with the client it builds from
        PAGERDUTY_USER_API_KEY and PAGERDUTY_API_HOST (the benchmark).
"""

import ast
import asyncio
import inspect
import json
import os
import sys
import textwrap
from importlib import metadata

DISTRIBUTION = "pagerduty-mcp"
# The SDK's request methods (pagerduty.RestApiV2Client and its
# requests.Session base) and the HTTP method each one sends.
CLIENT_METHODS = {
    "rget": "GET",
    "jget": "GET",
    "get": "GET",
    "iter_all": "GET",
    "iter_cursor": "GET",
    "list_all": "GET",
    "dict_all": "GET",
    "find": "GET",
    "rpost": "POST",
    "jpost": "POST",
    "post": "POST",
    "rput": "PUT",
    "jput": "PUT",
    "put": "PUT",
    "rpatch": "PATCH",
    "jpatch": "PATCH",
    "patch": "PATCH",
    "rdelete": "DELETE",
    "delete": "DELETE",
}
CLIENT_FACTORIES = {"get_client"}
PACKAGE = "pagerduty_mcp"
OUTPUT_LIMIT = 20_000


# --- Static reading ---


def _is_client_factory(node) -> bool:
    """`get_client()` or `ContextResolver.get_client()`."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in CLIENT_FACTORIES
    return isinstance(func, ast.Attribute) and func.attr in CLIENT_FACTORIES


def _path_pattern(node) -> str | None:
    """Return a path with "{}" for interpolations, or None if unreadable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("{}")
        return "".join(parts)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_v3_url"
        and len(node.args) == 2
    ):
        # schedules_v3._v3_url(client, path) prefixes the client's base URL.
        return _path_pattern(node.args[1])
    return None


def _argument(call: ast.Call, position: int, *names: str):
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg in names), None)


class _Reader(ast.NodeVisitor):
    def __init__(self, function):
        self.function = function
        self.calls: list[dict] = []
        self.helpers: list = []
        self.uses_context_user = False
        self.client_names = {
            name for name in inspect.signature(function).parameters if name == "client"
        }

    def visit_Assign(self, node):
        if _is_client_factory(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.client_names.add(target.id)
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        where = f"{self.function.__module__}.{self.function.__qualname__}"
        if isinstance(func, ast.Attribute) and func.attr == "get_user":
            self.uses_context_user = True
        if isinstance(func, ast.Attribute) and func.attr in CLIENT_METHODS:
            receiver = func.value
            if (
                _is_client_factory(receiver)
                or (isinstance(receiver, ast.Name) and receiver.id in self.client_names)
                # MCPContext keeps its client as `self.client`.
                or (isinstance(receiver, ast.Attribute) and receiver.attr == "client")
            ):
                target = _argument(node, 0, "url", "path", "resource")
                self._record(CLIENT_METHODS[func.attr], target, node, where)
        elif isinstance(func, ast.Name) and func.id == "paginate":
            self._record("GET", _argument(node, 99, "entity"), node, where)
        elif isinstance(func, ast.Name):
            helper = self.function.__globals__.get(func.id)
            if (
                inspect.isfunction(helper)
                and helper.__module__.startswith(PACKAGE)
                and func.id not in CLIENT_FACTORIES
            ):
                self.helpers.append(helper)
        self.generic_visit(node)

    def _record(self, method, target, node, where):
        pattern = _path_pattern(target) if target is not None else None
        entry = {"method": method, "where": f"{where}:{node.lineno}"}
        if pattern is None:
            entry["unresolved"] = ast.unparse(target) if target else "(no path)"
        else:
            entry["path"] = "/" + pattern.lstrip("/")
        self.calls.append(entry)


def read_calls(function, seen=None) -> tuple[list[dict], bool]:
    """Return the client calls of `function` and the package code it calls."""
    seen = set() if seen is None else seen
    if function in seen:
        return [], False
    seen.add(function)
    source = textwrap.dedent(inspect.getsource(function))
    reader = _Reader(function)
    reader.visit(ast.parse(source))
    offset = function.__code__.co_firstlineno - 1
    calls = []
    for call in reader.calls:
        name, _, line = call["where"].rpartition(":")
        calls.append({**call, "where": f"{name}:{int(line) + offset}"})
    uses_user = reader.uses_context_user
    for helper in reader.helpers:
        more, helper_uses_user = read_calls(helper, seen)
        calls.extend(more)
        uses_user = uses_user or helper_uses_user
    return calls, uses_user


def inventory() -> dict:
    from pagerduty_mcp import server
    from pagerduty_mcp.context.mcp_context import MCPContext
    from pagerduty_mcp.tools import read_tools, write_tools

    published = asyncio.run(server.mcp.list_tools())
    functions = {f.__name__: (f, "read") for f in read_tools}
    functions.update({f.__name__: (f, "write") for f in write_tools})
    tools = []
    for tool in published:
        function, kind = functions[tool.name]
        calls, uses_user = read_calls(function)
        listed = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
        tools.append(
            {
                "name": tool.name,
                "kind": kind,
                "listed": listed,
                "calls": calls,
                "uses_context_user": uses_user,
            }
        )
    # The context (one per client) fetches the caller's user once; tools
    # that use ContextResolver.get_user() rely on that call.
    context_calls, _ = read_calls(MCPContext._init_user)
    return {
        "distribution": DISTRIBUTION,
        "context_calls": context_calls,
        "version": metadata.version(DISTRIBUTION),
        "python": sys.version.split()[0],
        "record": metadata.distribution(DISTRIBUTION).read_text("RECORD"),
        "tools": tools,
    }


# --- Running tools ---


def run(plan: dict) -> list[dict]:
    import requests

    os.environ["PAGERDUTY_USER_API_KEY"] = plan["api_key"]
    os.environ["PAGERDUTY_API_HOST"] = plan["api_host"]
    from pagerduty_mcp import server
    from pagerduty_mcp.context import ContextResolver
    from pagerduty_mcp.context.application_context_strategy import (
        ApplicationContextStrategy,
    )

    log_url = plan["control_url"].rstrip("/") + "/_sandbox/requests"
    ContextResolver.set_strategy(ApplicationContextStrategy())
    results = []
    for call in plan["calls"]:
        requests.delete(log_url, timeout=10).raise_for_status()
        result = {"tool": call["tool"], "ok": True, "error": None, "output": None}
        try:
            answer = asyncio.run(server.mcp.call_tool(call["tool"], call["arguments"]))
            result["output"] = _output(answer)
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            result.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:2000])
        log = requests.get(log_url, timeout=10).json()["requests"]
        # Leave out the log's own reset (DELETE /_sandbox/requests).
        result["requests"] = [
            [r["method"], r["path"], r["status"]]
            for r in log
            if not r["path"].startswith("/_sandbox/")
        ]
        results.append(result)
    return results


def _output(answer) -> str:
    """Return a tool's answer as text: its structured content, else its text."""
    if isinstance(answer, tuple):
        blocks, structured = answer
        if structured is not None:
            return json.dumps(structured, default=str)[:OUTPUT_LIMIT]
        answer = blocks
    if isinstance(answer, dict):
        return json.dumps(answer, default=str)[:OUTPUT_LIMIT]
    texts = [getattr(block, "text", "") for block in answer]
    return "\n".join(texts)[:OUTPUT_LIMIT]


# --- Serving ---


def serve(port: int) -> None:
    from mcp.server.fastmcp import FastMCP
    from pagerduty_mcp import server
    from pagerduty_mcp.context import ContextResolver
    from pagerduty_mcp.context.application_context_strategy import (
        ApplicationContextStrategy,
    )
    from pagerduty_mcp.tools import read_tools, write_tools

    # The body of pagerduty_mcp.server.run(enable_write_tools=True), with a
    # loopback port: the package's defaults otherwise (stateful sessions,
    # answers as event streams, its DNS-rebinding protection on loopback).
    ContextResolver.set_strategy(ApplicationContextStrategy())
    mcp = FastMCP(
        "PagerDuty MCP Server",
        instructions=server.MCP_SERVER_INSTRUCTIONS,
        host="127.0.0.1",
        port=port,
        log_level="WARNING",
    )
    for tool in read_tools:
        server.add_read_only_tool(mcp, tool)
    for tool in write_tools:
        server.add_write_tool(mcp, tool)
    mcp.run(transport="streamable-http")


def main(argv: list[str]) -> int:
    if argv == ["inventory"]:
        json.dump(inventory(), sys.stdout)
        return 0
    if argv == ["run"]:
        json.dump(run(json.load(sys.stdin)), sys.stdout)
        return 0
    if len(argv) == 3 and argv[:2] == ["serve", "--port"] and argv[2].isdigit():
        serve(int(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
