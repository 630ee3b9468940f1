"""A fake PagerDuty identity host for connect tests: keys, ID tokens, replies.

Everything goes through `responses` at the `requests` boundary; the RSA key
is generated here, so ID tokens are signed exactly as PagerDuty signs them.
"""

import json
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse

from integrations.models import Membership
from tests.factories import MembershipFactory, UserFactory

IDENTITY = "https://identity.pagerduty.test"
API = "https://api.pagerduty.test"
EU_API = "https://api.eu.pagerduty.test"
TOKEN_URL = f"{IDENTITY}/oauth/token"
AUTHORIZE_URL = f"{IDENTITY}/oauth/authorize"
JWKS_URL = f"{IDENTITY}/global/oauth/anonymous/jwks"
ISSUER = f"{IDENTITY}/global/oauth/anonymous"
ME_URL = f"{API}/users/me"
CLIENT_ID = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
ACCESS = "CANARY-AT-pdus+_0XBPWQQ_connect"
REFRESH = "CANARY-RT-pdus+_1XBPWQQ_connect"
KID = "test-key-1"
USER = {
    "id": "PUSER01",
    "type": "user",
    "name": "Alice Admin",
    "email": "alice@acme.example",
}


@pytest.fixture(scope="session")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_for(private_key, kid=KID) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}


@dataclass
class FakeIdentity:
    """Builds PagerDuty's replies; `mock_*` register them on `responses`."""

    rsps: object
    key: object
    claims: dict = field(default_factory=dict)

    def id_token(self, key=None, headers=None, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": [API, CLIENT_ID],
            "sub": "PUSER01",
            "azp": CLIENT_ID,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "account_id": "PACCT01",
            "user_id": "PUSER01",
            "subdomain": "acme",
            "region": "UnitedStates",
            "delegation_id": "PDELEG01",
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(
            claims,
            key or self.key,
            algorithm="RS256",
            headers={"kid": KID, **(headers or {})},
        )

    def token_body(self, **overrides) -> dict:
        body = {
            "access_token": ACCESS,
            "refresh_token": REFRESH,
            "token_type": "bearer",
            "scope": "openid incidents.read incidents.write services.read",
            "expires_in": 86400,
            "id_token": self.id_token(),
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    def mock_token(self, status=200, match=(), **body):
        kwargs = {"json": self.token_body(**body)} if status == 200 else body
        return self.rsps.post(TOKEN_URL, status=status, match=list(match), **kwargs)

    def mock_jwks(self, key=None):
        return self.rsps.get(JWKS_URL, json=jwks_for(key or self.key))

    def mock_me(self, url=ME_URL, status=200, user=None):
        return self.rsps.get(url, status=status, json={"user": user or USER})

    def mock_success(self, **token_overrides):
        self.mock_token(**token_overrides)
        self.mock_jwks()
        self.mock_me()


@pytest.fixture
def fake_identity(mocked_responses, signing_key):
    return FakeIdentity(rsps=mocked_responses, key=signing_key)


@pytest.fixture
def tenant_admin_client(client, tenant_admin):
    client.force_login(tenant_admin)
    return client


@pytest.fixture
def second_admin(tenant):
    return MembershipFactory(
        tenant=tenant, user=UserFactory(username="carol"), role=Membership.Role.ADMIN
    ).user


def start_connect(client, tenant) -> dict:
    """POST Connect PagerDuty; return the authorize URL's query parameters."""
    response = client.post(reverse("integrations:tenant_connect", args=[tenant.pk]))
    assert response.status_code == 302, response.content[:500]
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == AUTHORIZE_URL
    return parse_qs(location.query, keep_blank_values=True)


def callback(client, **params):
    return client.get(reverse("pagerduty_callback"), params)


OLD_ACCESS = "CANARY-AT-existing-access"
OLD_REFRESH = "CANARY-RT-existing-refresh"


@pytest.fixture
def connection(tenant, pagerduty_client):
    """The tenant's existing active connection, expiring in a day."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import Connection

    return Connection.objects.create(
        tenant=tenant,
        oauth_client=pagerduty_client,
        account_id="PACCT01",
        subdomain="acme",
        api_url=API,
        pd_user_id="PUSER01",
        pd_user_name="Alice Admin",
        access_token=OLD_ACCESS,
        refresh_token=OLD_REFRESH,
        access_expires_at=timezone.now() + timedelta(days=1),
        granted_scopes="openid incidents.read incidents.write services.read",
        requested_scopes=pagerduty_client.scopes,
    )


def connection_snapshot(tenant) -> list[tuple]:
    """Return every stored field of the tenant's connections, for comparison."""
    from integrations.models import Connection

    return [
        (
            c.pk,
            c.status,
            c.access_token,
            c.refresh_token,
            c.access_expires_at,
            c.account_id,
            c.granted_scopes,
            c.updated_at,
        )
        for c in Connection.objects.filter(tenant=tenant).order_by("pk")
    ]


@pytest.fixture
def seeded_environments(transactional_db):
    """Recreate the migration-seeded environments a flushed database lost.

    Transactional tests flush the database afterwards, taking the data
    migration's rows with them; tests that need them request this first.
    """
    from integrations.models import Environment

    for position, (slug, name) in enumerate(
        [
            ("development", "Development"),
            ("staging", "Staging"),
            ("production", "Production"),
        ]
    ):
        Environment.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )
