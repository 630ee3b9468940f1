"""Minimal request/response objects over WSGI, and the signed cookie."""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

MAX_BODY = 1024 * 1024
COOKIE_NAME = "pd_sandbox_session"
# The sandbox shares a host name with the portal (cookies ignore ports), so
# its pages get their own headers and never rely on the portal's cookies.
PAGE_HEADERS = [
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    (
        "Content-Security-Policy",
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
]


class BadRequest(Exception):
    """The request itself is unreadable (size, encoding)."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str]

    @classmethod
    def from_environ(cls, environ) -> "Request":
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            raise BadRequest("body too large")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is ignored
            cookie = SimpleCookie()
        path = environ.get("PATH_INFO", "/")
        # wsgiref decodes the path as latin-1; PagerDuty paths are ASCII.
        path = path.encode("latin-1").decode("utf-8", "replace") or "/"
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=path,
            query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
            headers=headers,
            body=body,
            cookies={name: morsel.value for name, morsel in cookie.items()},
        )

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def form(self) -> dict[str, list[str]]:
        if self.content_type != "application/x-www-form-urlencoded":
            return {}
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("form body is not UTF-8") from None
        return parse_qs(text, keep_blank_values=True)

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("body is not JSON") from None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, data, status: int = 200, headers=()) -> "Response":
        body = b"" if data is None else json.dumps(data).encode()
        return cls(
            status=status,
            body=body,
            headers=[("Content-Type", "application/json; charset=utf-8"), *headers],
        )

    @classmethod
    def html(cls, text: str, status: int = 200) -> "Response":
        return cls(
            status=status,
            body=text.encode(),
            headers=[("Content-Type", "text/html; charset=utf-8"), *PAGE_HEADERS],
        )

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> "Response":
        return cls(
            status=status,
            headers=[("Location", location), *PAGE_HEADERS],
        )

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


class CookieSigner:
    """Sign small JSON payloads with a per-process random key (HMAC-SHA256)."""

    def __init__(self, key: bytes):
        self.key = key

    def dumps(self, payload: dict) -> str:
        data = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
        return f"{data}.{self._mac(data)}"

    def loads(self, value: str) -> dict | None:
        data, _, mac = value.rpartition(".")
        if not data or not hmac.compare_digest(mac, self._mac(data)):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(data.encode()))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    def _mac(self, data: str) -> str:
        return hmac.new(self.key, data.encode(), hashlib.sha256).hexdigest()


def session_cookie(value: str, *, max_age: int | None = None) -> tuple[str, str]:
    parts = [f"{COOKIE_NAME}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return ("Set-Cookie", "; ".join(parts))
