"""Alert grouping setting tools: PagerDuty's own list, get, create, update and
delete (pagerduty-mcp 1.1.0's names and input schemas).
"""

from __future__ import annotations

from integrations.gateway.conf import SCOPE_READ, SCOPE_WRITE
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.services import id_list, list_limit, reference
from integrations.pagerduty.workspace import selectors, services


def setting_data(setting) -> dict:
    return {
        "id": setting.id,
        "type": setting.type,
        "name": setting.name,
        "description": setting.description,
        "config": setting.config,
        "services": [reference(ref, "service") for ref in setting.services],
        "created_at": setting.created_at,
        "updated_at": setting.updated_at,
    }


@register(
    name="list_alert_grouping_settings",
    title="List alert grouping settings",
    description=(
        "List alert grouping settings (how alerts of services are grouped "
        "into incidents: time, intelligent, content based), optionally for "
        "some service IDs. At most 100 per call; when `more`, pass the "
        "returned `after` cursor to get the next page."
    ),
    input_schema=pagerduty_mcp_schema("list_alert_grouping_settings"),
    access=SCOPE_READ,
    operations=("GET /alert_grouping_settings",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def list_alert_grouping_settings(ctx, args: dict) -> dict:
    page = selectors.alert_grouping_setting_list(
        ws=ctx.ws,
        service_ids=id_list(args.get("service_ids")),
        limit=list_limit(ctx, args.get("limit")),
        after=args.get("after") or "",
        before=args.get("before") or "",
        total=args.get("total", False),
    )
    return {
        "response": [setting_data(item) for item in page.items],
        "after": page.after or None,
        "before": page.before or None,
        "total": page.total,
        "more": page.more,
    }


@register(
    name="get_alert_grouping_setting",
    title="Get an alert grouping setting",
    description="Get one alert grouping setting by its ID: type, config, services.",
    input_schema=pagerduty_mcp_schema("get_alert_grouping_setting"),
    access=SCOPE_READ,
    operations=("GET /alert_grouping_settings/{id}",),
    read_only=True,
    destructive=False,
    idempotent=True,
    compatible=True,
)
def get_alert_grouping_setting(ctx, args: dict) -> dict:
    return setting_data(
        selectors.alert_grouping_setting_get(ws=ctx.ws, setting_id=args["setting_id"])
    )


def _setting_input(model: dict):
    data = model["alert_grouping_setting"]
    return services.AlertGroupingInput(
        type=data["type"],
        config=data["config"],
        service_ids=tuple(
            item.get("id") for item in data["services"] if isinstance(item, dict)
        ),
        name=data.get("name") or "",
        description=data.get("description") or "",
    )


@register(
    name="create_alert_grouping_setting",
    title="Create an alert grouping setting",
    description=(
        "Create an alert grouping setting for services: type time "
        "(config.timeout), intelligent (config.time_window), content_based or "
        "content_based_intelligent (config.aggregate, fields, time_window). "
        "A service belongs to one setting at most."
    ),
    input_schema=pagerduty_mcp_schema("create_alert_grouping_setting"),
    access=SCOPE_WRITE,
    operations=("POST /alert_grouping_settings",),
    read_only=False,
    destructive=False,
    idempotent=False,
    free_text=("name", "description"),
    compatible=True,
)
def create_alert_grouping_setting(ctx, args: dict) -> dict:
    created = services.alert_grouping_setting_create(
        ws=ctx.ws, data=_setting_input(args["create_model"])
    )
    return setting_data(created)


@register(
    name="update_alert_grouping_setting",
    title="Update an alert grouping setting",
    description=(
        "Replace an alert grouping setting's type, config and services "
        "(same fields as create_alert_grouping_setting)."
    ),
    input_schema=pagerduty_mcp_schema("update_alert_grouping_setting"),
    access=SCOPE_WRITE,
    operations=("PUT /alert_grouping_settings/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    free_text=("name", "description"),
    compatible=True,
)
def update_alert_grouping_setting(ctx, args: dict) -> dict:
    updated = services.alert_grouping_setting_update(
        ws=ctx.ws,
        setting_id=args["setting_id"],
        data=_setting_input(args["update_model"]),
    )
    return setting_data(updated)


@register(
    name="delete_alert_grouping_setting",
    title="Delete an alert grouping setting",
    description=(
        "Delete an alert grouping setting: its services stop grouping alerts that way."
    ),
    input_schema=pagerduty_mcp_schema("delete_alert_grouping_setting"),
    access=SCOPE_WRITE,
    operations=("DELETE /alert_grouping_settings/{id}",),
    read_only=False,
    destructive=True,
    idempotent=True,
    compatible=True,
)
def delete_alert_grouping_setting(ctx, args: dict) -> dict:
    services.alert_grouping_setting_delete(ws=ctx.ws, setting_id=args["setting_id"])
    return {"deleted": True, "setting_id": args["setting_id"]}
