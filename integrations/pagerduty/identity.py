"""PagerDuty's token endpoint: the one place that posts OAuth grants.

Errors never carry the response body or any token: a body can hold tokens
under an unexpected key, and exception text ends up in logs.
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass

import requests
from django.conf import settings

from integrations.pagerduty.http import (
    BodyError,
    BodyTooLarge,
    read_body,
    timeout_total,
)

logger = logging.getLogger(__name__)

# OAuth error codes (RFC 6749 §5.2) worth telling apart; anything else is
# reported as "other" so arbitrary upstream text never reaches a page.
KNOWN_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
}
MAX_EXPIRES_IN = 10 * 365 * 86400
# A token answer is a few KB. The read timeout counts per socket read, so a
# server trickling its body would never trip it: the whole answer must
# arrive within the connect plus read timeout (SECURITY-TESTS T36).
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    token_type: str
    scope: str
    expires_in: int
    refresh_token: str = ""
    id_token: str = ""

    def __repr__(self):
        return f"TokenResponse(scope={self.scope!r}, expires_in={self.expires_in})"

    @property
    def scopes(self) -> list[str]:
        return [part for part in self.scope.split(" ") if part]


class TokenEndpointError(Exception):
    """The token endpoint refused, failed or answered something unusable.

    `kind` is "rejected" (a 4xx with an OAuth error), "unavailable" (5xx,
    timeout, connection failure) or "malformed" (an unusable 2xx).
    """

    def __init__(self, kind: str, *, status: int | None = None, error: str = ""):
        self.kind = kind
        self.status = status
        self.error = error
        super().__init__(f"PagerDuty token endpoint: {kind} ({status}, {error})")


def token_url() -> str:
    return f"{settings.PAGERDUTY_IDENTITY_URL}/oauth/token"


def request_token(
    *, grant_type: str, client_id: str, client_secret: str, **params: str
) -> TokenResponse:
    """Post a grant to PagerDuty's token endpoint and return the parsed reply."""
    data = {
        "grant_type": grant_type,
        "client_id": client_id,
        "client_secret": client_secret,
        **params,
    }
    timeout = settings.PAGERDUTY_TOKEN_TIMEOUT
    deadline = time.monotonic() + timeout_total(timeout)
    try:
        with requests.post(
            token_url(),
            data=data,
            headers={"Accept": "application/json"},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        ) as response:
            status = response.status_code
            body = _read_body(response, deadline=deadline)
    except requests.RequestException as exc:
        logger.warning("PagerDuty token endpoint unreachable: %s", type(exc).__name__)
        raise TokenEndpointError("unavailable") from None
    if status >= 500 or 300 <= status < 400:
        logger.warning("PagerDuty token endpoint answered %s", status)
        raise TokenEndpointError("unavailable", status=status)
    if status >= 400:
        error = _oauth_error(body)
        logger.info(
            "PagerDuty token endpoint refused %s: %s %s", grant_type, status, error
        )
        raise TokenEndpointError("rejected", status=status, error=error)
    return _parse(body, status=status)


def _read_body(response: requests.Response, *, deadline: float) -> bytes:
    """Return the body; raise TokenEndpointError if too large or too slow."""
    try:
        return read_body(response, deadline=deadline, max_bytes=MAX_BODY)
    except BodyTooLarge:
        logger.warning("PagerDuty token endpoint answer over %s bytes", MAX_BODY)
        raise TokenEndpointError("malformed", status=response.status_code) from None
    except BodyError as exc:
        logger.warning("PagerDuty token endpoint answer: %s", exc)
        raise TokenEndpointError("unavailable", status=response.status_code) from None


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


def _oauth_error(body: bytes) -> str:
    try:
        error = _json(body).get("error")
    except AttributeError:
        return "other"
    # PagerDuty's REST errors nest an object under "error"; only a known
    # OAuth error string counts.
    return error if isinstance(error, str) and error in KNOWN_ERRORS else "other"


def _parse(data: bytes, *, status: int) -> TokenResponse:
    body = _json(data)
    if not isinstance(body, dict):
        raise TokenEndpointError("malformed", status=status)
    access_token = body.get("access_token")
    token_type = body.get("token_type")
    expires_in = _expires_in(body.get("expires_in"))
    if (
        not isinstance(access_token, str)
        or not access_token
        or not isinstance(token_type, str)
        or token_type.lower() != "bearer"
        or expires_in is None
    ):
        raise TokenEndpointError("malformed", status=status)
    return TokenResponse(
        access_token=access_token,
        token_type=token_type.lower(),
        scope=_text(body.get("scope")),
        expires_in=expires_in,
        refresh_token=_text(body.get("refresh_token")),
        id_token=_text(body.get("id_token")),
    )


def _expires_in(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_EXPIRES_IN:
        return value
    return None


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def client_credentials_token(
    *,
    client_id: str,
    client_secret: str,
    region: str,
    subdomain: str,
    scopes: list[str],
) -> TokenResponse:
    """Request an app token for the account `<region>.<subdomain>`."""
    scope = " ".join([f"as_account-{region}.{subdomain}", *scopes])
    return request_token(
        grant_type="client_credentials",
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
    )


def authorization_code_token(
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> TokenResponse:
    """Exchange an authorization code (with its PKCE verifier) for tokens."""
    return request_token(
        grant_type="authorization_code",
        client_id=client_id,
        client_secret=client_secret,
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
    )


def refresh_token_grant(
    *, client_id: str, client_secret: str, refresh_token: str
) -> TokenResponse:
    """Trade a refresh token for new tokens; PagerDuty rotates both."""
    return request_token(
        grant_type="refresh_token",
        client_id=client_id,
        client_secret=client_secret,
        refresh_token=refresh_token,
    )


def client_authentication_check(
    *, client_id: str, client_secret: str, redirect_uri: str
) -> str:
    """Return the token endpoint's OAuth error for a code that cannot exist.

    Classic apps get no app token, so their Client ID and secret are
    checked with an authorization_code request carrying a random code:
    RFC 6749 §4.1.3 authenticates the client before it looks at the code,
    so `invalid_grant` means the credentials were accepted and
    `invalid_client` that they were not. PagerDuty documents neither
    answer (NOTES §1 "Token endpoint error responses"). Raise
    TokenEndpointError when PagerDuty is unavailable or answers 2xx.
    """
    try:
        request_token(
            grant_type="authorization_code",
            client_id=client_id,
            client_secret=client_secret,
            code=f"portal-credentials-check-{secrets.token_urlsafe(16)}",
            redirect_uri=redirect_uri,
            code_verifier=secrets.token_urlsafe(48),
        )
    except TokenEndpointError as exc:
        if exc.kind == "rejected":
            return exc.error or "other"
        raise
    raise TokenEndpointError("malformed", status=200)
