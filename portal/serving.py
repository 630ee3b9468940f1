"""The one ASGI application: the MCP gateway and the portal side by side.

`/mcp` and `/.well-known/oauth-protected-resource[/mcp]` go to the MCP app
(integrations/gateway/mcp/app.py), whose lifespan this app forwards;
everything else goes to Django's WSGI application in a pool of
PORTAL_THREADS threads. Django's own ASGI handler would do for the pages,
but bench/server.py measured the pool keeping page throughput and the
slow-upstream case at today's gthread figures (README, Performance), and
the pool's long-lived threads keep their database connections
(DATABASE_CONN_MAX_AGE) where Django's ASGI handler opens one per request.
"""

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application


class PortalApplication:
    """Route each ASGI connection to the MCP app or to the portal."""

    def __init__(self, *, mcp_app, portal_app, mcp_paths: frozenset[str]):
        self.mcp_app = mcp_app
        self.portal_app = portal_app
        self.mcp_paths = mcp_paths

    async def __call__(self, scope, receive, send):
        # The MCP app's lifespan runs its session manager's task group.
        to_mcp = scope["type"] == "lifespan" or (
            scope["type"] == "http" and scope["path"] in self.mcp_paths
        )
        if to_mcp:
            await self.mcp_app(scope, receive, send)
        else:
            await self.portal_app(scope, receive, send)


def build_application() -> PortalApplication:
    """Return the ASGI app for the current settings (Django set up first)."""
    portal = WSGIMiddleware(get_wsgi_application(), workers=settings.PORTAL_THREADS)
    from integrations.gateway.mcp.app import MCP_PATHS, build_mcp_app

    return PortalApplication(
        mcp_app=build_mcp_app(), portal_app=portal, mcp_paths=MCP_PATHS
    )
