"""REST API v2 dispatch: auth, rate limit, scope, `From`, then the handler.

The order mirrors PagerDuty's documented answers: 401 for a missing,
expired or revoked credential (or the other region's host), 429 past the
budget (per user per app for OAuth tokens, per account key, per user across
a user's keys), 403 when an OAuth token lacks the operation's scope (from
`x-pd-requires-scope`, via integrations/pagerduty/openapi_scopes.json) or
an API key's rights do not cover it.
"""

import re
import time

from pagerduty_sandbox import roles
from pagerduty_sandbox.http import Request, Response
from pagerduty_sandbox.ops import OperationError
from pagerduty_sandbox.rest import ROUTES
from pagerduty_sandbox.rest.base import (
    ApiError,
    Caller,
    Ctx,
    error_response,
    ops_error,
    spec_data,
)
from pagerduty_sandbox.scopes import allows
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
    "alert_grouping_settings",
    "business_services",
    "service_dependencies",
    "event_orchestrations",
    "v3",
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


def _credential(request: Request) -> tuple[str, str]:
    """Return ("bearer" | "token", value) from the Authorization header.

    PagerDuty takes OAuth tokens as `Bearer <token>` and REST API keys as
    `Token token=<key>` (the OAS `api_key` security scheme).
    """
    header = request.headers.get("authorization", "").strip()
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return "bearer", value
    if scheme.lower() == "token":
        name, _, key = value.partition("=")
        key = key.strip().strip('"')
        if name.strip().lower() == "token" and key:
            return "token", key
    if not header:
        raise _unauthorized(
            "Send Authorization: Bearer <OAuth access token> or "
            "Authorization: Token token=<API key>."
        )
    raise _unauthorized(
        "The Authorization header is malformed: use Bearer <OAuth access token> "
        "or Token token=<API key>."
    )


def authenticate(app, request: Request, region: str) -> Caller:
    state = app.state
    scheme, value = _credential(request)
    if scheme == "token":
        key = state.api_key_for(value)
        if key is None:
            raise _unauthorized("The API key is invalid or has been revoked.")
        if key.user_id is not None and key.user_id not in state.users:
            raise _unauthorized("The API key's user no longer exists.")
        caller = Caller.from_api_key(key)
    else:
        grant = state.grant_for_access_token(value)
        if grant is None or grant.revoked:
            raise _unauthorized("The access token is invalid or has been revoked.")
        if state.now() >= grant.access_expires_at:
            raise _unauthorized("The access token has expired; refresh it.")
        caller = Caller.from_grant(grant)
    account = state.accounts[caller.account_id]
    if account.region != region:
        raise _unauthorized(
            f"The credential's account is in the {account.region.upper()} service "
            f"region: call {app.api_url(account.region)}."
        )
    return caller


def rate_limit(app, caller: Caller) -> list[tuple[str, str]]:
    """Count the call in the caller's window; raise 429 past the budget."""
    state = app.state
    key = caller.rate_key
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
            caller = authenticate(app, request, region)
            headers = rate_limit(app, caller)
        except ApiError as exc:
            return exc.response()
        except _Limited as limited:
            return limited.response
        try:
            response = _run(app, request, region, template, handler, params, caller)
        except ApiError as exc:
            response = exc.response()
        except OperationError as exc:
            response = ops_error(exc).response()
        response.headers.extend(headers)
        return response


def _run(app, request, region, template, handler, params, caller) -> Response:
    state = app.state
    operation = f"{request.method} {template}"
    data = spec_data()
    scope = data["scopes"].get(operation)
    _authorize(state, caller, request.method, operation, scope)
    ctx = Ctx(
        app=app,
        state=state,
        request=request,
        region=region,
        caller=caller,
        account_id=caller.account_id,
        api_url=app.api_url(region),
        path_params=params,
    )
    sender = request.headers.get("from", "").strip()
    if caller.kind == "user_key":
        # "The user will be derived from the key itself" (python-pagerduty's
        # guide): a user key needs no From header and its user acts.
        return handler(ctx, **params)
    required = operation in data["from_header_required"]
    if required and not sender:
        raise ApiError(
            400,
            "Invalid Input Provided",
            2001,
            ["The From header is required: the email of a user on the account."],
        )
    # An account key's writes are attributed to the From user when given.
    if sender and (
        required or (caller.kind == "account_key" and request.method != "GET")
    ):
        requester = state.user_by_email(sender)
        if requester is None or requester.account_id != caller.account_id:
            raise ApiError(400, "Requester User Not Found", 1008)
        ctx.requester = requester
    return handler(ctx, **params)


def _authorize(state, caller: Caller, method: str, operation: str, scope) -> None:
    """Raise 403 when the credential may not call the operation.

    OAuth tokens need the operation's `x-pd-requires-scope`. API keys have
    no scopes: a read-only account key may only read, a full account key
    anything. A credential that acts as a user (OAuth user token, user
    key) may write what that user's role allows (roles.py).
    """
    if caller.scopes is not None and scope and not allows(caller.scopes, scope):
        raise ApiError(
            403,
            "Token missing required scopes",
            2010,
            [f"{operation} requires the {scope} scope."],
        )
    if method == "GET":
        return
    if caller.read_only:
        raise ApiError(403, "Access Denied", 2010, ["This API key is read-only."])
    if caller.user_id is not None:
        role = state.users[caller.user_id].role
        if not roles.may_write(role, scope, operation):
            raise ApiError(
                403,
                "Access Denied",
                2010,
                [f"The key's user (role {role}) may not call {operation}."],
            )
