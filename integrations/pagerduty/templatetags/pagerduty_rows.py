"""`{% incident_rows rows can_write %}`: the incident table's body rows.

A page lists up to 100 incidents; rendered as a template, one node per
cell, the rows cost more CPU than the rest of the page together (bench/
pages.py, incident list warm: 0.33 written here against 0.47 as a
template). The row's markup stays in this one place, written the way the
admin's change list writes its cells, and every value is escaped with
html.escape, which is what Django's escape runs minus its lazy-string
wrapper (the values are plain strings). The live updates' new rows come
from here too (`views/live.py`).

Each row's Acknowledge and Resolve buttons submit the list's own form
(`#bulk-form`, which carries the CSRF token and the list's URL as `next`)
to the incident's action, so a row needs no form of its own.
"""

from html import escape

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()

ROW = (
    '<tr id="incident-{id}" data-incident-id="{id}" class="ws-incident">\n'
    '<td class="ws-col-select">{select}</td>\n'
    '<td class="mono ws-col-number">{number}</td>\n'
    '<td class="ws-col-title"><a href="{url}" class="cell-primary">{title}</a></td>\n'
    '<td class="ws-col-status"><span class="badge ws-status-{status}" '
    "data-incident-status>{status_label}</span></td>\n"
    '<td class="ws-col-urgency"><span class="badge ws-urgency-{urgency}">'
    "{urgency_label}</span></td>\n"
    '<td class="ws-col-service">{service}</td>\n'
    '<td class="ws-col-assignees">{assignees}</td>\n'
    '<td class="nowrap ws-col-created">{created}</td>\n'
    '<td class="ws-col-actions">{actions}</td>\n'
    "</tr>\n"
)
SELECT = '<input type="checkbox" name="incident" value="{}" aria-label="{}">'
SERVICE = '<a href="{}">{}</a>'
ACTION = (
    '<button type="submit" class="button button-small{extra}" form="bulk-form" '
    'formaction="{url}" aria-label="{label}" data-row-action="{kind}">{text}</button>'
)
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
    kinds = (
        ("acknowledge", "", escape(_("Acknowledge"))),
        ("resolve", " button-secondary", escape(_("Resolve"))),
    )
    html = []
    for row in rows:
        cells = {key: escape(str(row[key])) for key in ESCAPED}
        select = ""
        actions = []
        if can_write:
            select = SELECT.format(cells["id"], escape(row["select_label"]))
            actions = [
                ACTION.format(
                    extra=extra,
                    url=escape(row[f"{kind}_url"]),
                    label=escape(row[f"{kind}_label"]),
                    kind=kind,
                    text=text,
                )
                for kind, extra, text in kinds
                if row[f"{kind}_url"]
            ]
        service = escape(row["service_name"])
        if row["service_url"]:
            service = SERVICE.format(escape(row["service_url"]), service)
        assignees = escape(row["assignees"]) if row["assignees"] else NOBODY
        html.append(
            ROW.format(
                select=select,
                service=service,
                assignees=assignees,
                actions=" ".join(actions),
                **cells,
            )
        )
    return mark_safe("".join(html))  # noqa: S308 - every value is escaped above
