"""The gateway's public URLs, derived from settings when they are needed.

The authorization server's issuer is PORTAL_BASE_URL exactly (no trailing
slash) and the MCP endpoint, the canonical resource of its tokens, is
`<PORTAL_BASE_URL>/mcp`. Read at call time so tests and deployments that
move the base URL keep every document consistent.
"""

from urllib.parse import urlsplit

from django.conf import settings

MCP_PATH = "/mcp"
SCOPE_READ = "mcp:read"
SCOPE_WRITE = "mcp:write"
ALL_SCOPES = (SCOPE_READ, SCOPE_WRITE)


def issuer() -> str:
    """Return the authorization server's issuer identifier."""
    return settings.PORTAL_BASE_URL


def resource_url() -> str:
    """Return this deployment's canonical MCP URL (the tokens' resource)."""
    return f"{settings.PORTAL_BASE_URL}{MCP_PATH}"


def resource_url_for(base_url: str) -> str:
    """Return the MCP URL of an environment's base URL."""
    return f"{base_url.rstrip('/')}{MCP_PATH}"


def allowed_hosts() -> list[str]:
    """Return the Host header values /mcp answers."""
    host = urlsplit(settings.PORTAL_BASE_URL).netloc
    return list(dict.fromkeys([host, *settings.MCP_ALLOWED_HOSTS]))


def allowed_origins() -> list[str]:
    """Return the Origin header values /mcp accepts from browser clients."""
    parts = urlsplit(settings.PORTAL_BASE_URL)
    origin = f"{parts.scheme}://{parts.netloc}"
    return list(dict.fromkeys([origin, *settings.MCP_ALLOWED_ORIGINS]))
