"""PagerDuty REST API v2 client over a keep-alive session per thread and host.

Every call has a timeout. Idempotent calls are retried with backoff on
network errors and 5xx. A 429 cools the connection down for every client
of it (`cooldown.py`): a page waits at most 2 s, a background client
(`background=True`) sleeps out the reset, with jitter, up to 3 times.
Errors and logs never carry tokens, headers or bodies we sent. A client is
not thread-safe: give each worker its own. Clients without an injected
session share their thread's pooled session for the API host
(`pooled_session`), so a worker reuses its TLS connection across requests.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from requests.cookies import RequestsCookieJar

from integrations.exceptions import (
    PagerDutyAuthError,
    PagerDutyError,
    PagerDutyOffsetCapReached,
    PagerDutyRateLimited,
    PagerDutyUnavailable,
)
from integrations.pagerduty.cooldown import (
    MAX_ROUNDS,
    Cooldown,
    RateLimitGate,
    no_header_wait,
    token_key,
)
from integrations.pagerduty.http import (
    BodyError,
    BodyTooLarge,
    read_body,
    timeout_total,
)

if TYPE_CHECKING:
    from integrations.models import Connection

logger = logging.getLogger(__name__)

ACCEPT = "application/vnd.pagerduty+json;version=2"
USER_AGENT = "pagerduty-portal"
MAX_PAGE_SIZE = 100
# https://developer.pagerduty.com/docs/pagination: offset+limit <= 10000.
OFFSET_CAP = 10_000
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
# PagerDuty's budget is per minute; a 429 without headers may last that long.
DEFAULT_RETRY_AFTER = 60
# Longest a call waits on 429s in all: a page (SECURITY-TESTS T34), or a
# background job sleeping out up to three per-minute resets.
INTERACTIVE_RATE_LIMIT_WAIT = 2.0
BACKGROUND_RATE_LIMIT_WAIT = 300.0
# Background sleeps are stretched by up to this share, so callers that
# waited for the same reset do not all wake at once.
RATE_LIMIT_JITTER = 0.1
# How often a caller looks whether another caller's probe was answered.
PROBE_POLL = 1.0
MAX_MESSAGE_LENGTH = 500
# A page of 100 incidents with includes is a few hundred KB; anything near
# this is not an answer worth holding in a worker's memory (T38).
MAX_BODY = 16 * 1024 * 1024

UNAVAILABLE = "PagerDuty is unavailable"
CAP_MESSAGE = (
    "PagerDuty lists at most 10,000 results for one query; "
    "narrow the date window or add filters."
)

# Operations whose OpenAPI description takes a `From` header: required on
# all but POST /escalation_policies, where it only feeds change tracking.
_ID = r"[^/]+"
FROM_OPERATIONS = tuple(
    (method, re.compile(pattern))
    for method, pattern in (
        ("POST", r"/incidents"),
        ("PUT", r"/incidents"),
        ("PUT", rf"/incidents/{_ID}"),
        ("PUT", rf"/incidents/{_ID}/alerts(/{_ID})?"),
        ("PUT", rf"/incidents/{_ID}/merge"),
        ("POST", rf"/incidents/{_ID}/notes"),
        ("PUT", rf"/incidents/{_ID}/notes/{_ID}"),
        ("POST", rf"/incidents/{_ID}/snooze"),
        ("POST", rf"/incidents/{_ID}/status_updates"),
        ("PUT", rf"/log_entries/{_ID}/channel"),
        ("POST", r"/maintenance_windows"),
        ("POST", r"/users"),
        ("POST", r"/escalation_policies"),
    )
)

_PATH = re.compile(r"(/[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*)+")
_HEADER_VALUE = re.compile(r"[!-~]+")
_SCOPE = re.compile(r"[a-z][a-z0-9_]*(:[a-z0-9_]+)?\.(read|write)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class RateLimit:
    """The `ratelimit-*` headers of the last response that had them."""

    limit: int | None
    remaining: int | None
    reset: int | None


@dataclass(frozen=True)
class Page:
    """One page of a classic-paginated list."""

    items: list[dict[str, Any]]
    offset: int
    limit: int
    more: bool
    total: int | None = None

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.items)


_pooled = threading.local()


class _NoCookies(RequestsCookieJar):
    """A jar that keeps nothing: tenants share a pooled session, and no
    cookie of one tenant's answer may be sent with another's request."""

    def __init__(self):
        super().__init__(policy=DefaultCookiePolicy(allowed_domains=[]))

    def set_cookie(self, cookie, *args, **kwargs):
        return None


def pooled_session(api_url: str) -> requests.Session:
    """Return this thread's keep-alive session for an API host.

    requests.Session is not thread-safe, so each thread has its own; it
    keeps no cookies, and clients send their Authorization per request.
    """
    sessions = getattr(_pooled, "sessions", None)
    if sessions is None:
        sessions = _pooled.sessions = {}
    session = sessions.get(api_url)
    if session is None:
        session = sessions[api_url] = requests.Session()
        session.cookies = _NoCookies()
    return session


def api_url_for_region(region: str) -> str:
    """Return the configured REST API host of a service region."""
    if region == "eu":
        return settings.PAGERDUTY_EU_API_URL
    return settings.PAGERDUTY_API_URL


def needs_from(method: str, path: str) -> bool:
    """Return whether PagerDuty takes a `From` header on this operation."""
    method = method.upper()
    return any(
        method == op_method and pattern.fullmatch(path)
        for op_method, pattern in FROM_OPERATIONS
    )


class PagerDutyClient:
    """Call PagerDuty's REST API v2 on behalf of one connection.

    On a 401 the client calls `on_unauthorized()`; when it returns True (it
    obtained a fresh token) the request is sent once more.
    """

    def __init__(
        self,
        *,
        api_url: str,
        token_provider: Callable[[], str],
        from_email: str = "",
        on_unauthorized: Callable[[], bool | None] | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] | None = None,
        max_retries: int = 2,
        backoff: float = 0.5,
        background: bool = False,
        max_rate_limit_wait: float | None = None,
        rate_limit_key: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_url.startswith(("https://", "http://")):
            raise ValueError("api_url must be an http(s) URL")
        if from_email and not _HEADER_VALUE.fullmatch(from_email):
            raise ValueError("from_email is not usable as a header value")
        if max_rate_limit_wait is None:
            max_rate_limit_wait = (
                BACKGROUND_RATE_LIMIT_WAIT
                if background
                else INTERACTIVE_RATE_LIMIT_WAIT
            )
        if max_retries < 0 or backoff < 0 or max_rate_limit_wait < 0:
            raise ValueError("retry settings must not be negative")
        self.api_url = api_url.rstrip("/")
        self.token_provider = token_provider
        self.from_email = from_email
        self.on_unauthorized = on_unauthorized
        self.session = session if session is not None else pooled_session(self.api_url)
        self.timeout = settings.PAGERDUTY_TIMEOUT if timeout is None else timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.background = background
        self.max_rate_limit_wait = max_rate_limit_wait
        # A page probes once; a background job retries up to 3 times.
        self.rate_limit_retries = MAX_ROUNDS if background else 1
        self.rate_limit_key = rate_limit_key
        self.sleep = sleep
        self.rate_limit: RateLimit | None = None

    @classmethod
    def for_connection(
        cls,
        connection: Connection,
        *,
        token_provider: Callable[[], str],
        on_unauthorized: Callable[[], bool | None] | None = None,
        **options: Any,
    ) -> PagerDutyClient:
        """Return a client for a connection's API host and PagerDuty user."""
        if connection.pk is not None:
            options.setdefault("rate_limit_key", f"connection:{connection.pk}")
        return cls(
            api_url=connection.api_url or api_url_for_region(connection.region),
            from_email=connection.pd_user_email,
            token_provider=token_provider,
            on_unauthorized=on_unauthorized,
            **options,
        )

    def close(self) -> None:
        """Leave the session open: it is injected or this thread's pooled one."""

    def __enter__(self) -> PagerDutyClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- Plain calls -----------------------------------------------------

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        required_scope: str = "",
    ) -> dict[str, Any] | list[Any]:
        """Return the JSON body of a GET."""
        return self.request("GET", path, params=params, required_scope=required_scope)

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        required_scope: str = "",
    ) -> dict[str, Any] | list[Any]:
        """Return the JSON body of a POST (never retried, except after a 429)."""
        return self.request(
            "POST", path, params=params, json=json, required_scope=required_scope
        )

    def put(
        self,
        path: str,
        json: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        required_scope: str = "",
    ) -> dict[str, Any] | list[Any]:
        """Return the JSON body of a PUT."""
        return self.request(
            "PUT", path, params=params, json=json, required_scope=required_scope
        )

    def delete(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        required_scope: str = "",
    ) -> dict[str, Any] | list[Any]:
        """Return the JSON body of a DELETE ({} for PagerDuty's usual 204)."""
        return self.request(
            "DELETE", path, params=params, required_scope=required_scope
        )

    # --- Wrapped entities ------------------------------------------------

    def get_entity(
        self,
        path: str,
        key: str,
        *,
        params: Mapping[str, Any] | None = None,
        required_scope: str = "",
    ) -> dict[str, Any]:
        """Return the entity PagerDuty wraps under `key` (e.g. "incident")."""
        body = self.get(path, params, required_scope=required_scope)
        return _unwrap(body, key)

    def create_entity(
        self, path: str, key: str, data: Mapping[str, Any], *, required_scope: str = ""
    ) -> dict[str, Any]:
        """POST `{key: data}` and return the created entity, unwrapped."""
        body = self.post(path, {key: dict(data)}, required_scope=required_scope)
        return _unwrap(body, key)

    def update_entity(
        self, path: str, key: str, data: Mapping[str, Any], *, required_scope: str = ""
    ) -> dict[str, Any]:
        """PUT `{key: data}` and return the updated entity, unwrapped."""
        body = self.put(path, {key: dict(data)}, required_scope=required_scope)
        return _unwrap(body, key)

    # --- Classic pagination ----------------------------------------------

    def list_page(
        self,
        path: str,
        *,
        key: str,
        params: Mapping[str, Any] | None = None,
        offset: int = 0,
        limit: int = 25,
        total: bool = False,
        required_scope: str = "",
    ) -> Page:
        """Return one page of a list; PagerDuty counts `total` only on request.

        Raises PagerDutyOffsetCapReached without calling PagerDuty when
        offset + limit would pass 10,000, which PagerDuty refuses.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        if offset < 0:
            raise ValueError("offset must not be negative")
        if offset + limit > OFFSET_CAP:
            raise PagerDutyOffsetCapReached(CAP_MESSAGE, offset=offset, limit=limit)
        query = {**(params or {}), "offset": offset, "limit": limit}
        if total:
            query["total"] = True
        body = self.get(path, query, required_scope=required_scope)
        return _page(body, key=key, offset=offset, limit=limit)

    def iter_all(
        self,
        path: str,
        *,
        key: str,
        params: Mapping[str, Any] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        required_scope: str = "",
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a list, page by page.

        Once the first 10,000 items are yielded and PagerDuty says there
        are more, raises PagerDutyOffsetCapReached rather than stopping as
        if the list were complete.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        offset = 0
        while True:
            limit = min(page_size, OFFSET_CAP - offset)
            if limit < 1:
                raise PagerDutyOffsetCapReached(
                    CAP_MESSAGE, offset=offset, limit=page_size
                )
            page = self.list_page(
                path,
                key=key,
                params=params,
                offset=offset,
                limit=limit,
                required_scope=required_scope,
            )
            yield from page.items
            if not page.more:
                return
            if not page.items:
                logger.warning(
                    "PagerDuty GET %s said more but sent nothing at offset %s",
                    path,
                    offset,
                )
                return
            offset = page.next_offset

    # --- The one place that talks to PagerDuty ---------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        required_scope: str = "",
    ) -> dict[str, Any] | list[Any]:
        """Send a call and return its JSON body ({} when there is none).

        The body is an object, or an array for the few operations that
        answer one result per item.

        `required_scope` names the scope the operation needs, for the
        message of a 403. Raises a PagerDutyError subclass on failure.
        """
        method = method.upper()
        url = self._url(path, params)
        retryable = method in IDEMPOTENT_METHODS
        attempt = failures = 0
        retried_unauthorized = False
        wait = _RateLimitWait(self)
        # One deadline for every attempt of the call, so retries cannot
        # stretch a page past what one slow answer may take (T36).
        deadline = time.monotonic() + timeout_total(self.timeout)
        while True:
            attempt += 1
            token = self._token()
            if wait.gate is None:
                wait.gate = RateLimitGate(
                    self.rate_limit_key or token_key(self.api_url, token)
                )
            if wait.probing is None:
                deadline += wait.take_turn(wait.gate.current())
            try:
                status, headers, body = self._send(
                    method, url, path, token, json, deadline=deadline
                )
            except (requests.ConnectionError, requests.Timeout, BodyError) as exc:
                failures += 1
                logger.warning(
                    "PagerDuty %s %s failed: %s (attempt %s)",
                    method,
                    path,
                    type(exc).__name__,
                    attempt,
                )
                delay = self._backoff_delay(failures)
                if (
                    retryable
                    and failures <= self.max_retries
                    and not isinstance(exc, BodyTooLarge)
                    and time.monotonic() + delay < deadline
                ):
                    self.sleep(delay)
                    continue
                if isinstance(exc, BodyTooLarge):
                    raise PagerDutyError(
                        "PagerDuty answered with more data than the portal reads",
                        status=getattr(exc, "status", None),
                    ) from None
                raise PagerDutyUnavailable(UNAVAILABLE) from None
            except requests.RequestException as exc:
                logger.error(
                    "PagerDuty %s %s could not be sent: %s",
                    method,
                    path,
                    type(exc).__name__,
                )
                raise PagerDutyError("PagerDuty could not be called") from None

            self._note_rate_limit(headers)
            logger.log(
                _log_level(status),
                "PagerDuty %s %s answered %s (attempt %s)",
                method,
                path,
                status,
                attempt,
            )
            if status == 429:
                deadline += wait.after_429(_reset_seconds(headers))
                continue
            if wait.probing is not None:
                wait.gate.clear()
                wait.probing = None
            if _is_transient(status) and retryable:
                failures += 1
                delay = self._backoff_delay(failures)
                if failures <= self.max_retries and time.monotonic() + delay < deadline:
                    self.sleep(delay)
                    continue
            if status == 401 and self.on_unauthorized is not None:
                # The callback may refresh the token; one retry at most.
                fresh_token = self.on_unauthorized()
                if fresh_token is True and not retried_unauthorized:
                    retried_unauthorized = True
                    continue
            return self._result(status, body, token, required_scope)

    def _send(
        self,
        method: str,
        url: str,
        path: str,
        token: str,
        json: Any,
        *,
        deadline: float,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one attempt; return its status, headers and whole body."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise requests.Timeout("no time left for another attempt")
        with self.session.request(
            method,
            url,
            headers=self._headers(method, path, token, json is not None),
            json=json,
            timeout=_cap_timeout(self.timeout, left),
            allow_redirects=False,
            stream=True,
        ) as response:
            try:
                body = read_body(response, deadline=deadline, max_bytes=MAX_BODY)
            except BodyError as exc:
                exc.status = response.status_code
                raise
            return response.status_code, response.headers, body

    def _url(self, path: str, params: Mapping[str, Any] | None) -> str:
        if not _PATH.fullmatch(path):
            raise ValueError("path must be an absolute PagerDuty API path")
        query = _query(params or {})
        return f"{self.api_url}{path}?{query}" if query else f"{self.api_url}{path}"

    def _token(self) -> str:
        token = self.token_provider()
        if not isinstance(token, str) or not _HEADER_VALUE.fullmatch(token):
            raise PagerDutyAuthError(
                "The PagerDuty connection has no usable token; reconnect PagerDuty."
            )
        return token

    def _headers(
        self, method: str, path: str, token: str, has_body: bool
    ) -> dict[str, str]:
        headers = {
            "Accept": ACCEPT,
            "Authorization": f"Bearer {token}",
            "User-Agent": USER_AGENT,
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.from_email and needs_from(method, path):
            headers["From"] = self.from_email
        return headers

    def _backoff_delay(self, failures: int) -> float:
        return self.backoff * 2 ** (failures - 1)

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        values = [
            _header_int(headers, name)
            for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
        ]
        if any(value is not None for value in values):
            self.rate_limit = RateLimit(*values)

    def _result(
        self, status: int, body: bytes, token: str, required_scope: str
    ) -> dict[str, Any] | list[Any]:
        if 200 <= status < 300:
            return _json_body(status, body)
        if _is_transient(status):
            raise PagerDutyUnavailable(UNAVAILABLE, status=status)
        if 300 <= status < 400:
            raise PagerDutyError(
                f"PagerDuty answered with an unexpected redirect (HTTP {status})",
                status=status,
            )
        body = _error_body(body)
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        code = error.get("code") if type(error.get("code")) is int else None
        if status == 401:
            raise PagerDutyAuthError(
                "PagerDuty rejected the connection's token; reconnect PagerDuty.",
                status=status,
                code=code,
            )
        if status == 403:
            scope = _missing_scope(body, error) or required_scope
            lacks = " and ".join(scope.split()) if scope else "the scope this needs"
            raise PagerDutyAuthError(
                f"PagerDuty refused: the token lacks {lacks} "
                "or your PagerDuty role lacks permission",
                status=status,
                code=code,
                required_scope=scope,
            )
        message = _clean(error.get("message"), token)
        errors = tuple(
            cleaned
            for cleaned in (_clean(item, token) for item in _list(error.get("errors")))
            if cleaned
        )
        details = [item for item in errors if item != message]
        if not message:
            message = f"PagerDuty refused the request (HTTP {status})"
        if details:
            message = f"{message}: {'; '.join(details)}"
        raise PagerDutyError(
            message[:MAX_MESSAGE_LENGTH], status=status, code=code, errors=errors
        )


class _RateLimitWait:
    """One call's share of its connection's cooldown: waits and probes."""

    def __init__(self, client: PagerDutyClient):
        self.client = client
        self.gate: RateLimitGate | None = None
        self.probing: Cooldown | None = None
        self.probes = 0
        self.waited = 0.0

    def after_429(self, wait: int | None) -> float:
        """Record a 429; return the seconds slept before the next attempt.

        Raise PagerDutyRateLimited when this call may not wait or retry.
        """
        cooldown = self.gate.limited(wait=wait, probed=self.probing)
        self.probing = None
        if wait is None and not self.client.background:
            # A page does not guess: PagerDuty's budget is per minute.
            raise _limited(DEFAULT_RETRY_AFTER)
        asked = no_header_wait(cooldown.round) if wait is None else wait
        return self.take_turn(cooldown, retry_after=wait, asked=asked)

    def take_turn(
        self,
        cooldown: Cooldown | None,
        *,
        retry_after: int | None = None,
        asked: float | None = None,
    ) -> float:
        """Wait until this call may send; return the seconds slept.

        Return at once without a cooldown; otherwise sleep out the reset
        and take the round's probe, or wait for another caller's probe.
        """
        slept = 0.0
        waited_for = None
        while cooldown is not None:
            left = cooldown.until - self.gate.clock()
            if waited_for is not None and cooldown.until <= waited_for:
                left = 0.0  # already slept out (the sleep may be a test's)
            elif asked is not None and 0 < asked - left < 1:
                left = asked  # the wait PagerDuty asked of this very call
            give_up_in = retry_after or max(1, math.ceil(left))
            if cooldown.exhausted or self.probes >= self.client.rate_limit_retries:
                raise _limited(give_up_in)
            if left > 0:
                slept += self._sleep(left, give_up_in)
                waited_for = cooldown.until
            if self.gate.take_probe(cooldown):
                self.probes += 1
                self.probing = cooldown
                return slept
            # Another caller is probing this round: wait for its answer.
            slept += self._sleep(PROBE_POLL, give_up_in)
            waited_for = max(waited_for or 0.0, cooldown.until)
            cooldown = self.gate.current()
        return slept

    def _sleep(self, seconds: float, give_up_in: int) -> float:
        client = self.client
        if client.background:
            seconds *= 1 + random.uniform(0, RATE_LIMIT_JITTER)  # noqa: S311 - jitter
        if self.waited + seconds > client.max_rate_limit_wait + 1e-9:
            raise _limited(give_up_in)
        self.waited += seconds
        client.sleep(seconds)
        return seconds


def _limited(retry_after: int) -> PagerDutyRateLimited:
    return PagerDutyRateLimited(
        f"PagerDuty is rate limiting this connection; try again in {retry_after} s",
        retry_after=retry_after,
    )


def _log_level(status: int) -> int:
    if status < 400:
        return logging.DEBUG
    if status == 429 or _is_transient(status):
        return logging.WARNING
    return logging.INFO


def _is_transient(status: int) -> bool:
    return status >= 500 or status == 408


def _query(params: Mapping[str, Any]) -> str:
    """Encode params the way PagerDuty documents: `statuses[]=a&statuses[]=b`.

    The brackets travel percent-encoded, as urllib3 (and RFC 3986) want.
    """
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            name = key if key.endswith("[]") else f"{key}[]"
            values = sorted(value) if isinstance(value, set | frozenset) else value
            pairs.extend((name, _param_value(item)) for item in values)
        else:
            pairs.append((key, _param_value(value)))
    return urlencode(pairs)


def _param_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _cap_timeout(
    timeout: float | tuple[float, float], left: float
) -> float | tuple[float, float]:
    """Return `timeout` shortened so that an attempt ends within `left` s."""
    connect, read = timeout if isinstance(timeout, tuple | list) else (timeout,) * 2
    if connect <= left and read <= left:
        return timeout
    return (min(connect, left), min(read, left))


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    raw = (headers.get(name) or "").strip()
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return math.ceil(value)


def _reset_seconds(headers: Mapping[str, str]) -> int | None:
    # PagerDuty documents ratelimit-reset only; a Retry-After (seconds or
    # an HTTP date) is honoured too, and the later of the two wins.
    waits = [
        wait
        for wait in (
            _header_int(headers, "ratelimit-reset"),
            _header_int(headers, "retry-after"),
            _retry_after_date(headers),
        )
        if wait is not None
    ]
    return max(waits) if waits else None


def _retry_after_date(headers: Mapping[str, str]) -> int | None:
    try:
        moment = parsedate_to_datetime((headers.get("retry-after") or "").strip())
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0, math.ceil((moment - datetime.now(UTC)).total_seconds()))


def _json_body(status: int, data: bytes) -> dict[str, Any] | list[Any]:
    if status == 204 or not data.strip():
        return {}
    try:
        body = json.loads(data)
    except ValueError:
        raise PagerDutyError(
            "PagerDuty answered with something that is not JSON", status=status
        ) from None
    # Objects almost everywhere; a few operations (POST /schedules/{id}/
    # overrides) answer an array of per-item results.
    if not isinstance(body, dict | list):
        raise PagerDutyError(
            "PagerDuty answered with an unexpected shape", status=status
        )
    return body


def _error_body(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _missing_scope(body: dict[str, Any], error: dict[str, Any]) -> str:
    """Return the scopes a 403 names, keeping only well-formed scope names."""
    for value in (body.get("required_scopes"), error.get("required_scopes")):
        names = value.replace(",", " ").split() if isinstance(value, str) else value
        scopes = [
            name
            for name in _list(names)
            if isinstance(name, str) and _SCOPE.fullmatch(name)
        ]
        if scopes:
            return " ".join(scopes)
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _clean(value: Any, token: str) -> str:
    """Return upstream text fit for a page: one line, bounded, no token."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub(" ", value)
    if token:
        text = text.replace(token, "[redacted]")
    return text.strip()[:MAX_MESSAGE_LENGTH]


def _unwrap(body: dict[str, Any] | list[Any], key: str) -> dict[str, Any]:
    entity = body.get(key) if isinstance(body, dict) else None
    if not isinstance(entity, dict):
        raise PagerDutyError(f"PagerDuty answered without the expected {key}")
    return entity


def _page(
    body: dict[str, Any] | list[Any], *, key: str, offset: int, limit: int
) -> Page:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise PagerDutyError(f"PagerDuty answered without the expected {key}")
    total = body.get("total")
    return Page(
        items=items,
        offset=offset,
        limit=limit,
        more=body.get("more") is True,
        total=total if type(total) is int else None,
    )
