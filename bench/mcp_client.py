"""A bare MCP client over Streamable HTTP, the same for both servers.

The benchmark times servers, not clients, so both get the same few lines
of `requests`: `initialize` once (keeping the session id a stateful server
such as pagerduty-mcp hands out), then one POST per request, whose answer
is JSON or an event stream (pagerduty-mcp answers with a stream).
"""

import itertools
import json

import requests

PROTOCOL_VERSION = "2025-11-25"  # the newest both servers speak
TIMEOUT = 60


class McpError(RuntimeError):
    """A request the server refused, or a tool result flagged isError."""


class McpSession:
    def __init__(self, url: str, *, token: str | None = None):
        self.url = url
        self.http = requests.Session()
        self.http.headers.update(
            {
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
            }
        )
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        self._ids = itertools.count(1)

    def open(self) -> "McpSession":
        response = self._post(
            {
                "jsonrpc": "2.0",
                "id": next(self._ids),
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "portal-bench", "version": "1"},
                },
            }
        )
        _answer(response)
        session_id = response.headers.get("mcp-session-id")
        if session_id:
            self.http.headers["Mcp-Session-Id"] = session_id
        self.http.headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
        notified = self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        if notified.status_code not in (200, 202):
            raise McpError(f"notifications/initialized answered {notified.status_code}")
        return self

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, params: dict | None = None) -> dict:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None:
            body["params"] = params
        return _answer(self._post(body))

    def list_tools(self) -> list[dict]:
        return self.request("tools/list")["tools"]

    def call_tool(self, name: str, arguments: dict) -> dict:
        """Return the tool's structured result; raise McpError on isError."""
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            text = " ".join(b.get("text", "") for b in result.get("content", []))
            raise McpError(f"{name}: {text[:500]}")
        return structured(result)

    def call(self, name: str, arguments: dict | None = None):
        """`tools/list` or a tool by name: the benchmark's call set in one place."""
        if name == "tools/list":
            return self.list_tools()
        return self.call_tool(name, arguments or {})

    def _post(self, body: dict) -> requests.Response:
        return self.http.post(self.url, data=json.dumps(body), timeout=TIMEOUT)


def _answer(response: requests.Response) -> dict:
    if response.status_code != 200:
        raise McpError(
            f"{response.url} answered {response.status_code}: {response.text[:300]}"
        )
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        # Event streams are UTF-8 by definition; without a charset in the
        # content type, requests would decode them as ISO-8859-1.
        messages = [
            json.loads(line[5:])
            for line in response.content.decode("utf-8").splitlines()
            if line.startswith("data:") and line[5:].strip()
        ]
        message = next((m for m in messages if "id" in m), None)
    else:
        message = response.json()
    if not message or "error" in message:
        raise McpError(f"JSON-RPC error: {message and message.get('error')}")
    return message["result"]


def structured(result: dict):
    """A tool result as data: its structured content, else its JSON text.

    FastMCP wraps a result that is not an object as {"result": ...}, and
    some of pagerduty-mcp's tools return JSON as text.
    """
    data = result.get("structuredContent")
    if data is None:
        texts = [b.get("text", "") for b in result.get("content", [])]
        data = json.loads("".join(texts) or "null")
    if isinstance(data, dict) and set(data) == {"result"}:
        data = data["result"]
        if isinstance(data, str):
            data = json.loads(data)
    return data


def entity_ids(data) -> list:
    """The entities a read returned, as ids in the order given.

    A list answer is {"response": [...]}; an on-call entry has no id of its
    own, so it is named by its user, policy, schedule and level.
    """
    items = data.get("response") if isinstance(data, dict) else None
    if items is None:
        items = [data]
    ids = []
    for item in items:
        if not isinstance(item, dict):
            ids.append(item)
        elif item.get("id"):
            ids.append(item["id"])
        else:
            ids.append(
                "/".join(
                    str((item.get(key) or {}).get("id", "-"))
                    for key in ("user", "escalation_policy", "schedule")
                )
                + f"/{item.get('escalation_level')}"
            )
    return ids
