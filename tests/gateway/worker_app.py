"""portal.asgi's application, each answer naming its worker (M18 only)."""

import os

from portal.asgi import application as portal_application

WORKER_HEADER = b"x-test-worker"


async def application(scope, receive, send):
    async def tagged(message):
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [
                    *message.get("headers", []),
                    (WORKER_HEADER, str(os.getpid()).encode()),
                ],
            }
        await send(message)

    await portal_application(scope, receive, tagged)
