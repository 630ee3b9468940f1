"""The tool catalogue as people read it: the README's table of every tool.

`manage.py mcp_tools` prints it; a test keeps the README's copy equal to
what the registry declares, so the documentation cannot drift from the code.
"""

from __future__ import annotations

from integrations.gateway.tools.registry import Tool, all_tools


def annotations_label(tool: Tool) -> str:
    if tool.read_only:
        parts = ["read-only"]
    else:
        parts = ["destructive" if tool.destructive else "not destructive"]
    if tool.idempotent:
        parts.append("idempotent")
    return ", ".join(parts)


def tool_table_markdown() -> str:
    """Return the Markdown table of every tool, in the registry's order."""
    lines = [
        "| Tool | PagerDuty scope | Kind | Annotations | Same as pagerduty-mcp 1.1.0 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for tool in all_tools():
        scopes = ", ".join(f"`{scope}`" for scope in sorted(tool.pagerduty_scopes))
        kind = "write" if tool.is_write else "read"
        same = "yes (name and input schema)" if tool.compatible else "own"
        notes = annotations_label(tool)
        lines.append(f"| `{tool.name}` | {scopes} | {kind} | {notes} | {same} |")
    return "\n".join(lines)


def tool_counts() -> dict[str, int]:
    tools = all_tools()
    return {
        "tools": len(tools),
        "compatible": sum(tool.compatible for tool in tools),
        "own": sum(not tool.compatible for tool in tools),
        "write": sum(tool.is_write for tool in tools),
    }
