"""Escalation policies, schedules (with overrides) and computed on-calls."""

from datetime import timedelta

from pagerduty_sandbox import ops
from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import (
    ApiError,
    Ctx,
    includes,
    invalid,
    not_found,
    paginate,
    parse_time,
    reference_id,
    text_field,
)
from pagerduty_sandbox.rest.people import render_user
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.state import (
    EscalationPolicy,
    EscalationRule,
    Override,
    Schedule,
    ScheduleLayer,
    iso,
)

SCHEDULE_WINDOW = timedelta(days=7)
MAX_RENDER_WINDOW = timedelta(days=93)
ONCALL_HORIZON = timedelta(days=90)


# --- Escalation policies ---


def _policy(ctx: Ctx, policy_id: str) -> EscalationPolicy:
    return ctx.owned(
        ctx.state.escalation_policies, policy_id, "Escalation Policy Not Found", 1014
    )


def _target_ref(ctx: Ctx, kind: str, target_id: str) -> dict:
    if kind == "user":
        return ctx.user_ref(target_id)
    return ctx.schedule_ref(target_id)


def render_policy(ctx: Ctx, policy: EscalationPolicy, include=()) -> dict:
    services = [
        s for s in ctx.state.services.values() if s.escalation_policy_id == policy.id
    ]
    data = {
        "id": policy.id,
        "type": "escalation_policy",
        "summary": policy.name,
        "self": f"{ctx.api_url}/escalation_policies/{policy.id}",
        "html_url": ctx.html_url("escalation_policies", policy.id),
        "name": policy.name,
        "description": policy.description,
        "num_loops": policy.num_loops,
        "on_call_handoff_notifications": "if_has_services",
        "escalation_rules": [
            {
                "id": rule.id,
                "escalation_delay_in_minutes": rule.delay_minutes,
                "targets": [_target_ref(ctx, k, t) for k, t in rule.targets],
            }
            for rule in policy.rules
        ],
        "services": [ctx.service_ref(s.id) for s in services],
        "teams": [ctx.team_ref(t) for t in policy.team_ids],
    }
    if policy.description is None:
        del data["description"]
    return data


def _rules(ctx: Ctx, value) -> list[EscalationRule]:
    if not isinstance(value, list) or not value:
        raise invalid("escalation_rules must be a non-empty array")
    rules = []
    for rule in value:
        if not isinstance(rule, dict):
            raise invalid("each escalation rule must be an object")
        delay = rule.get("escalation_delay_in_minutes")
        if isinstance(delay, bool) or not isinstance(delay, int) or delay < 1:
            raise invalid("escalation_delay_in_minutes must be a positive integer")
        targets = rule.get("targets")
        if not isinstance(targets, list) or not targets:
            raise invalid("each escalation rule needs at least one target")
        parsed = []
        for target in targets:
            kind = (target or {}).get("type", "").removesuffix("_reference")
            if kind not in ("user", "schedule"):
                raise invalid("targets must be user or schedule references")
            target_id = reference_id(target, "targets[]", kind)
            collection = ctx.state.users if kind == "user" else ctx.state.schedules
            ctx.owned(collection, target_id, f"{kind.title()} Not Found", 2100)
            parsed.append((kind, target_id))
        rules.append(EscalationRule(ctx.state.new_id(), delay, parsed))
    return rules


def _team_ids(ctx: Ctx, data: dict) -> list[str]:
    teams = data.get("teams", [])
    if not isinstance(teams, list):
        raise invalid("teams must be an array of team references")
    ids = [reference_id(t, "teams[]", "team") for t in teams]
    for team_id in ids:
        ctx.owned(ctx.state.teams, team_id, "Team Not Found", 6001)
    return ids


def _policy_fields(ctx: Ctx, data: dict, *, creating: bool) -> dict:
    fields = {}
    name = text_field(data, "name", required=creating, max_length=255)
    if name is not None:
        fields["name"] = name.strip()
    if "escalation_rules" in data or creating:
        fields["rules"] = _rules(ctx, data.get("escalation_rules"))
    if "description" in data:
        fields["description"] = text_field(data, "description")
    if "num_loops" in data:
        loops = data["num_loops"]
        if isinstance(loops, bool) or not isinstance(loops, int) or loops < 0:
            raise invalid("num_loops must be a non-negative integer")
        fields["num_loops"] = loops
    if "teams" in data:
        fields["team_ids"] = _team_ids(ctx, data)
    return fields


@route("GET", "/escalation_policies")
def policy_list(ctx: Ctx):
    includes(
        ctx, ("services", "teams", "targets", "escalation_rule_assignment_strategies")
    )
    query = (ctx.arg("query") or "").lower()
    user_ids = set(ctx.args("user_ids"))
    team_ids = set(ctx.args("team_ids"))
    found = [
        p
        for p in ctx.state.escalation_policies.values()
        if p.account_id == ctx.account_id
        and (not query or query in p.name.lower())
        and (not team_ids or team_ids.intersection(p.team_ids))
        and (
            not user_ids
            or any(
                (k == "user" and t in user_ids)
                or (
                    k == "schedule"
                    and t in ctx.state.schedules
                    and user_ids.intersection(
                        _schedule_user_ids(ctx.state.schedules[t])
                    )
                )
                for rule in p.rules
                for k, t in rule.targets
            )
        )
    ]
    found.sort(key=lambda p: p.name.lower())
    return paginate(ctx, found, "escalation_policies", lambda p: render_policy(ctx, p))


@route("GET", "/escalation_policies/{id}")
def policy_get(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    includes(
        ctx, ("services", "teams", "targets", "escalation_rule_assignment_strategies")
    )
    return Response.json({"escalation_policy": render_policy(ctx, _policy(ctx, id))})


@route("POST", "/escalation_policies")
def policy_create(ctx: Ctx):
    data = ctx.body("escalation_policy")
    if data.get("type", "escalation_policy") != "escalation_policy":
        raise invalid("escalation_policy.type must be escalation_policy")
    fields = _policy_fields(ctx, data, creating=True)
    if any(
        p.name == fields["name"]
        for p in ctx.state.escalation_policies.values()
        if p.account_id == ctx.account_id
    ):
        raise invalid("Escalation Policy has already been taken")
    policy = EscalationPolicy(
        id=ctx.state.new_id(), account_id=ctx.account_id, **fields
    )
    ctx.state.escalation_policies[policy.id] = policy
    return Response.json({"escalation_policy": render_policy(ctx, policy)}, status=201)


@route("PUT", "/escalation_policies/{id}")
def policy_update(ctx: Ctx, id: str):  # noqa: A002
    policy = _policy(ctx, id)
    for name, value in _policy_fields(
        ctx, ctx.body("escalation_policy"), creating=False
    ).items():
        setattr(policy, name, value)
    return Response.json({"escalation_policy": render_policy(ctx, policy)})


@route("DELETE", "/escalation_policies/{id}")
def policy_delete(ctx: Ctx, id: str):  # noqa: A002
    policy = _policy(ctx, id)
    if any(s.escalation_policy_id == policy.id for s in ctx.state.services.values()):
        raise ApiError(
            400,
            "Invalid operation",
            2015,
            ["The escalation policy is used by services; reassign them first"],
        )
    del ctx.state.escalation_policies[policy.id]
    return Response(status=204)


# --- Schedules ---


def _schedule(ctx: Ctx, schedule_id: str) -> Schedule:
    shift_based = ctx.state.v3_schedules.get(schedule_id)
    if shift_based is not None and shift_based.account_id == ctx.account_id:
        # PagerDuty's answer for a shift-based schedule on the v2 API.
        raise ApiError(
            400,
            "This is a shift-based schedule. Use the v3 Schedules API "
            "(/v3/schedules) to access it.",
            2001,
        )
    return ctx.owned(ctx.state.schedules, schedule_id, "Schedule Not Found", 3004)


def _schedule_user_ids(schedule: Schedule) -> list[str]:
    return list(dict.fromkeys(u for layer in schedule.layers for u in layer.user_ids))


def _render_window(ctx: Ctx):
    since = ctx.time_arg("since") or ctx.state.now()
    until = ctx.time_arg("until") or since + SCHEDULE_WINDOW
    if until <= since:
        raise ApiError(
            400, "Invalid Query Date Range", 2005, ["until must be after since"]
        )
    if until - since > MAX_RENDER_WINDOW:
        raise ApiError(
            400, "Invalid Query Date Range", 2005, ["at most 3 months can be rendered"]
        )
    return since, until


def _entries(ctx: Ctx, spans, since, until) -> dict:
    covered = sum((end - start).total_seconds() for start, end, _ in spans)
    total = (until - since).total_seconds()
    return {
        "rendered_schedule_entries": [
            {"start": iso(start), "end": iso(end), "user": ctx.user_ref(user_id)}
            for start, end, user_id in spans
        ],
        "rendered_coverage_percentage": round(100 * covered / total, 2),
    }


def render_schedule(ctx: Ctx, schedule: Schedule, window=None, detail=True) -> dict:
    policies = [
        p
        for p in ctx.state.escalation_policies.values()
        if any(
            k == "schedule" and t == schedule.id for r in p.rules for k, t in r.targets
        )
    ]
    data = {
        "id": schedule.id,
        "type": "schedule",
        "summary": schedule.name,
        "self": f"{ctx.api_url}/schedules/{schedule.id}",
        "html_url": ctx.html_url("schedules", schedule.id),
        "name": schedule.name,
        "description": schedule.description,
        "time_zone": schedule.time_zone,
        "escalation_policies": [ctx.policy_ref(p.id) for p in policies],
        "users": [ctx.user_ref(u) for u in _schedule_user_ids(schedule)],
        "teams": [ctx.team_ref(t) for t in schedule.team_ids],
    }
    if schedule.description is None:
        del data["description"]
    if not detail:
        return data
    since, until = window
    layers = []
    for layer in schedule.layers:
        rendered = {
            "id": layer.id,
            "name": layer.name,
            "start": iso(layer.start),
            "users": [{"user": ctx.user_ref(u)} for u in layer.user_ids],
            "restrictions": [],
            "rotation_virtual_start": iso(layer.rotation_virtual_start),
            "rotation_turn_length_seconds": layer.turn_seconds,
            **_entries(
                ctx, ops.schedule_entries(schedule, since, until, layer), since, until
            ),
        }
        if layer.end:
            rendered["end"] = iso(layer.end)
        layers.append(rendered)
    overrides = [
        (max(o.start, since), min(o.end, until), o.user_id)
        for o in schedule.overrides
        if o.start < until and o.end > since
    ]
    data["schedule_layers"] = layers
    data["overrides_subschedule"] = {
        "name": "Overrides",
        **_entries(ctx, sorted(overrides), since, until),
    }
    data["final_schedule"] = {
        "name": "Final Schedule",
        **_entries(ctx, ops.schedule_entries(schedule, since, until), since, until),
    }
    return data


@route("GET", "/schedules")
def schedule_list(ctx: Ctx):
    includes(ctx, ("schedule_layers", "overrides_subschedule", "final_schedule"))
    query = (ctx.arg("query") or "").lower()
    team_ids = set(ctx.args("team_ids"))
    found = [
        s
        for s in ctx.state.schedules.values()
        if s.account_id == ctx.account_id
        and (not query or query in s.name.lower())
        and (not team_ids or team_ids & set(s.team_ids))
    ]
    found.sort(key=lambda s: s.name.lower())
    return paginate(
        ctx, found, "schedules", lambda s: render_schedule(ctx, s, detail=False)
    )


@route("GET", "/schedules/{id}")
def schedule_get(ctx: Ctx, id: str):  # noqa: A002
    schedule = _schedule(ctx, id)
    window = _render_window(ctx)
    return Response.json({"schedule": render_schedule(ctx, schedule, window)})


@route("GET", "/schedules/{id}/users")
def schedule_users(ctx: Ctx, id: str):  # noqa: A002
    """Users on call in the final schedule between `since` and `until`.

    Without either, every user the schedule names (layers, then overrides):
    PagerDuty documents no default range.
    """
    schedule = _schedule(ctx, id)
    if ctx.arg("since") is None and ctx.arg("until") is None:
        user_ids = _schedule_user_ids(schedule) + [
            o.user_id for o in schedule.overrides
        ]
    else:
        since, until = _render_window(ctx)
        spans = ops.schedule_entries(schedule, since, until)
        user_ids = [user_id for _, _, user_id in spans]
    users = [
        ctx.state.users[u] for u in dict.fromkeys(user_ids) if u in ctx.state.users
    ]
    return Response.json({"users": [render_user(ctx, u) for u in users]})


def _time(value, name: str):
    moment = parse_time(value) if isinstance(value, str) else None
    if moment is None:
        raise invalid(f"{name} must be an ISO 8601 date-time")
    return moment


def _layers(ctx: Ctx, value) -> list[ScheduleLayer]:
    if not isinstance(value, list) or not value:
        raise invalid("schedule_layers must be a non-empty array")
    layers = []
    for index, layer in enumerate(value, start=1):
        if not isinstance(layer, dict):
            raise invalid("each schedule layer must be an object")
        turn = layer.get("rotation_turn_length_seconds")
        if isinstance(turn, bool) or not isinstance(turn, int) or turn < 3600:
            raise invalid("rotation_turn_length_seconds must be at least 3600")
        users = layer.get("users")
        if not isinstance(users, list) or not users:
            raise invalid("each schedule layer needs users")
        user_ids = []
        for entry in users:
            user_id = reference_id((entry or {}).get("user"), "users[].user", "user")
            ctx.owned(ctx.state.users, user_id, "User not found", 2013)
            user_ids.append(user_id)
        start = _time(layer.get("start"), "start")
        end = _time(layer["end"], "end") if layer.get("end") else None
        if end is not None and end <= start:
            raise invalid("a layer's end must be after its start")
        layers.append(
            ScheduleLayer(
                id=ctx.state.new_id(),
                name=layer.get("name") or f"Layer {index}",
                start=start,
                rotation_virtual_start=_time(
                    layer.get("rotation_virtual_start"), "rotation_virtual_start"
                ),
                turn_seconds=turn,
                user_ids=user_ids,
                end=end,
            )
        )
    return layers


def _schedule_fields(ctx: Ctx, data: dict, *, creating: bool) -> dict:
    fields = {}
    if data.get("type", "schedule") != "schedule":
        raise invalid("schedule.type must be schedule")
    time_zone = text_field(data, "time_zone", required=creating, max_length=100)
    if time_zone is not None:
        fields["time_zone"] = time_zone
    name = text_field(data, "name", max_length=255)
    if name is not None:
        fields["name"] = name.strip()
    elif creating:
        fields["name"] = "New Schedule"
    if "description" in data:
        fields["description"] = text_field(data, "description")
    if "schedule_layers" in data or creating:
        fields["layers"] = _layers(ctx, data.get("schedule_layers"))
    if "teams" in data:
        fields["team_ids"] = _team_ids(ctx, data)
    return fields


@route("POST", "/schedules")
def schedule_create(ctx: Ctx):
    fields = _schedule_fields(ctx, ctx.body("schedule"), creating=True)
    schedule = Schedule(id=ctx.state.new_id(), account_id=ctx.account_id, **fields)
    ctx.state.schedules[schedule.id] = schedule
    window = _render_window(ctx)
    return Response.json(
        {"schedule": render_schedule(ctx, schedule, window)}, status=201
    )


@route("PUT", "/schedules/{id}")
def schedule_update(ctx: Ctx, id: str):  # noqa: A002
    schedule = _schedule(ctx, id)
    fields = _schedule_fields(ctx, ctx.body("schedule"), creating=False)
    for name, value in fields.items():
        setattr(schedule, name, value)
    window = _render_window(ctx)
    return Response.json({"schedule": render_schedule(ctx, schedule, window)})


@route("DELETE", "/schedules/{id}")
def schedule_delete(ctx: Ctx, id: str):  # noqa: A002
    schedule = _schedule(ctx, id)
    if any(
        k == "schedule" and t == schedule.id
        for p in ctx.state.escalation_policies.values()
        for r in p.rules
        for k, t in r.targets
    ):
        raise ApiError(
            400,
            "Invalid Schedule",
            3001,
            ["The schedule is used by an escalation policy; remove it there first"],
        )
    del ctx.state.schedules[schedule.id]
    return Response(status=204)


def render_override(ctx: Ctx, override: Override) -> dict:
    return {
        "id": override.id,
        "start": iso(override.start),
        "end": iso(override.end),
        "user": ctx.user_ref(override.user_id),
    }


@route("GET", "/schedules/{id}/overrides")
def override_list(ctx: Ctx, id: str):  # noqa: A002
    schedule = _schedule(ctx, id)
    since, until = ctx.time_arg("since"), ctx.time_arg("until")
    if since is None or until is None:
        raise invalid("since and until are required")
    found = [o for o in schedule.overrides if o.start < until and o.end > since]
    return Response.json({"overrides": [render_override(ctx, o) for o in found]})


@route("POST", "/schedules/{id}/overrides")
def override_create(ctx: Ctx, id: str):  # noqa: A002
    schedule = _schedule(ctx, id)
    items = ctx.body().get("overrides")
    if not isinstance(items, list) or not items:
        raise invalid("overrides must be a non-empty array")
    results = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid("each override must be an object")
        start = _time(item.get("start"), "start")
        end = _time(item.get("end"), "end")
        if end <= start:
            raise invalid("an override's end must be after its start")
        user_id = reference_id(item.get("user"), "user", "user")
        ctx.owned(ctx.state.users, user_id, "User not found", 2013)
        override = Override(ctx.state.new_id(), start, end, user_id)
        schedule.overrides.append(override)
        results.append({"status": 201, "override": render_override(ctx, override)})
    return Response.json(results, status=201)


@route("DELETE", "/schedules/{id}/overrides/{override_id}")
def override_delete(ctx: Ctx, id: str, override_id: str):  # noqa: A002
    schedule = _schedule(ctx, id)
    override = next((o for o in schedule.overrides if o.id == override_id), None)
    if override is None:
        raise not_found("Override Not Found", 4004)
    schedule.overrides.remove(override)
    return Response(status=204)


# --- On-calls ---


@route("GET", "/oncalls")
def oncall_list(ctx: Ctx):
    include = includes(ctx, ("escalation_policies", "users", "schedules"))
    state = ctx.state
    now = state.now()
    since = ctx.time_arg("since") or now
    until = ctx.time_arg("until") or since
    if until < since:
        raise ApiError(400, "Invalid Query Date Range", 2005, ["until is before since"])
    if until - now > ONCALL_HORIZON:
        raise ApiError(
            400,
            "Invalid Query Date Range",
            2005,
            ["On-calls can be listed at most 90 days into the future"],
        )
    user_ids = set(ctx.args("user_ids"))
    policy_ids = set(ctx.args("escalation_policy_ids"))
    schedule_ids = set(ctx.args("schedule_ids"))
    earliest = ctx.bool_arg("earliest")
    rows = []
    for policy in state.escalation_policies.values():
        if policy.account_id != ctx.account_id:
            continue
        if policy_ids and policy.id not in policy_ids:
            continue
        for level, rule in enumerate(policy.rules, start=1):
            for kind, target_id in rule.targets:
                if kind == "user":
                    if not schedule_ids:
                        rows.append((level, policy.id, None, target_id, None, None))
                    continue
                schedule = state.schedules.get(target_id)
                if schedule is None or (
                    schedule_ids and schedule.id not in schedule_ids
                ):
                    continue
                end = until if until > since else since + timedelta(seconds=1)
                for start, stop, user_id in ops.schedule_entries(schedule, since, end):
                    rows.append((level, policy.id, schedule.id, user_id, start, stop))
    if user_ids:
        rows = [r for r in rows if r[3] in user_ids]
    rows.sort(key=lambda r: (r[1], r[0], r[4] or since))
    if earliest:
        seen, kept = set(), []
        for row in rows:
            key = (row[3], row[1], row[0])
            if key not in seen:
                seen.add(key)
                kept.append(row)
        rows = kept
    return paginate(ctx, rows, "oncalls", lambda r: _render_oncall(ctx, r, include))


def _render_oncall(ctx: Ctx, row, include) -> dict:
    level, policy_id, schedule_id, user_id, start, end = row
    state = ctx.state
    policy = state.escalation_policies[policy_id]
    data = {
        "escalation_policy": (
            render_policy(ctx, policy)
            if "escalation_policies" in include
            else ctx.policy_ref(policy_id)
        ),
        "escalation_level": level,
        "user": (
            render_user(ctx, state.users[user_id])
            if "users" in include and user_id in state.users
            else ctx.user_ref(user_id)
        ),
    }
    # A user named directly in a rule is on call without a window or schedule.
    if schedule_id:
        data["schedule"] = ctx.schedule_ref(schedule_id)
        data["start"] = iso(start)
        data["end"] = iso(end)
    return data
