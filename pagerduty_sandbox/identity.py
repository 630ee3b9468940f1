"""PagerDuty's identity service: sign-in, consent, authorize, token, OIDC.

Paths and behaviour follow NOTES §1–§2. Where PagerDuty documents nothing
(token endpoint errors, authorize errors other than access_denied), the
sandbox answers as RFC 6749 says.

Classic User OAuth apps follow DD 06-OAuth-Functionality.md: any account's
users may authorize; the scope is `read` or `write`; PKCE is optional for a
confidential client (one that sends `client_secret`) and required for a
non-confidential one (no secret); tokens live 30 days (access) and 210
days (refresh). PagerDuty says nothing about a client_credentials request
from a Classic app beyond Scoped apps being the ones that get app tokens,
so the sandbox answers RFC 6749's `unauthorized_client`.
"""

import base64
import hashlib
import re
import secrets
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

import jwt

from pagerduty_sandbox import keys
from pagerduty_sandbox.http import Response
from pagerduty_sandbox.roles import READ_ONLY_ROLES
from pagerduty_sandbox.scopes import CLASSIC_READ, CLASSIC_WRITE, OPENID, known_scopes
from pagerduty_sandbox.seed import PASSWORD
from pagerduty_sandbox.state import REGION_NAMES, App, AuthCode, Grant

ISSUER_PATH = "/global/oauth/anonymous"
DENIED_DESCRIPTION = "The resource owner or authorization server denied the request."
PKCE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
VERIFIER_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
ROLE_LABELS = {
    "owner": "Account Owner",
    "admin": "Global Admin",
    "user": "Manager",
    "limited_user": "Responder",
    "observer": "Observer",
    "restricted_access": "Restricted Access",
    "read_only_user": "Full Stakeholder",
    "read_only_limited_user": "Limited Stakeholder",
}


def issuer(app) -> str:
    return f"{app.base_url}{ISSUER_PATH}"


def safe_next(value: str) -> str:
    """Return a local path to continue to; anything else becomes "/"."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


# --- Pages ---


def home(app, page, request):
    accounts = app.state.accounts
    users = sorted(
        app.state.users.values(),
        key=lambda u: (accounts[u.account_id].subdomain, u.email),
    )
    sign_ins = [
        {
            "email": u.email,
            "name": u.name,
            "role": ROLE_LABELS.get(u.role, u.role),
            "account": app.state.accounts[u.account_id],
        }
        for u in users
    ]
    return page.render(
        "pagerduty_sandbox/home.html",
        {
            "sign_ins": sign_ins,
            "eu_api_url": app.eu_api_url,
            "password": PASSWORD,
        },
    )


def sign_in(app, page, request):
    if request.method == "GET":
        return page.render(
            "pagerduty_sandbox/sign_in.html", {"next": safe_next(request.arg("next"))}
        )
    if request.method != "POST":
        return Response(status=405, headers=[("Allow", "GET, POST")])
    form = request.form()
    next_url = safe_next(_first(form, "next"))
    if not page.csrf_ok(form):
        return _csrf_failure(page)
    email = _first(form, "email")
    user = app.state.user_by_email(email)
    password = _first(form, "password")
    if user is None or not secrets.compare_digest(password, user.password):
        return page.render(
            "pagerduty_sandbox/sign_in.html",
            {"next": next_url, "email": email, "error": "Invalid email or password."},
            status=400,
        )
    page.sign_in(user)
    return page.redirect(next_url)


def sign_out(app, page, request):
    if request.method != "POST":
        return Response(status=405, headers=[("Allow", "POST")])
    if not page.csrf_ok(request.form()):
        return _csrf_failure(page)
    page.sign_out()
    return page.redirect("/")


def _csrf_failure(page):
    return page.render(
        "pagerduty_sandbox/message.html",
        {
            "title": "Form expired",
            "message": "The form's security token did not match. Go back, "
            "reload the page and try again.",
        },
        status=403,
    )


def error_page(page, title: str, message: str, status: int = 400):
    return page.render(
        "pagerduty_sandbox/message.html",
        {"title": title, "message": message},
        status=status,
    )


# --- Authorization endpoint ---


def granted_scopes(app_: App, requested: list[str], role: str) -> list[str]:
    """Return the scopes a user token gets: openid plus the valid requested.

    Unknown scopes and scopes the app lacks are dropped silently, as
    PagerDuty does; with none left the grant is openid only (NOTES §0.5).
    """
    if app_.is_classic:
        return [OPENID, *_classic_scope(app_, requested, role)]
    valid = [s for s in app_.scopes if s in requested]
    # NOTES §8.5: a user token gets the app's scopes cut to the user's rights.
    if role in READ_ONLY_ROLES:
        valid = [s for s in valid if s.endswith(".read")]
    return [OPENID, *valid]


def _classic_scope(app_: App, requested: list[str], role: str) -> list[str]:
    """Return a Classic grant's one scope, or none when nothing valid was asked.

    `read` is within a `write` app's access ("Read/Write"); a `write` asked
    of a `read` app is invalid and dropped, as unknown scopes are. A
    read-only role gets `read` for `write`, as Scoped grants lose `.write`.
    """
    if CLASSIC_WRITE in requested and CLASSIC_WRITE in app_.scopes:
        return [CLASSIC_READ if role in READ_ONLY_ROLES else CLASSIC_WRITE]
    if CLASSIC_READ in requested:
        return [CLASSIC_READ]
    return []


def _with_params(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit(parts._replace(query=query))


def authorize(app, page, request):
    if request.method not in ("GET", "POST"):
        return Response(status=405, headers=[("Allow", "GET, POST")])
    if request.method == "POST":
        form = request.form()
        params = {k: v[0] for k, v in form.items() if v}
    else:
        form = {}
        params = {k: v[0] for k, v in request.query.items() if v}
    state = app.state
    client = state.app_by_client_id(params.get("client_id", ""))
    if client is None:
        return error_page(
            page,
            "Unknown application",
            "The client_id does not belong to any registered app, so the "
            "sandbox cannot send you back to it.",
        )
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        # Never redirect to an unregistered URL (NOTES §1, PagerDuty 8002).
        return error_page(
            page,
            "redirect_uri is invalid",
            f"{redirect_uri or 'An empty redirect_uri'} is not one of the "
            f"redirect URLs registered for {client.name}. It must match "
            f"exactly.",
        )
    extra = {"state": params["state"]} if "state" in params else {}

    def fail(error: str, description: str):
        location = _with_params(
            redirect_uri,
            {"error": error, "error_description": description, **extra},
        )
        return page.redirect(location)

    if params.get("response_type") != "code":
        return fail("unsupported_response_type", "response_type must be code.")
    challenge = params.get("code_challenge", "")
    if not challenge and not client.is_classic:
        return fail(
            "invalid_request",
            "Scoped OAuth requires PKCE: send code_challenge with "
            "code_challenge_method=S256.",
        )
    if not challenge and "code_challenge_method" in params:
        return fail("invalid_request", "code_challenge is missing.")
    if challenge and params.get("code_challenge_method") != "S256":
        return fail("invalid_request", "code_challenge_method must be S256.")
    if challenge and not PKCE_RE.fullmatch(challenge):
        return fail(
            "invalid_request",
            "code_challenge must be the unpadded base64url SHA-256 of the "
            "code_verifier (43 characters).",
        )
    if "scope" not in params:
        return fail("invalid_request", "The scope parameter is required.")

    user = page.user
    if user is None:
        query = urlencode(
            {k: v for k, v in params.items() if k not in ("csrf", "decision")}
        )
        return page.redirect(
            "/sign_in?" + urlencode({"next": f"/oauth/authorize?{query}"})
        )
    account = state.accounts[client.account_id]
    if not client.is_classic and user.account_id != client.account_id:
        return error_page(
            page,
            "This app belongs to another PagerDuty account",
            f"{client.name} is a Scoped OAuth app of {account.subdomain}; "
            f"Scoped OAuth only works for users of the account that "
            f"registered the app. You are signed in to "
            f"{state.accounts[user.account_id].subdomain}.",
            status=403,
        )
    requested = params["scope"].split()
    scopes = granted_scopes(client, requested, user.role)
    if request.method == "GET":
        hidden = {k: v for k, v in params.items() if k not in ("csrf", "decision")}
        return page.render(
            "pagerduty_sandbox/consent.html",
            {
                "client": client,
                "account": state.accounts[user.account_id],
                "scopes": [s for s in scopes if s != OPENID],
                "dropped": [s for s in requested if s not in scopes],
                "hidden": sorted(hidden.items()),
            },
        )
    if not page.csrf_ok(form):
        return _csrf_failure(page)
    if params.get("decision") != "approve":
        return fail("access_denied", DENIED_DESCRIPTION)
    code = AuthCode(
        code=secrets.token_urlsafe(24),
        app_id=client.id,
        user_id=user.id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        scopes=scopes,
        expires_at=state.now() + timedelta(seconds=state.config.code_ttl),
        auth_time=state.now(),
    )
    state.codes[code.code] = code
    return page.redirect(_with_params(redirect_uri, {"code": code.code, **extra}))


# --- Token endpoint ---


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response.json(
        {"error": error, "error_description": description},
        status=status,
        headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")],
    )


def token(app, page, request):
    if request.method != "POST":
        return oauth_error("invalid_request", "Use POST.", status=405)
    if request.content_type != "application/x-www-form-urlencoded":
        return oauth_error(
            "invalid_request",
            "Send the parameters form-encoded (application/x-www-form-urlencoded).",
        )
    form = request.form()
    repeated = sorted(k for k, v in form.items() if len(v) > 1)
    if repeated:
        return oauth_error("invalid_request", f"Repeated parameter: {repeated[0]}.")
    params = {k: v[0] for k, v in form.items()}
    grant_type = params.get("grant_type", "")
    if not grant_type:
        return oauth_error("invalid_request", "grant_type is required.")
    client = app.state.app_by_client_id(params.get("client_id", ""))
    secret = params.get("client_secret")
    # A Classic app may be a non-confidential client: no secret, PKCE
    # instead, and only for the code exchange (DD 06, refresh needs it).
    public = (
        client is not None
        and client.is_classic
        and secret is None
        and grant_type == "authorization_code"
    )
    if client is None or not (
        public
        or secrets.compare_digest(
            (secret or "").encode(), client.client_secret.encode()
        )
    ):
        return oauth_error(
            "invalid_client", "Client authentication failed.", status=401
        )
    if grant_type == "authorization_code":
        return _authorization_code(app, client, params, public=public)
    if grant_type == "refresh_token":
        return _refresh(app, client, params)
    if grant_type == "client_credentials":
        return _client_credentials(app, client, params)
    return oauth_error("unsupported_grant_type", f"{grant_type} is not supported.")


def _authorization_code(app, client: App, params: dict, *, public: bool) -> Response:
    state = app.state
    for name in ("code", "redirect_uri"):
        if not params.get(name):
            return oauth_error("invalid_request", f"{name} is required.")
    record = state.codes.get(params["code"])
    pkce = bool(record and record.code_challenge)
    if (pkce or public or not client.is_classic) and not params.get("code_verifier"):
        return oauth_error("invalid_request", "code_verifier is required.")
    if record is None or record.app_id != client.id:
        return oauth_error("invalid_grant", "The authorization code is invalid.")
    if record.used:
        # RFC 6749 §4.1.2: a replayed code revokes what it produced.
        grant = state.grants.get(record.grant_id or "")
        if grant:
            state.revoke_grant(grant)
        return oauth_error("invalid_grant", "The authorization code was already used.")
    if state.now() >= record.expires_at:
        return oauth_error("invalid_grant", "The authorization code has expired.")
    if params["redirect_uri"] != record.redirect_uri:
        return oauth_error(
            "invalid_grant", "redirect_uri does not match the authorization request."
        )
    if public and not record.code_challenge:
        return oauth_error(
            "invalid_grant",
            "A client without client_secret must have used PKCE on authorize.",
        )
    if record.code_challenge:
        verifier = params["code_verifier"]
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not VERIFIER_RE.fullmatch(verifier) or not secrets.compare_digest(
            expected, record.code_challenge
        ):
            return oauth_error("invalid_grant", "PKCE verification failed.")
    record.used = True
    user = state.users.get(record.user_id)
    if user is None:
        return oauth_error("invalid_grant", "The user no longer exists.")
    grant = state.issue_grant(
        app=client, user=user, scopes=record.scopes, auth_time=record.auth_time
    )
    record.grant_id = grant.id
    return _token_response(app, client, grant)


def _refresh(app, client: App, params: dict) -> Response:
    state = app.state
    value = params.get("refresh_token", "")
    if not value:
        return oauth_error("invalid_request", "refresh_token is required.")
    grant = state.grant_for_refresh_token(value)
    if grant is None or grant.revoked or grant.app_id != client.id:
        return oauth_error("invalid_grant", "The refresh token is invalid or revoked.")
    if grant.refresh_expires_at is None or state.now() >= grant.refresh_expires_at:
        return oauth_error("invalid_grant", "The refresh token has expired.")
    if grant.user_id not in state.users:
        return oauth_error("invalid_grant", "The user no longer exists.")
    state.rotate_tokens(grant)
    return _token_response(app, client, grant)


def _client_credentials(app, client: App, params: dict) -> Response:
    state = app.state
    if client.is_classic:
        return oauth_error(
            "unauthorized_client",
            "Classic User OAuth apps cannot use the client_credentials grant; "
            "only Scoped OAuth apps get app tokens.",
        )
    requested = params.get("scope", "").split()
    accounts = [s for s in requested if s.startswith("as_account-")]
    others = [s for s in requested if not s.startswith("as_account-")]
    if len(accounts) != 1:
        return oauth_error(
            "invalid_request",
            "Invalid scope: include exactly one as_account-{region}.{subdomain}.",
        )
    region, _, subdomain = accounts[0][len("as_account-") :].partition(".")
    account = state.accounts[client.account_id]
    if (region, subdomain) != (account.region, account.subdomain):
        return oauth_error(
            "invalid_request",
            f"Invalid scope: {accounts[0]} is not the account that registered "
            f"this app.",
        )
    unknown = [s for s in others if s not in client.scopes]
    if unknown:
        return oauth_error("invalid_request", f"Invalid scope: {unknown[0]}.")
    grant = state.issue_grant(app=client, user=None, scopes=others)
    body = {
        "access_token": grant.access_token,
        "scope": " ".join([accounts[0], *others]),
        "token_type": "bearer",
        "expires_in": state.config.app_token_ttl,
    }
    return Response.json(body, headers=[("Cache-Control", "no-store")])


def _token_response(app, client: App, grant: Grant) -> Response:
    state = app.state
    body = {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "token_type": "bearer",
        "scope": " ".join(grant.scopes),
        "expires_in": state.token_ttls(client)[0],
        "id_token": id_token(app, client, grant),
    }
    return Response.json(body, headers=[("Cache-Control", "no-store")])


def id_token(app, client: App, grant: Grant) -> str:
    """Return the RS256 ID token with the claims of NOTES §1 / DD 07."""
    state = app.state
    user = state.users[grant.user_id]
    account = state.accounts[grant.account_id]
    now = int(state.now().timestamp())
    digest = hashlib.sha256(grant.access_token.encode()).digest()
    acr = f"acr:html-form:{REGION_NAMES[account.region].lower()}"
    claims = {
        "exp": now + 3600,
        "nbf": now,
        "jti": secrets.token_hex(16),
        "iss": issuer(app),
        "aud": [app.api_url(account.region), client.client_id],
        "sub": user.email,
        "auth_time": int(grant.auth_time.timestamp()),
        "iat": now,
        "purpose": "id",
        "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode(),
        "acr": acr,
        "delegation_id": grant.id,
        "account_id": account.id,
        "user_id": user.id,
        "azp": client.client_id,
        "amr": acr,
        "subdomain": account.subdomain,
        "region": REGION_NAMES[account.region],
        "sid": secrets.token_urlsafe(12),
    }
    return jwt.encode(
        claims, keys.signing_key(), algorithm="RS256", headers={"kid": keys.key_id()}
    )


# --- OIDC discovery ---


def discovery(app, page, request):
    base = app.base_url
    return Response.json(
        {
            "issuer": issuer(app),
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "jwks_uri": f"{base}{ISSUER_PATH}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
            ],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "scopes_supported": [OPENID, *known_scopes()],
        }
    )


def jwks(app, page, request):
    return Response.json(keys.jwks())


def _first(form: dict, name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


ROUTES = {
    "/": home,
    "/sign_in": sign_in,
    "/sign_out": sign_out,
    "/oauth/authorize": authorize,
    "/oauth/token": token,
    f"{ISSUER_PATH}/.well-known/openid-configuration": discovery,
    f"{ISSUER_PATH}/jwks": jwks,
}
