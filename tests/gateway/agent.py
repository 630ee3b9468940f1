"""The official SDK client as an agent: OAuth with the consent page, then tools."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.to_thread
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

from tests.gateway.harness import LOOPBACK_CALLBACK, Browser


@dataclass
class MemoryStorage:
    tokens: OAuthToken | None = None
    client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


@dataclass
class Agent:
    """An MCP client that signs in through `browser` as `username`."""

    mcp_url: str
    browser: Browser
    username: str
    password: str
    tenant_id: int | None = None
    read_only: bool = False
    storage: MemoryStorage = field(default_factory=MemoryStorage)
    # Answers the server's elicitations (the person's "are you sure?").
    elicitation_callback: Callable | None = None
    consents: int = 0
    _redirect: str = ""

    def provider(self) -> OAuthClientProvider:
        async def redirect_handler(url: str) -> None:
            response = await anyio.to_thread.run_sync(
                lambda: self.browser.consent(
                    url,
                    username=self.username,
                    password=self.password,
                    tenant_id=self.tenant_id,
                    read_only=self.read_only,
                )
            )
            assert response.status_code == 302, response.text[:2000]
            self.consents += 1
            self._redirect = response.headers["Location"]

        async def callback_handler() -> AuthorizationCodeResult:
            query = parse_qs(urlsplit(self._redirect).query)
            return AuthorizationCodeResult(
                code=query["code"][0],
                state=query["state"][0],
                iss=query.get("iss", [None])[0],
            )

        return OAuthClientProvider(
            server_url=self.mcp_url,
            client_metadata=OAuthClientMetadata(
                client_name="SDK test agent",
                redirect_uris=[AnyUrl(LOOPBACK_CALLBACK)],
                token_endpoint_auth_method="none",
            ),
            storage=self.storage,
            redirect_handler=redirect_handler,
            callback_handler=callback_handler,
        )

    def run(self, work: Callable[[Client], Awaitable], *, mode="auto"):
        """Connect (authorizing on first use) and return `await work(client)`."""

        async def main():
            async with httpx2.AsyncClient(
                auth=self.provider(), follow_redirects=True, timeout=30
            ) as http:
                transport = streamable_http_client(self.mcp_url, http_client=http)
                async with Client(
                    transport, mode=mode, elicitation_callback=self.elicitation_callback
                ) as client:
                    return await work(client)

        # Its own thread: Playwright's sync API (the browser tests) keeps an
        # event loop running in the main thread for the whole session.
        outcome = {}

        def run_loop():
            try:
                outcome["value"] = anyio.run(main)
            except BaseException as exc:  # noqa: BLE001 - re-raised below
                outcome["error"] = exc

        thread = threading.Thread(target=run_loop)
        thread.start()
        thread.join(120)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]
