"""Deterministic seed data: the same `seed` and sizes give the same world.

Timestamps are relative to the moment of seeding, so the data always looks
recent; IDs, names and the demo app's credentials depend only on the seed.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from pagerduty_sandbox import ops
from pagerduty_sandbox.scopes import require_known
from pagerduty_sandbox.state import (
    Account,
    App,
    Config,
    EscalationPolicy,
    EscalationRule,
    Override,
    Schedule,
    ScheduleLayer,
    Service,
    State,
    Team,
    User,
    derived_uuid,
)

PASSWORD = "sandbox"  # noqa: S105 - the documented sign-in of seeded users
DEMO_APP_NAME = "Portal demo"
DEMO_REDIRECT_URI = "http://127.0.0.1:8000/integration-callback"
# The scopes the seed lists for the portal's app, written out here rather
# than imported from the portal, and checked against PagerDuty's own list.
DEMO_SCOPES = require_known(
    (
        "incidents.read",
        "incidents.write",
        "services.read",
        "services.write",
        "schedules.read",
        "schedules.write",
        "escalation_policies.read",
        "escalation_policies.write",
        "oncalls.read",
        "users.read",
        "users.write",
        "teams.read",
        "teams.write",
        "webhook_subscriptions.read",
        "webhook_subscriptions.write",
    )
)

# (subdomain, name, region)
ACCOUNTS = [
    ("acme", "Acme Corp", "us"),
    ("globex", "Globex", "eu"),
    ("initech", "Initech", "us"),
]
# (subdomain, email, name, role, job title). Roles use PagerDuty's names;
# "owner", "admin" and "manager"-level users may register apps.
USERS = [
    ("acme", "alice@acme.example", "Alice Anders", "owner", "Head of SRE"),
    ("acme", "bob@acme.example", "Bob Baker", "user", "Platform engineer"),
    ("acme", "carol@acme.example", "Carol Chen", "admin", "Payments lead"),
    ("acme", "dave@acme.example", "Dave Diaz", "limited_user", "Payments engineer"),
    ("acme", "erin@acme.example", "Erin Ezra", "read_only_user", "Support"),
    ("globex", "gina@globex.example", "Gina Gold", "owner", "Operations lead"),
    ("globex", "hank@globex.example", "Hank Hill", "user", "Operator"),
    ("initech", "ian@initech.example", "Ian Irwin", "owner", "IT manager"),
    ("initech", "judy@initech.example", "Judy Jones", "user", "Sysadmin"),
]
# (subdomain, team, [(email, team role)])
TEAMS = [
    (
        "acme",
        "Platform",
        [("alice@acme.example", "manager"), ("bob@acme.example", "responder")],
    ),
    (
        "acme",
        "Payments",
        [
            ("carol@acme.example", "manager"),
            ("dave@acme.example", "responder"),
            ("erin@acme.example", "observer"),
        ],
    ),
    (
        "globex",
        "Operations",
        [("gina@globex.example", "manager"), ("hank@globex.example", "responder")],
    ),
    (
        "initech",
        "IT",
        [("ian@initech.example", "manager"), ("judy@initech.example", "responder")],
    ),
]
SERVICE_NAMES = [
    "Checkout API",
    "Payments Gateway",
    "Search",
    "Auth Service",
    "Web Frontend",
    "Mail Relay",
    "Inventory",
    "Billing Jobs",
    "Mobile Push",
    "Reporting",
    "Image Resizer",
    "Status Page",
]
INCIDENT_TITLES = [
    "Error rate above 5% on {service}",
    "{service} latency p99 over 2s",
    "{service} health check failing",
    "Disk almost full on {service} host",
    "{service} queue backlog growing",
    "Certificate for {service} expires in 3 days",
    "{service} returning 502s",
    "Memory leak suspected in {service}",
]
NOTE_TEXTS = [
    "Looking into it.",
    "Rolled back the last deploy; watching the graphs.",
    "Root cause: connection pool exhausted. Raised the limit.",
    "Customer impact confirmed by support.",
]


@dataclass(frozen=True)
class DemoApp:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]


def demo_app_credentials(seed: int) -> DemoApp:
    """Return the pre-registered "Portal demo" app's credentials for a seed."""
    secret = hashlib.sha256(f"sandbox-demo-secret|{seed}".encode()).hexdigest()
    return DemoApp(
        client_id=derived_uuid("sandbox-demo-client", seed),
        client_secret=f"pdcs_{secret[:40]}",
        redirect_uris=(DEMO_REDIRECT_URI,),
        scopes=DEMO_SCOPES,
    )


def build_state(
    *,
    seed: int = 1,
    incidents: int = 30,
    services: int = 6,
    config: Config | None = None,
) -> State:
    """Return a freshly seeded state.

    `incidents` and `services` size the `acme` account; the other accounts
    get a handful of each.
    """
    if incidents < 0 or services < 1:
        raise ValueError("need at least one service and no negative incidents")
    state = State(seed=seed, config=config)
    now = state.now()
    accounts = {}
    for subdomain, name, region in ACCOUNTS:
        account = Account(
            id=state.new_id(), subdomain=subdomain, name=name, region=region
        )
        state.accounts[account.id] = account
        accounts[subdomain] = account
    users = {}
    for subdomain, email, name, role, title in USERS:
        user = User(
            id=state.new_id(),
            account_id=accounts[subdomain].id,
            name=name,
            email=email,
            password=PASSWORD,
            role=role,
            job_title=title,
            time_zone="Europe/Berlin" if subdomain == "globex" else "America/New_York",
            created_at=now - timedelta(days=400),
        )
        state.users[user.id] = user
        users[email] = user
    teams = {}
    for subdomain, name, members in TEAMS:
        team = Team(
            id=state.new_id(),
            account_id=accounts[subdomain].id,
            name=name,
            description=f"The {name} team",
            members={users[email].id: role for email, role in members},
        )
        state.teams[team.id] = team
        teams[(subdomain, name)] = team

    policies = {}
    for (subdomain, name), team in teams.items():
        policies[(subdomain, name)] = _seed_on_call(state, team, now)

    _seed_services(state, accounts["acme"], policies, teams, services, "acme", now)
    for subdomain in ("globex", "initech"):
        _seed_services(state, accounts[subdomain], policies, teams, 2, subdomain, now)

    _seed_incidents(state, accounts["acme"], incidents, now)
    for subdomain in ("globex", "initech"):
        _seed_incidents(state, accounts[subdomain], 6, now)

    credentials = demo_app_credentials(seed)
    app = App(
        id=state.new_id(),
        account_id=accounts["acme"].id,
        owner_user_id=users["alice@acme.example"].id,
        name=DEMO_APP_NAME,
        description="Pre-registered for `make demo`: the portal's Development app.",
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
        redirect_uris=list(credentials.redirect_uris),
        scopes=list(credentials.scopes),
        created_at=now - timedelta(days=7),
    )
    state.apps[app.id] = app
    return state


def _seed_on_call(state: State, team: Team, now) -> EscalationPolicy:
    """Give a team a two-layer schedule and a two-level escalation policy."""
    member_ids = [uid for uid, role in team.members.items() if role != "observer"]
    week_start = (now - timedelta(days=now.weekday())).replace(
        hour=9, minute=0, second=0
    ) - timedelta(weeks=4)
    weekly = ScheduleLayer(
        id=state.new_id(),
        name="Layer 1",
        start=week_start,
        rotation_virtual_start=week_start,
        turn_seconds=7 * 86400,
        user_ids=member_ids,
    )
    # A daily follow-the-sun layer on top, with its members reversed.
    daily = ScheduleLayer(
        id=state.new_id(),
        name="Layer 2",
        start=week_start + timedelta(weeks=2),
        rotation_virtual_start=week_start + timedelta(weeks=2),
        turn_seconds=86400,
        user_ids=list(reversed(member_ids)),
    )
    schedule = Schedule(
        id=state.new_id(),
        account_id=team.account_id,
        name=f"{team.name} primary",
        description=f"Primary on-call for {team.name}",
        layers=[weekly, daily],
        team_ids=[team.id],
        time_zone="Etc/UTC",
    )
    override_start = (now + timedelta(days=2)).replace(hour=18, minute=0, second=0)
    schedule.overrides.append(
        Override(
            id=state.new_id(),
            start=override_start,
            end=override_start + timedelta(hours=12),
            user_id=member_ids[0],
        )
    )
    state.schedules[schedule.id] = schedule
    manager = next(uid for uid, role in team.members.items() if role == "manager")
    policy = EscalationPolicy(
        id=state.new_id(),
        account_id=team.account_id,
        name=f"{team.name} escalation",
        description=f"Page {team.name} on-call, then the team manager",
        rules=[
            EscalationRule(state.new_id(), 30, [("schedule", schedule.id)]),
            EscalationRule(state.new_id(), 30, [("user", manager)]),
        ],
        num_loops=1,
        team_ids=[team.id],
    )
    state.escalation_policies[policy.id] = policy
    return policy


def _seed_services(state, account, policies, teams, count, subdomain, now):
    team_keys = [key for key in teams if key[0] == subdomain]
    for index in range(count):
        name = SERVICE_NAMES[index % len(SERVICE_NAMES)]
        if index >= len(SERVICE_NAMES):
            name = f"{name} {index // len(SERVICE_NAMES) + 1}"
        key = team_keys[index % len(team_keys)]
        service = Service(
            id=state.new_id(),
            account_id=account.id,
            name=name,
            description=f"{name} ({teams[key].name})",
            escalation_policy_id=policies[key].id,
            team_ids=[teams[key].id],
            created_at=now - timedelta(days=300 - index % 200),
            urgency="high" if index % 3 else "low",
        )
        service.updated_at = service.created_at
        state.services[service.id] = service


def _seed_incidents(state: State, account: Account, count: int, now) -> None:
    rng = state.rng
    services = [s for s in state.services.values() if s.account_id == account.id]
    members = [u for u in state.users.values() if u.account_id == account.id]
    statuses = ["triggered", "acknowledged", "resolved"]
    # About 60 incidents a day: a large seed reaches back over several of
    # PagerDuty's 6-month query windows, a small one stays within a month.
    days = max(25, count // 60)
    for index in range(count):
        service = services[index % len(services)]
        # One in ten is older than the rest (and than PagerDuty's default
        # one-month window).
        if index % 10 == 9:
            age = timedelta(
                days=rng.randint(days + 10, days + 95), minutes=rng.randint(0, 1439)
            )
        else:
            age = timedelta(days=rng.randint(0, days), minutes=rng.randint(0, 1439))
        created = now - age - timedelta(minutes=90)
        template = INCIDENT_TITLES[rng.randrange(len(INCIDENT_TITLES))]
        incident = ops.incident_create(
            state,
            service=service,
            title=template.format(service=service.name),
            agent=("service", service.id),
            urgency=rng.choice(["high", "high", "low"]),
            at=created,
            channel="api",
        )
        status = statuses[index % 3]
        responder = rng.choice(members)
        agent = ("user", responder.id)
        if status in ("acknowledged", "resolved"):
            ops.incident_acknowledge(
                state, incident, agent, at=created + timedelta(minutes=5)
            )
        if index % 2 == 0:
            ops.incident_add_note(
                state,
                incident,
                agent,
                NOTE_TEXTS[index % len(NOTE_TEXTS)],
                at=created + timedelta(minutes=20),
            )
        if status == "resolved":
            ops.incident_resolve(
                state, incident, agent, at=created + timedelta(minutes=60)
            )
