"""Test profile: fixed fake keys, fast hashing, nothing read from `.env`."""

import os

os.environ.setdefault(
    "DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789"
)
os.environ.setdefault("CRYPTOGRAPHY_KEY", "test-field-key-not-for-production")
os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "false")
os.environ.setdefault("PAGERDUTY_SANDBOX", "true")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
# Tests must never depend on a developer's exported service URLs.
os.environ["PAGERDUTY_IDENTITY_URL"] = "https://identity.pagerduty.test"
os.environ["PAGERDUTY_API_URL"] = "https://api.pagerduty.test"
os.environ["PAGERDUTY_EU_API_URL"] = "https://api.eu.pagerduty.test"
os.environ.pop("REDIS_URL", None)

from .base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests start many connects in one session; T83 checks the production limit.
PAGERDUTY_CONNECT_RATE_LIMIT = (10_000, 600)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Most tests sign staff in with force_login; the MFA tests (T84,
# tests/integrations/test_mfa.py) turn enforcement on as production has it.
PORTAL_REQUIRE_STAFF_MFA = False
# The gateway tests serve the ASGI app under uvicorn (no live-server
# static handler): WhiteNoise serves the source static files.
WHITENOISE_USE_FINDERS = True
# Tests call tools far faster than agents; the budget tests (M25) set
# their own limits.
MCP_BUDGETS = {"tenant": 0, "user": 0, "client": 0, "tool": 0}
