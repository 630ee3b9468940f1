"""ASGI entry point; production settings by default."""

import os
import sys

from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.prod")

try:
    application = get_asgi_application()
except ImproperlyConfigured as exc:
    sys.exit(f"Configuration error: {exc}")
