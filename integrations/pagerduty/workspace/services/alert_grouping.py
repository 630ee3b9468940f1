"""Alert grouping setting writes: create, replace, delete (`services.write`).

The rules per type are PagerDuty's (OpenAPI `AlertGroupingSetting`): `time`
groups for `timeout` seconds (0 or 60-86400); `intelligent` within
`time_window` (0 or 300-3600); `content_based` and
`content_based_intelligent` on `fields`, `aggregate` all/any, within
`time_window` (300-86400, and 300-3600 for the intelligent one, which takes
one service).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import AlertGroupingSetting
from integrations.pagerduty.workspace.operations import operation

GROUPING_TYPES = ("content_based", "content_based_intelligent", "intelligent", "time")
AGGREGATES = ("all", "any")
MAX_SERVICES = 100
MAX_FIELDS = 20


def _window(value: object, field: str, *, low: int, high: int) -> int:
    # 0 asks PagerDuty for its recommended window.
    if value == 0 and not isinstance(value, bool):
        return 0
    return inputs.bounded(value, field, low=low, high=high)


def _fields(value: object, field: str, *, required: bool) -> list[str]:
    if value is None and not required:
        return ["summary"]
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise inputs.InvalidInput(field, _("Give a list of field names."))
    names = [inputs.text(v, field, max_length=200, required=True) for v in value]
    if not names or len(names) > MAX_FIELDS:
        raise inputs.InvalidInput(
            field, _("Give one to %(max)s field names.") % {"max": MAX_FIELDS}
        )
    return list(dict.fromkeys(names))


def grouping_config(kind: str, config: object) -> dict[str, Any]:
    """Return the config PagerDuty takes for a setting of type `kind`."""
    kind = inputs.choice(kind, "type", GROUPING_TYPES)
    if not isinstance(config, dict):
        raise inputs.InvalidInput("config", _("Give the setting's config."))
    if kind == "time":
        return {
            "timeout": _window(config.get("timeout"), "timeout", low=60, high=86400)
        }
    if kind == "intelligent":
        return {
            "time_window": _window(
                config.get("time_window"), "time_window", low=300, high=3600
            ),
            "iag_fields": _fields(
                config.get("iag_fields"), "iag_fields", required=False
            ),
        }
    high = 3600 if kind == "content_based_intelligent" else 86400
    return {
        "aggregate": inputs.choice(config.get("aggregate"), "aggregate", AGGREGATES),
        "fields": _fields(config.get("fields"), "fields", required=True),
        "time_window": _window(
            config.get("time_window"), "time_window", low=300, high=high
        ),
    }


@dataclass(frozen=True)
class AlertGroupingInput:
    """An alert grouping setting: type, config and services; checked when built."""

    type: str
    config: dict[str, Any]
    service_ids: tuple[str, ...]
    name: str = ""
    description: str = ""

    def __post_init__(self):
        object.__setattr__(self, "config", grouping_config(self.type, self.config))
        if not isinstance(self.service_ids, tuple):
            raise inputs.InvalidInput("services", _("Give a list of services."))
        ids = inputs.pd_ids(self.service_ids, "services", limit=MAX_SERVICES)
        if self.type == "content_based_intelligent" and len(ids) > 1:
            raise inputs.InvalidInput(
                "services", _("A content_based_intelligent setting takes one service.")
            )
        inputs.text(self.name, "name", max_length=inputs.MAX_NAME)
        inputs.text(self.description, "description", max_length=inputs.MAX_NAME)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "config": self.config,
            "services": [
                {"id": service_id, "type": "service_reference"}
                for service_id in dict.fromkeys(self.service_ids)
            ],
        }
        if self.name:
            body["name"] = self.name
        if self.description:
            body["description"] = self.description
        return body


def _checked(data: object) -> AlertGroupingInput:
    if not isinstance(data, AlertGroupingInput):
        raise inputs.InvalidInput("alert_grouping_setting", _("Give a setting."))
    return data


@operation(scope=Scope.SERVICES_WRITE, write=True)
def alert_grouping_setting_create(
    *, ws: Workspace, data: AlertGroupingInput
) -> AlertGroupingSetting:
    """Create an alert grouping setting and return it."""
    body = _checked(data).body()
    return AlertGroupingSetting.from_api(
        ws.write_client.create_entity(
            "/alert_grouping_settings",
            "alert_grouping_setting",
            body,
            required_scope=Scope.SERVICES_WRITE,
        )
    )


@operation(scope=Scope.SERVICES_WRITE, write=True, target="setting_id")
def alert_grouping_setting_update(
    *, ws: Workspace, setting_id: str, data: AlertGroupingInput
) -> AlertGroupingSetting:
    """Replace an alert grouping setting's type, config and services."""
    setting_id = inputs.pd_id(setting_id, "setting_id")
    body = _checked(data).body()
    return AlertGroupingSetting.from_api(
        ws.write_client.update_entity(
            inputs.path("/alert_grouping_settings/{}", setting_id),
            "alert_grouping_setting",
            body,
            required_scope=Scope.SERVICES_WRITE,
        )
    )


@operation(scope=Scope.SERVICES_WRITE, write=True, target="setting_id")
def alert_grouping_setting_delete(*, ws: Workspace, setting_id: str) -> None:
    """Delete an alert grouping setting (its services stop grouping)."""
    setting_id = inputs.pd_id(setting_id, "setting_id")
    ws.write_client.delete(
        inputs.path("/alert_grouping_settings/{}", setting_id),
        required_scope=Scope.SERVICES_WRITE,
    )
