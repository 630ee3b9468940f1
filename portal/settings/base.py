"""Settings shared by every profile; values come from the environment.

Profiles (dev, test, prod) import this module and change only what differs.
Every variable is listed in `.env.example` and in the README.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

# https://django-environ.readthedocs.io/en/latest/tips.html#multiple-env-files
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)


def required(name: str) -> str:
    """Return the variable's value or stop with a one-line message naming it."""
    value = env.str(name, default="")
    if not value.strip():
        raise ImproperlyConfigured(
            f"{name} is not set: export it or add it to .env (see README, "
            f"Configuration)."
        )
    return value


# --- General ---
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# Public base URL of this portal, used where a request is not at hand (demo
# seeding, environments without their own gateway URL).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip(
    "/"
)
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_ID = 1

# --- Apps ---
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "portal",
    "integrations",
    # The PagerDuty allauth provider; allauth discovers `provider.py` here.
    "integrations.pagerduty",
]

MIDDLEWARE = [
    "portal.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.csp.PortalCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.sessions.IdleSessionTimeoutMiddleware",
    "integrations.mfa.StaffMFAMiddleware",
    "integrations.mfa.PendingTOTPSecretMiddleware",
    "portal.timezones.UserTimeZoneMiddleware",
]

# --- Database ---
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'portal.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
# Reusing a worker's connection saves a connect (and PostgreSQL a backend
# start) per request; the health check replaces one the server dropped
# before a request uses it. 0 closes after every request (ASGI, poolers).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Cache ---
# Redis in production (REDIS_URL), process memory otherwise. allauth's login
# rate limits and the PagerDuty read cache both live here.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth / allauth ---
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
# https://docs.allauth.org/en/latest/account/configuration.html
ACCOUNT_ADAPTER = "integrations.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
# Open sign-up is off: users are created by staff in the Django admin.
ACCOUNT_ALLOW_SIGNUP = env.bool("ACCOUNT_ALLOW_SIGNUP", default=False)
# https://docs.allauth.org/en/latest/common/configuration.html
# Which address the login and webhook-signature limits count. Behind a proxy
# REMOTE_ADDR is the proxy's, so every sender would share one count; the
# proxy's header is trusted only when the deployment says how many proxies
# (or which header) sit in front.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = (
    env.str("ALLAUTH_TRUSTED_CLIENT_IP_HEADER", default="") or None
)
# https://docs.allauth.org/en/latest/socialaccount/configuration.html
# PagerDuty is connected per tenant, never used to sign in; app credentials
# come from OAuthClient rows through the adapter, tokens live encrypted in
# Connection, so allauth keeps no plaintext copy (SocialToken is unused).
SOCIALACCOUNT_ADAPTER = "integrations.adapters.SocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
# https://docs.allauth.org/en/latest/mfa/configuration.html
# TOTP with recovery codes; secrets are encrypted by integrations.mfa. Users
# are created by staff without verified addresses, and the address plays no
# part in the second factor.
MFA_ADAPTER = "integrations.mfa.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "PagerDuty Portal"
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Staff reach the Django admin and the staff pages only with a second factor
# verified in the session (ASVS 8.4.2). The development profile turns it
# off so the demo's admin/admin works; production always enforces it.
PORTAL_REQUIRE_STAFF_MFA = env.bool("PORTAL_REQUIRE_STAFF_MFA", default=True)

# --- Templates ---
# One field template for every form (label, widget, help text, errors).
FORM_RENDERER = "portal.form_renderers.PortalFormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    }
]

# --- Static files ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Security ---
# django-cryptography derives its field key from CRYPTOGRAPHY_KEY and falls
# back to SECRET_KEY when it is unset; the fallback is never allowed here.
CRYPTOGRAPHY_KEY = required("CRYPTOGRAPHY_KEY")
# The key ring of integrations/crypto.py: the newest key encrypts, all
# decrypt, until rotate_encryption_keys has re-encrypted every row under the
# first (README, Rotating keys). Captured here because django-cryptography
# replaces CRYPTOGRAPHY_KEY with its derived bytes when it loads.
FIELD_ENCRYPTION_KEYS = [
    CRYPTOGRAPHY_KEY,
    *env.list("CRYPTOGRAPHY_KEY_FALLBACKS", default=[]),
]
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
# https://django-csp.readthedocs.io/en/latest/configuration.html
# No inline script or style anywhere; portal.csp adds PagerDuty's identity
# host to form-action for the Connect redirect.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
        "report-uri": ["/csp-report"],
    }
}
# Sessions end after SESSION_COOKIE_AGE (two weeks) at most, and after this
# many seconds without a request.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
# Lax, so the session survives PagerDuty's top-level redirect back to us.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# 500 reports (mail, error trackers) star out secret-looking frame locals.
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.observability.SecretScrubbingReporterFilter"

# --- Logging ---
# One line per event with the request id; token-shaped values are masked.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.observability.RequestIdFilter"}},
    "formatters": {
        "line": {
            "()": "portal.observability.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s "
            "request_id=%(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Integrations ---
# One setting apart: PagerDuty itself, or the local sandbox (README, Demo).
PAGERDUTY_IDENTITY_URL = env.str(
    "PAGERDUTY_IDENTITY_URL", default="https://identity.pagerduty.com"
).rstrip("/")
PAGERDUTY_API_URL = env.str(
    "PAGERDUTY_API_URL", default="https://api.pagerduty.com"
).rstrip("/")
PAGERDUTY_EU_API_URL = env.str(
    "PAGERDUTY_EU_API_URL", default="https://api.eu.pagerduty.com"
).rstrip("/")
# Seconds for every outbound call: (connect, read).
PAGERDUTY_TIMEOUT = (
    env.float("PAGERDUTY_CONNECT_TIMEOUT", default=3.05),
    env.float("PAGERDUTY_READ_TIMEOUT", default=10.0),
)
# The OAuth calls (token grants, JWKS, /users/me on the callback) answer in
# well under a second; a connect page must fail within seconds, and the code
# lives only 30 s (SECURITY-TESTS T20, T36: at most allauth's 5 s).
PAGERDUTY_TOKEN_TIMEOUT = (
    PAGERDUTY_TIMEOUT[0],
    env.float("PAGERDUTY_TOKEN_READ_TIMEOUT", default=5.0),
)
SOCIALACCOUNT_REQUESTS_TIMEOUT = PAGERDUTY_TOKEN_TIMEOUT
# Seconds a connection's PagerDuty reads stay cached (0: off); any write of
# that connection drops them. First retry delay for idempotent calls.
# Where links to PagerDuty's web pages go ("Open in PagerDuty", App
# Registration); empty means each account's https://<subdomain>.pagerduty.com.
# The demo points it at the sandbox's /web.
PAGERDUTY_WEB_URL = env("PAGERDUTY_WEB_URL", default="")
PAGERDUTY_CACHE_SECONDS = env.int("PAGERDUTY_CACHE_SECONDS", default=30)
# Names the pickers offer (services, teams, users, schedules, policies);
# incident changes leave them cached, directory writes drop them.
PAGERDUTY_DIRECTORY_CACHE_SECONDS = env.int(
    "PAGERDUTY_DIRECTORY_CACHE_SECONDS", default=300
)
PAGERDUTY_RETRY_BACKOFF = env.float("PAGERDUTY_RETRY_BACKOFF", default=0.5)
# Connect PagerDuty starts per user and tenant: (attempts, seconds). Each
# start mints a state and a PKCE pair; a person needs only a few.
PAGERDUTY_CONNECT_RATE_LIMIT = (10, 600)
# Incident CSV export: pages requested at once (within PagerDuty's rate
# limit), and exports a user may start per minute: (attempts, seconds).
PAGERDUTY_EXPORT_CONCURRENCY = env.int("PAGERDUTY_EXPORT_CONCURRENCY", default=8)
PAGERDUTY_EXPORT_RATE_LIMIT = (10, 60)
# The local PagerDuty stand-in; off unless asked for (dev and test turn it on).
PAGERDUTY_SANDBOX = env.bool("PAGERDUTY_SANDBOX", default=False)
if PAGERDUTY_SANDBOX:
    # Its management commands: pagerduty_sandbox, …_configure_demo (README).
    INSTALLED_APPS.append("pagerduty_sandbox")
