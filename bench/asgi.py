"""ASGI entry points for the benchmark's gunicorn (uvicorn worker class).

`application` is the production arrangement (`portal.serving`: the MCP app
and the portal's WSGI app in a thread pool); `django_asgi_application`
swaps the pool for Django's own ASGI handler, the alternative the server
section measures against it. Both name their worker in `X-Bench-Worker`.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

from bench.load import WORKER_HEADER  # noqa: E402
from portal.serving import PortalApplication, build_application  # noqa: E402


def _tagged(app):
    async def tagged_app(scope, receive, send):
        async def send_tagged(message):
            if message["type"] == "http.response.start":
                worker = (WORKER_HEADER.lower().encode(), str(os.getpid()).encode())
                message = {**message, "headers": [*message.get("headers", []), worker]}
            await send(message)

        await app(scope, receive, send_tagged)

    return tagged_app


_portal = build_application()
application = _tagged(_portal)
django_asgi_application = _tagged(
    PortalApplication(
        mcp_app=_portal.mcp_app,
        portal_app=get_asgi_application(),
        mcp_paths=_portal.mcp_paths,
    )
)
