"""Alert grouping setting tools: PagerDuty's own list, get, create, update and
delete (pagerduty-mcp 1.1.0's names and input schemas).
"""

from __future__ import annotations

from integrations.gateway.conf import SCOPE_READ
from integrations.gateway.tools.registry import pagerduty_mcp_schema, register
from integrations.gateway.tools.services import id_list, list_limit, reference
from integrations.pagerduty.workspace import selectors


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
