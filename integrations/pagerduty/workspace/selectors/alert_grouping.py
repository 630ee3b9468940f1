"""Alert grouping settings (`services.read`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from integrations.pagerduty.scopes import Scope
from integrations.pagerduty.workspace import inputs
from integrations.pagerduty.workspace.context import Workspace
from integrations.pagerduty.workspace.entities import AlertGroupingSetting
from integrations.pagerduty.workspace.operations import operation
from integrations.pagerduty.workspace.selectors.common import MAX_FILTER_IDS


@dataclass(frozen=True)
class CursorPage:
    """One page of a cursor-paginated list (`after` is the next page's cursor)."""

    items: list
    after: str
    before: str
    total: int | None

    @property
    def more(self) -> bool:
        return bool(self.after)


CURSOR = re.compile(r"[A-Za-z0-9_=+/.-]{1,200}")


def _cursor(value: object, field: str) -> str:
    # An opaque token PagerDuty handed out; it only ever travels in the query.
    if isinstance(value, str) and CURSOR.fullmatch(value):
        return value
    raise inputs.InvalidInput(field, _("Give a cursor from the previous page."))


@operation(scope=Scope.SERVICES_READ)
def alert_grouping_setting_list(
    *,
    ws: Workspace,
    service_ids: tuple[str, ...] = (),
    limit: int = 25,
    after: str = "",
    before: str = "",
    total: bool = False,
) -> CursorPage:
    """Return one page of alert grouping settings (cursor paged): one call."""
    params: dict = {"limit": inputs.bounded(limit, "limit", low=1, high=100)}
    if service_ids:
        params["service_ids[]"] = inputs.pd_ids(
            service_ids, "service_ids", limit=MAX_FILTER_IDS
        )
    if after and before:
        raise inputs.InvalidInput("after", _("Give either after or before, not both."))
    if after:
        params["after"] = _cursor(after, "after")
    if before:
        params["before"] = _cursor(before, "before")
    if not isinstance(total, bool):
        raise inputs.InvalidInput("total", _("Give true or false."))
    if total:
        params["total"] = True
    body = ws.read("/alert_grouping_settings", params, scope=Scope.SERVICES_READ)
    items = body.get("alert_grouping_settings") if isinstance(body, dict) else None
    count = body.get("total") if isinstance(body, dict) else None
    return CursorPage(
        items=[
            AlertGroupingSetting.from_api(item)
            for item in items or ()
            if isinstance(item, dict)
        ],
        after=body.get("after") or "" if isinstance(body, dict) else "",
        before=body.get("before") or "" if isinstance(body, dict) else "",
        total=count if type(count) is int else None,
    )


@operation(scope=Scope.SERVICES_READ)
def alert_grouping_setting_get(
    *, ws: Workspace, setting_id: str
) -> AlertGroupingSetting:
    """Return one alert grouping setting: one call."""
    setting_id = inputs.pd_id(setting_id, "setting_id")
    body = ws.read(
        inputs.path("/alert_grouping_settings/{}", setting_id),
        scope=Scope.SERVICES_READ,
    )
    found = body.get("alert_grouping_setting") if isinstance(body, dict) else None
    return AlertGroupingSetting.from_api(found if isinstance(found, dict) else {})
