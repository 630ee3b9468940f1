"""Raw MCP requests over HTTP, in either protocol era, for transport tests."""

from __future__ import annotations

import itertools

import requests

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
NAME_PARAM = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_ids = itertools.count(1)


def message(method: str, params: dict | None = None, *, version: str = MODERN) -> dict:
    params = dict(params or {})
    if version == MODERN:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    return {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params}


def headers_for(body: dict, *, token: str | None, version: str | None) -> dict:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    }
    if version:
        headers["MCP-Protocol-Version"] = version
    if version == MODERN:
        headers["Mcp-Method"] = body["method"]
        key = NAME_PARAM.get(body["method"])
        if key and key in body.get("params", {}):
            headers["Mcp-Name"] = body["params"][key]
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def post(url: str, body, *, token=None, version=MODERN, headers=None, raw=None):
    """POST one message (or raw bytes) to /mcp; return the response."""
    sent = headers_for(body, token=token, version=version) if body is not None else {}
    sent.update(headers or {})
    if raw is not None:
        return requests.post(url, data=raw, headers=sent, timeout=30)
    return requests.post(url, json=body, headers=sent, timeout=30)


def call(
    url: str,
    token: str,
    name: str,
    arguments: dict | None = None,
    *,
    version=MODERN,
    headers=None,
):
    body = message(
        "tools/call", {"name": name, "arguments": arguments or {}}, version=version
    )
    return post(url, body, token=token, version=version, headers=headers)


def list_tools(url: str, token: str, *, version=MODERN):
    return post(
        url, message("tools/list", version=version), token=token, version=version
    )


def result(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.text[:500])
    body = response.json()
    assert "result" in body, body
    return body["result"]


def tool_answer(response) -> dict:
    """Return a successful tools/call's structured content."""
    answer = result(response)
    assert answer["isError"] is False, answer
    return answer["structuredContent"]


def tool_error(response) -> dict:
    """Return a failed tools/call's error object (code, message, retryable)."""
    answer = result(response)
    assert answer["isError"] is True, answer
    return answer["structuredContent"]["error"]
