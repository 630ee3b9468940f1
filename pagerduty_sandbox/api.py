"""REST API v2 dispatch: auth, rate limit, scope, `From`, then the handler.

The order mirrors PagerDuty's documented answers: 401 for a missing,
expired or revoked token (or the other region's host), 429 past the
per-user-per-app budget, 403 when the token lacks the operation's scope
(from `x-pd-requires-scope`, via integrations/pagerduty/openapi_scopes.json).
"""

import re
import time

from pagerduty_sandbox.http import Request, Response
from pagerduty_sandbox.ops import OperationError
from pagerduty_sandbox.rest import ROUTES
from pagerduty_sandbox.rest.base import (
    ApiError,
    Ctx,
    error_response,
    ops_error,
    spec_data,
)
from pagerduty_sandbox.state import RATE_WINDOW

__all__ = ["dispatch", "error_response", "is_api_path"]

API_ROOTS = {
    "users",
    "incidents",
    "services",
    "escalation_policies",
    "schedules",
    "oncalls",
    "teams",
    "webhook_subscriptions",
    "log_entries",
}


def is_api_path(path: str) -> bool:
    return path.strip("/").split("/")[0] in API_ROOTS


def _compile(template: str) -> re.Pattern:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{pattern}$")


COMPILED = [(method, template, _compile(template), h) for method, template, h in ROUTES]


def match(method: str, path: str):
    """Return (template, handler, params) or raise ApiError 404/405."""
    path = path.rstrip("/") or "/"
    allowed = []
    for route_method, template, pattern, handler in COMPILED:
        found = pattern.match(path)
        if not found:
            continue
        if route_method == method:
            return template, handler, found.groupdict()
        allowed.append(route_method)
    if allowed:
        raise ApiError(405, "Method Not Allowed", 2100)
    raise ApiError(404, "Not Found", 2100)


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "Authentication failed", 2006, [detail])


def authenticate(app, request: Request, region: str):
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if not header:
        raise _unauthorized("Send Authorization: Bearer <access token>.")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized(
            "The sandbox issues OAuth tokens only: send Authorization: Bearer "
            "<access token>."
        )
    state = app.state
    grant = state.grant_for_access_token(value.strip())
    if grant is None or grant.revoked:
        raise _unauthorized("The access token is invalid or has been revoked.")
    if state.now() >= grant.access_expires_at:
        raise _unauthorized("The access token has expired; refresh it.")
    account = state.accounts[grant.account_id]
    if account.region != region:
        raise _unauthorized(
            f"The token's account is in the {account.region.upper()} service "
            f"region: call {app.api_url(account.region)}."
        )
    return grant


def rate_limit(app, grant) -> list[tuple[str, str]]:
    """Count the call in the user's per-app window; raise 429 past the budget."""
    state = app.state
    key = (grant.account_id, grant.app_id, grant.user_id)
    now = time.monotonic()
    started, used = state.rate_windows.get(key, (now, 0))
    if now - started >= RATE_WINDOW:
        started, used = now, 0
    limit = state.config.rate_limit
    reset = max(1, int(RATE_WINDOW - (now - started) + 0.999))
    if used >= limit:
        headers = _rate_headers(limit, 0, reset)
        response = error_response(429, "Rate Limit Exceeded", 2020)
        response.headers.extend(headers)
        raise _Limited(response)
    used += 1
    state.rate_windows[key] = (started, used)
    return _rate_headers(limit, limit - used, reset)


def _rate_headers(limit: int, remaining: int, reset: int):
    return [
        ("ratelimit-limit", str(limit)),
        ("ratelimit-remaining", str(remaining)),
        ("ratelimit-reset", str(reset)),
    ]


class _Limited(Exception):
    def __init__(self, response: Response):
        self.response = response


def dispatch(app, request: Request, *, region: str, path: str) -> Response:
    state = app.state
    with state.lock:
        try:
            template, handler, params = match(request.method, path)
            grant = authenticate(app, request, region)
            headers = rate_limit(app, grant)
        except ApiError as exc:
            return exc.response()
        except _Limited as limited:
            return limited.response
        try:
            response = _run(app, request, region, template, handler, params, grant)
        except ApiError as exc:
            response = exc.response()
        except OperationError as exc:
            response = ops_error(exc).response()
        response.headers.extend(headers)
        return response


def _run(app, request, region, template, handler, params, grant) -> Response:
    state = app.state
    operation = f"{request.method} {template}"
    data = spec_data()
    scope = data["scopes"].get(operation)
    if scope and scope not in grant.scopes:
        raise ApiError(
            403,
            "Token missing required scopes",
            2010,
            [f"{operation} requires the {scope} scope."],
        )
    ctx = Ctx(
        app=app,
        state=state,
        request=request,
        region=region,
        grant=grant,
        account_id=grant.account_id,
        api_url=app.api_url(region),
        path_params=params,
    )
    if operation in data["from_header_required"]:
        sender = request.headers.get("from", "").strip()
        if not sender:
            raise ApiError(
                400,
                "Invalid Input Provided",
                2001,
                ["The From header is required: the email of a user on the account."],
            )
        requester = state.user_by_email(sender)
        if requester is None or requester.account_id != grant.account_id:
            raise ApiError(400, "Requester User Not Found", 1008)
        ctx.requester = requester
    return handler(ctx, **params)
