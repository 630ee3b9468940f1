"""ASGI entry point (portal + /mcp); production settings by default.

Serve with `gunicorn portal.asgi:application -k uvicorn_worker.UvicornWorker`
(README, Running in production) or `uvicorn portal.asgi:application`.
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.prod")

try:
    from portal.serving import build_application

    application = build_application()
except ImproperlyConfigured as exc:
    sys.exit(f"Configuration error: {exc}")
