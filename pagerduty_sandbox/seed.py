"""Deterministic seed data: the same `seed` and sizes give the same world.

Timestamps are relative to the moment of seeding, so the data always looks
recent; IDs, names and the demo app's credentials depend only on the seed.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pagerduty_sandbox import ops
from pagerduty_sandbox.scopes import require_known
from pagerduty_sandbox.state import (
    ID_ALPHABET,
    Account,
    AlertGroupingSetting,
    App,
    BusinessService,
    ChangeEvent,
    Config,
    EscalationPolicy,
    EscalationRule,
    Override,
    Schedule,
    ScheduleLayer,
    Service,
    ServiceDependency,
    State,
    Team,
    User,
    V3Schedule,
    derived_uuid,
)

PASSWORD = "sandbox"  # noqa: S105 - the documented sign-in of seeded users
DEMO_APP_NAME = "Portal demo"
GLOBEX_APP_NAME = "Globex portal"
CLASSIC_APP_NAME = "Portal demo (Classic)"
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


def _derived_app(seed: int, key: str, scopes) -> DemoApp:
    """Return an app's credentials derived from the seed and `key`."""
    secret = hashlib.sha256(f"sandbox-{key}-secret|{seed}".encode()).hexdigest()
    return DemoApp(
        client_id=derived_uuid(f"sandbox-{key}-client", seed),
        client_secret=f"pdcs_{secret[:40]}",
        redirect_uris=(DEMO_REDIRECT_URI,),
        scopes=tuple(scopes),
    )


def demo_app_credentials(seed: int) -> DemoApp:
    """Return the pre-registered "Portal demo" app's credentials for a seed."""
    return _derived_app(seed, "demo", DEMO_SCOPES)


def tenant_app_credentials(seed: int) -> DemoApp:
    """Return globex's own "Globex portal" app (Scoped, all 15 scopes)."""
    return _derived_app(seed, "globex", DEMO_SCOPES)


def classic_app_credentials(seed: int) -> DemoApp:
    """Return acme's "Portal demo (Classic)" app (Classic User OAuth, write)."""
    return _derived_app(seed, "classic", ("write",))


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
    # Added after everything above so a seed's earlier IDs stay the same.
    for subdomain, account in accounts.items():
        _seed_alerts_and_changes(state, account, now)
        _seed_dependencies(state, account, teams, subdomain)
        _seed_service_config(state, account, now, grouping=subdomain == "acme")
        _seed_shift_based_schedule(state, account, teams, subdomain, now)
    _seed_more_apps(state, accounts, users, seed, now)
    return state


def _seed_more_apps(state, accounts, users, seed: int, now) -> None:
    """Add globex's own Scoped app and acme's Classic app (after the rest, so
    earlier IDs stay the same)."""
    for subdomain, owner, name, description, credentials, oauth_type in (
        (
            "globex",
            "gina@globex.example",
            GLOBEX_APP_NAME,
            "Pre-registered for `make demo`: Globex's own app for the portal.",
            tenant_app_credentials(seed),
            "scoped",
        ),
        (
            "acme",
            "alice@acme.example",
            CLASSIC_APP_NAME,
            "Pre-registered for `make demo`: the portal's Production app, "
            "usable by any PagerDuty account.",
            classic_app_credentials(seed),
            "classic",
        ),
    ):
        app = App(
            id=state.new_id(),
            account_id=accounts[subdomain].id,
            owner_user_id=users[owner].id,
            name=name,
            description=description,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            redirect_uris=list(credentials.redirect_uris),
            scopes=list(credentials.scopes),
            created_at=now - timedelta(days=7),
            oauth_type=oauth_type,
        )
        state.apps[app.id] = app


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


# (business service, point of contact, indexes into the account's services)
BUSINESS_SERVICES = [
    ("Online Store", "#store-oncall", (4, 0, 2)),
    ("Payments", "payments-lead@{subdomain}.example", (1, 0)),
    ("{name} Portal", "#it-helpdesk", (0, 1)),
]
# (dependent, supporting) technical services, as indexes
TECHNICAL_DEPENDENCIES = [(0, 1), (0, 3), (4, 0), (4, 2), (4, 3), (3, 5)]
SEVERITIES = {"high": ("critical", "error"), "low": ("warning", "info")}


def _account_services(state: State, account: Account) -> list[Service]:
    return [s for s in state.services.values() if s.account_id == account.id]


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _seed_alerts_and_changes(state: State, account: Account, now) -> None:
    """Give each incident the alerts that triggered it, and services changes.

    Every seeded incident came from its service's monitoring, so it has one
    to three alerts (the first carries the incident's key); a third of them
    follow a deploy of their service 25 minutes earlier, and every service
    has two recent configuration changes.
    """
    rng = state.rng
    incidents = sorted(
        (i for i in state.incidents.values() if i.account_id == account.id),
        key=lambda i: i.number,
    )
    for incident in incidents:
        service = state.services[incident.service_id]
        source = f"{_slug(service.name)}-prod-{incident.number % 4 + 1}"
        for k in range(1 + incident.number % 3):
            ops.incident_add_alert(
                state,
                incident,
                summary=incident.title if k == 0 else f"{incident.title} ({source})",
                severity=SEVERITIES[incident.urgency][min(k, 1)],
                source=source,
                at=incident.created_at + timedelta(minutes=2 * k),
                alert_key=incident.incident_key if k == 0 else None,
                details={"host": source, "monitor": f"{service.name} monitoring"},
            )
        if incident.number % 3 == 1:
            commit = "".join(rng.choices("0123456789abcdef", k=7))
            _change(
                state,
                account,
                f"Deploy {service.name} build {incident.number} ({commit})",
                incident.created_at - timedelta(minutes=25),
                [service.id],
                source="ci-pipeline",
                custom_details={"build": incident.number, "commit": commit},
                links=[
                    {
                        "href": f"https://ci.{account.subdomain}.example/builds/"
                        f"{incident.number}",
                        "text": f"Build {incident.number}",
                    }
                ],
            )
    for index, service in enumerate(_account_services(state, account)):
        for days in (1 + index % 3, 8 + index % 5):
            _change(
                state,
                account,
                f"Config change: {service.name} connection pool resized",
                now - timedelta(days=days, hours=rng.randint(0, 20)),
                [service.id],
                source="config-service",
                custom_details={"pool_size": rng.choice([20, 40, 80])},
            )


def _change(state, account, summary, at, service_ids, **extra) -> None:
    change = ChangeEvent(
        id="01" + "".join(state.rng.choices(ID_ALPHABET, k=24)),
        account_id=account.id,
        summary=summary,
        timestamp=at,
        service_ids=service_ids,
        **extra,
    )
    state.change_events[change.id] = change


def _seed_dependencies(state: State, account: Account, teams, subdomain) -> None:
    """Business services over the account's services, and technical links.

    Indexes past the account's service count are skipped, so small seeds
    get fewer links; every account gets at least one business service.
    """
    services = _account_services(state, account)
    team_list = [team for (sub, _), team in teams.items() if sub == subdomain]

    def link(dependent, supporting):
        dep = ServiceDependency(
            id="D" + state.new_id()[1:] + state.new_id()[1:],
            account_id=account.id,
            supporting=supporting,
            dependent=dependent,
        )
        state.service_dependencies[dep.id] = dep

    chosen = BUSINESS_SERVICES[:2] if len(services) > 2 else BUSINESS_SERVICES[2:]
    for index, (name, contact, supported) in enumerate(chosen):
        business = BusinessService(
            id=state.new_id(),
            account_id=account.id,
            name=name.format(name=account.name),
            description=f"{name.format(name=account.name)}, as customers see it",
            point_of_contact=contact.format(subdomain=subdomain),
            team_id=team_list[index % len(team_list)].id,
        )
        state.business_services[business.id] = business
        for i in supported:
            if i < len(services):
                link(("business_service", business.id), ("service", services[i].id))
    for dependent, supporting in TECHNICAL_DEPENDENCIES:
        if max(dependent, supporting) < len(services):
            link(
                ("service", services[dependent].id),
                ("service", services[supporting].id),
            )
        elif len(services) == 2 and (dependent, supporting) == (0, 1):
            link(("service", services[0].id), ("service", services[1].id))


def _seed_service_config(state: State, account: Account, now, *, grouping) -> None:
    """An Event Orchestration rule on the first service; grouping on acme."""
    services = _account_services(state, account)
    services[0].orchestration_rules = [
        {
            "id": "c91f72f3",
            "label": "Suppress synthetic checks",
            "conditions": [{"expression": "event.summary matches part 'synthetic'"}],
            "actions": {"suppress": True},
            "disabled": False,
        }
    ]
    if not grouping or len(services) < 3:
        return
    for kind, config, members, name in (
        (
            "content_based",
            {"aggregate": "all", "fields": ["summary", "source"], "time_window": 600},
            services[:2],
            "Checkout and payments by content",
        ),
        ("time", {"timeout": 900}, services[2:3], "Search bursts"),
    ):
        setting = AlertGroupingSetting(
            id=state.new_id(),
            account_id=account.id,
            type=kind,
            config=config,
            service_ids=[s.id for s in members],
            created_at=now - timedelta(days=30),
            updated_at=now - timedelta(days=30),
            name=name,
            description=f"{name} ({kind.replace('_', ' ')} grouping)",
        )
        state.alert_grouping_settings[setting.id] = setting


def _seed_shift_based_schedule(state: State, account, teams, subdomain, now) -> None:
    """One shift-based (v3) schedule: weekday business hours, rotating weekly."""
    team = next(team for (sub, _), team in teams.items() if sub == subdomain)
    members = [uid for uid, role in team.members.items() if role != "observer"]
    zone = "Europe/Berlin" if account.region == "eu" else "America/New_York"
    monday = (now - timedelta(days=now.weekday() + 28)).date()

    def local(hour: int) -> str:
        moment = datetime.combine(monday, time(hour), tzinfo=ZoneInfo(zone))
        return moment.isoformat()

    event = {
        "id": state.new_id(),
        "name": "Weekday business hours",
        "start_time": {"date_time": local(9), "time_zone": zone},
        "end_time": {"date_time": local(17), "time_zone": zone},
        "effective_since": f"{monday.isoformat()}T00:00:00Z",
        "effective_until": None,
        "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
        "assignment_strategy": {
            "type": "rotating_member_assignment_strategy",
            "shifts_per_member": 5,
            "members": [{"type": "user_member", "user_id": uid} for uid in members],
        },
    }
    schedule = V3Schedule(
        id=state.new_id(),
        account_id=account.id,
        name=f"{team.name} business hours",
        time_zone=zone,
        rotations=[{"id": state.new_id(), "events": [event]}],
        description=f"Shift-based: {team.name} covers weekdays 9-17",
        team_ids=[team.id],
    )
    state.v3_schedules[schedule.id] = schedule
