"""The incident list's rows, ready for the `incident_rows` template tag.

Built once per page (and for each incident a webhook adds live), with
links, labels and times worked out here: a 100-row page would otherwise
spend most of its time in the template, on a `reverse` per row, attribute
lookups, a translation and a date filter per cell.
"""

from __future__ import annotations

from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.pagerduty.workspace.views.presentation import (
    STATUS_LABELS,
    URGENCY_LABELS,
)

ID_PLACEHOLDER = "PDOBJECTID"


def incident_rows(
    tenant_id: int, incidents, status: str | None, *, service_links: bool = True
) -> list[dict]:
    """Return the incident table's rows with links, labels and times ready.

    Times are in the active time zone (the viewer's). `status` is the tab
    a service link keeps.
    """

    def url(name: str) -> str:
        return reverse(f"integrations:{name}", args=[tenant_id, ID_PLACEHOLDER])

    detail, acknowledge, resolve = (
        url("incident_detail"),
        url("incident_acknowledge"),
        url("incident_resolve"),
    )
    service_filter = f"?status={quote(status)}&service=" if status else "?service="
    statuses = {key: str(label) for key, label in STATUS_LABELS.items()}
    urgencies = {key: str(label) for key, label in URGENCY_LABELS.items()}
    select = _("Select incident %(number)s")
    ack_label = _("Acknowledge incident %(number)s")
    resolve_label = _("Resolve incident %(number)s")
    zone = timezone.get_current_timezone()
    rows = []
    for incident in incidents:
        number = "" if incident.number is None else incident.number
        service = incident.service
        quoted = quote(incident.id, safe="")
        label = {"number": f"#{number}" if number != "" else incident.title}
        rows.append(
            {
                "id": incident.id,
                "number": number,
                "title": incident.title,
                "url": detail.replace(ID_PLACEHOLDER, quoted),
                "status": incident.status,
                "status_label": statuses.get(incident.status, incident.status),
                "urgency": incident.urgency,
                "urgency_label": urgencies.get(incident.urgency, incident.urgency),
                "select_label": select % {"number": number},
                "service_name": service.name if service else "",
                "service_url": (
                    service_filter + quote(service.id, safe="")
                    if service and service_links
                    else ""
                ),
                "assignees": ", ".join(incident.assignee_names),
                "created": (
                    incident.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                    if incident.created_at
                    else ""
                ),
                "acknowledge_url": (
                    acknowledge.replace(ID_PLACEHOLDER, quoted)
                    if incident.status == "triggered"
                    else ""
                ),
                "acknowledge_label": ack_label % label,
                "resolve_url": (
                    resolve.replace(ID_PLACEHOLDER, quoted)
                    if incident.status in ("triggered", "acknowledged")
                    else ""
                ),
                "resolve_label": resolve_label % label,
            }
        )
    return rows
