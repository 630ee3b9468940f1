"""The catalogue: PagerDuty's in-scope tools all offered, the README's table true."""

import json
import re
from pathlib import Path

from integrations.gateway.tools.catalogue import tool_table_markdown
from integrations.gateway.tools.registry import PAGERDUTY_MCP_TOOLS, all_tools

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_in_scope_pagerduty_mcp_tool_is_offered_with_its_name_and_schema():
    pinned = json.loads(PAGERDUTY_MCP_TOOLS.read_text())["tools"]
    in_scope = {tool["name"]: tool for tool in pinned if tool["in_scope"]}
    offered = {tool.name: tool for tool in all_tools()}

    missing = sorted(set(in_scope) - set(offered))
    assert not missing, f"pagerduty-mcp tools not offered: {missing}"
    for name, theirs in in_scope.items():
        ours = offered[name]
        assert ours.compatible, name
        assert ours.input_schema == theirs["inputSchema"], name
        assert ours.is_write == (theirs["kind"] == "write"), name


def test_out_of_scope_pagerduty_mcp_tools_are_not_offered_under_their_names():
    pinned = json.loads(PAGERDUTY_MCP_TOOLS.read_text())["tools"]
    out_of_scope = {tool["name"] for tool in pinned if not tool["in_scope"]}

    assert not out_of_scope & {tool.name for tool in all_tools()}


def test_readme_tool_table_is_the_registrys():
    text = README.read_text()
    match = re.search(
        r"<!-- tool-table:[^\n]*-->\n(.*?)\n<!-- /tool-table -->", text, re.S
    )

    assert match, "README lost its tool-table markers"
    assert match.group(1) == tool_table_markdown(), (
        "README's tool table is stale: paste the output of `manage.py mcp_tools`"
    )
