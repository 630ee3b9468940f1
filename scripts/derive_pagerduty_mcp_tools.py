"""Derive integrations/gateway/tools/pagerduty_mcp_tools.json.

PagerDuty's own MCP server (`pagerduty-mcp` 1.1.0 on PyPI) is what agents'
prompts and evaluations are written against: the gateway keeps its tool
names and input schemas. This dumps its `tools/list` (name, description,
input schema, annotations) with the wheel's SHA-256, so the product reads
the schemas from the repository and never depends on the package.

pagerduty-mcp needs Python 3.12 or newer and MCP SDK 1.x, so run it in a
scratch environment, never the portal's:

    python3.12 -m venv /tmp/pdmcp && /tmp/pdmcp/bin/pip install pagerduty-mcp==1.1.0
    pip download pagerduty-mcp==1.1.0 --no-deps -d /tmp/pdmcp-wheel
    /tmp/pdmcp/bin/python scripts/derive_pagerduty_mcp_tools.py \\
        /tmp/pdmcp-wheel/pagerduty_mcp-1.1.0-py3-none-any.whl
"""

import asyncio
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "integrations" / "gateway" / "tools" / "pagerduty_mcp_tools.json"
VERSION = "1.1.0"


async def _tools() -> list[dict]:
    from pagerduty_mcp.server import mcp  # every read and write tool

    tools = await mcp.list_tools()
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "inputSchema": tool.inputSchema,
            "annotations": tool.annotations.model_dump(exclude_none=True)
            if tool.annotations
            else {},
        }
        for tool in tools
    ]


def main(argv: list[str]) -> int:
    wheel = Path(argv[1])
    document = {
        "source": f"pagerduty-mcp {VERSION} (PyPI), tools/list of pagerduty_mcp.server",
        "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "tools": sorted(asyncio.run(_tools()), key=lambda tool: tool["name"]),
    }
    OUTPUT.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"{len(document['tools'])} tools written to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
