"""How a service handles events: alert grouping settings and the service's
Event Orchestration (both need the `services.*` scopes).

Alert grouping rules, from the OAS: `time` groups for `timeout` seconds (0
or 60-86400), `intelligent` within `time_window` (0 or 300-3600),
`content_based` and `content_based_intelligent` on `fields` with
`aggregate` all/any within `time_window` (300-86400);
`content_based_intelligent` takes one service. Not stated by PagerDuty but
kept here: a service belongs to at most one setting, and every setting has
at least one service.
"""

from pagerduty_sandbox.http import Response
from pagerduty_sandbox.rest.base import ApiError, Ctx, includes, invalid, reference_id
from pagerduty_sandbox.rest.registry import route
from pagerduty_sandbox.rest.services import owned_service
from pagerduty_sandbox.state import AlertGroupingSetting, iso

TYPES = ("content_based", "content_based_intelligent", "intelligent", "time")
MAX_LIMIT = 100
# PagerDuty's advice for a service without enough history (seconds).
RECOMMENDED_WINDOW = 300


def _setting(ctx: Ctx, setting_id: str) -> AlertGroupingSetting:
    return ctx.owned(
        ctx.state.alert_grouping_settings,
        setting_id,
        "Alert Grouping Setting Not Found",
        2100,
    )


def render_setting(ctx: Ctx, setting: AlertGroupingSetting) -> dict:
    config = dict(setting.config)
    if setting.type != "time":
        config["recommended_time_window"] = RECOMMENDED_WINDOW
    return {
        "id": setting.id,
        "name": setting.name,
        "description": setting.description,
        "type": setting.type,
        "config": config,
        "services": [ctx.service_ref(s) for s in setting.service_ids],
        "created_at": iso(setting.created_at),
        "updated_at": iso(setting.updated_at),
    }


def _int(config: dict, name: str, low: int, high: int, *, zero=False) -> int:
    value = config.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"config.{name} must be an integer")
    if not (low <= value <= high or (zero and value == 0)):
        allowed = f"0 or {low}-{high}" if zero else f"{low}-{high}"
        raise invalid(f"config.{name} must be {allowed}")
    return value


def _config(kind: str, config) -> dict:
    if not isinstance(config, dict):
        raise invalid("config must be an object")
    if kind == "time":
        return {"timeout": _int(config, "timeout", 60, 86400, zero=True)}
    if kind == "intelligent":
        fields = config.get("iag_fields", ["summary"])
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise invalid("config.iag_fields must be an array of strings")
        return {
            "time_window": _int(config, "time_window", 300, 3600, zero=True),
            "iag_fields": fields or ["summary"],
        }
    if config.get("aggregate") not in ("all", "any"):
        raise invalid("config.aggregate must be all or any")
    fields = config.get("fields")
    if (
        not isinstance(fields, list)
        or not fields
        or not all(isinstance(f, str) and f for f in fields)
    ):
        raise invalid("config.fields must be a non-empty array of field names")
    return {
        "aggregate": config["aggregate"],
        "fields": list(dict.fromkeys(fields)),
        "time_window": _int(config, "time_window", 300, 86400),
    }


def _service_ids(ctx: Ctx, value, kind: str, setting_id: str | None) -> list[str]:
    if not isinstance(value, list) or not value:
        raise invalid("services must be a non-empty array of service references")
    ids = []
    for item in value:
        if isinstance(item, dict) and "type" not in item:
            item = {**item, "type": "service_reference"}
        ids.append(owned_service(ctx, reference_id(item, "services[]", "service")).id)
    ids = list(dict.fromkeys(ids))
    if kind == "content_based_intelligent" and len(ids) > 1:
        raise invalid("A content_based_intelligent setting takes one service")
    for other in ctx.state.alert_grouping_settings.values():
        taken = set(other.service_ids).intersection(ids)
        if other.id != setting_id and other.account_id == ctx.account_id and taken:
            raise ApiError(
                400,
                "Invalid Input Provided",
                2001,
                [
                    f"Service {sorted(taken)[0]} already belongs to alert "
                    f"grouping setting {other.id}"
                ],
            )
    return ids


def _text(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        raise invalid(f"{name} must be a string of at most 255 characters")
    return value


def _paginate_cursor(ctx: Ctx, items: list, key: str, render) -> Response:
    """Cursor pagination (`after`/`before`), as this endpoint has it."""
    value = ctx.arg("limit")
    limit = int(value) if value and value.isdigit() and int(value) > 0 else 25
    limit = min(limit, MAX_LIMIT)
    ids = [item.id for item in items]
    start = 0
    after, before = ctx.arg("after"), ctx.arg("before")
    if after:
        if after not in ids:
            raise invalid("after is not a cursor of this list")
        start = ids.index(after) + 1
    elif before:
        if before not in ids:
            raise invalid("before is not a cursor of this list")
        start = max(0, ids.index(before) - limit)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return Response.json(
        {
            key: [render(item) for item in page],
            "after": page[-1].id if page and more else None,
            "before": page[0].id if page and start > 0 else None,
            "limit": limit,
            "total": len(items) if ctx.bool_arg("total") else None,
        }
    )


@route("GET", "/alert_grouping_settings")
def setting_list(ctx: Ctx):
    service_ids = set(ctx.args("service_ids"))
    found = sorted(
        (
            s
            for s in ctx.state.alert_grouping_settings.values()
            if s.account_id == ctx.account_id
            and (not service_ids or service_ids.intersection(s.service_ids))
        ),
        key=lambda s: (s.created_at, s.id),
    )
    return _paginate_cursor(
        ctx, found, "alert_grouping_settings", lambda s: render_setting(ctx, s)
    )


@route("GET", "/alert_grouping_settings/{id}")
def setting_get(ctx: Ctx, id: str):  # noqa: A002 - the spec's parameter name
    return Response.json(
        {"alert_grouping_setting": render_setting(ctx, _setting(ctx, id))}
    )


@route("POST", "/alert_grouping_settings")
def setting_create(ctx: Ctx):
    data = ctx.body("alert_grouping_setting")
    kind = data.get("type")
    if kind not in TYPES:
        raise invalid(f"type must be one of {', '.join(TYPES)}")
    now = ctx.state.now()
    setting = AlertGroupingSetting(
        id=ctx.state.new_id(),
        account_id=ctx.account_id,
        type=kind,
        config=_config(kind, data.get("config")),
        service_ids=_service_ids(ctx, data.get("services"), kind, None),
        created_at=now,
        updated_at=now,
        name=_text(data, "name"),
        description=_text(data, "description"),
    )
    ctx.state.alert_grouping_settings[setting.id] = setting
    return Response.json(
        {"alert_grouping_setting": render_setting(ctx, setting)}, status=201
    )


@route("PUT", "/alert_grouping_settings/{id}")
def setting_update(ctx: Ctx, id: str):  # noqa: A002
    setting = _setting(ctx, id)
    data = ctx.body("alert_grouping_setting")
    kind = data.get("type", setting.type)
    if kind not in TYPES:
        raise invalid(f"type must be one of {', '.join(TYPES)}")
    if kind != setting.type and "config" not in data:
        raise invalid("Changing the type needs a config for the new type")
    config = _config(kind, data["config"]) if "config" in data else setting.config
    # The OAS: services left out keep the setting's current services.
    service_ids = (
        _service_ids(ctx, data["services"], kind, setting.id)
        if data.get("services") is not None
        else setting.service_ids
    )
    name = _text(data, "name") if "name" in data else setting.name
    description = (
        _text(data, "description") if "description" in data else setting.description
    )
    setting.type, setting.config, setting.service_ids = kind, config, service_ids
    setting.name, setting.description = name, description
    setting.updated_at = ctx.state.now()
    return Response.json({"alert_grouping_setting": render_setting(ctx, setting)})


@route("DELETE", "/alert_grouping_settings/{id}")
def setting_delete(ctx: Ctx, id: str):  # noqa: A002
    setting = _setting(ctx, id)
    del ctx.state.alert_grouping_settings[setting.id]
    return Response(status=204)


# --- Event Orchestration of a service ---


@route("GET", "/event_orchestrations/services/{service_id}")
def service_orchestration(ctx: Ctx, service_id: str):
    """A service's orchestration: its rule sets, starting with "start".

    The sandbox keeps the rules on the service (seeded; there is no write
    operation here), and a service never migrated from Event Rules, so
    `include[]=migrated_metadata` adds nothing.
    """
    includes(ctx, ("migrated_metadata",))
    service = owned_service(ctx, service_id)
    creator = ctx.state.users.get(_account_owner(ctx))
    actor = {
        "id": creator.id if creator else None,
        "type": "user_reference",
        "self": f"{ctx.api_url}/users/{creator.id}" if creator else None,
    }
    updated = service.updated_at or service.created_at
    return Response.json(
        {
            "orchestration_path": {
                "type": "service",
                "parent": {
                    "id": service.id,
                    "type": "service_reference",
                    "self": f"{ctx.api_url}/services/{service.id}",
                },
                "self": f"{ctx.api_url}/event_orchestrations/services/{service.id}",
                "sets": [{"id": "start", "rules": list(service.orchestration_rules)}],
                "catch_all": {"actions": {}},
                "created_at": iso(service.created_at),
                "created_by": actor,
                "updated_at": iso(updated),
                "updated_by": actor,
                "version": f"{int(updated.timestamp())}",
            }
        }
    )


def _account_owner(ctx: Ctx) -> str | None:
    return next(
        (
            u.id
            for u in ctx.state.users.values()
            if u.account_id == ctx.account_id and u.role == "owner"
        ),
        None,
    )
