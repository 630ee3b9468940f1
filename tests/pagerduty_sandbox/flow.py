"""Drive the sandbox's sign-in and consent pages the way a browser would."""

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlsplit

import requests

INPUT_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    return {name: unescape(value) for name, value in INPUT_RE.findall(html)}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_in_session(sandbox, email="alice@acme.example", password="sandbox"):  # noqa: S107
    session = requests.Session()
    page = session.get(f"{sandbox.url}/sign_in", timeout=5)
    fields = hidden_fields(page.text)
    response = session.post(
        f"{sandbox.url}/sign_in",
        data={**fields, "email": email, "password": password},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 303, response.text
    return session


def authorize_params(sandbox, challenge: str, **overrides) -> dict:
    demo = sandbox.demo_app
    params = {
        "client_id": demo.client_id,
        "redirect_uri": demo.redirect_uris[0],
        "response_type": "code",
        "scope": "incidents.read incidents.write services.read",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-123",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def decide(session, sandbox, params: dict, decision: str = "approve"):
    """Open the consent page for `params` and press Approve or Deny."""
    consent = session.get(
        f"{sandbox.url}/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=5,
    )
    assert consent.status_code == 200, consent.text
    fields = hidden_fields(consent.text)
    return session.post(
        f"{sandbox.url}/oauth/authorize",
        data={**fields, "decision": decision},
        allow_redirects=False,
        timeout=5,
    )


def redirect_query(response) -> dict[str, str]:
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def obtain_code(sandbox, email="alice@acme.example", **overrides):
    """Return (code, verifier) from a completed consent."""
    verifier, challenge = pkce_pair()
    session = signed_in_session(sandbox, email)
    params = authorize_params(sandbox, challenge, **overrides)
    response = decide(session, sandbox, params)
    return redirect_query(response)["code"], verifier


def exchange(sandbox, auth_code: str, verifier: str, **overrides):
    demo = sandbox.demo_app
    data = {
        "grant_type": "authorization_code",
        "client_id": demo.client_id,
        "client_secret": demo.client_secret,
        "code": auth_code,
        "redirect_uri": demo.redirect_uris[0],
        "code_verifier": verifier,
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return requests.post(f"{sandbox.url}/oauth/token", data=data, timeout=5)
