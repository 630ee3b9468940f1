"""The MCP Inspector CLI (npm, pinned in tests/gateway/inspector/) against /mcp.

It lists and calls tools with a bearer token, as a developer checking the
gateway by hand would. `.ci/run` installs it (`npm ci`); elsewhere the test
skips with the reason, and fails under PORTAL_REQUIRE_ALL.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from integrations.gateway.models import ToolCall
from tests.helpers import skip_unless_available

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent / "inspector"
CLI = HERE / "node_modules" / ".bin" / "mcp-inspector"


def inspector(gateway, token, home, *args) -> dict:
    command = [
        str(CLI),
        "--cli",
        gateway.mcp_url,
        "--transport",
        "http",
        *args,
        "--header",
        f"Authorization: Bearer {token}",
    ]
    done = subprocess.run(  # noqa: S603 - our pinned tool
        command,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture
def installed():
    skip_unless_available(
        shutil.which("node") is not None and CLI.exists(),
        "the MCP Inspector is not installed: npm ci --prefix tests/gateway/inspector",
    )


def test_the_inspector_lists_and_calls_tools_with_a_bearer_token(
    installed, gateway, token, tmp_path
):
    listed = inspector(gateway, token, tmp_path, "--method", "tools/list")
    called = inspector(
        gateway,
        token,
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "list_incidents",
        "--tool-arg",
        "limit=2",
    )

    assert [tool["name"] for tool in listed["tools"]] == [
        "acknowledge_incidents",
        "add_team_member",
        "create_schedule_override",
        "create_team",
        "create_user",
        "delete_team",
        "get_incident",
        "get_schedule",
        "get_team",
        "get_user_data",
        "list_incidents",
        "list_oncalls",
        "list_schedule_users",
        "list_schedules",
        "list_team_members",
        "list_teams",
        "list_users",
        "remove_team_member",
        "update_team",
        "who_is_on_call",
    ]
    assert called.get("isError") in (None, False)
    assert len(called["structuredContent"]["response"]) == 2
    assert ToolCall.objects.get().outcome == "succeeded"
