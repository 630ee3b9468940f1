"""Production: HTTPS only, hashed static files, Redis cache when configured.

`python manage.py check --deploy --settings=portal.settings.prod` passes with
no warning once the required variables are set (README, Production).
"""

from .base import *  # noqa: F403
from .base import STORAGES, env

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# __Host- cookies are HTTPS-only, host-only and path=/: a sibling subdomain
# cannot plant or overwrite them.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Mail leaves over STARTTLS unless implicit TLS (EMAIL_USE_SSL) is chosen.
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=not env.bool("EMAIL_USE_SSL", False))
EMAIL_PORT = env.int(
    "EMAIL_PORT", default=465 if env.bool("EMAIL_USE_SSL", False) else 587
)
# Not configurable here: staff pages always need a second factor (T84).
PORTAL_REQUIRE_STAFF_MFA = True
STORAGES = {
    **STORAGES,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
