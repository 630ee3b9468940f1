"""The sandbox's in-memory world: accounts, people, on-call setup, incidents,
registered apps and the tokens issued to them.

Everything lives in one `State` guarded by `State.lock`; request handlers
take the lock for the whole request, so every operation is atomic.
"""

import functools
import hashlib
import random
import secrets
import string
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ID_ALPHABET = string.ascii_uppercase + string.digits
# PagerDuty's documented lifetimes for Scoped apps (NOTES §0.4, §1).
ACCESS_TTL = 86400
REFRESH_TTL = 30 * 86400
# ... and for Classic User OAuth apps (DD 06-OAuth-Functionality.md
# "Token Lifetimes"): access 30 days, refresh 210 days.
CLASSIC_ACCESS_TTL = 30 * 86400
CLASSIC_REFRESH_TTL = 210 * 86400
APP_TOKEN_TTL = 86400
CODE_TTL = 30
ID_TOKEN_TTL = 3600
RATE_LIMIT = 960
RATE_WINDOW = 60
REQUEST_LOG_SIZE = 200_000
REGION_NAMES = {"us": "UnitedStates", "eu": "Europe"}


def iso(moment: datetime | None) -> str | None:
    """Return PagerDuty's timestamp format (UTC, seconds, trailing Z)."""
    if moment is None:
        return None
    return _iso(moment)


# strftime was a quarter of the time of rendering a page of incidents, and
# the same few timestamps are rendered again on every page request.
@functools.lru_cache(maxsize=65_536)
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Account:
    id: str
    subdomain: str
    name: str
    region: str  # "us" or "eu"


@dataclass
class User:
    id: str
    account_id: str
    name: str
    email: str
    password: str
    role: str
    time_zone: str = "Etc/UTC"
    color: str = "green"
    job_title: str = ""
    description: str | None = None
    created_at: datetime | None = None


@dataclass
class Team:
    id: str
    account_id: str
    name: str
    description: str | None = None
    members: dict[str, str] = field(default_factory=dict)  # user id -> role
    # "none" makes the team private (PagerDuty's Team.default_role).
    default_role: str = "manager"


@dataclass
class EscalationRule:
    id: str
    delay_minutes: int
    targets: list[tuple[str, str]]  # ("user"|"schedule", id)


@dataclass
class EscalationPolicy:
    id: str
    account_id: str
    name: str
    rules: list[EscalationRule]
    description: str | None = None
    num_loops: int = 0
    team_ids: list[str] = field(default_factory=list)


@dataclass
class ScheduleLayer:
    id: str
    name: str
    start: datetime
    rotation_virtual_start: datetime
    turn_seconds: int
    user_ids: list[str]
    end: datetime | None = None


@dataclass
class Override:
    id: str
    start: datetime
    end: datetime
    user_id: str


@dataclass
class Schedule:
    id: str
    account_id: str
    name: str
    layers: list[ScheduleLayer]
    time_zone: str = "Etc/UTC"
    description: str | None = None
    overrides: list[Override] = field(default_factory=list)
    team_ids: list[str] = field(default_factory=list)


@dataclass
class Service:
    id: str
    account_id: str
    name: str
    escalation_policy_id: str
    created_at: datetime
    description: str | None = None
    status: str = "active"
    team_ids: list[str] = field(default_factory=list)
    acknowledgement_timeout: int | None = 600
    auto_resolve_timeout: int | None = 14400
    alert_creation: str = "create_alerts_and_incidents"
    urgency: str = "high"
    updated_at: datetime | None = None
    # Rules of the service's Event Orchestration "start" set, as rendered.
    orchestration_rules: list[dict] = field(default_factory=list)


@dataclass
class Note:
    id: str
    user_id: str
    content: str
    created_at: datetime


@dataclass
class LogEntry:
    id: str
    type: str  # e.g. "trigger_log_entry"
    incident_id: str
    created_at: datetime
    agent: tuple[str, str] | None  # ("user"|"service", id)
    summary: str
    channel: str = "web_trigger"
    extra: dict = field(default_factory=dict)


@dataclass
class Alert:
    """An alert grouped into an incident (events from the service's monitors)."""

    id: str
    incident_id: str
    service_id: str
    alert_key: str
    summary: str
    severity: str  # info, warning, error, critical
    created_at: datetime
    status: str = "triggered"  # or "resolved"
    resolved_at: datetime | None = None
    source: str = ""
    details: dict = field(default_factory=dict)
    suppressed: bool = False


@dataclass
class ResponderRequest:
    """A request for more responders on an incident (coordinated responding)."""

    id: str
    incident_id: str
    requester_id: str
    message: str
    requested_at: datetime
    # ("user" | "escalation_policy", id) -> the users asked through it
    targets: list[tuple[str, str, list[str]]] = field(default_factory=list)


@dataclass
class Incident:
    id: str
    account_id: str
    number: int
    title: str
    status: str
    urgency: str
    service_id: str
    escalation_policy_id: str
    created_at: datetime
    incident_key: str
    assignee_ids: list[str] = field(default_factory=list)
    acknowledgements: list[tuple[str, datetime]] = field(default_factory=list)
    escalation_level: int = 1
    updated_at: datetime | None = None
    last_status_change_at: datetime | None = None
    last_status_change_by: tuple[str, str] | None = None
    resolved_at: datetime | None = None
    body_details: str | None = None
    snoozed_until: datetime | None = None
    notes: list[Note] = field(default_factory=list)
    log_entries: list[LogEntry] = field(default_factory=list)
    team_ids: list[str] = field(default_factory=list)
    merged_into: str | None = None
    alerts: list[Alert] = field(default_factory=list)
    responder_requests: list[ResponderRequest] = field(default_factory=list)


@dataclass
class ChangeEvent:
    """A change (a deploy, a config push) reported for one or more services."""

    id: str
    account_id: str
    summary: str
    timestamp: datetime
    service_ids: list[str]
    source: str = ""
    links: list[dict] = field(default_factory=list)
    custom_details: dict = field(default_factory=dict)


@dataclass
class BusinessService:
    """A capability spanning technical services (Service Dependencies)."""

    id: str
    account_id: str
    name: str
    description: str | None = None
    point_of_contact: str | None = None
    team_id: str | None = None


@dataclass
class ServiceDependency:
    """`dependent` relies on `supporting`.

    Each side is ("service" | "business_service", id).
    """

    id: str
    account_id: str
    supporting: tuple[str, str]
    dependent: tuple[str, str]


@dataclass
class AlertGroupingSetting:
    """How alerts on some services are grouped into incidents."""

    id: str
    account_id: str
    type: str  # content_based, content_based_intelligent, intelligent, time
    config: dict
    service_ids: list[str]
    created_at: datetime
    updated_at: datetime
    name: str | None = None
    description: str | None = None


@dataclass
class V3Schedule:
    """A shift-based schedule (the /v3/schedules API).

    `rotations` hold events as PagerDuty renders them (name, start_time and
    end_time as zoned date-times, effective_since/until, RRULE recurrence,
    assignment_strategy); the sandbox's on-call answers ignore them.
    """

    id: str
    account_id: str
    name: str
    time_zone: str
    rotations: list[dict]
    description: str | None = None
    team_ids: list[str] = field(default_factory=list)


@dataclass
class WebhookSubscription:
    id: str
    account_id: str
    url: str
    secret: str
    events: list[str]
    filter_type: str
    filter_id: str | None
    description: str | None = None
    active: bool = True
    temporarily_disabled: bool = False
    custom_headers: list[dict] = field(default_factory=list)
    consecutive_drops: int = 0


@dataclass
class App:
    """A registered OAuth app, owned by the account that made it.

    `oauth_type` is "scoped" (per-resource scopes, users of the owning
    account only) or "classic" (Classic User OAuth: the one scope `read`
    or `write`, users of any account).
    """

    id: str
    account_id: str
    owner_user_id: str
    name: str
    description: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: list[str]
    created_at: datetime
    oauth_type: str = "scoped"
    # Classic only: "Add a message to users", shown when they authorize.
    message: str = ""

    @property
    def is_classic(self) -> bool:
        return self.oauth_type == "classic"


@dataclass
class ApiKey:
    """A REST API key (`Authorization: Token token=<key>`).

    An *account* key ("general access") has full access to its account, or
    read access only; a *user* key acts as its user, with that user's role.
    Only the key's SHA-256 is kept, so the sandbox cannot show it again.
    """

    id: str
    account_id: str
    kind: str  # "account" or "user"
    key_hash: str
    hint: str  # the key's last four characters, for the key list
    description: str
    created_at: datetime
    user_id: str | None = None  # user keys: the user the key acts as
    created_by: str | None = None  # the user who made it, if any
    read_only: bool = False
    revoked_at: datetime | None = None


@dataclass
class AuthCode:
    code: str
    app_id: str
    user_id: str
    redirect_uri: str
    code_challenge: str
    scopes: list[str]
    expires_at: datetime
    auth_time: datetime
    used: bool = False
    grant_id: str | None = None


@dataclass
class Grant:
    """One authorization (a "delegation"): its current tokens and scopes.

    User grants come from the code flow and rotate on refresh; app grants
    come from client_credentials and have no refresh token or user.
    """

    id: str
    app_id: str
    account_id: str
    user_id: str | None
    scopes: list[str]
    access_token: str
    access_expires_at: datetime
    auth_time: datetime
    refresh_token: str = ""
    refresh_expires_at: datetime | None = None
    revoked: bool = False


@dataclass
class Fault:
    """Make a share of API requests under `path_prefix` fail.

    `kind` is "500", "429" or "timeout" (the server holds the request for
    `delay` seconds, then answers 504).
    """

    kind: str
    path_prefix: str = "/"
    share: float = 1.0
    delay: float = 10.0

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "path_prefix": self.path_prefix,
            "share": self.share,
            "delay": self.delay,
        }


@dataclass
class Config:
    access_ttl: int = ACCESS_TTL
    refresh_ttl: int = REFRESH_TTL
    classic_access_ttl: int = CLASSIC_ACCESS_TTL
    classic_refresh_ttl: int = CLASSIC_REFRESH_TTL
    app_token_ttl: int = APP_TOKEN_TTL
    code_ttl: int = CODE_TTL
    rate_limit: int = RATE_LIMIT
    latency_ms: int = 0
    control_enabled: bool = True
    # Seconds between webhook delivery attempts (PagerDuty retries for 48 h).
    webhook_retry_delays: tuple[float, ...] = (1, 5, 30)


class VersionedDict(dict):
    """A dict that counts its changes, so derived indexes know when to rebuild."""

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self._changed()

    def pop(self, *args):
        self._changed()
        return super().pop(*args)

    def popitem(self):
        self._changed()
        return super().popitem()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def update(self, *args, **kwargs) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key, default=None):
        self._changed()
        return super().setdefault(key, default)


class State:
    """All sandbox data; hold `lock` while reading or writing."""

    def __init__(self, *, seed: int = 1, config: Config | None = None):
        self.seed = seed
        self.config = config or Config()
        self.lock = threading.RLock()
        self.rng = random.Random(seed)  # noqa: S311 - deterministic seed data
        self.clock_offset = timedelta()
        self.issued_ids: set[str] = set()
        self.accounts: dict[str, Account] = {}
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.escalation_policies: dict[str, EscalationPolicy] = {}
        self.schedules: dict[str, Schedule] = {}
        self.services: dict[str, Service] = {}
        self.incidents: VersionedDict = VersionedDict()
        # Indexes derived from `incidents` (rest/incidents.py), rebuilt
        # when `incidents.version` moves on.
        self.indexes: dict = {}
        self.webhook_subscriptions: dict[str, WebhookSubscription] = {}
        self.change_events: dict[str, ChangeEvent] = {}
        self.business_services: dict[str, BusinessService] = {}
        self.service_dependencies: dict[str, ServiceDependency] = {}
        self.alert_grouping_settings: dict[str, AlertGroupingSetting] = {}
        self.v3_schedules: dict[str, V3Schedule] = {}
        self.apps: dict[str, App] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.access_index: dict[str, str] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self.api_key_index: dict[str, str] = {}  # SHA-256 of a key -> key id
        self.refresh_index: dict[str, str] = {}
        self.incident_counters: dict[str, int] = {}
        self.rate_windows: dict[tuple, tuple[float, int]] = {}
        self.faults: list[Fault] = []
        self.fault_rng = random.Random(seed)  # noqa: S311
        # Bounded so long benchmark runs cannot grow memory without limit.
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.webhook_deliveries: list[dict] = []
        # Sign-in cookies name the state they were issued for, so a reset
        # signs everyone out.
        self.generation = secrets.token_hex(8)

    # --- Time and identifiers ---

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (tests use it to expire things)."""
        self.clock_offset += timedelta(seconds=seconds)

    def new_id(self) -> str:
        """Return a fresh PagerDuty-style ID: "P" and six of A-Z0-9."""
        while True:
            candidate = "P" + "".join(self.rng.choices(ID_ALPHABET, k=6))
            if candidate not in self.issued_ids:
                self.issued_ids.add(candidate)
                return candidate

    def next_incident_number(self, account_id: str) -> int:
        number = self.incident_counters.get(account_id, 0) + 1
        self.incident_counters[account_id] = number
        return number

    # --- Lookups ---

    def account_by_subdomain(self, subdomain: str) -> Account | None:
        return next(
            (a for a in self.accounts.values() if a.subdomain == subdomain), None
        )

    def user_by_email(self, email: str) -> User | None:
        email = email.strip().lower()
        return next((u for u in self.users.values() if u.email == email), None)

    def app_by_client_id(self, client_id: str) -> App | None:
        return next((a for a in self.apps.values() if a.client_id == client_id), None)

    def user_teams(self, user_id: str) -> list[Team]:
        return [t for t in self.teams.values() if user_id in t.members]

    # --- Tokens ---

    def issue_grant(
        self,
        *,
        app: App,
        user: User | None,
        scopes: list[str],
        auth_time: datetime | None = None,
    ) -> Grant:
        """Create an authorization with fresh tokens and return it.

        A user token acts on the user's account (a Classic app's users may
        belong to any account); an app token on the app's own.
        """
        now = self.now()
        grant = Grant(
            id=_uuid(self.rng),
            app_id=app.id,
            account_id=user.account_id if user else app.account_id,
            user_id=user.id if user else None,
            scopes=list(scopes),
            access_token="",
            access_expires_at=now,
            auth_time=auth_time or now,
        )
        self.grants[grant.id] = grant
        self.rotate_tokens(grant)
        return grant

    def rotate_tokens(self, grant: Grant) -> None:
        """Give the grant new tokens; the previous ones stop working."""
        now = self.now()
        self.access_index.pop(grant.access_token, None)
        self.refresh_index.pop(grant.refresh_token, None)
        grant.access_token = _token("0")
        self.access_index[grant.access_token] = grant.id
        if grant.user_id is None:
            grant.access_expires_at = now + timedelta(seconds=self.config.app_token_ttl)
            return
        access_ttl, refresh_ttl = self.token_ttls(self.apps.get(grant.app_id))
        grant.access_expires_at = now + timedelta(seconds=access_ttl)
        grant.refresh_token = _token("1")
        grant.refresh_expires_at = now + timedelta(seconds=refresh_ttl)
        self.refresh_index[grant.refresh_token] = grant.id

    def token_ttls(self, app: App | None) -> tuple[int, int]:
        """Return the (access, refresh) token lifetimes of an app's type."""
        if app is not None and app.is_classic:
            return self.config.classic_access_ttl, self.config.classic_refresh_ttl
        return self.config.access_ttl, self.config.refresh_ttl

    def revoke_grant(self, grant: Grant) -> None:
        grant.revoked = True
        self.access_index.pop(grant.access_token, None)
        self.refresh_index.pop(grant.refresh_token, None)

    def revoke_app_tokens(self, app: App) -> int:
        """Revoke every live authorization of an app; return how many."""
        live = [g for g in self.grants.values() if g.app_id == app.id and not g.revoked]
        for grant in live:
            self.revoke_grant(grant)
        return len(live)

    # --- REST API keys ---

    def issue_api_key(
        self,
        *,
        account_id: str,
        kind: str,
        description: str,
        user: User | None = None,
        created_by: User | None = None,
        read_only: bool = False,
    ) -> tuple[ApiKey, str]:
        """Create a key and return it with its secret (never stored)."""
        if kind not in ("account", "user"):
            raise ValueError("kind must be account or user")
        if (kind == "user") != (user is not None):
            raise ValueError("a user key needs its user; an account key has none")
        if user is not None and user.account_id != account_id:
            raise ValueError("the user belongs to another account")
        if kind == "user" and read_only:
            raise ValueError("user keys have their user's rights; none is read-only")
        # PagerDuty's keys are 20 characters; user keys start "u+" (the "+"
        # catches clients that do not encode the header value).
        secret = (
            "u+" + secrets.token_urlsafe(14)[:18]
            if kind == "user"
            else secrets.token_urlsafe(15)
        )
        key = ApiKey(
            id=self.new_id(),
            account_id=account_id,
            kind=kind,
            key_hash=api_key_hash(secret),
            hint=secret[-4:],
            description=description,
            created_at=self.now(),
            user_id=user.id if user else None,
            created_by=created_by.id if created_by else None,
            read_only=read_only,
        )
        self.api_keys[key.id] = key
        self.api_key_index[key.key_hash] = key.id
        return key, secret

    def api_key_for(self, secret: str) -> ApiKey | None:
        """Return the live key with this secret, or None."""
        key_id = self.api_key_index.get(api_key_hash(secret))
        key = self.api_keys.get(key_id) if key_id else None
        return key if key is not None and key.revoked_at is None else None

    def revoke_api_key(self, key: ApiKey) -> None:
        key.revoked_at = key.revoked_at or self.now()
        self.api_key_index.pop(key.key_hash, None)

    def grant_for_access_token(self, token: str) -> Grant | None:
        grant_id = self.access_index.get(token)
        return self.grants.get(grant_id) if grant_id else None

    def grant_for_refresh_token(self, token: str) -> Grant | None:
        grant_id = self.refresh_index.get(token)
        return self.grants.get(grant_id) if grant_id else None


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token(kind: str) -> str:
    # Shaped like PagerDuty's ("pdus+_0…" access, "pdus+_1…" refresh): the
    # "+" makes clients that forget to URL-encode form values fail here too.
    return f"pdus+_{kind}{secrets.token_urlsafe(32)}"


def _uuid(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032x}"
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def derived_uuid(*parts: object) -> str:
    """Return a UUID-shaped string derived from `parts` (stable across runs)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return (
        f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    )
