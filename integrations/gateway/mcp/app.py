"""The /mcp endpoint and its protected-resource metadata, as one ASGI app.

Assembled from the SDK's resource-server pieces (bearer authentication
with `validate_token_resource`, the RFC 9728 metadata route, the stateless
streamable-HTTP session manager) with three additions around /mcp:

- the edge: request id, Host/Origin allowlist before anything else (421 /
  403), bodies over MCP_MAX_BODY_BYTES refused (413), responses private to
  the caller (`Cache-Control: no-store`), an internal failure answered 503
  with the request id, never a traceback;
- a 401 challenge that names the scopes (`scope="mcp:read mcp:write"`);
- the step-up: on 2026-07-28 a read-only token calling a write tool gets
  `403 insufficient_scope` naming both scopes (the legacy leg gets a tool
  error from the runner instead).

Its lifespan (the session manager's task group) must be entered by the
top-level app: `portal.serving` forwards the lifespan here.
"""

import json
import logging
import uuid

from django.conf import settings
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    BearerAuthBackend,
    RequireAuthMiddleware,
)
from mcp.server.auth.routes import (
    build_resource_metadata_url,
    create_protected_resource_routes,
)
from mcp.server.auth.settings import AuthSettings
from mcp.server.streamable_http_manager import (
    StreamableHTTPASGIApp,
    StreamableHTTPSessionManager,
)
from mcp.server.transport_security import (
    TransportSecurityMiddleware,
    TransportSecuritySettings,
)
from mcp.shared.inbound import decode_header_value
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrations.gateway import conf
from integrations.gateway.mcp.server import build_server, caller
from integrations.gateway.mcp.threads import run_sync
from integrations.gateway.mcp.verifier import PortalTokenVerifier
from integrations.gateway.tools import runner
from portal.observability import INCOMING_ID_RE, request_id_var

logger = logging.getLogger(__name__)

SCOPES = " ".join(conf.ALL_SCOPES)
BODY_KEY = "portal.mcp_body"


def _json_error(status: int, code: int, message: str) -> Response:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    return Response(json.dumps(body), status_code=status, media_type="application/json")


class McpEdge:
    """The first thing every /mcp request meets (see the module docstring)."""

    def __init__(self, app, *, security: TransportSecuritySettings, max_body: int):
        self.app = app
        self.security = TransportSecurityMiddleware(security)
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if INCOMING_ID_RE.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)

        async def send_private(message):
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["Cache-Control"] = "no-store, private"
                response_headers["Vary"] = "Authorization"
                response_headers["X-Request-ID"] = request_id
            await send(message)

        started = False

        async def send_tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_private(message)

        try:
            refusal = await self.security.validate_request(
                Request(scope, receive), is_post=False
            )
            if refusal is not None:
                await refusal(scope, receive, send_private)
                return
            if scope["method"] == "POST":
                body = await self._read_body(headers, receive)
                if body is None:
                    await Response("Request body too large", status_code=413)(
                        scope, receive, send_private
                    )
                    return
                scope[BODY_KEY] = body
                receive = _replay(body, receive)
            await self.app(scope, receive, send_tracked)
        except Exception:
            # The database or cache failing under us: a retryable 503 with
            # the request id, never a traceback.
            logger.exception("MCP request failed")
            if not started:
                response = _json_error(
                    503, -32603, f"Temporarily unavailable (request {request_id})"
                )
                response.headers["Retry-After"] = "5"
                await response(scope, receive, send_private)
        finally:
            request_id_var.reset(token)

    async def _read_body(self, headers: Headers, receive) -> bytes | None:
        declared = headers.get("content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_body
        ):
            return None
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body.extend(message.get("body", b""))
            if len(body) > self.max_body:
                return None
            if not message.get("more_body", False):
                break
        return bytes(body)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequireToken(RequireAuthMiddleware):
    """The SDK's 401 for a missing or refused token, naming the scopes."""

    async def _send_auth_error(self, send, status_code, error, description):
        parts = [f'error="{error}"', f'error_description="{description}"']
        if self.resource_metadata_url:
            parts.append(f'resource_metadata="{self.resource_metadata_url}"')
        parts.append(f'scope="{SCOPES}"')
        body = json.dumps({"error": error, "error_description": description}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status_code,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", f"Bearer {', '.join(parts)}".encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class StepUp:
    """Answer a read-only token's 2026-07-28 write call with 403 (step-up)."""

    def __init__(self, app, *, resource_metadata_url: str):
        self.app = app
        self.resource_metadata_url = resource_metadata_url

    async def __call__(self, scope, receive, send):
        name, arguments = self._tool_call(scope)
        user = scope.get("user")
        if name is not None and isinstance(user, AuthenticatedUser):
            version = Headers(scope=scope).get("mcp-protocol-version", "")
            who = caller(version)
            if who is not None and await run_sync(runner.step_up_required, who, name):
                await run_sync(runner.record_step_up, who, name, arguments)
                await self._challenge(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _tool_call(self, scope) -> tuple[str | None, object]:
        headers = Headers(scope=scope)
        if headers.get("mcp-protocol-version") not in MODERN_PROTOCOL_VERSIONS:
            return None, None
        try:
            message = json.loads(scope.get(BODY_KEY) or b"")
        except ValueError:
            return None, None
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            return None, None
        params = message.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("name"), str):
            return None, None
        # A header that disagrees with the body is the SDK's -32020 to give.
        if decode_header_value(headers.get("mcp-name")) != params["name"]:
            return None, None
        return params["name"], params.get("arguments")

    async def _challenge(self, scope, receive, send):
        description = "This tool needs the mcp:write scope"
        challenge = (
            f'Bearer error="insufficient_scope", scope="{SCOPES}", '
            f'resource_metadata="{self.resource_metadata_url}", '
            f'error_description="{description}"'
        )
        await Response(
            json.dumps(
                {"error": "insufficient_scope", "error_description": description}
            ),
            status_code=403,
            media_type="application/json",
            headers={"WWW-Authenticate": challenge},
        )(scope, receive, send)


def build_mcp_app() -> Starlette:
    """Return the ASGI app serving /mcp and its protected-resource metadata."""
    auth = AuthSettings(
        issuer_url=conf.issuer(),
        resource_server_url=conf.resource_url(),
        # Tokens must name this /mcp (RFC 8707): the verifier reports each
        # token's real resource and the SDK refuses any other, or none.
        validate_token_resource=True,
    )
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=conf.allowed_hosts(),
        allowed_origins=conf.allowed_origins(),
    )
    manager = StreamableHTTPSessionManager(
        app=build_server(),
        json_response=True,
        stateless=True,
        security_settings=security,
        max_request_body_size=settings.MCP_MAX_BODY_BYTES,
    )
    metadata_url = str(build_resource_metadata_url(auth.resource_server_url))
    endpoint = McpEdge(
        AuthenticationMiddleware(
            AuthContextMiddleware(
                RequireToken(
                    StepUp(
                        StreamableHTTPASGIApp(manager),
                        resource_metadata_url=metadata_url,
                    ),
                    required_scopes=[],
                    resource_metadata_url=AnyHttpUrl(metadata_url),
                )
            ),
            backend=BearerAuthBackend(
                PortalTokenVerifier(),
                resource_server_url=auth.resource_server_url,
            ),
        ),
        security=security,
        max_body=settings.MCP_MAX_BODY_BYTES,
    )
    metadata_routes = create_protected_resource_routes(
        resource_url=auth.resource_server_url,
        authorization_servers=[auth.issuer_url],
        scopes_supported=list(conf.ALL_SCOPES),
        resource_name="PagerDuty Portal",
    )
    routes = [
        Route(conf.MCP_PATH, endpoint=endpoint, methods=None),
        *metadata_routes,
        # The origin-wide document too, so DOT's never answers with the
        # origin as the resource.
        Route(
            "/.well-known/oauth-protected-resource",
            endpoint=metadata_routes[0].app,
            methods=["GET", "OPTIONS"],
        ),
    ]
    return Starlette(routes=routes, lifespan=lambda app: manager.run())


MCP_PATHS = frozenset(
    {
        conf.MCP_PATH,
        f"{conf.MCP_PATH}/",
        "/.well-known/oauth-protected-resource",
        f"/.well-known/oauth-protected-resource{conf.MCP_PATH}",
    }
)
