"""WSGI entry point (gunicorn portal.wsgi); production settings by default."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.prod")

try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:
    sys.exit(f"Configuration error: {exc}")
