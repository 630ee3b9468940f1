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
    # The MCP gateway: OAuth authorization server (django-oauth-toolkit,
    # its Application model swapped for gateway.Client), /mcp, tools, audit.
    "oauth2_provider",
    "integrations.gateway",
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

# --- Email ---
# Re-consent requests to tenant admins (README, Configuration). SMTP by
# default; dev prints to the console, tests keep mail in memory.
# https://docs.djangoproject.com/en/5.2/topics/email/
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# Seconds per SMTP operation, so a stuck mail server cannot hold a page.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="PagerDuty Portal <noreply@localhost>"
)

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

# --- MCP gateway ---
# AI agents reach the tenant's PagerDuty through <PORTAL_BASE_URL>/mcp
# (README, Connect an AI agent). This process is the OAuth authorization
# server (issuer PORTAL_BASE_URL) and the MCP resource server; tenants of an
# environment with another gateway URL connect through that deployment.
# Host and Origin values /mcp answers besides PORTAL_BASE_URL's own
# (DNS-rebinding guard): an unknown Host gets 421, an unknown Origin 403.
# Only browser-based clients send an Origin.
MCP_ALLOWED_HOSTS = env.list("MCP_ALLOWED_HOSTS", default=[])
MCP_ALLOWED_ORIGINS = env.list("MCP_ALLOWED_ORIGINS", default=[])
# Request bodies above this get 413 before anything is parsed.
MCP_MAX_BODY_BYTES = 1024 * 1024
# Lifetimes: access tokens at most an hour, codes a minute; refresh tokens
# rotate on every use and die this long after their access token expired.
MCP_ACCESS_TOKEN_SECONDS = min(env.int("MCP_ACCESS_TOKEN_SECONDS", default=3600), 3600)
MCP_REFRESH_TOKEN_SECONDS = env.int("MCP_REFRESH_TOKEN_SECONDS", default=30 * 24 * 3600)
# Redirect URI schemes besides https and loopback http that agents register
# (Cursor's cursor://, VS Code's vscode://). javascript:, data: and
# fragments are always refused.
MCP_REDIRECT_SCHEMES = env.list(
    "MCP_REDIRECT_SCHEMES", default=["cursor", "vscode", "vscode-insiders"]
)
# Client ID Metadata Documents: hosts whose https client_id URLs are fetched
# (e.g. claude.ai). Empty turns CIMD off; clients then register (DCR).
MCP_CIMD_ALLOWED_HOSTS = env.list("MCP_CIMD_ALLOWED_HOSTS", default=[])
# Open registration (RFC 7591) per client address: (registrations, seconds).
MCP_REGISTRATION_RATE_LIMIT = (
    env.int("MCP_REGISTRATION_RATE_LIMIT", default=20),
    3600,
)
# purge_mcp_authorizations deletes registrations never authorized after this.
MCP_UNUSED_REGISTRATION_HOURS = env.int("MCP_UNUSED_REGISTRATION_HOURS", default=24)
# Most items a tool returns in one result.
MCP_TOOL_MAX_RESULTS = 100
# The governance hook every tools/list and tools/call asks (allow, deny or
# hold); integrations/gateway/tools/governance.py.
MCP_GOVERNANCE_POLICY = "integrations.gateway.tools.governance.by_policy"
# How long a held call's approval lasts (asked, approved, then retried).
MCP_APPROVAL_SECONDS = env.int("MCP_APPROVAL_SECONDS", default=30 * 60)
# How long an "are you sure?" (MCP elicitation) stays answerable.
MCP_CONFIRM_SECONDS = env.int("MCP_CONFIRM_SECONDS", default=5 * 60)
# Hosts agents may point a PagerDuty webhook at without a policy allowing
# it; any other delivery host is denied by default (M29).
MCP_WEBHOOK_ALLOWED_HOSTS = env.list("MCP_WEBHOOK_ALLOWED_HOSTS", default=[])
# Tool calls per minute per tenant, person, agent (OAuth client) and tool
# of a tenant, counted in the cache (Redis: shared by every worker). One
# call makes one to a few PagerDuty requests, so a tenant's 240 stay well
# under PagerDuty's 960 requests a minute. 0 turns a budget off.
MCP_BUDGETS = {
    "tenant": env.int("MCP_BUDGET_TENANT", default=240),
    "user": env.int("MCP_BUDGET_USER", default=120),
    "client": env.int("MCP_BUDGET_CLIENT", default=120),
    "tool": env.int("MCP_BUDGET_TOOL", default=60),
}
# Threads serving portal pages (Django's WSGI app) behind the ASGI entry
# point, per process: a page waiting on PagerDuty holds one.
PORTAL_THREADS = env.int("PORTAL_THREADS", default=16)
# Threads per worker process running /mcp's database and PagerDuty work.
# Each holds a database connection: with PORTAL_THREADS, size them to the
# database's connection limit.
MCP_THREADS = env.int("MCP_THREADS", default=8)
MCP_SCOPES = {
    "mcp:read": "Read the tenant's PagerDuty data",
    "mcp:write": "Change things in the tenant's PagerDuty account",
}
# https://django-oauth-toolkit.readthedocs.io/en/latest/settings.html
OAUTH2_PROVIDER_APPLICATION_MODEL = "gateway.Client"
OAUTH2_PROVIDER = {
    "SCOPES": MCP_SCOPES,
    "DEFAULT_SCOPES": list(MCP_SCOPES),
    "OAUTH2_VALIDATOR_CLASS": "integrations.gateway.oauth.validator.GatewayValidator",
    "OIDC_ISS_ENDPOINT": PORTAL_BASE_URL,
    "ACCESS_TOKEN_EXPIRE_SECONDS": MCP_ACCESS_TOKEN_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": MCP_REFRESH_TOKEN_SECONDS,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    # Plain http is allowed per client for loopback hosts only
    # (gateway.Client.get_allowed_schemes), never in this global list.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", *MCP_REDIRECT_SCHEMES],
    "ALLOW_LOCALHOST_LOOPBACK": True,
    "REQUEST_APPROVAL_PROMPT": "force",
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": [
        "none",
        "client_secret_post",
        "client_secret_basic",
    ],
    "DCR_ENABLED": True,
    # Open registration: MCP clients register anonymously. The guards
    # (redirect URI policy, per-address limit, purge) live in the gateway.
    "DCR_REGISTRATION_PERMISSION_CLASSES": (
        "oauth2_provider.dcr.AllowAllDCRPermission",
    ),
    "DCR_REGISTRATION_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
    "CIMD_ENABLED": bool(MCP_CIMD_ALLOWED_HOSTS),
    "CIMD_REGISTRATION_PERMISSION_CLASSES": (
        "oauth2_provider.cimd.HostAllowlistCIMDPermission",
    ),
    "CIMD_ALLOWED_HOSTS": MCP_CIMD_ALLOWED_HOSTS,
    # RFC 9700 (OAuth 2.0 Security BCP), all enforced: no implicit or
    # password grant, S256 only, no tokens in URLs, `iss` on authorization
    # responses, tokens stored as SHA-256 checksums only.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
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
