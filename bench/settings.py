"""Benchmark profile: production-like (DEBUG off, real database and cache)
but plain HTTP on loopback, with a trivial view to compare against.

`bench/run.py` fills in DATABASE_URL, REDIS_URL and the sandbox URLs before
Django starts; gunicorn workers it launches inherit the same environment.
"""

import os

os.environ.setdefault("DJANGO_READ_DOT_ENV_FILE", "false")
os.environ.setdefault("PAGERDUTY_SANDBOX", "true")
# Throwaway keys: the benchmark database is dropped and rebuilt every run.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123")
os.environ.setdefault("CRYPTOGRAPHY_KEY", "bench-field-key-not-for-production")

from portal.settings.base import *  # noqa: E402, F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"
# Logins are set up, not measured.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The load generator and the refresh storm open many requests per second
# from one address; the connect limit is not what is measured.
PAGERDUTY_CONNECT_RATE_LIMIT = (1_000_000, 600)
# The mcp section sends 40 pairs of each call a minute and 50 agents at
# once: the per-minute agent budgets still count every call (their cache
# round trip is part of what is measured) but are set where the benchmark
# never reaches them; what a budget refuses is the tests' business (M25).
MCP_BUDGETS = {
    "tenant": 1_000_000,
    "user": 1_000_000,
    "client": 1_000_000,
    "tool": 1_000_000,
}
