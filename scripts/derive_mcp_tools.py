"""Derive integrations/pagerduty/pagerduty_mcp_tools.json from pagerduty-mcp.

The portal's MCP gateway offers the same tools as PagerDuty's official MCP
server wherever their PagerDuty calls fall within the portal's 15 scopes.
This script pins what that server is, from the installed package itself:

    make pdmcp-install      # Python 3.12 venv with pagerduty-mcp in .venv-pdmcp/
    .venv/bin/python scripts/derive_mcp_tools.py [--pdmcp-python PATH] [--check]

It runs with the portal's venv and drives the package's venv through
`scripts/pdmcp_probe.py` (`--pdmcp-python`, else `PDMCP_PYTHON`, else
`.venv-pdmcp/bin/python`). For every tool of `read_tools` + `write_tools`
it records what the package's FastMCP server publishes in `tools/list`
(write tools enabled: name, description, inputSchema, outputSchema,
annotations), whether it reads or writes, and the PagerDuty operations it
calls. Those come from reading the source (every client call of the tool
and of the package functions it calls, matched to an OpenAPI path
template), checked by running every tool against a sandbox and matching
its request log: an observed operation the reading missed fails the run.
Each operation gets its `x-pd-requires-scope` from openapi_scopes.json; a
tool is `in_scope` when every operation it needs has one of the 15 scopes.
What had to be decided by hand is listed in the file with its reason.

`--check` exits 1 when the committed file differs from a fresh derivation.
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from integrations.pagerduty.scopes import ALL_SCOPES  # noqa: E402
from pagerduty_sandbox import pdmcp  # noqa: E402
from pagerduty_sandbox.scopes import spec_data  # noqa: E402

OUTPUT = pdmcp.INVENTORY
REQUIREMENTS = ROOT / "bench" / "pdmcp-requirements.txt"
DISTRIBUTION = "pagerduty-mcp"
WHEEL_PACKAGE = "pagerduty_mcp/"

# Operations the OpenAPI file lists without a scope that a Scoped OAuth
# token may still call.
USABLE_UNSCOPED = {
    "GET /users/me": (
        "The OAS lists no scope, and its description (getCurrentUser) says it "
        "works 'with a user-level API key or a key generated through an OAuth "
        "flow'; the portal calls it after every sign-in."
    ),
}
# Calls a tool makes only as a fallback and survives failing, so they do
# not decide whether the tool is in scope.
FALLBACKS = {
    ("list_schedules", "GET /v3/schedules"): (
        "Shift-based (v3) schedules: the tool catches the failure, returns the "
        "layer-based (v2) schedules and marks the v3 source as an error."
    ),
    ("list_schedules", "GET /v3/schedules/{id}"): (
        "Name look-ups for the v3 list's references, each failure caught."
    ),
    ("get_schedule", "GET /v3/schedules/{id}"): (
        "Called only when GET /schedules/{id} answers the 400 that names the "
        "v3 API (a shift-based schedule), or when the caller passes "
        "kind=shift_based."
    ),
}
# Operations stated by hand for calls the reading cannot resolve
# ({tool: [(operation, reason)]}); pagerduty-mcp 1.1.0 needs none.
MANUAL_OPERATIONS: dict[str, list[tuple[str, str]]] = {}
RULE = (
    "A tool is in_scope when every operation it needs (fallbacks aside) has "
    "an x-pd-requires-scope among portal_scopes, or is listed in "
    "stated_by_hand as usable without one. Operations the OpenAPI file "
    "lists without a scope (scope null), such as the /v3/schedules family, "
    "are not known to be callable with a Scoped OAuth token."
)


class DerivationError(RuntimeError):
    """The package, the spec and the sandbox disagree; the message says how."""


# --- Operations ---


def _operations() -> dict[str, str | None]:
    return pdmcp.spec_operations()


def match_operation(method: str, path: str, operations, *, pattern: bool) -> str:
    """Return the OpenAPI operation of a call or request (pdmcp.match_operation)."""
    try:
        return pdmcp.match_operation(method, path, operations, pattern=pattern)
    except ValueError as exc:
        raise DerivationError(str(exc)) from None


# --- The package ---


def _wheel(python: Path, version: str, record: str) -> tuple[str, str]:
    """Return (file name, SHA-256) of the wheel the installed package came from.

    `make pdmcp-install` keeps the wheels it installed in `<venv>/wheels`;
    otherwise pip downloads (or takes from its cache) the same version. The
    wheel's RECORD must match the installed one, so the hash is the code's.
    """
    venv = python.parent.parent
    kept = sorted((venv / "wheels").glob(f"pagerduty_mcp-{version}-*.whl"))
    with tempfile.TemporaryDirectory() as scratch:
        if kept:
            wheel = kept[0]
        else:
            subprocess.run(  # noqa: S603 - fixed arguments
                [
                    str(python),
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    scratch,
                    f"{DISTRIBUTION}=={version}",
                ],
                check=True,
                capture_output=True,
            )
            wheel = next(Path(scratch).glob("*.whl"))
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        with zipfile.ZipFile(wheel) as archive:
            name = next(
                n for n in archive.namelist() if n.endswith(".dist-info/RECORD")
            )
            packed = archive.read(name).decode()
    if _package_records(packed) != _package_records(record):
        raise DerivationError(
            f"the installed {DISTRIBUTION} {version} differs from {wheel.name}"
        )
    if REQUIREMENTS.is_file() and f"sha256:{digest}" not in REQUIREMENTS.read_text():
        raise DerivationError(f"{wheel.name} ({digest}) is not in {REQUIREMENTS}")
    return wheel.name, digest


def _package_records(record: str) -> list[str]:
    return sorted(
        line
        for line in record.splitlines()
        if line.startswith(WHEEL_PACKAGE) and not line.split(",")[0].endswith(".pyc")
    )


# --- Derivation ---


def _tool_operations(tool: dict, operations) -> list[dict]:
    name = tool["name"]
    found: dict[str, dict] = {}
    for call in tool["calls"]:
        if "unresolved" in call:
            if name not in MANUAL_OPERATIONS:
                raise DerivationError(
                    f"{name}: cannot read the path of {call['unresolved']} at "
                    f"{call['where']}; state it in MANUAL_OPERATIONS"
                )
            continue
        operation = match_operation(
            call["method"], call["path"], operations, pattern=True
        )
        found.setdefault(operation, {"where": []})["where"].append(call["where"])
    for operation, _ in MANUAL_OPERATIONS.get(name, []):
        if operation not in operations:
            raise DerivationError(f"{name}: {operation} is not in the OpenAPI file")
        found.setdefault(operation, {"where": ["stated by hand"]})
    return [
        {
            "operation": operation,
            "scope": operations[operation],
            "fallback": (name, operation) in FALLBACKS,
            "where": sorted(set(entry["where"])),
        }
        for operation, entry in sorted(found.items())
    ]


def _in_scope(needed: list[dict]) -> bool:
    allowed = set(ALL_SCOPES)
    return all(
        op["scope"] in allowed if op["scope"] else op["operation"] in USABLE_UNSCOPED
        for op in needed
    )


def build(raw: dict, wheel: tuple[str, str]) -> dict:
    """Return the inventory for the probe's `inventory` answer."""
    operations = _operations()
    used_fallbacks = set()
    tools = []
    for tool in raw["tools"]:
        listed = tool["listed"]
        ops = _tool_operations(tool, operations)
        used_fallbacks |= {(tool["name"], o["operation"]) for o in ops if o["fallback"]}
        needed = [o for o in ops if not o["fallback"]]
        tools.append(
            {
                **listed,
                "kind": tool["kind"],
                "operations": ops,
                "scopes": sorted({o["scope"] for o in needed if o["scope"]}),
                "uses_context_user": tool["uses_context_user"],
                "in_scope": _in_scope(needed),
            }
        )
    stale = set(FALLBACKS) - used_fallbacks
    if stale:
        raise DerivationError(f"FALLBACKS names calls the package lacks: {stale}")
    context = [
        {
            "operation": match_operation(
                c["method"], c["path"], operations, pattern=True
            ),
            "where": c["where"],
        }
        for c in raw["context_calls"]
    ]
    hand = [
        {"operation": op, "fact": "usable without a scope", "reason": reason}
        for op, reason in USABLE_UNSCOPED.items()
    ]
    hand += [
        {"tool": tool, "operation": op, "fact": "fallback", "reason": reason}
        for (tool, op), reason in sorted(FALLBACKS.items())
    ]
    hand += [
        {"tool": tool, "operation": op, "fact": "operation", "reason": reason}
        for tool, entries in sorted(MANUAL_OPERATIONS.items())
        for op, reason in entries
    ]
    return {
        "package": {
            "name": raw["distribution"],
            "version": raw["version"],
            "wheel": wheel[0],
            "wheel_sha256": wheel[1],
        },
        "openapi": spec_data()["source"],
        "portal_scopes": list(ALL_SCOPES),
        "rule": RULE,
        "stated_by_hand": hand,
        "context_operations": context,
        "counts": {
            "tools": len(tools),
            "read": sum(t["kind"] == "read" for t in tools),
            "write": sum(t["kind"] == "write" for t in tools),
            "in_scope": sum(t["in_scope"] for t in tools),
        },
        "tools": tools,
    }


# --- The run against the sandbox ---


def observe(python: Path, data: dict) -> dict:
    """Call every tool against a fresh sandbox; check the log against `data`.

    In-scope tools get plausible arguments (pdmcp.tool_calls), the others a
    minimal instance of their input schema. Raise DerivationError when a
    tool made a request its operations do not list; return a summary.
    """
    from pagerduty_sandbox.runner import RunningSandbox

    operations = _operations()
    by_name = {t["name"]: t for t in data["tools"]}
    sandbox = RunningSandbox().start()
    try:
        with sandbox.state.lock:
            calls = pdmcp.tool_calls(sandbox.state)
        planned = {c["tool"] for c in calls}
        calls += [
            {"tool": name, "arguments": pdmcp.example_arguments(t["inputSchema"])}
            for name, t in by_name.items()
            if name not in planned
        ]
        results = pdmcp.run_probe(
            python,
            "run",
            {
                "api_host": sandbox.url,
                "api_key": sandbox.issue_api_key("alice@acme.example"),
                "control_url": sandbox.url,
                "calls": calls,
            },
        )
    finally:
        sandbox.stop()
    seen: dict[str, set[str]] = {name: set() for name in by_name}
    for result in results:
        for method, path, _status in result["requests"]:
            if path.startswith("/_sandbox/"):
                continue  # the probe's own reads and resets of the log
            seen[result["tool"]].add(
                match_operation(method, path, operations, pattern=False)
            )
    problems = [
        f"{name} called {sorted(extra)}, which the source reading missed"
        for name, observed in seen.items()
        if (extra := observed - {o["operation"] for o in by_name[name]["operations"]})
    ]
    if problems:
        raise DerivationError("\n".join(problems))
    return {
        "calls": len(results),
        "tools_exercised": sum(bool(ops) for ops in seen.values()),
        "unexercised": sorted(name for name, ops in seen.items() if not ops),
        "results": results,
    }


def derive(python: Path) -> tuple[dict, dict]:
    """Return (inventory, run summary) from the package in `python`'s venv."""
    raw = pdmcp.run_probe(python, "inventory")
    data = build(raw, _wheel(python, raw["version"], raw["record"]))
    return data, observe(python, data)


def render(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdmcp-python", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    python = args.pdmcp_python or pdmcp.pdmcp_python()
    if python is None or not python.is_file():
        print(
            "No pagerduty-mcp venv: run `make pdmcp-install` or pass --pdmcp-python",
            file=sys.stderr,
        )
        return 2
    try:
        data, summary = derive(python)
    except (DerivationError, pdmcp.ProbeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    text = render(data)
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date; run without --check", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    counts = data["counts"]
    print(
        f"Wrote {counts['tools']} tools ({counts['in_scope']} in scope) to {OUTPUT}; "
        f"{summary['tools_exercised']} of them made requests to the sandbox"
    )
    if summary["unexercised"]:
        print(f"Made no request: {', '.join(summary['unexercised'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
