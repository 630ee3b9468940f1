"""Shift-based schedules, read side (`GET /v3/schedules`, `/v3/schedules/{id}`).

PagerDuty's newer schedules live beside the layer-based (v2) ones: each API
answers 400 for the other kind, with a message naming the API to use
(DD `REST-API/21-Schedules-v2-to-v3-Upgrade.md`). The OAS gives these
operations no `x-pd-requires-scope`, so the sandbox lets any valid
credential call them. `include[]=final_schedule` renders occurrences of
each event's RRULE (`FREQ=DAILY` or `FREQ=WEEKLY` with `BYDAY`, optional
`INTERVAL`) between `since` and `until`; rotating events hand each member
`shifts_per_member` occurrences in turn from `effective_since`. The
sandbox's on-call answers (`/oncalls`, escalation) use v2 schedules only.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import (
    ApiError,
    Ctx,
    includes,
    invalid,
    not_found,
    parse_time,
)
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.state import V3Schedule, iso

DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW = timedelta(days=93)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def owned_v3_schedule(ctx: Ctx, schedule_id: str) -> V3Schedule:
    schedule = ctx.state.v3_schedules.get(schedule_id)
    if schedule is not None and schedule.account_id == ctx.account_id:
        return schedule
    layered = ctx.state.schedules.get(schedule_id)
    if layered is not None and layered.account_id == ctx.account_id:
        raise ApiError(
            400,
            "This is a layer-based schedule. Use the v2 Schedules API "
            "(/schedules) to access it.",
            2001,
        )
    raise not_found("Schedule Not Found", 3004)


def v3_ref(ctx: Ctx, schedule: V3Schedule) -> dict:
    return {
        "id": schedule.id,
        "type": "schedule_v3_reference",
        "summary": schedule.name,
        "self": f"{ctx.api_url}/v3/schedules/{schedule.id}",
        "html_url": ctx.html_url("schedules", schedule.id),
    }


def _event(ctx: Ctx, schedule: V3Schedule, rotation: dict, event: dict) -> dict:
    base = f"{ctx.api_url}/v3/schedules/{schedule.id}/rotations/{rotation['id']}"
    return {
        **event,
        "type": "schedule_event",
        "self": f"{base}/events/{event['id']}",
        "html_url": ctx.html_url("schedules", schedule.id),
    }


def render_v3_schedule(ctx: Ctx, schedule: V3Schedule, window=None) -> dict:
    policies = [
        p
        for p in ctx.state.escalation_policies.values()
        if any(
            k == "schedule" and t == schedule.id for r in p.rules for k, t in r.targets
        )
    ]
    data = {
        "id": schedule.id,
        "type": "schedule_v3",
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "teams": [ctx.team_ref(t) for t in schedule.team_ids],
        "escalation_policies": [ctx.policy_ref(p.id) for p in policies],
        "rotations": [
            {
                "id": rotation["id"],
                "type": "schedule_rotation",
                "events": [
                    _event(ctx, schedule, rotation, e) for e in rotation["events"]
                ],
                "self": f"{ctx.api_url}/v3/schedules/{schedule.id}/rotations/"
                f"{rotation['id']}",
                "html_url": ctx.html_url("schedules", schedule.id),
            }
            for rotation in schedule.rotations
        ],
        "self": f"{ctx.api_url}/v3/schedules/{schedule.id}",
        "html_url": ctx.html_url("schedules", schedule.id),
    }
    if schedule.description is not None:
        data["description"] = schedule.description
    if window is not None:
        data["final_schedule"] = final_schedule(schedule, *window)
    return data


# --- Rendering occurrences ---


def _rule(recurrence: list[str]) -> tuple[str, int, set[int]]:
    """Return (FREQ, INTERVAL, weekday numbers) of the event's RRULE."""
    text = next((r for r in recurrence if r.startswith("RRULE:")), "RRULE:FREQ=DAILY")
    parts = dict(p.split("=", 1) for p in text[len("RRULE:") :].split(";") if "=" in p)
    days = {WEEKDAYS.index(d) for d in parts.get("BYDAY", "").split(",") if d}
    return parts.get("FREQ", "DAILY"), int(parts.get("INTERVAL", "1")), days


def _occurrences(event: dict, since: datetime, until: datetime):
    """Yield (number, start, end) of the event's occurrences that overlap."""
    zone = ZoneInfo(event["start_time"]["time_zone"])
    first = parse_time(event["start_time"]["date_time"]).astimezone(zone)
    last = parse_time(event["end_time"]["date_time"]).astimezone(zone)
    length = last - first
    effective = parse_time(event["effective_since"])
    ending = (
        parse_time(event["effective_until"]) if event.get("effective_until") else None
    )
    freq, interval, days = _rule(event["recurrence"])
    if freq == "WEEKLY" and not days:
        days = {first.weekday()}
    day = first.date()
    number = 0
    while True:
        start = datetime.combine(day, first.timetz()).replace(tzinfo=zone)
        if start >= until or (ending is not None and start >= ending):
            return
        weeks = (day - first.date()).days // 7
        if freq == "DAILY":
            wanted = (day - first.date()).days % interval == 0
        else:
            wanted = day.weekday() in days and weeks % interval == 0
        if wanted and start >= effective:
            end = start + length
            if end > since:
                yield number, start.astimezone(UTC), end.astimezone(UTC)
            number += 1
        day += timedelta(days=1)


def final_schedule(
    schedule: V3Schedule, since: datetime, until: datetime, overflow: bool = False
) -> dict:
    assignments = []
    for rotation in schedule.rotations:
        for event in rotation["events"]:
            strategy = event["assignment_strategy"]
            members = strategy["members"]
            per = strategy.get("shifts_per_member") or 1
            for number, start, end in _occurrences(event, since, until):
                if strategy["type"] == "every_member_assignment_strategy":
                    chosen = members
                else:
                    chosen = [members[(number // per) % len(members)]]
                for member in chosen:
                    assignments.append(
                        {
                            "type": "computed_shift_assignment",
                            "start_time": iso(start if overflow else max(start, since)),
                            "end_time": iso(end if overflow else min(end, until)),
                            "member": dict(member),
                            "source": {
                                "type": "schedule_rotation",
                                "rotation_id": rotation["id"],
                            },
                        }
                    )
    assignments.sort(key=lambda a: (a["start_time"], a["member"].get("user_id") or ""))
    covered = _covered(assignments)
    return {
        "type": "final_schedule",
        "rendered_coverage_percentage": round(
            100 * covered / (until - since).total_seconds(), 2
        ),
        "computed_shift_assignments": assignments,
    }


def _covered(assignments: list[dict]) -> float:
    spans = sorted(
        (parse_time(a["start_time"]), parse_time(a["end_time"]))
        for a in assignments
        if a["member"]["type"] == "user_member"
    )
    total, reach = 0.0, None
    for start, end in spans:
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += (end - start).total_seconds()
            reach = end
    return total


def _window(ctx: Ctx, schedule: V3Schedule):
    zone = ctx.arg("time_zone") or schedule.time_zone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid(f"time_zone is not an IANA time zone: {zone}") from None
    since = ctx.time_arg("since") or ctx.state.now()
    until = ctx.time_arg("until") or since + DEFAULT_WINDOW
    if until <= since or until - since > MAX_WINDOW:
        raise ApiError(
            400,
            "Invalid Query Date Range",
            2005,
            ["until must be after since, at most 3 months later"],
        )
    return since, until, ctx.bool_arg("overflow")


# --- Operations ---


@route("GET", "/v3/schedules")
def v3_schedule_list(ctx: Ctx):
    value = ctx.arg("limit") or "100"
    offset_value = ctx.arg("offset") or "0"
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise invalid("limit must be an integer from 1 to 1000")
    if not offset_value.isdigit():
        raise invalid("offset must be a non-negative integer")
    limit, offset = int(value), int(offset_value)
    query = (ctx.arg("query") or "").lower()
    team_ids = set(ctx.args("team_ids"))
    found = sorted(
        (
            s
            for s in ctx.state.v3_schedules.values()
            if s.account_id == ctx.account_id
            and (not query or query in s.name.lower())
            and (not team_ids or team_ids.intersection(s.team_ids))
        ),
        key=lambda s: s.name.lower(),
    )
    body = {
        "schedules": [v3_ref(ctx, s) for s in found[offset : offset + limit]],
        "limit": limit,
        "offset": offset,
        "more": offset + limit < len(found),
    }
    if ctx.bool_arg("total"):
        body["total"] = len(found)
    return Response.json(body)


@route("GET", "/v3/schedules/{id}")
def v3_schedule_get(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    schedule = owned_v3_schedule(ctx, id)
    wanted = includes(ctx, ("final_schedule",))
    window = _window(ctx, schedule) if "final_schedule" in wanted else None
    return Response.json({"schedule": render_v3_schedule(ctx, schedule, window)})
