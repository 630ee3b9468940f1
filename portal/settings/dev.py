"""Local development: DEBUG on, `.env` read, sandbox available."""

import os

os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "true")
os.environ.setdefault("PAGERDUTY_SANDBOX", "true")

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
