"""The authorization flow driven through Django's test client (no server)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.urls import reverse

from tests.gateway.harness import LOOPBACK_CALLBACK, SCOPES, forms_of, pkce_pair


def register(client, *, address="10.0.0.1", **body):
    document = {
        "client_name": "Test agent",
        "redirect_uris": [LOOPBACK_CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **body,
    }
    return client.post(
        reverse("oauth2_provider:dcr-register"),
        data=json.dumps(document),
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def authorize_path(client_id: str, challenge: str, **overrides) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": LOOPBACK_CALLBACK,
        "scope": SCOPES,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": f"{settings.PORTAL_BASE_URL}/mcp",
        **overrides,
    }
    query = {key: value for key, value in query.items() if value is not None}
    return f"{reverse('oauth2_provider:authorize')}?{urlencode(query)}"


def consent_fields(response) -> dict:
    form = next(
        f for f in forms_of(response.content.decode()) if f["id"] == "consent-form"
    )
    return form["fields"]


def location_query(response) -> dict[str, str]:
    query = parse_qs(urlsplit(response["Location"]).query)
    return {key: values[0] for key, values in query.items()}


@dataclass
class Issued:
    client_id: str
    access: str
    refresh: str
    body: dict
    verifier: str


def new_client_id(client) -> str:
    response = register(client)
    assert response.status_code == 201, response.content
    return response.json()["client_id"]


def obtain_code(client, client_id, *, tenant, read_only=False, **overrides):
    """Consent as the signed-in user; return (code, verifier, redirect query)."""
    verifier, challenge = pkce_pair()
    path = authorize_path(client_id, challenge, **overrides)
    page = client.get(path)
    assert page.status_code == 200, page.content[:2000]
    data = {**consent_fields(page), "tenant": str(tenant.pk), "allow": "on"}
    if read_only:
        data["read_only"] = "on"
    answer = client.post(path, data)
    assert answer.status_code == 302, answer.content[:2000]
    query = location_query(answer)
    return query["code"], verifier, query


def exchange(client, client_id, code, verifier, **extra):
    return client.post(
        reverse("oauth2_provider:token"),
        {
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": LOOPBACK_CALLBACK,
            **extra,
        },
    )


def refresh(client, client_id, token):
    return client.post(
        reverse("oauth2_provider:token"),
        {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": token},
    )


def issue(client, *, tenant, read_only=False, client_id=None) -> Issued:
    """Register (unless given a client), consent, exchange: return the tokens."""
    client_id = client_id or new_client_id(client)
    code, verifier, _ = obtain_code(
        client, client_id, tenant=tenant, read_only=read_only
    )
    response = exchange(client, client_id, code, verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    return Issued(
        client_id, body["access_token"], body["refresh_token"], body, verifier
    )
