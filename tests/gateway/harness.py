"""The gateway served for real: uvicorn on 127.0.0.1, a browser stand-in.

`GatewayServer` runs `portal.serving.build_application()` under uvicorn in
a thread of the test process (so SQLite's shared in-memory test database
and the settings fixture apply). `Browser` signs in and answers the consent
page with `requests`, as a person would with a browser.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
import uvicorn

from portal.serving import build_application

SCOPES = "mcp:read mcp:write"
LOOPBACK_CALLBACK = "http://127.0.0.1:33418/callback"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GatewayServer:
    """uvicorn serving the one ASGI app in a background thread."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def mcp_url(self) -> str:
        return f"{self.url}/mcp"

    def start(self) -> GatewayServer:
        config = uvicorn.Config(
            build_application(),
            host="127.0.0.1",
            port=self.port,
            lifespan="on",
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the gateway did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(15)


class _Forms(HTMLParser):
    """Collect each form's action and named inputs/selects (first option)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": attrs.get("action") or "",
                    "fields": {},
                    "id": attrs.get("id", ""),
                }
            )
        elif not self.forms:
            return
        elif (
            tag == "input"
            and attrs.get("name")
            and attrs.get("type")
            not in (
                "submit",
                "checkbox",
            )
        ):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs.get("name")
        elif tag == "option" and self._select:
            fields = self.forms[-1]["fields"]
            if self._select not in fields or "selected" in attrs:
                fields[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Browser:
    """A person's browser: cookies, sign-in, the consent page."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.session.get(
            urljoin(self.base_url, url), allow_redirects=False, timeout=20, **kwargs
        )

    def post(self, url: str, data: dict, **kwargs) -> requests.Response:
        return self.session.post(
            urljoin(self.base_url, url),
            data=data,
            allow_redirects=False,
            timeout=20,
            **kwargs,
        )

    def follow(self, response: requests.Response) -> requests.Response:
        """Follow portal redirects; stop at one leaving the portal (the client's)."""
        while response.status_code in (301, 302, 303):
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(self.base_url):
                return response
            response = self.get(location)
        return response

    def sign_in(
        self, login_page: requests.Response, username: str, password: str
    ) -> requests.Response:
        form = next(f for f in forms_of(login_page.text) if "password" in f["fields"])
        data = {**form["fields"], "login": username, "password": password}
        return self.post(login_page.url, data)

    def consent(
        self,
        authorize_url: str,
        *,
        username: str,
        password: str,
        tenant_id: int | None = None,
        read_only: bool = False,
        allow: bool = True,
    ) -> requests.Response:
        """Open an authorize URL, sign in if asked, answer the consent page.

        Returns the final response: the redirect to the client, or the page
        the portal showed instead.
        """
        page = self.follow(self.get(authorize_url))
        if "/accounts/login/" in page.url:
            page = self.follow(self.sign_in(page, username, password))
        if page.status_code != 200:
            return page
        consent = next(
            (f for f in forms_of(page.text) if f["id"] == "consent-form"), None
        )
        if consent is None:
            return page
        data = dict(consent["fields"])
        if tenant_id is not None:
            data["tenant"] = str(tenant_id)
        if read_only:
            data["read_only"] = "on"
        if allow:
            data["allow"] = "on"
        return self.post(page.url, data)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def register(
    base_url: str, *, redirect_uris=(LOOPBACK_CALLBACK,), name="Test agent", **extra
) -> requests.Response:
    body = {
        "client_name": name,
        "redirect_uris": list(redirect_uris),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **extra,
    }
    return requests.post(f"{base_url}/o/register/", json=body, timeout=20)


def authorize_url(
    base_url: str,
    client_id: str,
    challenge: str,
    *,
    state="st-1",
    redirect_uri=LOOPBACK_CALLBACK,
    scope=SCOPES,
    resource=None,
    method="S256",
) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": method,
        "resource": resource or f"{base_url}/mcp",
    }
    return f"{base_url}/o/authorize/?{urlencode(query)}"


def redirect_params(response: requests.Response) -> dict[str, str]:
    location = response.headers["Location"]
    return {
        key: values[0] for key, values in parse_qs(urlsplit(location).query).items()
    }


def exchange(
    base_url: str,
    client_id: str,
    code: str,
    verifier: str,
    redirect_uri=LOOPBACK_CALLBACK,
) -> requests.Response:
    return requests.post(
        f"{base_url}/o/token/",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
            "resource": f"{base_url}/mcp",
        },
        timeout=20,
    )


def refresh(base_url: str, client_id: str, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{base_url}/o/token/",
        data={
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": refresh_token,
        },
        timeout=20,
    )


class CallbackServer:
    """An agent's local callback (RFC 8252 loopback redirect), really listening."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                received.append(self.path)
                body = b"You can close this window."
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def query(self) -> dict[str, str]:
        """Return the query of the redirect received (not the favicon's)."""
        path = next(p for p in reversed(self.received) if p.startswith("/callback?"))
        query = parse_qs(urlsplit(path).query)
        return {key: values[0] for key, values in query.items()}
