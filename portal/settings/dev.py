"""Local development: DEBUG on, `.env` read, sandbox available."""

import os

os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "true")
os.environ.setdefault("PAGERDUTY_SANDBOX", "true")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# The demo's admin/admin signs in without an authenticator; set it to true
# to try the production behaviour (README, Accounts and two-factor sign-in).
PORTAL_REQUIRE_STAFF_MFA = env.bool("PORTAL_REQUIRE_STAFF_MFA", default=False)
# The demo prints emails (re-consent requests) where the server logs.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
# Served by WhiteNoise from the apps' static folders, so the ASGI entry point
# (make demo runs uvicorn, not runserver) shows styled pages without
# collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
