"""What every REST operation shares: routing, errors, paging, references."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from pagerduty_sandbox.http import BadRequest, Request, Response
from pagerduty_sandbox.ops import OperationError
from pagerduty_sandbox.scopes import spec_data
from pagerduty_sandbox.state import ApiKey, Grant, State, User, iso

MAX_LIMIT = 100
DEFAULT_LIMIT = 25
MAX_WINDOW = 10_000


class ApiError(Exception):
    """An error answered in PagerDuty's body: {"error": {message, code, errors}}."""

    def __init__(self, status: int, message: str, code: int, errors=()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = list(errors)

    def response(self) -> Response:
        return error_response(self.status, self.message, self.code, self.errors)


def error_response(status: int, message: str, code: int, errors=()) -> Response:
    error = {"message": message, "code": code}
    if errors:
        error["errors"] = list(errors)
    return Response.json({"error": error}, status=status)


def invalid(*errors: str) -> ApiError:
    return ApiError(400, "Invalid Input Provided", 2001, errors)


def not_found(what: str = "Not Found", code: int = 2100) -> ApiError:
    return ApiError(404, what, code)


@dataclass(frozen=True)
class Caller:
    """Who makes an API request: an OAuth token or a REST API key."""

    kind: str  # "oauth" (user or app token), "account_key" or "user_key"
    account_id: str
    # The user the credential acts as (OAuth user token, user API key).
    user_id: str | None
    # OAuth scopes; None for API keys, whose rights come from their kind.
    scopes: frozenset[str] | None
    # Requests counted together against the 960-a-minute budget (NOTES §4).
    rate_key: tuple
    read_only: bool = False

    @classmethod
    def from_grant(cls, grant: Grant) -> "Caller":
        return cls(
            kind="oauth",
            account_id=grant.account_id,
            user_id=grant.user_id,
            scopes=frozenset(grant.scopes),
            rate_key=("oauth", grant.account_id, grant.app_id, grant.user_id),
        )

    @classmethod
    def from_api_key(cls, key: ApiKey) -> "Caller":
        if key.kind == "user":
            # Per user across all of that user's keys.
            rate_key = ("user_key", key.account_id, key.user_id)
        else:
            rate_key = ("account_key", key.account_id, key.id)
        return cls(
            kind=f"{key.kind}_key",
            account_id=key.account_id,
            user_id=key.user_id,
            scopes=None,
            rate_key=rate_key,
            read_only=key.read_only,
        )


@dataclass
class Ctx:
    """One authenticated API request."""

    app: object
    state: State
    request: Request
    region: str
    caller: Caller
    account_id: str
    api_url: str
    path_params: dict
    requester: User | None = None
    cache: dict = field(default_factory=dict)

    def memo(self, key: str, compute):
        """Return `compute()` once per request (e.g. a scan of all incidents)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    @property
    def agent(self) -> tuple[str, str] | None:
        if self.caller.user_id:
            return ("user", self.caller.user_id)
        return ("user", self.requester.id) if self.requester else None

    # --- Query parameters ---

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.request.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Return an array parameter (`name[]=a&name[]=b`)."""
        values = self.request.query.get(f"{name}[]", []) + self.request.query.get(
            name, []
        )
        return [v for v in values if v != ""]

    def enum_args(self, name: str, allowed) -> list[str]:
        values = self.args(name)
        bad = [v for v in values if v not in allowed]
        if bad:
            raise invalid(f"{name}[] has an invalid value: {bad[0]}")
        return values

    def bool_arg(self, name: str, default: bool = False) -> bool:
        value = self.arg(name)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(f"{name} must be true or false")

    def time_arg(self, name: str) -> datetime | None:
        value = self.arg(name)
        if value is None or value == "":
            return None
        parsed = parse_time(value)
        if parsed is None:
            raise ApiError(
                400,
                "Invalid time values in 'since' and/or 'until' parameters",
                2004,
                [f"{name} is not an ISO 8601 date-time: {value}"],
            )
        return parsed

    def body(self, wrapper: str | None = None) -> dict:
        """Return the JSON body, unwrapped from `wrapper` when given."""
        if self.request.content_type != "application/json":
            raise invalid("Send a JSON body with Content-Type: application/json")
        try:
            data = self.request.json()
        except BadRequest:
            raise invalid("The body is not valid JSON") from None
        if not isinstance(data, dict):
            raise invalid("The body must be a JSON object")
        if wrapper is None:
            return data
        inner = data.get(wrapper)
        if not isinstance(inner, dict):
            raise invalid(f'The body must be wrapped: {{"{wrapper}": {{...}}}}')
        return inner

    # --- References ---

    def ref(self, kind: str, obj_id: str, summary: str | None, segment: str) -> dict:
        """Return a `<kind>_reference` object as PagerDuty renders one."""
        return {
            "id": obj_id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{self.api_url}/{segment}/{obj_id}",
            "html_url": self.html_url(segment, obj_id),
        }

    def html_url(self, segment: str, obj_id: str) -> str:
        subdomain = self.state.accounts[self.account_id].subdomain
        web = {"services": "service-directory"}.get(segment, segment)
        return f"https://{subdomain}.pagerduty.com/{web}/{obj_id}"

    def user_ref(self, user_id: str) -> dict:
        user = self.state.users.get(user_id)
        return self.ref("user", user_id, user.name if user else None, "users")

    def team_ref(self, team_id: str) -> dict:
        team = self.state.teams.get(team_id)
        return self.ref("team", team_id, team.name if team else None, "teams")

    def service_ref(self, service_id: str) -> dict:
        service = self.state.services.get(service_id)
        name = service.name if service else None
        return self.ref("service", service_id, name, "services")

    def policy_ref(self, policy_id: str) -> dict:
        policy = self.state.escalation_policies.get(policy_id)
        name = policy.name if policy else None
        return self.ref("escalation_policy", policy_id, name, "escalation_policies")

    def schedule_ref(self, schedule_id: str) -> dict:
        schedule = self.state.schedules.get(schedule_id)
        name = schedule.name if schedule else None
        return self.ref("schedule", schedule_id, name, "schedules")

    # --- Lookups scoped to the token's account ---

    def owned(self, collection: dict, obj_id: str, message: str, code: int):
        obj = collection.get(obj_id)
        if obj is None or obj.account_id != self.account_id:
            raise not_found(message, code)
        return obj


def parse_time(value: str) -> datetime | None:
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def paginate(ctx: Ctx, items: list, key: str, render) -> Response:
    """Return a classic-paginated list (NOTES §4: limit ≤ 100, 10,000 cap)."""
    limit = _int_arg(ctx, "limit", DEFAULT_LIMIT)
    offset = _int_arg(ctx, "offset", 0)
    if limit < 1:
        raise invalid("limit must be at least 1")
    limit = min(limit, MAX_LIMIT)
    if offset + limit > MAX_WINDOW:
        raise ApiError(
            400,
            "Invalid Input Provided",
            2001,
            [
                "Offset + limit must not exceed 10000; narrow the query with "
                "filters such as since/until instead."
            ],
        )
    page = items[offset : offset + limit]
    return Response.json(
        {
            key: [render(item) for item in page],
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(items),
            "total": len(items) if ctx.bool_arg("total") else None,
        }
    )


def _int_arg(ctx: Ctx, name: str, default: int) -> int:
    value = ctx.arg(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise invalid(f"{name} must be a non-negative integer")
    return int(value)


def includes(ctx: Ctx, allowed) -> set[str]:
    return set(ctx.enum_args("include", allowed))


def text_field(data: dict, name: str, *, required=False, max_length=None):
    value = data.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(f"{name} must be a non-empty string")
    if max_length and len(value) > max_length:
        raise invalid(f"{name} must be at most {max_length} characters")
    return value


def reference_id(data, name: str, kind: str) -> str:
    """Return the id of a `{"id": …, "type": "<kind>_reference"}` field."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise invalid(f"{name} must be a {kind} reference with an id")
    if data.get("type") not in (f"{kind}_reference", kind):
        raise invalid(f"{name}.type must be {kind}_reference")
    return data["id"]


def ops_error(exc: OperationError) -> ApiError:
    return ApiError(exc.status, exc.message, exc.code, exc.errors)


__all__ = [
    "ApiError",
    "Caller",
    "Ctx",
    "error_response",
    "includes",
    "invalid",
    "iso",
    "not_found",
    "ops_error",
    "paginate",
    "reference_id",
    "spec_data",
    "text_field",
]
