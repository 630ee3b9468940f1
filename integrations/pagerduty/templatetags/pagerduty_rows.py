"""`{% incident_rows rows can_write %}`: the incident table's body rows.

A page lists up to 100 incidents; rendered as a template, one node per
cell, the rows cost more CPU than the rest of the page together (bench/
pages.py, incident list warm: 0.33 written here against 0.47 as a
template). The row's markup stays in this one place, written the way the
admin's change list writes its cells, and every value is escaped with
html.escape, which is what Django's escape runs minus its lazy-string
wrapper (the values are plain strings).
"""

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

ROW = (
    '<tr id="incident-{id}" data-incident-id="{id}">\n'
    "<td>{select}</td>\n"
    '<td class="mono">{number}</td>\n'
    '<td><a href="{url}" class="cell-primary">{title}</a></td>\n'
    '<td><span class="badge ws-status-{status}" data-incident-status>'
    "{status_label}</span></td>\n"
    '<td><span class="badge ws-urgency-{urgency}">{urgency_label}</span></td>\n'
    "<td>{service}</td>\n"
    "<td>{assignees}</td>\n"
    '<td class="nowrap">{created}</td>\n'
    "</tr>\n"
)
SELECT = '<input type="checkbox" name="incident" value="{}" aria-label="{}">'
SERVICE = '<a href="{}">{}</a>'
NOBODY = '<span class="muted">—</span>'
ESCAPED = (
    "id",
    "number",
    "url",
    "title",
    "status",
    "status_label",
    "urgency",
    "urgency_label",
    "created",
)


@register.simple_tag
def incident_rows(rows: list[dict], can_write: bool) -> str:
    """Return the incident table's body rows as escaped HTML."""
    html = []
    for row in rows:
        cells = {key: escape(str(row[key])) for key in ESCAPED}
        select = ""
        if can_write:
            select = SELECT.format(cells["id"], escape(row["select_label"]))
        service = ""
        if row["service_url"]:
            service = SERVICE.format(
                escape(row["service_url"]), escape(row["service_name"])
            )
        assignees = escape(row["assignees"]) if row["assignees"] else NOBODY
        html.append(
            ROW.format(select=select, service=service, assignees=assignees, **cells)
        )
    return mark_safe("".join(html))  # noqa: S308 - every value is escaped above
