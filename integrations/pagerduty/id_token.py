"""Verify PagerDuty's OpenID Connect ID token and read the account from it.

PagerDuty signs ID tokens with RS256; the keys are published at
`{identity}/global/oauth/anonymous/jwks` and may rotate, so they are fetched
for every connect (NOTES §1 "ID token").
"""

from dataclasses import dataclass

import jwt
import requests
from allauth.socialaccount.adapter import get_adapter
from django.conf import settings

from integrations.pagerduty.flow import ConnectError, Reason
from integrations.validators import SUBDOMAIN_RE

ISSUER_PATH = "/global/oauth/anonymous"
# Clock skew tolerated on exp/nbf/iat, in seconds.
LEEWAY = 60


@dataclass(frozen=True)
class Identity:
    account_id: str
    subdomain: str
    region: str
    api_url: str
    user_id: str
    delegation_id: str


def jwks_url() -> str:
    return f"{settings.PAGERDUTY_IDENTITY_URL}{ISSUER_PATH}/jwks"


def accepted_issuers() -> list[str]:
    """Return both documented issuers of the configured identity host.

    The docs name `https://identity.pagerduty.com/global/oauth/anonymous`,
    while the docs' own example token and the live discovery document use
    `https://app.pagerduty.com/global/oauth/anonymous` (NOTES §1).
    """
    identity = settings.PAGERDUTY_IDENTITY_URL
    issuers = [f"{identity}{ISSUER_PATH}"]
    scheme, _, host = identity.partition("://")
    if host.startswith("identity."):
        issuers.append(f"{scheme}://app.{host.removeprefix('identity.')}{ISSUER_PATH}")
    return issuers


def api_hosts() -> dict[str, str]:
    """Return the allowed REST API hosts by region, as they appear in `aud`."""
    return {
        settings.PAGERDUTY_API_URL: "us",
        settings.PAGERDUTY_EU_API_URL: "eu",
    }


def verify(token: str, *, client_id: str) -> Identity:
    """Check the ID token's signature, audience, issuer and expiry.

    Raise `ConnectError(Reason.ID_TOKEN)` for anything unverifiable.
    """
    if not token:
        raise ConnectError(Reason.ID_TOKEN)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise ConnectError(Reason.ID_TOKEN) from None
    key = _signing_key(kid)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=accepted_issuers(),
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        raise ConnectError(Reason.ID_TOKEN) from None
    return _identity(claims, client_id=client_id)


def _signing_key(kid):
    try:
        with get_adapter().get_requests_session() as session:
            response = session.get(jwks_url(), headers={"Accept": "application/json"})
            response.raise_for_status()
            jwks = jwt.PyJWKSet.from_dict(response.json())
    except (requests.RequestException, ValueError, TypeError, jwt.PyJWTError):
        raise ConnectError(Reason.ID_TOKEN) from None
    for key in jwks.keys:
        if key.key_id == kid and key.key_type == "RSA":
            return key.key
    raise ConnectError(Reason.ID_TOKEN)


def _identity(claims: dict, *, client_id: str) -> Identity:
    audience = claims.get("aud")
    audience = [audience] if isinstance(audience, str) else list(audience or [])
    hosts = api_hosts()
    api_urls = [value for value in audience if value in hosts]
    azp = claims.get("azp")
    account_id = claims.get("account_id")
    subdomain = claims.get("subdomain")
    user_id = claims.get("user_id")
    if (
        len(api_urls) != 1
        or (azp is not None and azp != client_id)
        or not _short_text(account_id, 40)
        or not _short_text(subdomain, 63)
        or not SUBDOMAIN_RE.fullmatch(subdomain.lower())
        or not _short_text(user_id, 40)
    ):
        raise ConnectError(Reason.ID_TOKEN)
    delegation_id = claims.get("delegation_id")
    return Identity(
        account_id=account_id,
        subdomain=subdomain.lower(),
        region=hosts[api_urls[0]],
        api_url=api_urls[0],
        user_id=user_id,
        delegation_id=delegation_id if _short_text(delegation_id) else "",
    )


def _short_text(value, limit: int = 100) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit
